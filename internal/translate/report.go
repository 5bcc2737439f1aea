package translate

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
)

// routeState is a route being translated.
type routeState struct {
	*l4Route
	parents  []parentResult
	backends []backend
	// problems are the route's unresolved references (ResolvedRefs=False).
	problems []problem
	// notes explain an accepted route that is not programmed everywhere.
	notes []string
	// stale says the route's status has an entry of ours for this Gateway that no parentRef
	// names any more.
	stale bool
	// ruleProblems are rules of an HTTPRoute or GRPCRoute that are not programmed, in full or
	// on some ports (PartiallyInvalid, or Accepted=False when no rule is left).
	ruleProblems []ruleProblem
	// foreign says the route's kind belongs to the other load balancer type: it is only
	// attached (which every listener refuses), never compiled.
	foreign bool
}

// ruleProblem is why a rule of an HTTPRoute or GRPCRoute is not programmed. everywhere says it
// is rejected on every port; otherwise only on some.
type ruleProblem struct {
	rule       int
	everywhere bool
	problem
}

// attachedOn says whether the route is attached to a listener on the port (one that can be
// served, with servableOnly).
func (r *routeState) attachedOn(listeners []*listenerState, port int32, servableOnly bool) bool {
	for _, p := range r.parents {
		for _, li := range p.listeners {
			if listeners[li].spec.Port == port && (!servableOnly || listeners[li].servable()) {
				return true
			}
		}
	}
	return false
}

// collectRoutes keeps the routes that name this Gateway now, or did in a status entry of ours.
// Routes of the other layer's kinds (an HTTPRoute on an NLB Gateway, a TCPRoute on an ALB
// Gateway) are kept too: no listener admits them, and their status says so.
func (t *translator) collectRoutes() {
	routes, foreign := l4Routes(t.s), l7Routes(t.s)
	if t.alb() {
		routes, foreign = foreign, routes
	}
	n := len(routes)
	for i, r := range append(routes, foreign...) {
		rs := &routeState{l4Route: r, foreign: i >= n}
		names := slices.ContainsFunc(r.parentRefs, func(ref gwv1.ParentReference) bool { return t.namesUs(ref, r.namespace) })
		for _, ps := range r.statusParents {
			if string(ps.ControllerName) != t.controller() || !t.namesUs(ps.ParentRef, r.namespace) {
				continue
			}
			if t.gw.DeletionTimestamp != nil || !slices.ContainsFunc(r.parentRefs, func(ref gwv1.ParentReference) bool {
				return equality.Semantic.DeepEqual(ref, ps.ParentRef)
			}) {
				rs.stale = true
			}
		}
		if names || rs.stale {
			t.routes = append(t.routes, rs)
		}
	}
}

func (t *translator) reportGateway() {
	gen := t.gw.Generation
	st := &status.Gateway{Namespace: t.gw.Namespace, Name: t.gw.Name, Generation: gen,
		Listeners: []gwv1.ListenerStatus{}}
	accepted := string(gwv1.GatewayConditionAccepted)
	var invalid []string
	for _, l := range t.listeners {
		if l.owner != "" {
			continue // reported on its ListenerSet
		}
		st.Listeners = append(st.Listeners, listenerStatus(l, gen))
		if !l.accepted() || l.unresolved != nil {
			invalid = append(invalid, string(l.spec.Name))
		}
	}
	switch {
	case t.rejected != nil:
		st.Conditions = []metav1.Condition{condition(accepted, false, t.rejected.reason, t.rejected.message, gen)}
	case len(invalid) > 0:
		st.Conditions = []metav1.Condition{condition(accepted, true, string(gwv1.GatewayReasonListenersNotValid), fmt.Sprintf(
			"spec.listeners: not valid: %s; see their conditions for the fix. The other listeners are accepted",
			strings.Join(invalid, ", ")), gen)}
	default:
		st.Conditions = []metav1.Condition{condition(accepted, true, string(gwv1.GatewayReasonAccepted), "Gateway is accepted", gen)}
	}
	st.SubnetChoice = t.subnetChoice
	if t.rejected == nil && t.unusable != nil {
		st.Conditions = append(st.Conditions, condition(string(gwv1.GatewayConditionProgrammed), false, t.unusable.reason, t.unusable.message, gen))
	}
	t.reportListenerSets(st)
	t.set.Gateway = st
	t.set.AwaitsCertificate = t.awaitsCertificate()
}

// awaitsCertificate says whether a listener, the Gateway's or a ListenerSet's, that names no
// certificateRefs (so it takes its certificates from the LoadBalancerConfiguration or ACM)
// has none it can use: one may be requested or imported in ACM at any time.
func (t *translator) awaitsCertificate() bool {
	for _, l := range t.listeners {
		if l.unresolved != nil && l.unresolved.reason == string(gwv1.ListenerReasonInvalidCertificateRef) &&
			(l.spec.TLS == nil || len(l.spec.TLS.CertificateRefs) == 0) {
			return true
		}
	}
	return false
}

