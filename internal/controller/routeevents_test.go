package controller

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/status"
	"github.com/elbgateway/elbgateway/internal/targets"
)

// eventLog records events as "<Kind> <name>: <type> <reason> <note>".
type eventLog struct{ events []string }

func (l *eventLog) Eventf(regarding, _ runtime.Object, eventtype, reason, _ string, note string, args ...interface{}) {
	name := ""
	if o, ok := regarding.(interface{ GetName() string }); ok {
		name = o.GetName()
	}
	kind := regarding.GetObjectKind().GroupVersionKind().Kind
	if _, ok := regarding.(*gwv1.Gateway); ok {
		kind = "Gateway"
	}
	l.events = append(l.events, fmt.Sprintf("%s %s: %s %s %s", kind, name, eventtype, reason, fmt.Sprintf(note, args...)))
}

func (l *eventLog) take() []string {
	out := l.events
	l.events = nil
	return out
}

func condition(typ string, st metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: msg}
}

func TestRejectionEvents(t *testing.T) {
	ref := func(section string) gwv1.ParentReference {
		s := gwv1.SectionName(section)
		return gwv1.ParentReference{Name: "gw", SectionName: &s}
	}
	parent := func(section string, conds ...metav1.Condition) gwv1.RouteParentStatus {
		return gwv1.RouteParentStatus{ParentRef: ref(section), ControllerName: "gateway.k8s.aws/nlb", Conditions: conds}
	}
	accepted := condition("Accepted", metav1.ConditionTrue, "Accepted", "ok")
	missing := condition("ResolvedRefs", metav1.ConditionFalse, "BackendNotFound", "spec.rules[0].backendRefs[0]: Service ns/x not found")
	partial := condition("PartiallyInvalid", metav1.ConditionTrue, "UnsupportedValue", "spec.rules[1]: bad")
	notAllowed := condition("Accepted", metav1.ConditionFalse, "NotAllowedByListeners", "no listener allows it")
	reasons := func(es []changeEvent) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.eventType+"/"+e.reason)
		}
		return out
	}
	for _, tt := range []struct {
		name      string
		old, ours []gwv1.RouteParentStatus
		want      []string
	}{
		{"first rejection", nil, []gwv1.RouteParentStatus{parent("a", accepted, missing)}, []string{"Warning/BackendNotFound"}},
		{"unchanged resync", []gwv1.RouteParentStatus{parent("a", accepted, missing)}, []gwv1.RouteParentStatus{parent("a", accepted, missing)}, nil},
		{"same problem on two parents is one event", nil, []gwv1.RouteParentStatus{parent("a", missing), parent("b", missing)}, []string{"Warning/BackendNotFound"}},
		{"a new message is a new event", []gwv1.RouteParentStatus{parent("a", condition("ResolvedRefs", metav1.ConditionFalse, "BackendNotFound", "other"))},
			[]gwv1.RouteParentStatus{parent("a", missing)}, []string{"Warning/BackendNotFound"}},
		{"partially invalid and not accepted", nil, []gwv1.RouteParentStatus{parent("a", notAllowed, partial)}, []string{"Warning/NotAllowedByListeners", "Warning/UnsupportedValue"}},
		{"accepted and resolved", nil, []gwv1.RouteParentStatus{parent("a", accepted, condition("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", ""))}, nil},
	} {
		if got := reasons(rejectionEvents(tt.old, tt.ours)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

var httpRouteGVK = schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: "HTTPRoute"}

// newTestWriter is a status writer over a fake API server holding one HTTPRoute default/web.
func newTestWriter(t *testing.T) (*statusWriter, *eventLog) {
	t.Helper()
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	route := newRoute(httpRouteGVK)
	route.SetNamespace("default")
	route.SetName("web")
	route.SetUID("uid-web")
	if err := unstructured.SetNestedSlice(route.Object, []any{map[string]any{"name": "gw"}}, "spec", "parentRefs"); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(route).WithStatusSubresource(route).Build()
	log := &eventLog{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &statusWriter{client: c, reader: c, apis: APIs{Routes: map[string]schema.GroupVersionKind{"HTTPRoute": httpRouteGVK}},
		controller: ControllerALB, events: log, now: func() time.Time { return now }}, log
}

// TestRouteRejectionEventOnceAcrossResyncs: the report step writes a rejected route status
// with one Warning; the same status again (a resync) writes nothing and records nothing.
func TestRouteRejectionEventOnceAcrossResyncs(t *testing.T) {
	ctx := context.Background()
	w, log := newTestWriter(t)
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw"}}
	set := &status.Set{Routes: []status.Route{{Kind: "HTTPRoute", Namespace: "default", Name: "web",
		Parents: []gwv1.RouteParentStatus{{ParentRef: gwv1.ParentReference{Name: "gw"}, Conditions: []metav1.Condition{
			condition("Accepted", metav1.ConditionTrue, "Accepted", "Route is accepted"),
			condition("ResolvedRefs", metav1.ConditionFalse, "BackendNotFound", "spec.rules[0].backendRefs[0]: Service default/nothing not found; create it or fix the name"),
		}}}}}}
	for i := range 3 {
		if err := w.routes(ctx, gw, set); err != nil {
			t.Fatal(err)
		}
		got := log.take()
		want := []string(nil)
		if i == 0 {
			want = []string{"HTTPRoute web: Warning BackendNotFound spec.rules[0].backendRefs[0]: Service default/nothing not found; create it or fix the name"}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("report %d: events %q, want %q", i+1, got, want)
		}
	}
}

// TestChangeEventsReachTheOwningRoute: a change to a rule a route owns is an event on the
// Gateway and on the route (naming the Gateway); a change without an owner only on the Gateway.
func TestChangeEventsReachTheOwningRoute(t *testing.T) {
	w, log := newTestWriter(t)
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw"}}
	owner := model.RouteOwner("HTTPRoute", "default", "web")
	changes := []plan.Change{
		{Op: plan.OpCreate, Kind: plan.KindTargetGroup, ID: "tg", Reason: "not found", Desired: plan.Resource{TargetGroup: &model.TargetGroup{ID: "tg", Route: owner}}},
		{Op: plan.OpCreate, Kind: plan.KindListener, ID: "80", Reason: "not found", Desired: plan.Resource{Listener: &model.Listener{Port: 80}}},
		{Op: plan.OpCreate, Kind: plan.KindRule, ID: "80:1", Reason: "not found", Desired: plan.Resource{Rule: &model.Rule{Priority: 1, Route: owner}}},
		{Op: plan.OpCreate, Kind: plan.KindRule, ID: "80:2", Reason: "not found",
			Desired: plan.Resource{Rule: &model.Rule{Priority: 2, Route: model.RouteOwner("HTTPRoute", "default", "gone")}}},
	}
	w.recordChanges(context.Background(), gw, changes, nil)
	want := []string{
		"Gateway gw: Normal CreatedTargetGroup create TargetGroup tg: not found",
		"HTTPRoute web: Normal CreatedTargetGroup Gateway default/gw: create TargetGroup tg: not found",
		"Gateway gw: Normal CreatedListener create Listener 80: not found",
		"Gateway gw: Normal CreatedRule create Rule 80:1: not found",
		"HTTPRoute web: Normal CreatedRule Gateway default/gw: create Rule 80:1: not found",
		"Gateway gw: Normal CreatedRule create Rule 80:2: not found",
	}
	if got := log.take(); !reflect.DeepEqual(got, want) {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNodeSecurityGroupCondition(t *testing.T) {
	c := nodeSecurityGroupCondition(4, nil)
	if c.Status != metav1.ConditionTrue || c.Reason != ReasonResolved || c.ObservedGeneration != 4 {
		t.Errorf("no problems: %+v", c)
	}
	c = nodeSecurityGroupCondition(4, []targets.Problem{
		{Reason: targets.ReasonNoNetworkInterface, Message: "target 127.0.0.1 (pod IP): none"},
		{Reason: targets.ReasonAmbiguousSecurityGroup, Message: "target 127.0.0.2 (pod IP): two"},
	})
	if c.Status != metav1.ConditionFalse || c.Reason != targets.ReasonAmbiguousSecurityGroup ||
		!strings.Contains(c.Message, "127.0.0.1") || !strings.Contains(c.Message, "127.0.0.2") {
		t.Errorf("two problems: %+v", c)
	}

	w, log := newTestWriter(t)
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw"}}
	ok := []metav1.Condition{nodeSecurityGroupCondition(1, nil)}
	bad := []metav1.Condition{c}
	w.nodeSecurityGroupEvent(gw, ok, bad)
	w.nodeSecurityGroupEvent(gw, bad, bad)
	w.nodeSecurityGroupEvent(gw, bad, ok)
	w.nodeSecurityGroupEvent(gw, ok, ok)
	w.nodeSecurityGroupEvent(gw, nil, ok)
	got := log.take()
	if len(got) != 2 || !strings.HasPrefix(got[0], "Gateway gw: Warning AmbiguousSecurityGroup") || !strings.HasPrefix(got[1], "Gateway gw: Normal Resolved") {
		t.Errorf("events %q, want one Warning when it turns false and one Normal when it is resolved", got)
	}
}
