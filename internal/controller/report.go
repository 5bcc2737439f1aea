package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/status"
)

// statusWriter is the one place that writes Gateway and route status, the Gateway finalizer
// and events. It writes only what changed.
type statusWriter struct {
	client     client.Client
	reader     client.Reader
	apis       APIs
	controller string
	events     recorder
	opts       Options
	now        func() time.Time
	// metrics are the per-Gateway gauges, which follow what the writer reports.
	metrics *gatewayMetrics
	// subnetChoices are the last subnet choice by route table told of each Gateway, so the
	// event is recorded when the choice changes, not on every reconcile.
	subnetChoices sync.Map
	// listenerSetStatuses holds, by Gateway namespace/name, the status last written on each of
	// its ListenerSets (map[string]gwv1.ListenerSetStatus by ListenerSet namespace/name).
	listenerSetStatuses sync.Map
}

// report writes the outcome of a successful reconcile and says when to look again.
func (w *statusWriter) report(ctx context.Context, in reportInput) (reconcile.Result, error) {
	gw := in.gateway
	noteRouteFailures(in.statuses, in.result, in.failures)
	if err := w.routes(ctx, gw, in.statuses); err != nil {
		return reconcile.Result{}, err
	}
	deleting := gw.DeletionTimestamp != nil || !in.owned
	if deleting {
		if f := in.failures.gatewayFailure(); f != nil {
			// The finalizer stays while the load balancer cannot go (deletion protection, …).
			return reconcile.Result{}, w.deletionHeld(ctx, gw, f)
		}
		if len(in.failures) > 0 || !stackEmpty(in.result) {
			// Something of the stack may be left (a change failed): the finalizer stays.
			return reconcile.Result{RequeueAfter: w.opts.PendingRequeue}, nil
		}
		if err := w.removeFinalizer(ctx, gw, finalizer(w.controller)); err != nil {
			return reconcile.Result{}, err
		}
		w.metrics.forget(w.controller, gw.Namespace, gw.Name)
		w.subnetChoices.Delete(gw.Namespace + "/" + gw.Name)
		w.releaseListenerSets(ctx, gw, nil)
		return reconcile.Result{}, nil
	}
	programmed, st := w.gatewayStatus(gw, in)
	if err := w.writeGateway(ctx, gw, st); err != nil {
		return reconcile.Result{}, err
	}
	var setsErr error
	if c := meta.FindStatusCondition(st.Conditions, string(gwv1.GatewayConditionProgrammed)); c != nil {
		setsErr = w.writeListenerSets(ctx, gw, in.statuses, *c)
	}
	w.metrics.outcome(w.controller, gw, len(in.failures) > 0, w.now())
	w.subnetChoiceEvent(gw, in.statuses)
	w.nodeSecurityGroupEvent(gw, gw.Status.Conditions, st.Conditions)
	w.targetsRegisteredEvent(gw, gw.Status.Conditions, st.Conditions)
	if setsErr != nil {
		// The Gateway's status is written (and its events told); the ListenerSets' is retried
		// with back-off, as a refused Gateway status write is.
		return reconcile.Result{}, setsErr
	}
	if programmed == metav1.ConditionUnknown {
		return reconcile.Result{RequeueAfter: w.opts.PendingRequeue}, nil
	}
	if in.statuses != nil && in.statuses.AwaitsCertificate {
		return reconcile.Result{RequeueAfter: min(w.opts.CertificateRecheck, jitter(w.opts.Resync))}, nil
	}
	return reconcile.Result{RequeueAfter: jitter(w.opts.Resync)}, nil
}

// failedWith writes the routes' statuses, then records the failed step (see failed).
func (w *statusWriter) failedWith(ctx context.Context, gw *gwv1.Gateway, routes *status.Set, step string, err error, retry retryInfo) (reconcile.Result, error) {
	if werr := w.routes(ctx, gw, routes); werr != nil {
		log.FromContext(ctx).Error(werr, "writing route status")
	}
	return w.failed(ctx, gw, step, err, retry)
}

