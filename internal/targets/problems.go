package targets

import (
	"cmp"
	"slices"
	"sort"
)

// Why the worker-node security group rules of a Gateway's targets could not be written, kept
// per Gateway for the Gateway's status. The targets loop records them; the Gateway controller,
// the one status writer, turns them into a condition (and is told when they change).

// Reasons of a Problem.
const (
	// ReasonNoSecurityGroup: no security group of the target's network interface can take the
	// rules (none at all, or none of several carries the cluster tag and the required tags).
	ReasonNoSecurityGroup = "NoSecurityGroup"
	// ReasonAmbiguousSecurityGroup: several of the interface's groups carry those tags.
	ReasonAmbiguousSecurityGroup = "AmbiguousSecurityGroup"
	// ReasonNoNetworkInterface: no network interface in the VPC holds the target.
	ReasonNoNetworkInterface = "NoNetworkInterface"
)

// Problem is one reason, with a message that names the target, its network interface and the fix.
type Problem struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// SetProblems replaces the problems of one Gateway (namespace/name); none forgets it. Every
// subscriber hears of the Gateway when its set changes.
func (r *Registry) SetProblems(gateway string, problems []Problem) {
	next := normalizeProblems(problems)
	r.mu.Lock()
	if slices.Equal(r.problems[gateway], next) {
		r.mu.Unlock()
		return
	}
	if len(next) == 0 {
		delete(r.problems, gateway)
	} else {
		r.problems[gateway] = next
	}
	subs := slices.Clone(r.subscribers)
	r.mu.Unlock()
	for _, ch := range subs {
		select {
		case ch <- gateway:
		default: // the Gateway's periodic resync picks the change up
		}
	}
}

// Problems returns the problems of one Gateway, sorted.
func (r *Registry) Problems(gateway string) []Problem {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.problems[gateway])
}

// ProblemGateways lists the Gateways that have problems, sorted.
func (r *Registry) ProblemGateways() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.problems))
	for gw := range r.problems {
		out = append(out, gw)
	}
	sort.Strings(out)
	return out
}

// SubscribeProblems returns a channel that receives the namespace/name of each Gateway whose
// problems change, from now on.
func (r *Registry) SubscribeProblems() <-chan string {
	ch := make(chan string, 256)
	r.mu.Lock()
	r.subscribers = append(r.subscribers, ch)
	r.mu.Unlock()
	return ch
}

// normalizeProblems sorts problems and drops duplicates.
func normalizeProblems(in []Problem) []Problem {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Message, b.Message))
	})
	return slices.Compact(out)
}
