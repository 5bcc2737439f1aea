package controller

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/translate"
)

// classReconciler writes the Accepted condition of the GatewayClasses of the enabled
// controller names.
type classReconciler struct {
	reader      client.Reader
	writer      *statusWriter
	controllers map[string]bool
}

func (r *classReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var class gwv1.GatewayClass
	if err := r.reader.Get(ctx, req.NamespacedName, &class); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !r.controllers[string(class.Spec.ControllerName)] {
		return reconcile.Result{}, nil
	}
	var lbcs []awsv1.LoadBalancerConfiguration
	for _, k := range lbcOfClass(&class) {
		var lbc awsv1.LoadBalancerConfiguration
		ok, err := (&gatherer{reader: r.reader}).get(ctx, k, &lbc)
		if err != nil {
			return reconcile.Result{}, err
		}
		if ok {
			lbcs = append(lbcs, lbc)
		}
	}
	st := translate.GatewayClass(&class, lbcs)
	conds := append([]metav1.Condition(nil), class.Status.Conditions...)
	for _, c := range r.writer.keepTimes(class.Status.Conditions, st.Conditions) {
		meta.RemoveStatusCondition(&conds, c.Type)
		conds = append(conds, c)
	}
	if equality.Semantic.DeepEqual(conds, class.Status.Conditions) {
		return reconcile.Result{}, nil
	}
	next := class.DeepCopy()
	next.Status.Conditions = conds
	if err := r.writer.client.Status().Patch(ctx, next, client.MergeFromWithOptions(&class, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("writing the status of GatewayClass %s: %w", class.Name, err)
	}
	return reconcile.Result{}, nil
}
