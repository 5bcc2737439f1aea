package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// A burst of route events — 100 routes of one Gateway created, then updated — is one request
// for that Gateway, ready after the coalescing delay and not before; a route of another
// Gateway is a request of its own.
func TestRouteBurstIsOneReconcilePerGateway(t *testing.T) {
	q := priorityqueue.New[reconcile.Request]("burst")
	defer q.ShutDown()
	route := func(i int, gateway string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
			"metadata": map[string]any{"namespace": "ns", "name": fmt.Sprintf("route-%d", i)},
			"spec":     map[string]any{"parentRefs": []any{map[string]any{"name": gateway}}},
		}}
		return u
	}
	m := &mapper{}
	h := enqueueAfter(m.route, 300*time.Millisecond)
	ctx := context.Background()
	start := time.Now()
	for i := range 100 {
		h.Create(ctx, event.CreateEvent{Object: route(i, "gw-a")}, q)
	}
	for i := range 100 {
		h.Update(ctx, event.UpdateEvent{ObjectOld: route(i, "gw-a"), ObjectNew: route(i, "gw-a")}, q)
	}
	h.Create(ctx, event.CreateEvent{Object: route(100, "gw-b")}, q)
	if n := q.Len(); n != 0 && time.Since(start) < 300*time.Millisecond {
		t.Fatalf("%d requests ready before the coalescing delay", n)
	}
	var got []reconcile.Request
	for range 2 {
		r, _ := q.Get()
		got = append(got, r)
		q.Done(r)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("requests ready after %s, before the coalescing delay", time.Since(start))
	}
	want := map[types.NamespacedName]bool{{Namespace: "ns", Name: "gw-a"}: true, {Namespace: "ns", Name: "gw-b"}: true}
	for _, r := range got {
		if !want[r.NamespacedName] {
			t.Errorf("unexpected request %v", r)
		}
		delete(want, r.NamespacedName)
	}
	time.Sleep(400 * time.Millisecond)
	if n := q.Len(); n != 0 || len(want) != 0 {
		t.Errorf("after 201 route events: %d more requests queued, Gateways not requested %v; want one request per Gateway", n, want)
	}
}
