package translate

import (
	"cmp"
	"strings"
	"time"
)

// Hostname classes in precedence order: a lower value wins.
const (
	hostConcrete = iota
	hostWildcard
	hostAny
)

// precedence is the sort key of one ALB rule unit (route rule × match × hostname): the
// Gateway API's order of HTTPRoute and GRPCRoute matches, as the AWS Load Balancer Controller
// applies it across all HTTPRoutes and GRPCRoutes of a port.
type precedence struct {
	hostClass int
	hostDots  int
	hostLen   int
	// hostBand spreads concrete hostnames over priority bands (see priorities.go).
	hostBand int
	host     string
	match    matchPrecedence
	created  time.Time
	route    string // namespace/name
	kind     string
	rule     int
	matchIdx int
	// split numbers the rules one match on one hostname split into (l7listeners.go).
	split int
}

func hostPrecedence(host string) (class, dots int) {
	switch {
	case host == "":
		return hostAny, 0
	case strings.HasPrefix(host, "*"):
		return hostWildcard, strings.Count(host, ".")
	default:
		return hostConcrete, strings.Count(host, ".")
	}
}

// comparePrecedence orders rule units, the one an ALB must evaluate first first:
//
//  1. hostname: concrete before wildcard before none; among wildcards more dots, then the
//     longer one. Concrete hostnames are then ordered by their band (a hash of the name) and
//     name, and wildcards with equal dots and length by name: such hostnames never match the
//     same request, so their order does not change routing (the AWS Load Balancer Controller
//     orders concrete ones by dots and length too), and keeping each hostname's rules together
//     in a band of its own keeps their priorities apart from other hostnames' rules;
//  2. path type Exact, PathPrefix, RegularExpression, none;  3. longer path (GRPC: service);
//  4. longer GRPC method;  5. an HTTP method;  6. more headers;  7. more query parameters;
//  8. the older route;  9. namespace/name (then kind);  10. rule index;  11. match index.
func comparePrecedence(a, b *precedence) int {
	c := cmp.Compare(a.hostClass, b.hostClass)
	if c == 0 && a.hostClass == hostWildcard {
		c = cmp.Or(cmp.Compare(b.hostDots, a.hostDots), cmp.Compare(b.hostLen, a.hostLen))
	}
	return cmp.Or(c,
		cmp.Compare(a.hostBand, b.hostBand),
		cmp.Compare(a.host, b.host),
		cmp.Compare(b.match.pathType, a.match.pathType),
		cmp.Compare(b.match.pathLen, a.match.pathLen),
		cmp.Compare(b.match.methodLen, a.match.methodLen),
		compareBool(b.match.method, a.match.method),
		cmp.Compare(b.match.headers, a.match.headers),
		cmp.Compare(b.match.queries, a.match.queries),
		a.created.Compare(b.created),
		cmp.Compare(a.route, b.route),
		cmp.Compare(a.kind, b.kind),
		cmp.Compare(a.rule, b.rule),
		cmp.Compare(a.matchIdx, b.matchIdx),
		cmp.Compare(a.split, b.split),
	)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}
