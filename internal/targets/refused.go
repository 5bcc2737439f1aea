package targets

import (
	"fmt"
	"slices"
	"sort"
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
