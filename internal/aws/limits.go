package aws

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Client-side token buckets, one per family of operations, shaped like the buckets AWS itself
// throttles with (per account and region, shared with every other tool of the account):
//
//   - ELB: "the token bucket size for non-mutating API actions is 40 tokens" with "a refill rate
//     of 10 tokens per second" (Elastic Load Balancing User Guide, "Request throttling for the
//     Elastic Load Balancing API"). The page gives mutating families their own buckets without
//     stating sizes; the defaults below for them are estimates.
//   - EC2: "each API is evaluated individually"; the documented example of a non-mutating action
//     has "a bucket size of 100 tokens and a refill rate of 20 tokens per second" (Amazon EC2
//     Developer Guide, "Request throttling for the Amazon EC2 API"). Mutating figures: estimates.
//   - ACM: no documented bucket; estimates.
//
// A family's bucket is independent of the others, so a Gateway creating rules does not wait on
// another registering targets. A throttling answer halves the family's rate for
// adaptiveRecovery; each quiet period after that doubles it back towards the configured rate.

// Limit is a token bucket: PerSecond calls on average, Burst at once.
type Limit struct {
	PerSecond float64
	Burst     int
}

// Families of operations, each with its own bucket. The names are the keys of --aws-api-limits.
const (
	FamilyELBDescribe     = "elbv2.describe"
	FamilyELBLoadBalancer = "elbv2.loadbalancer"
	FamilyELBListener     = "elbv2.listener"
	FamilyELBRule         = "elbv2.rule"
	FamilyELBTargetGroup  = "elbv2.targetgroup"
	FamilyELBTags         = "elbv2.tags"
	FamilyELBTargets      = "elbv2.targets"
	FamilyEC2Describe     = "ec2.describe"
	FamilyEC2Mutate       = "ec2.mutate"
	FamilyACM             = "acm"
	// FamilyAddons is WAFv2 and Shield (the load balancer's addons).
	FamilyAddons = "addons"
)

// DefaultLimits are the buckets used when RateLimits leaves a family out.
func DefaultLimits() RateLimits {
	return RateLimits{
		FamilyELBDescribe:     {10, 40},  // documented
		FamilyELBLoadBalancer: {2, 10},   // estimate
		FamilyELBListener:     {5, 20},   // estimate
		FamilyELBRule:         {5, 20},   // estimate
		FamilyELBTargetGroup:  {5, 20},   // estimate
		FamilyELBTags:         {5, 20},   // estimate
		FamilyELBTargets:      {4, 20},   // estimate
		FamilyEC2Describe:     {20, 100}, // documented example of a non-mutating action
		FamilyEC2Mutate:       {5, 50},   // estimate
		FamilyACM:             {5, 20},   // estimate
		FamilyAddons:          {2, 10},   // estimate
	}
}

// RateLimits are client-side buckets by family (FamilyELBDescribe, …). Families left out get
// DefaultLimits.
type RateLimits map[string]Limit

func (r RateLimits) withDefaults() RateLimits {
	out := DefaultLimits()
	for k, l := range r {
		d := out[k]
		if l.PerSecond > 0 {
			d.PerSecond = l.PerSecond
		}
		if l.Burst > 0 {
			d.Burst = l.Burst
		}
		out[k] = d
	}
	return out
}

// ParseRateLimits reads "family=perSecond:burst,…" (for example
// "elbv2.rule=10:40,elbv2.targets=2:10"), the format of --aws-api-limits.
func ParseRateLimits(s string) (RateLimits, error) {
	out := RateLimits{}
	known := DefaultLimits()
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		fam, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want family=perSecond:burst", item)
		}
		if _, ok := known[fam]; !ok {
			return nil, fmt.Errorf("%q: unknown family %q (known: %s)", item, fam, strings.Join(sortedKeys(known), ", "))
		}
		ps, b, ok := strings.Cut(val, ":")
		rateV, err1 := strconv.ParseFloat(ps, 64)
		burst, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || rateV <= 0 || burst < 1 {
			return nil, fmt.Errorf("%q: want family=perSecond:burst with perSecond > 0 and burst ≥ 1", item)
		}
		out[fam] = Limit{PerSecond: rateV, Burst: burst}
	}
	return out, nil
}

