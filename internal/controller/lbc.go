package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Taking over from the AWS Load Balancer Controller (LBC).
//
// elbgateway names and tags a Gateway's AWS resources as LBC does (cluster, stack and resource
// tags; generated names), so a stack LBC made for a Gateway is found and updated in place, as
// if it were ours: same load balancer ARN and DNS name, same listeners and target groups.
//
// What LBC leaves behind that elbgateway does not take over are its TargetGroupBindings: one
// per target group of a Gateway, labelled with the Gateway's namespace and name, from which
// LBC's binding controller registers targets (and deregisters them all when a binding is
// deleted). While one exists, LBC still feeds the stack's target groups, or LBC's Gateway
// controller still runs and makes them: elbgateway leaves the whole stack alone and says so on
// the Gateway (Programmed=False, ReasonLBCTargetGroupBindings) until they are gone. A load
// balancer tagged as the Gateway's for another cluster is never taken over (noteForeign). The
// hand-over is in docs/migrate-from-lbc.md.

const (
	lbcBindingGroupVersion = "elbv2.k8s.aws/v1beta1"
	lbcBindingKind         = "TargetGroupBinding"
	// ReasonLBCTargetGroupBindings is the Programmed reason of a Gateway left to LBC's bindings.
	ReasonLBCTargetGroupBindings = "LBCTargetGroupBindings"
)

// lbcStackLabels are the labels LBC puts on the TargetGroupBindings of a Gateway's stack.
func lbcStackLabels(controllerName string) (namespaceKey, nameKey string) {
	prefix := "gateway.k8s.aws.nlb"
	if controllerName == ControllerALB {
		prefix = "gateway.k8s.aws.alb"
	}
	return prefix + "/stack-namespace", prefix + "/stack-name"
}

func gvk(groupVersion, kind string) schema.GroupVersionKind {
	gv, _ := schema.ParseGroupVersion(groupVersion)
	return gv.WithKind(kind)
}

// lbcBindingObject is a TargetGroupBinding's metadata: all elbgateway reads of one.
func lbcBindingObject() *metav1.PartialObjectMetadata {
	o := &metav1.PartialObjectMetadata{}
	o.SetGroupVersionKind(gvk(lbcBindingGroupVersion, lbcBindingKind))
	return o
}

// lbcBindings lists the TargetGroupBindings LBC made for the Gateway, as namespace/name, sorted.
// Without the TargetGroupBinding API there are none.
func (r *gatewayReconciler) lbcBindings(ctx context.Context, gw *gwv1.Gateway) ([]string, error) {
	if !r.gatherer.apis.TargetGroupBinding {
		return nil, nil
	}
	nsKey, nameKey := lbcStackLabels(r.controller)
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk(lbcBindingGroupVersion, lbcBindingKind+"List"))
	if err := r.reader.List(ctx, list, client.MatchingLabels{nsKey: gw.Namespace, nameKey: gw.Name}); err != nil {
		return nil, fmt.Errorf("listing the load balancer controller's TargetGroupBindings: %w", err)
	}
	out := make([]string, 0, len(list.Items))
	for _, b := range list.Items {
		out = append(out, b.Namespace+"/"+b.Name)
	}
	sort.Strings(out)
	return out, nil
}

// lbcBindingGateway maps a TargetGroupBinding of LBC's to the Gateway its labels name, for the
// controller whose label prefix it carries.
func lbcBindingGateway(controllerName string) func(context.Context, client.Object) []reconcile.Request {
	nsKey, nameKey := lbcStackLabels(controllerName)
	return func(_ context.Context, o client.Object) []reconcile.Request {
		ns, name := o.GetLabels()[nsKey], o.GetLabels()[nameKey]
		if ns == "" || name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
	}
}

// leftToLBC reports a Gateway whose stack LBC's bindings still feed: Programmed=False naming
// them and the fix, and a Warning event when that is news. Nothing is read from or written to
// AWS; a binding's deletion reconciles the Gateway again.
func (w *statusWriter) leftToLBC(ctx context.Context, gw *gwv1.Gateway, bindings []string, warn bool) (reconcile.Result, error) {
	shown := bindings
	if len(shown) > 5 {
		shown = append(append([]string(nil), shown[:5]...), fmt.Sprintf("and %d more", len(bindings)-5))
	}
	msg := fmt.Sprintf("the AWS Load Balancer Controller's TargetGroupBindings %s still register targets in this Gateway's "+
		"target groups, so elbgateway leaves its load balancer as it is: switch LBC's %s gate off and remove the "+
		"bindings without deregistering their targets (see docs/migrate-from-lbc.md); elbgateway then takes the "+
		"load balancer over in place", strings.Join(shown, ", "), lbcGate(w.controller))
	if warn {
		w.events.Eventf(gw, nil, corev1.EventTypeWarning, "NotAdopted", "Adopt", "%s", truncate(msg))
	}
	st := *gw.Status.DeepCopy()
	conds := append([]metav1.Condition(nil), st.Conditions...)
	meta.RemoveStatusCondition(&conds, string(gwv1.GatewayConditionProgrammed))
	conds = append(conds, metav1.Condition{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionFalse,
		Reason: ReasonLBCTargetGroupBindings, ObservedGeneration: gw.Generation, Message: truncate(msg)})
	st.Conditions = w.keepTimes(gw.Status.Conditions, conds)
	return reconcile.Result{}, w.writeGateway(ctx, gw, st)
}

// noteForeign records a Warning event for each load balancer tagged as the Gateway's stack for
// another cluster (from the last region listing: no AWS call), once per load balancer: it is
// not taken over, and a new one is made beside it.
func (r *gatewayReconciler) noteForeign(gw *gwv1.Gateway, key string, desired *model.Stack) {
	for _, f := range r.cloud.ForeignLoadBalancers(desired.ID, desired.Type) {
		if r.backoff != nil && !r.backoff.warn(key, "NotAdopted", f.ARN) {
			continue
		}
		r.writer.events.Eventf(gw, nil, corev1.EventTypeWarning, "NotAdopted", "Adopt", "%s", truncate(fmt.Sprintf(
			"load balancer %s (%s) is tagged as this Gateway's for cluster %q, not for this controller's cluster %q: it is "+
				"not taken over, and a new load balancer is made beside it. If the AWS Load Balancer Controller made it for "+
				"this Gateway, run elbgateway with --cluster-name %s (Helm value clusterName) to take it over in place "+
				"(see docs/migrate-from-lbc.md)", f.Name, f.ARN, f.Cluster, r.opts.ClusterName, f.Cluster)))
	}
}

// lbcGate is the LBC feature gate that runs LBC's controller of the same name.
func lbcGate(controllerName string) string {
	if controllerName == ControllerALB {
		return "ALBGatewayAPI"
	}
	return "NLBGatewayAPI"
}
