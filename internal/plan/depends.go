package plan

import (
	"slices"
	"strconv"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Waits reports whether change c must not run once change d has failed (or was itself held
// back): c uses what d creates, or d clears the way for c. Every other change is independent
// of d and runs: a refused listener does not stop the other listeners, rules, target groups
// or attributes.
func Waits(c, d Change) bool {
	if c.Kind == d.Kind && c.ID == d.ID {
		// The create half of a replacement waits for its delete; any later change of a
		// resource waits for an earlier one that failed.
		return true
	}
	if d.Op == OpDelete {
		return waitsOnDelete(c, d)
	}
	if c.Op == OpDelete {
		return false
	}
	switch d.Kind {
	case KindLoadBalancer:
		// Listeners and rules need the load balancer's ARN; an update that failed leaves it
		// there.
		return d.Op == OpCreate && (c.Kind == KindListener || c.Kind == KindRule || c.Kind == KindRulePriorities || c.Kind == KindAddon)
	case KindListener:
		return d.Op == OpCreate && (c.Kind == KindRule || c.Kind == KindRulePriorities) && c.Port() == d.Port()
	case KindRulePriorities:
		// Rules may be created on the priorities the moves were to free.
		return c.Kind == KindRule && c.Port() == d.Port()
	case KindTargetGroup:
		return d.Op == OpCreate && ForwardsTo(c.Desired, d.ID)
	case KindSecurityGroup:
		return d.Op == OpCreate && c.Kind == KindLoadBalancer && c.Desired.LoadBalancer != nil &&
			slices.Contains(c.Desired.LoadBalancer.SecurityGroups, model.Ref{ID: d.ID})
	case KindCertificate:
		return d.Op == OpCreate && c.Kind == KindListener && c.Desired.Listener != nil &&
			slices.Contains(c.Desired.Listener.Certificates, model.Ref{ID: d.ID})
	}
	return false
}

// waitsOnDelete: a resource is deleted only after what used it is gone or changed, so a
// failed delete or change of a user holds back the delete of what it uses.
func waitsOnDelete(c, d Change) bool {
	if c.Op != OpDelete {
		return false
	}
	switch c.Kind {
	case KindTargetGroup:
		return d.Kind == KindLoadBalancer || ForwardsTo(d.Observed, c.ID)
	case KindSecurityGroup:
		return d.Kind == KindLoadBalancer
	case KindLoadBalancer:
		// A Shield protection that could not be deleted would outlive its load balancer.
		return d.Kind == KindAddon
	case KindCertificate:
		return d.Kind == KindLoadBalancer || d.Kind == KindListener && d.Observed.Listener != nil &&
			slices.Contains(d.Observed.Listener.Certificates, model.Ref{ID: c.ID})
	}
	return false
}

// WaitsOnFailed holds back the changes that use what a failed change was to create, and
// those that wait on them in turn; the others stay independent.
func WaitsOnFailed(failed []Change, c Change) (Change, bool) {
	for _, d := range failed {
		if Waits(c, d) {
			return d, true
		}
	}
	return Change{}, false
}

// Port is the listener port a listener, rule or rule-priorities change is about; 0 for others.
func (c Change) Port() int32 {
	switch c.Kind {
	case KindListener, KindRulePriorities:
		p, _ := strconv.ParseInt(c.ID, 10, 32)
		return int32(p)
	case KindRule:
		if c.Desired.ListenerPort != 0 {
			return c.Desired.ListenerPort
		}
		return c.Observed.ListenerPort
	}
	return 0
}

// ForwardsTo reports whether the listener or rule of r forwards to target group id.
func ForwardsTo(r Resource, id string) bool {
	var actions []model.Action
	switch {
	case r.Listener != nil:
		actions = r.Listener.DefaultActions
	case r.Rule != nil:
		actions = r.Rule.Actions
	}
	for _, a := range actions {
		if a.Forward == nil {
			continue
		}
		for _, tg := range a.Forward.TargetGroups {
			if tg.TargetGroup.ID == id {
				return true
			}
		}
	}
	return false
}
