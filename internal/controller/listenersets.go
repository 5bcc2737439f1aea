package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
)

// listenerSetKeyPrefix marks, in the routes' Gateway index, a parentRef of kind ListenerSet:
// the route reaches the ListenerSet's parent Gateway through it.
const listenerSetKeyPrefix = "ListenerSet:"

// indexListenerSetGateway indexes ListenerSets by the namespace/name of their parent Gateway.
const indexListenerSetGateway = "elbgateway.listenerset.gateway"

// listenerSetParent is the namespace/name of the Gateway a ListenerSet's parentRef names, or ""
// when it names something else.
func listenerSetParent(ls *gwv1.ListenerSet) string {
	ref := ls.Spec.ParentRef
	if ref.Group != nil && string(*ref.Group) != gatewayGroup || ref.Kind != nil && string(*ref.Kind) != "Gateway" {
		return ""
	}
	ns := ls.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	return ns + "/" + string(ref.Name)
}

func addListenerSetIndex(ctx context.Context, idx client.FieldIndexer) error {
	return idx.IndexField(ctx, &gwv1.ListenerSet{}, indexListenerSetGateway, func(o client.Object) []string {
		if p := listenerSetParent(o.(*gwv1.ListenerSet)); p != "" {
			return []string{p}
		}
		return nil
	})
}

// resolveListenerSetKeys turns a route's index keys into Gateway keys: a ListenerSet key
// becomes the ListenerSet's parent Gateway (dropped when reader does not have the
// ListenerSet). listenerSets says ListenerSets are served (without them, ListenerSet keys are
// dropped).
func resolveListenerSetKeys(ctx context.Context, reader client.Reader, listenerSets bool, keys []string) []string {
	var out []string
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, listenerSetKeyPrefix)
		if !ok {
			out = append(out, k)
			continue
		}
		if !listenerSets {
			continue
		}
		ns, name := splitKey(rest)
		var ls gwv1.ListenerSet
		if err := reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ls); err != nil {
			continue
		}
		if p := listenerSetParent(&ls); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// listenerSet maps a ListenerSet to its parent Gateway.
func (m *mapper) listenerSet(_ context.Context, o client.Object) []reconcile.Request {
	ls, ok := o.(*gwv1.ListenerSet)
	if !ok {
		return nil
	}
	if p := listenerSetParent(ls); p != "" {
		return keysToRequests([]string{p})
	}
	return nil
}

// listenerSetsIn maps the ListenerSets of a namespace to their parent Gateways.
func (m *mapper) listenerSetsIn(ctx context.Context, namespace string) []reconcile.Request {
	if !m.listenerSets {
		return nil
	}
	var list gwv1.ListenerSetList
	if err := m.reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		log.FromContext(ctx).Error(err, "listing ListenerSets", "namespace", namespace)
		return nil
	}
	var keys []string
	for i := range list.Items {
		if p := listenerSetParent(&list.Items[i]); p != "" {
			keys = append(keys, p)
		}
	}
	return keysToRequests(keys)
}

// listenerSets reads the ListenerSets whose parentRef names the Gateway.
func (g *gatherer) listenerSets(ctx context.Context, s *snapshot.Snapshot) error {
	if !g.apis.ListenerSet {
		return nil
	}
	key := s.Gateway.Namespace + "/" + s.Gateway.Name
	var list gwv1.ListenerSetList
	if err := g.reader.List(ctx, &list, client.MatchingFields{indexListenerSetGateway: key}); err != nil {
		return fmt.Errorf("listing the ListenerSets of Gateway %s: %w", key, err)
	}
	s.ListenerSets = list.Items
	return nil
}

// writeListenerSets writes the ListenerSets' statuses: translation's, with Programmed following
// the Gateway's load balancer (prog) for the accepted ones. It remembers what it wrote for the
// Gateway, and hands over the ListenerSets that no longer name it (see releaseListenerSets). A
// write the API server refuses does not stop the others; the refusals are returned, so that the
// reconcile is retried.
func (w *statusWriter) writeListenerSets(ctx context.Context, gw *gwv1.Gateway, set *status.Set, prog metav1.Condition) error {
	if set == nil {
		return nil
	}
	written := map[string]gwv1.ListenerSetStatus{}
	before := w.writtenListenerSets(gw)
	var errs []error
	for _, st := range set.ListenerSets {
		var ls gwv1.ListenerSet
		if err := w.reader.Get(ctx, client.ObjectKey{Namespace: st.Namespace, Name: st.Name}, &ls); err != nil {
			continue // deleted since
		}
		next := *st.Status.DeepCopy()
		accepted := meta.IsStatusConditionTrue(next.Conditions, string(gwv1.ListenerSetConditionAccepted))
		if accepted && prog.Status != metav1.ConditionTrue {
			follow(next.Conditions, string(gwv1.ListenerSetConditionProgrammed), prog)
			for i := range next.Listeners {
				if meta.IsStatusConditionTrue(next.Listeners[i].Conditions, string(gwv1.ListenerEntryConditionAccepted)) {
					follow(next.Listeners[i].Conditions, string(gwv1.ListenerEntryConditionProgrammed), prog)
				}
			}
		}
		next.Conditions = w.keepTimes(ls.Status.Conditions, next.Conditions)
		for i := range next.Listeners {
			var old []metav1.Condition
			for _, o := range ls.Status.Listeners {
				if o.Name == next.Listeners[i].Name {
					old = o.Conditions
				}
			}
			next.Listeners[i].Conditions = w.keepTimes(old, next.Listeners[i].Conditions)
		}
		written[st.Namespace+"/"+st.Name] = next
		if equality.Semantic.DeepEqual(ls.Status, next) {
			continue
		}
		patched := ls.DeepCopy()
		patched.Status = next
		if err := w.client.Status().Patch(ctx, patched, client.MergeFromWithOptions(&ls, client.MergeFromWithOptimisticLock{})); err != nil {
			errs = append(errs, fmt.Errorf("writing the status of ListenerSet %s/%s: %w", st.Namespace, st.Name, err))
			// Still attached: what was written before stays what it holds (none: nothing to hand over).
			if prev, ok := before[st.Namespace+"/"+st.Name]; ok {
				written[st.Namespace+"/"+st.Name] = prev
			} else {
				delete(written, st.Namespace+"/"+st.Name)
			}
		}
	}
	w.releaseListenerSets(ctx, gw, written)
	return errors.Join(errs...)
}

