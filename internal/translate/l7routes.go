package translate

import (
	"cmp"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// l7Rule is one rule of an HTTPRoute or GRPCRoute, with what translation decided about it
// before looking at any port.
type l7Rule struct {
	index   int
	matches []*l7Match
	refs    []gwv1.BackendRef
	// refFilters says some backendRef carries filters (not supported on an ALB).
	refFilters bool
	filters    []l7Filter

	// Decided by compileL7Route.
	backends []backend
	redirect *gwv1.HTTPRequestRedirectFilter
	rewrite  *gwv1.HTTPURLRewriteFilter
	// redirectField and rewriteField name those filters for messages.
	redirectField, rewriteField string
	lrc                         *awsv1.ListenerRuleConfiguration
	// lrcUnresolved is why the rule's ListenerRuleConfiguration cannot be used (missing, of
	// another kind, invalid): the route's ResolvedRefs=False, besides the rule's rejection.
	lrcUnresolved *problem
	// rejected keeps the rule off every port.
	rejected *problem
}

func (r *l7Rule) field(sub string) string {
	f := fmt.Sprintf("spec.rules[%d]", r.index)
	if sub != "" {
		f += "." + sub
	}
	return f
}

// l7Filter is an HTTPRoute or GRPCRoute filter.
type l7Filter struct {
	typ          string
	redirect     *gwv1.HTTPRequestRedirectFilter
	rewrite      *gwv1.HTTPURLRewriteFilter
	extensionRef *gwv1.LocalObjectReference
}

// l7Routes collects the HTTPRoutes and GRPCRoutes of the snapshot, sorted by kind, namespace
// and name.
func l7Routes(s *snapshot.Snapshot) []*l4Route {
	var out []*l4Route
	add := func(kind string, meta metav1.ObjectMeta, spec gwv1.CommonRouteSpec, hostnames []gwv1.Hostname,
		rules []*l7Rule, parents []gwv1.RouteParentStatus) {
		out = append(out, &l4Route{
			kind: kind, namespace: meta.Namespace, name: meta.Name, generation: meta.Generation,
			created: meta.CreationTimestamp, parentRefs: spec.ParentRefs, hostnames: hostnames,
			l7: rules, statusParents: parents,
		})
	}
	for _, r := range s.HTTPRoutes {
		add(kindHTTPRoute, r.ObjectMeta, r.Spec.CommonRouteSpec, r.Spec.Hostnames, httpRules(r.Spec.Rules), r.Status.Parents)
	}
	for _, r := range s.GRPCRoutes {
		add(kindGRPCRoute, r.ObjectMeta, r.Spec.CommonRouteSpec, r.Spec.Hostnames, grpcRules(r.Spec.Rules), r.Status.Parents)
	}
	slices.SortStableFunc(out, func(a, b *l4Route) int { return cmp.Compare(a.key(), b.key()) })
	return slices.CompactFunc(out, func(a, b *l4Route) bool { return a.key() == b.key() })
}

func httpRules(in []gwv1.HTTPRouteRule) []*l7Rule {
	var out []*l7Rule
	for i, rule := range in {
		r := &l7Rule{index: i}
		for j, m := range rule.Matches {
			r.matches = append(r.matches, httpMatch(r, j, m))
		}
		if len(rule.Matches) == 0 {
			r.matches = append(r.matches, httpMatch(r, 0, gwv1.HTTPRouteMatch{}))
		}
		for _, b := range rule.BackendRefs {
			r.refs = append(r.refs, b.BackendRef)
			r.refFilters = r.refFilters || len(b.Filters) > 0
		}
		for _, f := range rule.Filters {
			r.filters = append(r.filters, l7Filter{typ: string(f.Type), redirect: f.RequestRedirect,
				rewrite: f.URLRewrite, extensionRef: f.ExtensionRef})
		}
		out = append(out, r)
	}
	return out
}

func grpcRules(in []gwv1.GRPCRouteRule) []*l7Rule {
	var out []*l7Rule
	for i, rule := range in {
		r := &l7Rule{index: i}
		for j, m := range rule.Matches {
			r.matches = append(r.matches, grpcMatch(r, j, m))
		}
		if len(rule.Matches) == 0 {
			r.matches = append(r.matches, grpcMatch(r, 0, gwv1.GRPCRouteMatch{}))
		}
		for _, b := range rule.BackendRefs {
			r.refs = append(r.refs, b.BackendRef)
			r.refFilters = r.refFilters || len(b.Filters) > 0
		}
		for _, f := range rule.Filters {
			r.filters = append(r.filters, l7Filter{typ: string(f.Type), extensionRef: f.ExtensionRef})
		}
		out = append(out, r)
	}
	return out
}

// compileL7Route resolves each rule's backends, filters and ListenerRuleConfiguration, and
// rejects the rules an ALB cannot serve on any port.
func (t *translator) compileL7Route(r *routeState) {
	for _, rule := range r.l7 {
		for j, ref := range rule.refs {
			b, p := t.resolveBackend(r.l4Route, ref, rule.field(fmt.Sprintf("backendRefs[%d]", j)))
			if p != nil {
				r.problems = append(r.problems, *p)
				continue
			}
			rule.backends = append(rule.backends, b)
		}
		rule.rejected = t.compileRule(r, rule)
		if rule.rejected != nil {
			r.ruleProblems = append(r.ruleProblems, ruleProblem{rule: rule.index, everywhere: true, problem: *rule.rejected})
		}
		if rule.lrcUnresolved != nil {
			r.problems = append(r.problems, *rule.lrcUnresolved)
		}
	}
}

// compileRule returns why the rule cannot be programmed anywhere, or nil.
func (t *translator) compileRule(r *routeState, rule *l7Rule) *problem {
	for _, m := range rule.matches {
		if m.rejected != nil {
			return m.rejected
		}
	}
	if rule.refFilters {
		return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: filters on backendRefs are not supported by an ALB; move them to the rule's filters or remove them", rule.field("backendRefs"))}
	}
	if p := t.compileFilters(r, rule); p != nil {
		return p
	}
	if n := distinctBackends(rule.backends); n > maxTargetGroupsPerForward && rule.redirect == nil && !lrcFixedResponse(rule.lrc) {
		return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: %d backends, an ALB rule forwards to at most %d target groups; split the rule or drop backends",
			rule.field("backendRefs"), n, maxTargetGroupsPerForward)}
	}
	return nil
}

