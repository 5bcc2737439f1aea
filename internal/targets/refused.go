package targets

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Targets AWS refused to register, kept per target group for the status of the Gateway that
// owns it. The loop registers the other targets of the request (see aws.InvalidTargetsError)
// and records the refused ones here; the Gateway controller, the one status writer, shows
// them as the Gateway's ConditionTargetsRegistered (and is told when they change).

// ReasonInvalidTarget is the reason of a refused target: AWS answered InvalidTarget (an
// instance that is not running or does not exist).
const ReasonInvalidTarget = "InvalidTarget"

// SetRefused replaces the refused targets of one target group; none forgets them. The Gateway
// that owns the target group hears of the change.
func (r *Registry) SetRefused(arn string, problems []Problem) {
	next := normalizeProblems(problems)
	r.mu.Lock()
	if slices.Equal(r.refused[arn], next) {
		r.mu.Unlock()
		return
	}
	if len(next) == 0 {
		delete(r.refused, arn)
	} else {
		r.refused[arn] = next
	}
	var gateway string
	for gw, bindings := range r.byGateway {
		if _, ok := bindings[arn]; ok {
			gateway = gw
		}
	}
	subs := slices.Clone(r.subscribers)
	r.mu.Unlock()
	if gateway == "" {
		return
	}
	for _, ch := range subs {
		select {
		case ch <- gateway:
		default: // the Gateway's periodic resync picks the change up
		}
	}
}

// Refused returns the refused targets of every target group of one Gateway, sorted.
func (r *Registry) Refused(gateway string) []Problem {
	r.mu.RLock()
	defer r.mu.RUnlock()
	arns := make([]string, 0, len(r.byGateway[gateway]))
	for arn := range r.byGateway[gateway] {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	var out []Problem
	for _, arn := range arns {
		out = append(out, r.refused[arn]...)
	}
	return out
}

// refusedProblems turns the refused targets of a target group into problems.
func refusedProblems(arn string, refused []string, message string) []Problem {
	out := make([]Problem, 0, len(refused))
	for _, t := range refused {
		out = append(out, Problem{Reason: ReasonInvalidTarget, Message: fmt.Sprintf(
			"target %s of target group %s not registered: %s; the instance must exist and be running (a node that is not, should be cordoned or labelled %s)",
			t, arn, message, ExcludeFromLoadBalancersLabel)})
	}
	return out
}

// refusal is what AWS refused of one target group's registration, for one set of desired
// targets, until a time.
type refusal struct {
	desired  string
	until    time.Time
	targets  map[model.Target]bool
	problems []Problem
}

// refusals keeps, per target group, the targets AWS refused, so that they are sent again only
// when the group's endpoints or nodes change or the resync comes, not on every pass of the
// loop (the readiness gates' polls, the registry's announcements).
type refusals struct {
	mu sync.Mutex
	m  map[string]*refusal
}

// held returns the refusal of arn that still stands for desired at now (nil: none; one that
// answered other desired targets, or expired, is forgotten).
func (r *refusals) held(arn string, desired []model.Target, now time.Time) *refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := r.m[arn]
	if x == nil {
		return nil
	}
	if x.desired != targetsKey(desired) || !now.Before(x.until) {
		delete(r.m, arn)
		return nil
	}
	return x
}

// hold records that AWS refused targets of arn for desired, until the given time.
func (r *refusals) hold(arn string, desired, targets []model.Target, problems []Problem, until time.Time) *refusal {
	x := &refusal{desired: targetsKey(desired), until: until, targets: map[model.Target]bool{}, problems: problems}
	for _, t := range targets {
		x.targets[t] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*refusal{}
	}
	r.m[arn] = x
	return x
}

// forget drops the refusals of the given target groups.
func (r *refusals) forget(arns ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range arns {
		delete(r.m, a)
	}
}

// targetsKey names a set of targets whatever their order.
func targetsKey(ts []model.Target) string {
	keys := make([]string, 0, len(ts))
	for _, t := range ts {
		keys = append(keys, fmt.Sprintf("%s:%d/%s", t.ID, t.Port, t.AvailabilityZone))
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}
