package controller

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/status"
)

// TestFailuresOnTheirOwners: each refused change shows on the object that owns it, and only
// there: the load balancer's on the Gateway, a listener's on that listener and its routes,
// a rule's on its route.
func TestFailuresOnTheirOwners(t *testing.T) {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw", Generation: 2},
		Spec: gwv1.GatewaySpec{Listeners: []gwv1.Listener{{Name: "http", Port: 80}, {Name: "https", Port: 443}}}}
	accepted := func(typ string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: "Accepted", Message: "Route is accepted"}
	}
	routeStatus := func(name string) status.Route {
		return status.Route{Kind: "HTTPRoute", Namespace: "default", Name: name,
			Parents: []gwv1.RouteParentStatus{{Conditions: []metav1.Condition{accepted("Accepted")}}}}
	}
	set := &status.Set{
		Gateway: &status.Gateway{Conditions: []metav1.Condition{accepted("Accepted")}, Listeners: []gwv1.ListenerStatus{
			{Name: "http", Conditions: []metav1.Condition{accepted("Accepted")}},
			{Name: "https", Conditions: []metav1.Condition{accepted("Accepted")}},
		}},
		Routes: []status.Route{routeStatus("web"), routeStatus("secure"), routeStatus("other")},
	}
	rule := func(prio int32, route string) model.Rule {
		return model.Rule{Priority: prio, Route: model.RouteOwner("HTTPRoute", "default", route)}
	}
	result := &model.Stack{LoadBalancer: &model.LoadBalancer{ARN: "arn:lb", State: "active"}, Listeners: []model.Listener{
		{Port: 80, ARN: "arn:80", Rules: []model.Rule{rule(1, "web"), rule(2, "other")}},
		{Port: 443, Rules: []model.Rule{rule(1, "secure")}},
	}}
	refusedBy := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "refused"} }
	otherRule := rule(2, "other")
	failures := applyFailures{
		{Change: plan.Change{Op: plan.OpUpdate, Kind: plan.KindLoadBalancer, ID: "LoadBalancer"}, Err: refusedBy("ValidationError")},
		{Change: plan.Change{Op: plan.OpCreate, Kind: plan.KindListener, ID: "443"}, Err: refusedBy("CertificateNotFound")},
		{Change: plan.Change{Op: plan.OpCreate, Kind: plan.KindRule, ID: "80:2", Desired: plan.Resource{Rule: &otherRule, ListenerPort: 80}},
			Err: refusedBy("TooManyConditionValues")},
	}
	w := &statusWriter{now: func() time.Time { return time.Unix(0, 0) }}
	noteRouteFailures(set, result, failures)
	_, st := w.gatewayStatus(gw, reportInput{gateway: gw, statuses: set, result: result, failures: failures})

	if c := meta.FindStatusCondition(st.Conditions, "Programmed"); c.Status != metav1.ConditionFalse || c.Reason != "Invalid" ||
		!strings.Contains(c.Message, "ValidationError") {
		t.Errorf("Gateway Programmed %s %s %q, want False Invalid with the code", c.Status, c.Reason, c.Message)
	}
	want := map[gwv1.SectionName]struct {
		status metav1.ConditionStatus
		code   string
	}{"http": {metav1.ConditionTrue, ""}, "https": {metav1.ConditionFalse, "CertificateNotFound"}}
	for _, l := range st.Listeners {
		c := meta.FindStatusCondition(l.Conditions, "Programmed")
		if c.Status != want[l.Name].status || !strings.Contains(c.Message, want[l.Name].code) {
			t.Errorf("listener %s Programmed %s %q, want %s mentioning %q", l.Name, c.Status, c.Message, want[l.Name].status, want[l.Name].code)
		}
	}
	notes := map[string]string{"web": "", "secure": "not programmed on port 443", "other": "rule 80:2 not programmed"}
	for _, r := range set.Routes {
		msg := meta.FindStatusCondition(r.Parents[0].Conditions, "Accepted").Message
		if want := notes[r.Name]; want == "" && strings.Contains(msg, "not programmed") || want != "" && !strings.Contains(msg, want) {
			t.Errorf("route %s Accepted message %q, want it to mention %q", r.Name, msg, want)
		}
	}
	if failuresOf(errors.New("plain")) != nil || len(failuresOf(&aws.ApplyError{Failures: failures})) != 3 {
		t.Error("failuresOf must find the failures of an *aws.ApplyError only")
	}
}