// allRulesRejected says whether no rule of an HTTPRoute or GRPCRoute can be programmed anywhere.
func (r *routeState) allRulesRejected() bool {
	if len(r.l7) == 0 {
		return false
	}
	for _, rule := range r.l7 {
		if rule.rejected == nil {
			return false
		}
	}
	return true
}

func (r *routeState) everywhereProblems() []problem {
	var out []problem
	for _, rp := range r.ruleProblems {
		if rp.everywhere && !slices.Contains(out, rp.problem) {
			out = append(out, rp.problem)
		}
	}
	return out
}

// partialCondition is PartiallyInvalid=True when an accepted route has rules that are not
// programmed (everywhere or on some ports), naming each rule and the fix.
func (r *routeState) partialCondition(accepted metav1.Condition) *metav1.Condition {
	if accepted.Status != metav1.ConditionTrue || len(r.ruleProblems) == 0 {
		return nil
	}
	var ps []problem
	for _, rp := range r.ruleProblems {
		if !slices.Contains(ps, rp.problem) {
			ps = append(ps, rp.problem)
		}
	}
	_, msg := joinProblems(ps)
	c := condition(string(gwv1.RouteConditionPartiallyInvalid), true, string(gwv1.RouteReasonUnsupportedValue),
		"some rules are not programmed, the others are: "+msg, r.generation)
	return &c
}
