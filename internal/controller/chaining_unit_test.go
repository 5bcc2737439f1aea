package controller

import (
	"context"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// TestChainPorts: a listener programmed without an AWS listener (no route with a usable
// backend) says so in its own condition, and NLB to ALB chaining leaves its port out, as it
// does a listener that is not programmed; a listener with its AWS listener counts.
func TestChainPorts(t *testing.T) {
	gen := int64(2)
	lb := metav1.Condition{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionTrue, Reason: "Programmed"}
	accepted := gwv1.ListenerStatus{Conditions: []metav1.Condition{{Type: string(gwv1.ListenerConditionAccepted), Status: metav1.ConditionTrue}}}
	desired := &model.Stack{LoadBalancer: &model.LoadBalancer{}, Listeners: []model.Listener{{Port: 80}}}
	result := &model.Stack{LoadBalancer: &model.LoadBalancer{ARN: "arn:lb"}, Listeners: []model.Listener{{Port: 80, ARN: "arn:listener"}}}

	served, none := listenerProgrammed(accepted, 80, lb, desired, result, nil, gen)
	if served.Status != metav1.ConditionTrue || none != nil {
		t.Errorf("port 80 with its AWS listener: Programmed %+v, %s %+v; want True and no %s", served, ConditionAWSListener, none, ConditionAWSListener)
	}
	idle, none := listenerProgrammed(accepted, 81, lb, desired, result, nil, gen)
	if idle.Status != metav1.ConditionTrue || idle.Reason != "Programmed" {
		t.Errorf("port 81 without an AWS listener: Programmed %+v, want True Programmed", idle)
	}
	if none == nil || none.Type != ConditionAWSListener || none.Status != metav1.ConditionFalse || none.Reason != ReasonNoUsableRoute || none.ObservedGeneration != gen {
		t.Fatalf("port 81 without an AWS listener: %s %+v, want False %s at generation %d", ConditionAWSListener, none, ReasonNoUsableRoute, gen)
	}

	alb := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "alb"}}
	alb.Spec.Listeners = []gwv1.Listener{{Name: "http", Port: 80}, {Name: "idle", Port: 81}, {Name: "broken", Port: 82}}
	alb.Status.Listeners = []gwv1.ListenerStatus{
		{Name: "http", Conditions: []metav1.Condition{served}},
		{Name: "idle", Conditions: []metav1.Condition{idle, *none}},
		{Name: "broken", Conditions: []metav1.Condition{{Type: string(gwv1.ListenerConditionProgrammed), Status: metav1.ConditionFalse, Reason: "Invalid"}}},
	}
	if c := meta.FindStatusCondition(alb.Status.Listeners[1].Conditions, ConditionAWSListener); c == nil {
		t.Fatal("test setup: the idle listener has no condition")
	}
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	g := &gatherer{reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(alb).Build()}
	route := gwv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "chain"}}
	kind := gwv1.Kind("Gateway")
	route.Spec.Rules = []gwv1.TCPRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: gwv1.BackendObjectReference{Kind: &kind, Name: "alb"}}}}}
	s := &snapshot.Snapshot{TCPRoutes: []gwv1.TCPRoute{route}}
	if err := g.backendGateways(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if len(s.BackendGateways) != 1 || !slices.Equal(s.BackendGateways[0].Ports, []int32{80}) {
		t.Errorf("backend Gateways %+v, want web/alb with port 80 only", s.BackendGateways)
	}
}