// writtenListenerSets is what this writer last wrote on the ListenerSets of the Gateway.
func (w *statusWriter) writtenListenerSets(gw *gwv1.Gateway) map[string]gwv1.ListenerSetStatus {
	if v, ok := w.listenerSetStatuses.Load(gw.Namespace + "/" + gw.Name); ok {
		return v.(map[string]gwv1.ListenerSetStatus)
	}
	return nil
}

// releaseListenerSets hands over the ListenerSets this writer wrote the status of for the
// Gateway and that are not in now (their parentRef names another Gateway, or the Gateway is
// deleted or no longer this controller's: now is nil), then remembers now. A ListenerSet whose
// status is still what this writer wrote goes back to the state of a new object (Accepted and
// Programmed Unknown, Pending), so its new parent's controller, if any, starts from there and
// no stale Accepted=True stays; one whose status someone else wrote since is left alone.
// What was written is known since the process started: after a restart, a ListenerSet moved
// while the controller was down keeps its status until its new parent's controller writes.
func (w *statusWriter) releaseListenerSets(ctx context.Context, gw *gwv1.Gateway, now map[string]gwv1.ListenerSetStatus) {
	key := gw.Namespace + "/" + gw.Name
	before := w.writtenListenerSets(gw)
	if len(now) == 0 {
		w.listenerSetStatuses.Delete(key)
	} else {
		w.listenerSetStatuses.Store(key, now)
	}
	for lsKey, wrote := range before {
		if _, ok := now[lsKey]; ok {
			continue
		}
		ns, name := splitKey(lsKey)
		var ls gwv1.ListenerSet
		if err := w.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ls); err != nil {
			continue // deleted
		}
		if !equality.Semantic.DeepEqual(ls.Status, wrote) {
			continue // written by its new parent's controller since
		}
		t := metav1.NewTime(w.now().Truncate(time.Second))
		msg := fmt.Sprintf("Waiting for controller: Gateway %s no longer takes this ListenerSet", key)
		patched := ls.DeepCopy()
		patched.Status = gwv1.ListenerSetStatus{Conditions: []metav1.Condition{
			{Type: string(gwv1.ListenerSetConditionAccepted), Status: metav1.ConditionUnknown, Reason: string(gwv1.ListenerSetReasonPending),
				Message: msg, LastTransitionTime: t, ObservedGeneration: ls.Generation},
			{Type: string(gwv1.ListenerSetConditionProgrammed), Status: metav1.ConditionUnknown, Reason: string(gwv1.ListenerSetReasonPending),
				Message: msg, LastTransitionTime: t, ObservedGeneration: ls.Generation},
		}}
		if err := w.client.Status().Patch(ctx, patched, client.MergeFromWithOptions(&ls, client.MergeFromWithOptimisticLock{})); err != nil {
			log.FromContext(ctx).Error(err, "handing over ListenerSet status", "listenerSet", lsKey)
		}
	}
}

// follow sets a Programmed condition to the Gateway's when the Gateway's is not True.
func follow(conds []metav1.Condition, typ string, prog metav1.Condition) {
	for i := range conds {
		if conds[i].Type == typ {
			conds[i].Status, conds[i].Reason = prog.Status, prog.Reason
			conds[i].Message = "the Gateway's load balancer: " + prog.Message
		}
	}
}

// namesListenerSetOf says whether a route's parentRef names one of the ListenerSets of set.
func namesListenerSetOf(ref gwv1.ParentReference, routeNamespace string, set *status.Set) bool {
	if set == nil || ref.Kind == nil || *ref.Kind != "ListenerSet" {
		return false
	}
	ns := routeNamespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	for _, ls := range set.ListenerSets {
		if ls.Namespace == ns && ls.Name == string(ref.Name) {
			return true
		}
	}
	return false
}
