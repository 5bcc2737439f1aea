package translate

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Rule priorities
//
// An ALB evaluates a listener's rules by priority (1-50000, lowest first). The rule units of a
// port are sorted by comparePrecedence, so the order is fixed; what is left to choose is the
// numbers, and they should survive change: the plan matches desired and existing rules by
// priority, so a rule whose number moves is rewritten. Numbering 1, 2, 3… (as the AWS Load
// Balancer Controller does) renumbers every rule after an inserted or removed one.
//
// Here each unit first gets a natural priority that depends on the unit alone, never on the
// other units, and that never decreases along the sort order:
//
//	concrete hostname   1-32000   64 bands of 500, picked by a hash of the hostname (the sort
//	                              order puts bands first: concrete hostnames never overlap)
//	wildcard hostname   32001-40000  4 bands of 2000: 4 or more dots, 3, 2, fewer
//	no hostname         40001-48000  one band of 8000
//	(48001-50000 is room for overflow)
//
// Within its band a unit's offset follows the match's precedence: the path type picks a share
// of the band (Exact 25%, PathPrefix 60%, RegularExpression 10%, none 5%), and within it the
// path length, GRPC method length, method, header and query counts are mixed-radix digits, the
// most significant first. A value beyond a digit's range saturates and zeroes the less
// significant digits, which keeps the map monotone.
//
// Then the sorted units are numbered in one pass: each takes its natural priority, or the
// previous unit's priority + 1 when that is higher (ties, and the rare unit whose band is out
// of step with the order, such as two wildcards with equal dots); a backward
// pass keeps the last ones at or below 50000. The order is always exactly the sort order.
//
// What this buys: adding a route gives its units their own natural priorities and moves an
// existing unit only when it shares the new unit's number (equal structure on the same
// hostname band) and sorts after it. New routes are the newest, and age breaks ties, so they
// sort after their equals: adding a route usually moves nothing. Removing a route moves only
// the units that had been pushed up behind its units.
const (
	concreteBands = 64
	concreteWidth = 500
	wildcardStart = concreteBands * concreteWidth
	wildcardBands = 4
	wildcardWidth = 2000
	anyHostStart  = wildcardStart + wildcardBands*wildcardWidth
	anyHostWidth  = 8000
)

// naturalPriority is a unit's priority before ties are resolved.
func naturalPriority(p *precedence) int64 {
	var start, width int64
	switch p.hostClass {
	case hostConcrete:
		start, width = int64(p.hostBand)*concreteWidth, concreteWidth
	case hostWildcard:
		band := int64(3)
		switch {
		case p.hostDots >= 4:
			band = 0
		case p.hostDots == 3:
			band = 1
		case p.hostDots == 2:
			band = 2
		}
		start, width = wildcardStart+band*wildcardWidth, wildcardWidth
	default:
		start, width = anyHostStart, anyHostWidth
	}
	return 1 + start + matchOffset(p.match, width)
}

// hostnameBand is the band of a concrete hostname: its SHA-256 modulo the band count, stable
// across releases and platforms. Other hostnames have band 0.
func hostnameBand(class int, host string) int {
	if class != hostConcrete {
		return 0
	}
	sum := sha256.Sum256([]byte(host))
	return int(binary.BigEndian.Uint32(sum[:4]) % concreteBands)
}

// digit is one mixed-radix digit of the within-band position; small digits come first.
type digit struct {
	value, radix int64
	saturated    bool
}

// pathTypeShare is the part of a band, in thousandths, each path type takes: most rules are
// prefixes, few are regular expressions or have no path.
var pathTypeShare = [...][2]int64{
	pathExact:  {0, 250},
	pathPrefix: {250, 850},
	pathRegex:  {850, 950},
	pathNone:   {950, 1000},
}

// matchOffset places a match's precedence in [0, width): higher precedence, lower offset. The
// path type picks a share of the band; within it the other keys are mixed-radix digits.
func matchOffset(m matchPrecedence, width int64) int64 {
	limited := func(n, radix int64) digit {
		if n >= radix-1 {
			return digit{0, radix, true}
		}
		return digit{radix - 1 - n, radix, false}
	}
	method := int64(1)
	if m.method {
		method = 0
	}
	digits := []digit{
		limited(int64(m.pathLen), 32),
		// Only GRPC has a method length: HTTP units keep the finer digits, GRPC units with a
		// method name saturate here and tie on the rest.
		limited(int64(m.methodLen), 2),
		{method, 2, false},
		limited(int64(m.headers), 4),
		limited(int64(m.queries), 4),
	}
	var value, total int64 = 0, 1
	stopped := false
	for _, d := range digits {
		total *= d.radix
		v := d.value
		if stopped {
			v = 0
		}
		value = value*d.radix + v
		stopped = stopped || d.saturated
	}
	share := pathTypeShare[min(max(m.pathType, pathNone), pathExact)]
	return width * (share[0]*total + (share[1]-share[0])*value) / (1000 * total)
}

// assignPriorities numbers sorted units: natural priorities, ties and steps back resolved by
// taking the next free number, and the tail kept within the AWS range.
func assignPriorities(natural []int64) []int32 {
	out := make([]int32, len(natural))
	prev := int64(0)
	for i, n := range natural {
		p := max(n, prev+1)
		out[i] = int32(min(p, int64(model.MaxRulePriority)+int64(len(natural))))
		prev = p
	}
	limit := int32(model.MaxRulePriority)
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = min(out[i], limit)
		limit = out[i] - 1
	}
	return out
}