// certificateRecheck is how soon a listener that found no ACM certificate for its hostname looks
// again: nothing in Kubernetes announces a certificate requested or imported in ACM, and the
// account's certificate list is reused for a minute anyway (internal/aws). It is the default of
// Options.CertificateRecheck.
const certificateRecheck = time.Minute

// failed records a failed step on the Gateway (Programmed=False with the error and when it is
// tried again) and says when to retry (see backoff.go). Its Warning event is recorded only when
// retry.warn says the failure is new for the Gateway. Without a pause the error is returned,
// for controller-runtime's own backoff.
func (w *statusWriter) failed(ctx context.Context, gw *gwv1.Gateway, step string, err error, retry retryInfo) (reconcile.Result, error) {
	err = fmt.Errorf("%s: %w", step, err)
	log.FromContext(ctx).Error(err, "reconciling Gateway failed", "attempts", retry.attempts, "retryAfter", retry.after)
	w.metrics.outcome(w.controller, gw, true, w.now())
	if retry.warn {
		w.events.Eventf(gw, nil, corev1.EventTypeWarning, "Failed"+strings.ToUpper(step[:1])+step[1:], "Reconcile", "%s", truncate(err.Error()))
	}
	if gw.DeletionTimestamp == nil {
		st := *gw.Status.DeepCopy()
		conds := append([]metav1.Condition(nil), st.Conditions...)
		meta.RemoveStatusCondition(&conds, string(gwv1.GatewayConditionProgrammed))
		conds = append(conds, metav1.Condition{
			Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionFalse,
			Reason: string(gwv1.GatewayReasonPending), ObservedGeneration: gw.Generation,
			Message: truncate(fmt.Sprintf("%v; %s", err, retry)),
		})
		st.Conditions = w.keepTimes(gw.Status.Conditions, notEvaluated(conds, gw.Generation, err))
		for i := range st.Listeners {
			st.Listeners[i].Conditions = w.keepTimes(st.Listeners[i].Conditions, notEvaluated(st.Listeners[i].Conditions, gw.Generation, err))
		}
		if werr := w.writeGateway(ctx, gw, st); werr != nil {
			log.FromContext(ctx).Error(werr, "writing Gateway status")
		}
	}
	if retry.after > 0 {
		return reconcile.Result{RequeueAfter: retry.after}, nil
	}
	return reconcile.Result{}, err
}

// deletionHeld reports on a Gateway being deleted why its load balancer is still there, and
// returns the error so the deletion is retried with backoff; the finalizer stays.
func (w *statusWriter) deletionHeld(ctx context.Context, gw *gwv1.Gateway, f *aws.ChangeFailure) error {
	reason, msg := refused(f, string(gwv1.GatewayReasonInvalid), string(gwv1.GatewayReasonPending))
	if errors.Is(f.Err, aws.ErrDeletionProtection) {
		reason = "DeletionProtected"
	}
	st := *gw.Status.DeepCopy()
	conds := append([]metav1.Condition(nil), st.Conditions...)
	meta.RemoveStatusCondition(&conds, string(gwv1.GatewayConditionProgrammed))
	conds = append(conds, metav1.Condition{Type: string(gwv1.GatewayConditionProgrammed), Status: metav1.ConditionFalse,
		Reason: reason, ObservedGeneration: gw.Generation, Message: "the Gateway is being deleted but its load balancer is not: " + msg})
	st.Conditions = w.keepTimes(gw.Status.Conditions, conds)
	if err := w.writeGateway(ctx, gw, st); err != nil {
		return err
	}
	w.metrics.outcome(w.controller, gw, true, w.now())
	return fmt.Errorf("deleting the load balancer of Gateway %s/%s: %s", gw.Namespace, gw.Name, f.Reason())
}