func listenerStatus(l *listenerState, gen int64) gwv1.ListenerStatus {
	ls := gwv1.ListenerStatus{Name: l.spec.Name, SupportedKinds: l.supported, AttachedRoutes: l.attached}
	if ls.SupportedKinds == nil {
		ls.SupportedKinds = []gwv1.RouteGroupKind{}
	}
	acc := condition(string(gwv1.ListenerConditionAccepted), true, string(gwv1.ListenerReasonAccepted), "Listener is accepted", gen)
	if l.notAccepted != nil {
		acc = condition(string(gwv1.ListenerConditionAccepted), false, l.notAccepted.reason, l.notAccepted.message, gen)
	}
	con := condition(string(gwv1.ListenerConditionConflicted), false, string(gwv1.ListenerReasonNoConflicts), "Listener has no conflicts", gen)
	if l.conflicted != nil {
		con = condition(string(gwv1.ListenerConditionConflicted), true, l.conflicted.reason, l.conflicted.message, gen)
	}
	res := condition(string(gwv1.ListenerConditionResolvedRefs), true, string(gwv1.ListenerReasonResolvedRefs), "All references are resolved", gen)
	if l.unresolved != nil {
		res = condition(string(gwv1.ListenerConditionResolvedRefs), false, l.unresolved.reason, l.unresolved.message, gen)
	}
	ls.Conditions = []metav1.Condition{acc, con, res}
	if l.accepted() && l.certificatesChecked && len(l.certificates) == 0 {
		// Known now: the listener is not served, whatever AWS does (see checkCertificateRefs).
		ls.Conditions = append(ls.Conditions, condition(string(gwv1.ListenerConditionProgrammed), false,
			string(gwv1.ListenerReasonInvalid), l.field("tls.certificateRefs")+": none can be used, so the listener is not programmed; see ResolvedRefs", gen))
	}
	return ls
}

func (t *translator) reportRoutes() {
	for _, r := range t.routes {
		st := status.Route{Kind: r.kind, Namespace: r.namespace, Name: r.name, Generation: r.generation,
			Parents: []gwv1.RouteParentStatus{}}
		if t.gw.DeletionTimestamp == nil {
			for _, p := range r.parents {
				st.Parents = append(st.Parents, t.parentStatus(r, p))
			}
		}
		t.set.Routes = append(t.set.Routes, st)
	}
}

func (t *translator) parentStatus(r *routeState, p parentResult) gwv1.RouteParentStatus {
	gen := r.generation
	accepted := string(gwv1.RouteConditionAccepted)
	var acc metav1.Condition
	switch {
	case p.accepted != nil:
		acc = condition(accepted, false, p.accepted.reason, p.accepted.message, gen)
	case t.rejected != nil:
		acc = condition(accepted, false, string(gwv1.RouteReasonPending), fmt.Sprintf(
			"spec.parentRefs[%d]: Gateway %s/%s is not accepted (%s); see the Gateway's status",
			p.index, t.gw.Namespace, t.gw.Name, t.rejected.reason), gen)
	case r.allRulesRejected():
		reason, msg := joinProblems(r.everywhereProblems())
		acc = condition(accepted, false, reason, "no rule can be programmed: "+msg, gen)
	default:
		msg := "Route is accepted"
		if len(r.notes) > 0 {
			msg += "; " + strings.Join(uniqueStrings(r.notes), "; ")
		}
		acc = condition(accepted, true, string(gwv1.RouteReasonAccepted), msg, gen)
	}
	resolved := string(gwv1.RouteConditionResolvedRefs)
	res := condition(resolved, true, string(gwv1.RouteReasonResolvedRefs), "All references are resolved", gen)
	if reason, msg := joinProblems(uniqueProblems(r.problems)); reason != "" {
		res = condition(resolved, false, reason, msg, gen)
	}
	conds := []metav1.Condition{acc, res}
	if partial := r.partialCondition(acc); partial != nil {
		conds = append(conds, *partial)
	}
	return gwv1.RouteParentStatus{
		ParentRef:      p.ref,
		ControllerName: gwv1.GatewayController(t.controller()),
		Conditions:     conds,
	}
}

func uniqueStrings(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func uniqueProblems(in []problem) []problem {
	var out []problem
	for _, p := range in {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Unreconciled is the route status of a Gateway whose reconcile failed before AWS was read
// (AWS facts could not be gathered): every route that names the Gateway (or one of its
// ListenerSets) and has no entry of ours yet gets one, Accepted=Unknown with reason Pending and why; routes with an entry keep
// it until a reconcile gets through.
func Unreconciled(s *snapshot.Snapshot, why string) *status.Set {
	out := &status.Set{}
	if s == nil || s.Gateway == nil {
		return out
	}
	_, set := Gateway(s)
	// An entry of ours names the Gateway or one of its ListenerSets.
	us := &translator{s: s, gw: s.Gateway}
	known := map[string]bool{}
	for _, r := range append(l4Routes(s), l7Routes(s)...) {
		for _, ps := range r.statusParents {
			if string(ps.ControllerName) == s.Settings.ControllerName && us.namesUs(ps.ParentRef, r.namespace) {
				known[r.key()] = true
			}
		}
	}
	for _, r := range set.Routes {
		if len(r.Parents) == 0 || known[r.Kind+"/"+r.Namespace+"/"+r.Name] {
			continue
		}
		for i := range r.Parents {
			c := condition(string(gwv1.RouteConditionAccepted), false, string(gwv1.RouteReasonPending), fmt.Sprintf(
				"spec.parentRefs: Gateway %s/%s could not be reconciled yet: %s; retrying", s.Gateway.Namespace, s.Gateway.Name, why), r.Generation)
			c.Status = metav1.ConditionUnknown
			r.Parents[i].Conditions = []metav1.Condition{c}
		}
		out.Routes = append(out.Routes, r)
	}
	return out
}