// TestRefusedRegistrationOnItsListener: a target group of type alb whose Application Load
// Balancer AWS refused to register (a change of the group, not of the listener) makes the
// listener that forwards to it not Programmed, naming the refusal; a listener forwarding to
// another group, and a failed change of a group's health check, leave listeners Programmed.
func TestRefusedRegistrationOnItsListener(t *testing.T) {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "nlb", Generation: 1},
		Spec: gwv1.GatewaySpec{Listeners: []gwv1.Listener{{Name: "tcp", Port: 80}, {Name: "app", Port: 8080}}}}
	accepted := metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}
	set := &status.Set{Gateway: &status.Gateway{Conditions: []metav1.Condition{accepted}, Listeners: []gwv1.ListenerStatus{
		{Name: "tcp", Conditions: []metav1.Condition{accepted}}, {Name: "app", Conditions: []metav1.Condition{accepted}},
	}}}
	forward := func(tg string) []model.Action {
		return []model.Action{{Type: "forward", Forward: &model.ForwardAction{TargetGroups: []model.WeightedTargetGroup{{TargetGroup: model.Ref{ID: tg}}}}}}
	}
	desired := &model.Stack{LoadBalancer: &model.LoadBalancer{}, Listeners: []model.Listener{
		{Port: 80, DefaultActions: forward("chain")}, {Port: 8080, DefaultActions: forward("app")},
	}}
	result := &model.Stack{LoadBalancer: &model.LoadBalancer{ARN: "arn:lb", State: "active"}, Listeners: []model.Listener{
		{Port: 80, ARN: "arn:80", DefaultActions: forward("chain")}, {Port: 8080, ARN: "arn:8080", DefaultActions: forward("app")},
	}}
	refusal := &smithy.GenericAPIError{Code: "TooManyRegistrationsForTargetId", Message: "the ALB is the target of two NLBs"}
	failures := applyFailures{
		{Change: plan.Change{Op: plan.OpUpdate, Kind: plan.KindTargetGroup, ID: "app", Update: &plan.Update{Fields: []plan.Field{plan.FieldHealthCheck}}},
			Err: &smithy.GenericAPIError{Code: "ValidationError"}},
		{Change: plan.Change{Op: plan.OpUpdate, Kind: plan.KindTargetGroup, ID: "chain", Update: &plan.Update{Fields: []plan.Field{plan.FieldTargets}}},
			Err: refusal},
	}
	w := &statusWriter{now: func() time.Time { return time.Unix(0, 0) }}
	_, st := w.gatewayStatus(gw, reportInput{gateway: gw, statuses: set, desired: desired, result: result, failures: failures})
	want := map[gwv1.SectionName]struct {
		status metav1.ConditionStatus
		reason string
		code   string
	}{"tcp": {metav1.ConditionFalse, "Invalid", "TooManyRegistrationsForTargetId"}, "app": {metav1.ConditionTrue, "Programmed", ""}}
	for _, l := range st.Listeners {
		c := meta.FindStatusCondition(l.Conditions, "Programmed")
		if c.Status != want[l.Name].status || c.Reason != want[l.Name].reason || !strings.Contains(c.Message, want[l.Name].code) {
			t.Errorf("listener %s Programmed %s/%s %q, want %s/%s mentioning %q", l.Name, c.Status, c.Reason, c.Message,
				want[l.Name].status, want[l.Name].reason, want[l.Name].code)
		}
	}
}