// notEvaluated makes every condition that speaks of an older generation (or of none: the CRD's
// defaults) Unknown for this one, saying why: a failed reconcile has not evaluated it, and a
// condition must never pass for the current spec's when it is not.
func notEvaluated(conds []metav1.Condition, gen int64, err error) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(conds))
	for _, c := range conds {
		if c.ObservedGeneration != gen {
			c = metav1.Condition{Type: c.Type, Status: metav1.ConditionUnknown, Reason: string(gwv1.GatewayReasonPending),
				ObservedGeneration: gen, Message: truncate(fmt.Sprintf("not evaluated for generation %d yet: %v", gen, err))}
		}
		out = append(out, c)
	}
	return out
}

// applied records the AWS changes of a plan as events, one per change (see events.go).
func (w *statusWriter) applied(ctx context.Context, gw *gwv1.Gateway, changes []plan.Change, err error) {
	w.recordChanges(ctx, gw, changes, err)
}

// gatewayStatus is the Gateway's status: translation's conditions and listeners, plus
// Programmed and the addresses once AWS has answered, and the worker-node security group
// condition when the Gateway's node rules are managed.
func (w *statusWriter) gatewayStatus(gw *gwv1.Gateway, in reportInput) (metav1.ConditionStatus, gwv1.GatewayStatus) {
	set, result := in.statuses, in.result
	st := gwv1.GatewayStatus{}
	var conds []metav1.Condition
	var listeners []gwv1.ListenerStatus
	if set != nil && set.Gateway != nil {
		conds = append(conds, set.Gateway.Conditions...)
		listeners = set.Gateway.Listeners
	}
	// A refused change of the load balancer makes the Gateway not Programmed; its listeners
	// that exist as desired still are (they follow the load balancer's state, lbProg).
	lbProg := programmedCondition(gw, conds, result)
	// Translation knows already when the Gateway cannot be programmed as asked (an address of
	// spec.addresses that cannot be used): its Programmed stands, whatever AWS holds.
	if c := meta.FindStatusCondition(conds, string(gwv1.GatewayConditionProgrammed)); c != nil {
		lbProg = *c
		meta.RemoveStatusCondition(&conds, string(gwv1.GatewayConditionProgrammed))
	}
	prog := lbProg
	if f := in.failures.gatewayFailure(); f != nil && prog.Status != metav1.ConditionFalse {
		prog.Status = metav1.ConditionFalse
		prog.Reason, prog.Message = refused(f, string(gwv1.GatewayReasonInvalid), string(gwv1.GatewayReasonPending))
	}
	conds = append(conds, prog)
	if in.nodeRules {
		conds = append(conds, nodeSecurityGroupCondition(gw.Generation, in.nodeRuleProblems))
	}
	if c := targetsRegisteredCondition(gw.Generation, in.refusedTargets); c != nil {
		conds = append(conds, *c)
	}
	st.Conditions = w.keepTimes(gw.Status.Conditions, conds)
	ports := listenerPorts(gw)
	for _, l := range listeners {
		l = *l.DeepCopy()
		if meta.FindStatusCondition(l.Conditions, string(gwv1.ListenerConditionProgrammed)) == nil { // translation may know already
			prog, noListener := listenerProgrammed(l, ports[l.Name], lbProg, in.desired, result, in.failures, gw.Generation)
			l.Conditions = append(l.Conditions, prog)
			if noListener != nil {
				l.Conditions = append(l.Conditions, *noListener)
			}
		}
		l.Conditions = w.keepTimes(listenerConditions(gw.Status.Listeners, l.Name), l.Conditions)
		st.Listeners = append(st.Listeners, l)
	}
	if result != nil && result.LoadBalancer != nil && result.LoadBalancer.DNSName != "" {
		st.Addresses = []gwv1.GatewayStatusAddress{{
			Type:  ptrTo(gwv1.HostnameAddressType),
			Value: strings.ToLower(result.LoadBalancer.DNSName),
		}}
		st.Addresses = append(st.Addresses, staticAddresses(result.LoadBalancer.Subnets)...)
	}
	if set != nil && set.Gateway != nil {
		st.AttachedListenerSets = set.Gateway.AttachedListenerSets
	}
	return prog.Status, st
}