// String is the "family=perSecond:burst,…" form of r, families sorted.
func (r RateLimits) String() string {
	parts := make([]string, 0, len(r))
	for _, k := range sortedKeys(r) {
		parts = append(parts, fmt.Sprintf("%s=%s:%d", k, strconv.FormatFloat(r[k].PerSecond, 'f', -1, 64), r[k].Burst))
	}
	return strings.Join(parts, ",")
}

// adaptiveRecovery is how long a halved bucket stays at its rate before it doubles again.
const adaptiveRecovery = 30 * time.Second

// minAdaptiveRate is the floor of halving.
const minAdaptiveRate = 0.05

// bucket is one family's limiter with its adaptive state.
type bucket struct {
	family     string
	lim        *rate.Limiter
	configured float64

	mu      sync.Mutex
	current float64
	changed time.Time // when current last moved
}

// apiLimits are the buckets of every family.
type apiLimits struct {
	buckets map[string]*bucket
	now     func() time.Time
	// rates, when set, shows each family's current rate (elbgateway_aws_api_rate_limit).
	rates *prometheus.GaugeVec
}

func newAPILimits(r RateLimits) *apiLimits {
	a := &apiLimits{buckets: map[string]*bucket{}, now: time.Now}
	for fam, l := range r.withDefaults() {
		a.buckets[fam] = &bucket{family: fam, lim: rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst), configured: l.PerSecond, current: l.PerSecond}
	}
	return a
}

// showRates exports each family's current rate on g, from now on.
func (a *apiLimits) showRates(g *prometheus.GaugeVec) {
	a.rates = g
	for _, b := range a.buckets {
		b.mu.Lock()
		a.setRate(b, b.current)
		b.mu.Unlock()
	}
}

// setRate moves a family's rate; b.mu is held.
func (a *apiLimits) setRate(b *bucket, r float64) {
	b.current = r
	b.lim.SetLimit(rate.Limit(r))
	if a.rates != nil {
		a.rates.WithLabelValues(b.family).Set(r)
	}
}

// wait takes a token of op's family.
func (a *apiLimits) wait(ctx context.Context, service, op string) error {
	b := a.buckets[family(service, op)]
	if b == nil {
		return nil
	}
	a.recover(b)
	return b.lim.Wait(ctx)
}

// throttled halves the rate of op's family: AWS said the account is over its limit, whoever
// spent it.
func (a *apiLimits) throttled(service, op string) {
	b := a.buckets[family(service, op)]
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a.setRate(b, max(b.current/2, minAdaptiveRate))
	b.changed = a.now()
}

// recover doubles a halved rate back towards the configured one, one step per quiet period.
func (a *apiLimits) recover(b *bucket) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.current >= b.configured || a.now().Sub(b.changed) < adaptiveRecovery {
		return
	}
	a.setRate(b, min(b.current*2, b.configured))
	b.changed = a.now()
}

// rateOf is the current rate of a family (tests).
func (a *apiLimits) rateOf(fam string) float64 {
	b := a.buckets[fam]
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.current
}

// family is the bucket of an operation. service is serviceLabel's ("elbv2", "ec2", "acm").
func family(service, op string) string {
	read := strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List")
	switch service {
	case "ec2":
		if read {
			return FamilyEC2Describe
		}
		return FamilyEC2Mutate
	case "acm":
		return FamilyACM
	case "wafv2", "shield":
		return FamilyAddons
	}
	switch {
	case read:
		return FamilyELBDescribe
	case op == "RegisterTargets", op == "DeregisterTargets":
		return FamilyELBTargets
	case op == "AddTags", op == "RemoveTags":
		return FamilyELBTags
	case strings.Contains(op, "TargetGroup"):
		return FamilyELBTargetGroup
	case strings.Contains(op, "Rule"):
		return FamilyELBRule
	case strings.Contains(op, "Listener"):
		return FamilyELBListener
	default:
		return FamilyELBLoadBalancer
	}
}
