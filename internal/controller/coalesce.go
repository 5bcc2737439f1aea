package controller

import (
	"context"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// routeCoalesce is how long a Gateway waits after the first event of one of its routes before
// it is reconciled. Events for the same Gateway meanwhile join that request (the queue keeps a
// key's earliest time), so a burst — routes applied together — costs one reconcile per Gateway
// per routeCoalesce and reconcile, not one per route event.
const routeCoalesce = time.Second

// enqueueAfter is handler.EnqueueRequestsFromMapFunc with every request added after delay.
// An update maps both the old and the new object, as that handler does: a route that leaves a
// Gateway changes both.
func enqueueAfter(fn handler.MapFunc, delay time.Duration) handler.EventHandler {
	type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]
	add := func(ctx context.Context, q queue, objs ...client.Object) {
		for _, o := range objs {
			if o == nil {
				continue
			}
			for _, r := range fn(ctx, o) {
				q.AddAfter(r, delay)
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q queue) { add(ctx, q, e.Object) },
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) {
			add(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc:  func(ctx context.Context, e event.DeleteEvent, q queue) { add(ctx, q, e.Object) },
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q queue) { add(ctx, q, e.Object) },
	}
}