// programmedCondition says whether the Gateway's load balancer is serving.
func programmedCondition(gw *gwv1.Gateway, conds []metav1.Condition, result *model.Stack) metav1.Condition {
	c := metav1.Condition{Type: string(gwv1.GatewayConditionProgrammed), ObservedGeneration: gw.Generation}
	if acc := meta.FindStatusCondition(conds, string(gwv1.GatewayConditionAccepted)); acc != nil && acc.Status != metav1.ConditionTrue {
		c.Status, c.Reason = metav1.ConditionFalse, string(gwv1.GatewayReasonInvalid)
		c.Message = "Gateway is not accepted: " + acc.Message
		if result != nil && result.LoadBalancer != nil && result.LoadBalancer.ARN != "" && gw.DeletionTimestamp == nil {
			c.Message += "; load balancer " + result.LoadBalancer.ARN + " keeps what it has in AWS until this is fixed"
		}
		return c
	}
	lb := (*model.LoadBalancer)(nil)
	if result != nil {
		lb = result.LoadBalancer
	}
	switch {
	case lb == nil:
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, string(gwv1.GatewayReasonPending), "Waiting for the load balancer to be created"
	case lb.State == "active" || lb.State == "active_impaired":
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, string(gwv1.GatewayReasonProgrammed), lb.ARN
	default:
		c.Status, c.Reason, c.Message = metav1.ConditionUnknown, string(gwv1.GatewayReasonPending), "Waiting for load balancer to be active"
	}
	return c
}

func listenerConditions(ls []gwv1.ListenerStatus, name gwv1.SectionName) []metav1.Condition {
	for _, l := range ls {
		if l.Name == name {
			return l.Conditions
		}
	}
	return nil
}

