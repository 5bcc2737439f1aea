package controller

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/status"
)

// What apply did not do, told on the object that owns it: the load balancer and its security
// groups on the Gateway, a listener on the Gateway's listeners of its port, a rule or target
// group on its route. A listener is Programmed only when its AWS listener exists as desired.

// applyFailures are the changes of a plan that did not happen (see aws.ApplyError).
type applyFailures []aws.ChangeFailure

func failuresOf(err error) applyFailures {
	var ae *aws.ApplyError
	if errors.As(err, &ae) {
		return ae.Failures
	}
	return nil
}

// gatewayFailure is the first failure of a change the Gateway itself owns.
func (fs applyFailures) gatewayFailure() *aws.ChangeFailure {
	for i, f := range fs {
		if f.Change.Kind == plan.KindLoadBalancer || f.Change.Kind == plan.KindSecurityGroup || f.Change.Kind == plan.KindAddon {
			return &fs[i]
		}
	}
	return nil
}

// listenerFailure is the first failure of the listener on port, else the first failed creation
// or registration of a target group its default actions forward to in desired: a target group of
// type alb whose Application Load Balancer AWS refused to register leaves the listener
// forwarding to nothing, whether or not the listener itself was changed.
func (fs applyFailures) listenerFailure(port int32, desired *model.Stack) *aws.ChangeFailure {
	for i, f := range fs {
		if f.Change.Kind == plan.KindListener && f.Change.Port() == port && f.Change.Op != plan.OpDelete {
			return &fs[i]
		}
	}
	if desired == nil {
		return nil
	}
	i := slices.IndexFunc(desired.Listeners, func(l model.Listener) bool { return l.Port == port })
	if i < 0 {
		return nil
	}
	listener := plan.Resource{Listener: &desired.Listeners[i]}
	for i, f := range fs {
		registers := f.Change.Op == plan.OpCreate || f.Change.Op == plan.OpUpdate && f.Change.Update.Has(plan.FieldTargets)
		if f.Change.Kind == plan.KindTargetGroup && registers && plan.ForwardsTo(listener, f.Change.ID) {
			return &fs[i]
		}
	}
	return nil
}

// refused is the reason and message of a condition for a change that did not happen: Invalid
// with the AWS error code when AWS refused it, Pending when it waits or was not attempted.
func refused(f *aws.ChangeFailure, invalid, pending string) (reason, message string) {
	if f.Err != nil {
		code := f.Code()
		if code == "" {
			code = "no AWS error code"
		}
		return invalid, truncate(fmt.Sprintf("AWS refused %s (%s); fix the cause, it is retried with backoff", f.Reason(), code))
	}
	return pending, truncate(f.Reason() + "; retrying with backoff")
}

// listenerPorts maps the Gateway's listener names to their ports.
func listenerPorts(gw *gwv1.Gateway) map[gwv1.SectionName]int32 {
	out := map[gwv1.SectionName]int32{}
	for _, l := range gw.Spec.Listeners {
		out[l.Name] = l.Port
	}
	return out
}

// ConditionAWSListener is a Gateway listener's condition while it is Programmed without an
// AWS listener: False, ReasonNoUsableRoute, when no route with a usable backend is attached, so
// the load balancer has no listener on its port; absent otherwise. NLB to ALB chaining reads it
// (gather.go), since an NLB forwards only to a port the ALB has an AWS listener on.
const (
	ConditionAWSListener = "gateway.k8s.aws/AWSListener"
	ReasonNoUsableRoute  = "NoUsableRoute"
)

