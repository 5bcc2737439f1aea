package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// Events on Gateways: one Normal event per AWS change applied, with a reason that says what
// happened to which kind of resource (CreatedLoadBalancer, UpdatedListener, DeletedTargetGroup),
// and one Warning event per failed change (FailedCreateListener). Every failed reconcile step
// also gets a Warning of its own (FailedGather, FailedObserve, FailedApply; see statusWriter.failed).
// The events of a change to a target group or rule that a route owns go to that route too, and
// a route whose status turns rejected gets a Warning (see routeevents.go).

// changeEvent is one event of an applied plan.
type changeEvent struct {
	eventType string
	reason    string
	action    string
	note      string
	// route is the owner of the changed resource (model.RouteOwner), or "".
	route string
}

// changeEvents lists the events of a plan that ran: every change before the failed one
// succeeded; the failed one (named by err, see aws.Cloud.Apply) becomes a Warning; the ones after
// it did not run and get no event. When err names no change, nothing is known to have
// succeeded: the reconcile's FailedApply event (statusWriter.failed) reports the error.
func changeEvents(changes []plan.Change, err error) []changeEvent {
	if fs := failuresOf(err); fs != nil {
		return partialEvents(changes, fs)
	}
	failed := -1
	if err != nil {
		failed = failedChange(changes, err)
	}
	var out []changeEvent
	for i, c := range changes {
		if i == failed {
			out = append(out, changeEvent{eventType: corev1.EventTypeWarning, reason: "Failed" + pascal(string(c.Op)) + string(c.Kind),
				action: pascal(string(c.Op)), note: truncate(err.Error()), route: changeOwner(c)})
			break
		}
		if err != nil && failed < 0 {
			break
		}
		ev := changeEvent{eventType: corev1.EventTypeNormal, reason: pastTense(c.Op) + string(c.Kind),
			action: pascal(string(c.Op)), note: truncate(changeNote(c)), route: changeOwner(c)}
		if c.Kind == plan.KindLoadBalancer && c.Op == plan.OpDelete && c.IsReplace() {
			// A replaced load balancer gets a new DNS name: clients must follow.
			ev.eventType = corev1.EventTypeWarning
		}
		out = append(out, ev)
	}
	return out
}

// partialEvents are the events of a plan applied in part: each applied change, and each
// change AWS refused; changes that waited on a refused one are not events of their own.
func partialEvents(changes []plan.Change, fs applyFailures) []changeEvent {
	var out []changeEvent
	for _, c := range changes {
		i := slices.IndexFunc(fs, func(f aws.ChangeFailure) bool {
			return f.Change.Op == c.Op && f.Change.Kind == c.Kind && f.Change.ID == c.ID
		})
		switch {
		case i < 0:
			out = append(out, changeEvent{eventType: corev1.EventTypeNormal, reason: pastTense(c.Op) + string(c.Kind),
				action: pascal(string(c.Op)), note: truncate(changeNote(c)), route: changeOwner(c)})
		case fs[i].Err != nil:
			out = append(out, changeEvent{eventType: corev1.EventTypeWarning, reason: "Failed" + pascal(string(c.Op)) + string(c.Kind),
				action: pascal(string(c.Op)), note: truncate(fs[i].Reason()), route: changeOwner(c)})
		}
	}
	return out
}

// failedChange finds the change an Apply error names ("<op> <kind> <id>: why"); -1 when none.
func failedChange(changes []plan.Change, err error) int {
	msg := err.Error()
	for i, c := range changes {
		if strings.Contains(msg, fmt.Sprintf("%s %s %s: ", c.Op, c.Kind, c.ID)) {
			return i
		}
	}
	return -1
}

func pastTense(op plan.Op) string {
	switch op {
	case plan.OpCreate:
		return "Created"
	case plan.OpUpdate:
		return "Updated"
	case plan.OpDelete:
		return "Deleted"
	}
	return pascal(string(op))
}

func pascal(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// changeOwner is the route that owns the resource of a change: the desired one's owner, else
// the observed one's (observed resources carry none today: AWS does not hold it).
func changeOwner(c plan.Change) string {
	for _, r := range []plan.Resource{c.Desired, c.Observed} {
		switch {
		case r.TargetGroup != nil && r.TargetGroup.Route != "":
			return r.TargetGroup.Route
		case r.Rule != nil && r.Rule.Route != "":
			return r.Rule.Route
		}
	}
	return ""
}

// recordChanges emits the events of an applied plan on the Gateway, and those of resources a
// route owns on that route as well, naming the Gateway.
func (w *statusWriter) recordChanges(ctx context.Context, gw *gwv1.Gateway, changes []plan.Change, err error) {
	routes := map[string]*unstructured.Unstructured{}
	for _, e := range changeEvents(changes, err) {
		w.events.Eventf(gw, nil, e.eventType, e.reason, e.action, "%s", e.note)
		if e.route == "" {
			continue
		}
		u, seen := routes[e.route]
		if !seen {
			u = w.routeForEvents(ctx, e.route)
			routes[e.route] = u
		}
		if u != nil {
			w.events.Eventf(u, nil, e.eventType, e.reason, e.action, "%s", truncate("Gateway "+gw.Namespace+"/"+gw.Name+": "+e.note))
		}
	}
}

// changeNote says what a change did to which AWS resource, named as AWS names it: the load
// balancer's and target group's names (with the ARN once known), the security group's ID or
// name, the listener's port and the rule's listener port and priority, never the model's
// logical IDs.
func changeNote(c plan.Change) string {
	note := fmt.Sprintf("%s %s %s", c.Op, c.Kind, awsName(c))
	if c.Reason != "" {
		note += ": " + c.Reason
	}
	return note
}

// awsName is the AWS name of a change's resource; the change's ID when the resource has none.
func awsName(c plan.Change) string {
	first := func(vs ...string) string {
		for _, v := range vs {
			if v != "" {
				return v
			}
		}
		return c.ID
	}
	for _, r := range []plan.Resource{c.Observed, c.Desired} {
		switch {
		case r.LoadBalancer != nil:
			if r.LoadBalancer.ARN != "" {
				return r.LoadBalancer.ARN
			}
			if r.LoadBalancer.Name != "" {
				return r.LoadBalancer.Name
			}
		case r.TargetGroup != nil:
			if r.TargetGroup.ARN != "" {
				return r.TargetGroup.ARN
			}
			if r.TargetGroup.Name != "" {
				return r.TargetGroup.Name
			}
		case r.SecurityGroup != nil:
			if r.SecurityGroup.GroupID != "" {
				return r.SecurityGroup.GroupID + " (" + first(r.SecurityGroup.Name) + ")"
			}
			if r.SecurityGroup.Name != "" {
				return r.SecurityGroup.Name
			}
		}
	}
	return c.ID
}