// keepTimes stamps conditions with the current time, except those whose status did not change,
// which keep their lastTransitionTime.
func (w *statusWriter) keepTimes(old, conds []metav1.Condition) []metav1.Condition {
	now := metav1.NewTime(w.now().Truncate(time.Second))
	out := make([]metav1.Condition, 0, len(conds))
	for _, c := range conds {
		c.LastTransitionTime = now
		if prev := meta.FindStatusCondition(old, c.Type); prev != nil && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

// writeGateway patches the Gateway's status when it differs.
func (w *statusWriter) writeGateway(ctx context.Context, gw *gwv1.Gateway, st gwv1.GatewayStatus) error {
	if !equality.Semantic.DeepEqual(gw.Status, st) {
		next := gw.DeepCopy()
		next.Status = st
		if err := w.client.Status().Patch(ctx, next, client.MergeFromWithOptions(gw, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("writing the status of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
		}
	}
	w.metrics.status(w.controller, gw, st)
	return nil
}

// routes writes each route's status.parents: our entries for this Gateway are replaced by
// translation's, entries of other controllers and other Gateways are kept.
func (w *statusWriter) routes(ctx context.Context, gw *gwv1.Gateway, set *status.Set) error {
	if set == nil {
		return nil
	}
	for _, rs := range set.Routes {
		if err := w.route(ctx, gw, rs, set); err != nil {
			return err
		}
	}
	return nil
}

func (w *statusWriter) route(ctx context.Context, gw *gwv1.Gateway, rs status.Route, set *status.Set) error {
	gvk, ok := w.apis.Routes[rs.Kind]
	if !ok {
		return nil
	}
	u := newRoute(gvk)
	if ok, err := (&gatherer{reader: w.reader}).get(ctx, rs.Namespace+"/"+rs.Name, u); err != nil || !ok {
		return err
	}
	shape, err := shapeOf(u)
	if err != nil {
		return err
	}
	old := shape.Status.Parents
	var next []gwv1.RouteParentStatus
	for _, p := range old {
		if string(p.ControllerName) == w.controller && (parentNames(p.ParentRef, rs.Namespace, gw) || namesListenerSetOf(p.ParentRef, rs.Namespace, set)) {
			continue
		}
		next = append(next, p)
	}
	var ours []gwv1.RouteParentStatus
	for _, p := range rs.Parents {
		p = *p.DeepCopy()
		if p.ControllerName == "" {
			p.ControllerName = gwv1.GatewayController(w.controller)
		}
		p.Conditions = w.keepTimes(matchingParent(old, p).Conditions, p.Conditions)
		next = append(next, p)
		ours = append(ours, p)
	}
	if equality.Semantic.DeepEqual(old, next) || len(old) == 0 && len(next) == 0 {
		return nil
	}
	parents := make([]any, 0, len(next))
	for i := range next {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&next[i])
		if err != nil {
			return err
		}
		parents = append(parents, m)
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": u.GetResourceVersion()},
		"status":   map[string]any{"parents": parents},
	})
	if err != nil {
		return err
	}
	if err := w.client.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("writing the status of %s %s/%s: %w", rs.Kind, rs.Namespace, rs.Name, err)
	}
	for _, e := range rejectionEvents(old, ours) {
		w.events.Eventf(u, nil, e.eventType, e.reason, e.action, "%s", e.note)
	}
	return nil
}

// matchingParent finds the entry of ours for the same parentRef.
func matchingParent(ps []gwv1.RouteParentStatus, p gwv1.RouteParentStatus) gwv1.RouteParentStatus {
	for _, o := range ps {
		if o.ControllerName == p.ControllerName && equality.Semantic.DeepEqual(o.ParentRef, p.ParentRef) {
			return o
		}
	}
	return gwv1.RouteParentStatus{}
}

// parentNames is true when a parentRef of a route in routeNamespace names the Gateway.
func parentNames(ref gwv1.ParentReference, routeNamespace string, gw *gwv1.Gateway) bool {
	if ref.Kind != nil && *ref.Kind != "Gateway" {
		return false
	}
	ns := routeNamespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	return ns == gw.Namespace && string(ref.Name) == gw.Name
}

func (w *statusWriter) addFinalizer(ctx context.Context, gw *gwv1.Gateway, f string) error {
	_, err := setFinalizer(ctx, w.client, gw, f, true)
	return err
}

func (w *statusWriter) removeFinalizer(ctx context.Context, gw *gwv1.Gateway, f string) error {
	if changed, err := setFinalizer(ctx, w.client, gw, f, false); err != nil || !changed {
		return err
	}
	w.events.Eventf(gw, nil, corev1.EventTypeNormal, "Deleted", "Delete", "every AWS resource of the Gateway is deleted")
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// truncate keeps condition messages and event notes within what the API accepts.
func truncate(s string) string {
	const max = 1000
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// staticAddresses are the load balancer's static IP addresses AWS reports (an Elastic IP's
// public address, a private IPv4 address, an IPv6 address), after its DNS name.
func staticAddresses(subnets []model.SubnetMapping) []gwv1.GatewayStatusAddress {
	var out []gwv1.GatewayStatusAddress
	for _, s := range subnets {
		for _, ip := range []string{s.PublicIPv4Address, s.PrivateIPv4Address, s.IPv6Address} {
			if ip != "" {
				out = append(out, gwv1.GatewayStatusAddress{Type: ptrTo(gwv1.IPAddressType), Value: ip})
			}
		}
	}
	return out
}

// subnetChoiceEvent tells, once per choice, which subnets discovery by reachability chose for the
// Gateway's load balancer (no subnet carries a role tag).
func (w *statusWriter) subnetChoiceEvent(gw *gwv1.Gateway, set *status.Set) {
	if set == nil || set.Gateway == nil || set.Gateway.SubnetChoice == "" {
		return
	}
	key := gw.Namespace + "/" + gw.Name
	if last, ok := w.subnetChoices.Load(key); ok && last == set.Gateway.SubnetChoice {
		return
	}
	w.subnetChoices.Store(key, set.Gateway.SubnetChoice)
	w.events.Eventf(gw, nil, corev1.EventTypeNormal, "SubnetsByRouteTable", "ChooseSubnets", "%s", set.Gateway.SubnetChoice)
}
