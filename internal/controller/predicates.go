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
