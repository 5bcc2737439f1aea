package controller

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// Status writes never start a reconcile: every watch of the Gateway reconciler passes an update
// only when the object's spec (its generation, for kinds that have one), labels, annotations,
// finalizers or deletion changed. Our own status writes on Gateways, routes, classes and
// configurations would otherwise re-trigger the reconcile that wrote them, and a failing
// Gateway would loop as fast as the API server answers.

// specChanged passes creations, deletions and updates that change more than status.
func specChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld == nil || e.ObjectNew == nil || !onlyStatusChanged(e.ObjectOld, e.ObjectNew)
	}}
}

// onlyStatusChanged is true when old and new differ at most in status (and in the metadata every
// write moves: resourceVersion, managedFields). A kind without a generation (a Service) gives no
// evidence either way: every update of it passes.
func onlyStatusChanged(old, new client.Object) bool {
	if old.GetGeneration() != new.GetGeneration() {
		return false
	}
	if old.GetGeneration() == 0 {
		// No generation: the API server does not say whether the spec moved.
		return false
	}
	return equality.Semantic.DeepEqual(old.GetLabels(), new.GetLabels()) &&
		equality.Semantic.DeepEqual(old.GetAnnotations(), new.GetAnnotations()) &&
		equality.Semantic.DeepEqual(old.GetFinalizers(), new.GetFinalizers()) &&
		equality.Semantic.DeepEqual(old.GetDeletionTimestamp(), new.GetDeletionTimestamp()) &&
		equality.Semantic.DeepEqual(old.GetOwnerReferences(), new.GetOwnerReferences())
}

// cachedObjectChanged passes an update only when the object as cached changed beyond its
// resourceVersion. For Services, whose cache keeps only what translation reads (cachetransform.go)
// and which have no generation, a status write or an edit of a field nothing reads arrives as an
// update of identical cached objects: it no longer reconciles every Gateway routing to the Service.
func cachedObjectChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectOld == nil || e.ObjectNew == nil {
			return true
		}
		old, ok1 := e.ObjectOld.DeepCopyObject().(client.Object)
		new, ok2 := e.ObjectNew.DeepCopyObject().(client.Object)
		if !ok1 || !ok2 {
			return true
		}
		for _, o := range []client.Object{old, new} {
			o.SetResourceVersion("")
			o.SetManagedFields(nil)
		}
		return !equality.Semantic.DeepEqual(old, new)
	}}
}
