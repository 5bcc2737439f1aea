package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/log"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Events on routes: the AWS changes of the target groups and rules a route owns (recordChanges),
// and one Warning when the status we write for the route turns rejected: Accepted=False,
// ResolvedRefs=False or PartiallyInvalid=True, with the condition's reason and message. Only
// a change of such a condition is an event; a resync that writes the same status is silent.

// routeForEvents reads the route an owner names from the cache, in the version the cluster
// serves; nil when its kind is not served or the route is gone.
func (w *statusWriter) routeForEvents(ctx context.Context, owner string) *unstructured.Unstructured {
	o, ok := model.ParseOwner(owner)
	if !ok {
		return nil
	}
	gvk, ok := w.apis.Routes[o.Kind]
	if !ok {
		return nil
	}
	u := newRoute(gvk)
	found, err := (&gatherer{reader: w.reader}).get(ctx, o.Namespace+"/"+o.Name, u)
	if err != nil {
		log.FromContext(ctx).Error(err, "reading a route for its events", "route", owner)
	}
	if !found {
		return nil
	}
	return u
}

// rejectionEvents are the Warnings of the parents we write for a route (ours) against what its
// status held before (old): one per rejecting condition that is new or says something new,
// without repeating one reason and message across parents.
func rejectionEvents(old, ours []gwv1.RouteParentStatus) []changeEvent {
	var out []changeEvent
	seen := map[string]bool{}
	for _, p := range ours {
		prev := matchingParent(old, p).Conditions
		for _, c := range p.Conditions {
			if !rejecting(c) {
				continue
			}
			if was := meta.FindStatusCondition(prev, c.Type); was != nil &&
				was.Status == c.Status && was.Reason == c.Reason && was.Message == c.Message {
				continue
			}
			if key := c.Reason + "\x00" + c.Message; !seen[key] {
				seen[key] = true
				out = append(out, changeEvent{eventType: corev1.EventTypeWarning, reason: c.Reason, action: c.Type, note: truncate(c.Message)})
			}
		}
	}
	return out
}

// rejecting is true for a route condition that says (part of) the route is not served.
func rejecting(c metav1.Condition) bool {
	switch c.Type {
	case string(gwv1.RouteConditionAccepted), string(gwv1.RouteConditionResolvedRefs):
		return c.Status == metav1.ConditionFalse
	case string(gwv1.RouteConditionPartiallyInvalid):
		return c.Status == metav1.ConditionTrue
	}
	return false
}
