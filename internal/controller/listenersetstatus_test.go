package controller

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/status"
)

// TestListenerSetStatusWriteFailureIsReturned: a ListenerSet status the API server refuses to
// write fails the report, so the Gateway's reconcile is retried with back-off (as for the
// Gateway's own status), instead of the ListenerSet keeping a stale status until the next resync.
func TestListenerSetStatusWriteFailureIsReturned(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw", Generation: 1}}
	ls := &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "extra", Generation: 1},
		Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{Name: "gw"}}}
	refusal := apierrors.NewServiceUnavailable("etcd is unavailable")
	refuse := true
	refusePayload := false // refuse only a status that says ListenersNotValid (its payload, not any write)
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(gw, ls).WithStatusSubresource(gw, ls).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			if set, isSet := o.(*gwv1.ListenerSet); isSet && (refuse || (refusePayload && slices.ContainsFunc(set.Status.Conditions, func(c metav1.Condition) bool {
				return c.Reason == string(gwv1.ListenerSetReasonListenersNotValid)
			}))) {
				return refusal
			}
			return c.SubResource(sub).Patch(ctx, o, p, opts...)
		}}).Build()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &statusWriter{client: c, reader: c, apis: APIs{Routes: map[string]schema.GroupVersionKind{}}, controller: ControllerNLB,
		events: &eventLog{}, now: func() time.Time { return now }, opts: Options{PendingRequeue: time.Second, Resync: time.Minute}}
	accepted := metav1.Condition{Type: string(gwv1.ListenerSetConditionAccepted), Status: metav1.ConditionTrue,
		Reason: string(gwv1.ListenerSetReasonAccepted), ObservedGeneration: 1}
	programmed := metav1.Condition{Type: string(gwv1.ListenerSetConditionProgrammed), Status: metav1.ConditionTrue,
		Reason: string(gwv1.ListenerSetReasonProgrammed), ObservedGeneration: 1}
	set := &status.Set{Gateway: &status.Gateway{}, ListenerSets: []status.ListenerSet{{Namespace: "default", Name: "extra", Generation: 1,
		Status: gwv1.ListenerSetStatus{Conditions: []metav1.Condition{accepted, programmed}}}}}
	in := reportInput{gateway: gw, owned: true, statuses: set}

	if _, err := w.report(context.Background(), in); !errors.Is(err, refusal) {
		t.Fatalf("report with a refused ListenerSet status write: error %v, want the refusal", err)
	}
	refuse = false
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(gw), gw); err != nil {
		t.Fatal(err)
	}
	if _, err := w.report(context.Background(), in); err != nil {
		t.Fatalf("report once the API server writes again: %v", err)
	}
	var got gwv1.ListenerSet
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(ls), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Conditions) != 2 {
		t.Errorf("ListenerSet conditions %+v, want Accepted and Programmed written on the retry", got.Status.Conditions)
	}

	// A later write refused for what it carries leaves the ListenerSet attached: it is not
	// handed over as if its parentRef had moved away.
	refusePayload = true
	someInvalid := accepted
	someInvalid.Reason = string(gwv1.ListenerSetReasonListenersNotValid)
	set.ListenerSets[0].Status.Conditions = []metav1.Condition{someInvalid, programmed}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(gw), gw); err != nil {
		t.Fatal(err)
	}
	if _, err := w.report(context.Background(), in); !errors.Is(err, refusal) {
		t.Fatalf("report with a refused ListenerSet status: error %v, want the refusal", err)
	}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(ls), &got); err != nil {
		t.Fatal(err)
	}
	if !meta.IsStatusConditionTrue(got.Status.Conditions, string(gwv1.ListenerSetConditionAccepted)) {
		t.Errorf("ListenerSet conditions %+v after a refused write, want the last written (Accepted=True), not a hand-over", got.Status.Conditions)
	}
}

// TestGatewaysOfRouteListenerSetDefaultGroup: a parentRef of kind ListenerSet without a group
// (gateway.networking.k8s.io is inferred) indexes the route under the ListenerSet; one of the
// core group ("") does not.
func TestGatewaysOfRouteListenerSetDefaultGroup(t *testing.T) {
	route := newRoute(schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: "TCPRoute"})
	route.SetNamespace("team")
	route.SetName("db")
	refs := []any{
		map[string]any{"kind": "ListenerSet", "name": "extra"},
		map[string]any{"group": "", "kind": "ListenerSet", "name": "core"},
		map[string]any{"name": "gw", "namespace": "infra"},
	}
	if err := unstructured.SetNestedSlice(route.Object, refs, "spec", "parentRefs"); err != nil {
		t.Fatal(err)
	}
	got := gatewaysOfRoute(route)
	want := []string{listenerSetKeyPrefix + "team/extra", "infra/gw"}
	if !slices.Equal(got, want) {
		t.Errorf("gatewaysOfRoute = %q, want %q", got, want)
	}
}