// listenerProgrammed says whether one listener is programmed: accepted, its AWS listener in
// the result with an ARN, and no change of it left undone. A port the desired stack has no
// AWS listener for (no route with a usable backend yet) is programmed as desired once the load
// balancer is: there is nothing of it to program, and the message says the port refuses
// connections until then; noListener, the ConditionAWSListener condition, says so too.
func listenerProgrammed(l gwv1.ListenerStatus, port int32, gateway metav1.Condition, desired, result *model.Stack, fs applyFailures, gen int64) (c metav1.Condition, noListener *metav1.Condition) {
	c = metav1.Condition{Type: string(gwv1.ListenerConditionProgrammed), ObservedGeneration: gen, Status: metav1.ConditionFalse}
	if acc := meta.FindStatusCondition(l.Conditions, string(gwv1.ListenerConditionAccepted)); acc != nil && acc.Status != metav1.ConditionTrue {
		c.Reason, c.Message = string(gwv1.ListenerReasonInvalid), "Listener is not accepted: "+acc.Message
		return c, nil
	}
	if f := fs.listenerFailure(port, desired); f != nil {
		c.Reason, c.Message = refused(f, string(gwv1.ListenerReasonInvalid), string(gwv1.ListenerReasonPending))
		return c, nil
	}
	var aws *model.Listener
	if result != nil {
		if i := slices.IndexFunc(result.Listeners, func(x model.Listener) bool { return x.Port == port }); i >= 0 {
			aws = &result.Listeners[i]
		}
	}
	switch {
	case aws == nil:
		c.Reason = string(gwv1.ListenerReasonInvalid)
		c.Message = fmt.Sprintf("no AWS listener is programmed on port %d", port)
		switch res := meta.FindStatusCondition(l.Conditions, string(gwv1.ListenerConditionResolvedRefs)); {
		case res != nil && res.Status != metav1.ConditionTrue:
			c.Message += ": " + res.Message
		case gateway.Status != metav1.ConditionTrue:
			c.Reason, c.Message = string(gwv1.ListenerReasonPending), "Listener is pending: "+gateway.Message
		case desired != nil && !slices.ContainsFunc(desired.Listeners, func(x model.Listener) bool { return x.Port == port }):
			c.Status, c.Reason = metav1.ConditionTrue, string(gwv1.ListenerReasonProgrammed)
			c.Message = fmt.Sprintf("Listener is programmed: no route with a usable backend is attached, so the load balancer has no listener on port %d and refuses connections to it", port)
			noListener = &metav1.Condition{Type: ConditionAWSListener, Status: metav1.ConditionFalse, Reason: ReasonNoUsableRoute, ObservedGeneration: gen,
				Message: fmt.Sprintf("the load balancer has no listener on port %d until a route with a usable backend is attached to it", port)}
		default:
			c.Message += "; a port gets one once a route with a usable backend is attached to it"
		}
	case aws.ARN == "":
		c.Reason, c.Message = string(gwv1.ListenerReasonPending), fmt.Sprintf("the AWS listener on port %d is not created yet", port)
	case gateway.Status != metav1.ConditionTrue:
		c.Reason, c.Message = string(gwv1.ListenerReasonPending), "Listener is pending: "+gateway.Message
	default:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, string(gwv1.ListenerReasonProgrammed), "Listener is programmed"
	}
	return c, noListener
}

// noteRouteFailures adds to the Accepted message of each route entry what of the route AWS
// does not have: its rules or target groups that failed, and the listeners it is on that are
// not programmed.
func noteRouteFailures(set *status.Set, result *model.Stack, fs applyFailures) {
	if set == nil || len(fs) == 0 {
		return
	}
	notes := map[string][]string{}
	add := func(owner, note string) {
		if owner != "" && !slices.Contains(notes[owner], note) {
			notes[owner] = append(notes[owner], note)
		}
	}
	for i := range fs {
		f := &fs[i]
		_, msg := refused(f, "", "")
		switch d := f.Change.Desired; {
		case d.Rule != nil:
			add(d.Rule.Route, "rule "+f.Change.ID+" not programmed: "+msg)
		case d.TargetGroup != nil:
			add(d.TargetGroup.Route, "target group "+d.TargetGroup.Name+" not programmed: "+msg)
		case f.Change.Kind == plan.KindListener && f.Change.Op != plan.OpDelete:
			for _, owner := range listenerRoutes(result, f.Change.Port()) {
				add(owner, fmt.Sprintf("not programmed on port %d: %s", f.Change.Port(), msg))
			}
		}
	}
	for i := range set.Routes {
		r := &set.Routes[i]
		n := notes[model.RouteOwner(r.Kind, r.Namespace, r.Name)]
		if len(n) == 0 {
			continue
		}
		for j := range r.Parents {
			c := meta.FindStatusCondition(r.Parents[j].Conditions, string(gwv1.RouteConditionAccepted))
			if c != nil && c.Status == metav1.ConditionTrue {
				c.Message = truncate(c.Message + "; " + strings.Join(n, "; "))
			}
		}
	}
}

// listenerRoutes are the routes whose rules or default-action target groups are on port.
func listenerRoutes(s *model.Stack, port int32) []string {
	if s == nil {
		return nil
	}
	owners := map[string]string{}
	for _, tg := range s.TargetGroups {
		owners[tg.ID] = tg.Route
	}
	var out []string
	for _, l := range s.Listeners {
		if l.Port != port {
			continue
		}
		for _, r := range l.Rules {
			out = append(out, r.Route)
		}
		for _, a := range l.DefaultActions {
			if a.Forward == nil {
				continue
			}
			for _, tg := range a.Forward.TargetGroups {
				out = append(out, owners[tg.TargetGroup.ID])
			}
		}
	}
	return out
}
