package translate

import (
	"fmt"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
)

// ruleUnit is one ALB rule to be: a route rule × match × hostname on one port.
type ruleUnit struct {
	route      *routeState
	rule       *l7Rule
	prec       precedence
	conditions []model.Condition
	actions    []model.Action
	transforms []model.Transform
	tgs        []model.TargetGroup
}

// buildL7Listeners turns each port with valid listeners and an attached route into one ALB
// listener: a 404 default action, and one rule per route rule × match × hostname, in
// precedence order.
func (t *translator) buildL7Listeners() {
	for _, pg := range t.portGroups() {
		port, ls, routes := pg.port, pg.listeners, pg.routes
		if len(t.stack.Listeners) >= model.MaxListenersPerLoadBalancer {
			p := &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
				"spec.listeners: an ALB has at most %d listeners and lower ports took them all; spread the ports over more Gateways",
				model.MaxListenersPerLoadBalancer)}
			for _, l := range ls {
				l.unresolved = cmpFirst(l.unresolved, p)
			}
			continue
		}
		if listener, ok := t.l7Listener(port, ls, routes); ok {
			t.stack.Listeners = append(t.stack.Listeners, listener)
		}
	}
}

// l7Listener builds the ALB listener of one port, or reports why it cannot.
func (t *translator) l7Listener(port int32, ls []*listenerState, routes []*routeState) (model.Listener, bool) {
	protocol := ls[0].effective
	lc := t.cfg.listenerConfig(protocol, port)
	listener := model.Listener{Port: port, Protocol: protocol, Tags: t.tags(t.cfg.spec.Tags, portString(port)),
		DefaultActions: []model.Action{{Type: model.ActionFixedResponse,
			FixedResponse: &model.FixedResponseAction{StatusCode: "404", ContentType: "text/plain"}}}}
	if protocol == "HTTPS" {
		certs, p := t.certificates(lc, port, ls)
		if p != nil {
			for _, l := range ls {
				l.unresolved = cmpFirst(l.unresolved, p)
			}
			for _, r := range routes {
				r.notes = append(r.notes, fmt.Sprintf(
					"not programmed on port %d: the HTTPS listener has no certificate; see the Gateway's listener conditions", port))
			}
			return listener, false
		}
		listener.Certificates = certs
		listener.MutualAuthentication = mutualAuthentication(lc)
	}
	t.listenerSettings(&listener, lc)
	units := t.ruleUnits(port, protocol, ls, routes)
	slices.SortFunc(units, func(a, b *ruleUnit) int { return comparePrecedence(&a.prec, &b.prec) })
	units = t.withinLimits(port, units)
	natural := make([]int64, len(units))
	for i, u := range units {
		natural[i] = naturalPriority(&u.prec)
	}
	for i, priority := range assignPriorities(natural) {
		u := units[i]
		var tags map[string]string
		if u.rule.lrc != nil {
			tags = u.rule.lrc.Spec.Tags
		}
		listener.Rules = append(listener.Rules, model.Rule{
			Priority: priority, Conditions: u.conditions, Actions: u.actions, Transforms: u.transforms,
			Tags:  t.tags(tags, fmt.Sprintf("%d:%d", port, priority)),
			Route: model.RouteOwner(u.route.kind, u.route.namespace, u.route.name),
		})
	}
	return listener, true
}

// withinLimits keeps the first units an ALB listener can hold (100 rules, 100 target groups
// per load balancer), adds their target groups to the stack, and reports the rest on their
// routes.
func (t *translator) withinLimits(port int32, units []*ruleUnit) []*ruleUnit {
	var kept []*ruleUnit
	for _, u := range units {
		var p *problem
		var add []model.TargetGroup
		for _, tg := range u.tgs {
			if !slices.ContainsFunc(t.stack.TargetGroups, func(x model.TargetGroup) bool { return x.ID == tg.ID }) &&
				!slices.ContainsFunc(add, func(x model.TargetGroup) bool { return x.ID == tg.ID }) {
				add = append(add, tg)
			}
		}
		switch {
		case len(kept) >= model.MaxRulesPerListener:
			p = &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: not programmed on port %d: an ALB listener holds at most %d rules and rules of higher precedence took them; spread the routes over more Gateways or ports",
				u.rule.field(""), port, model.MaxRulesPerListener)}
		case len(t.stack.TargetGroups)+len(add) > model.MaxTargetGroupsPerLoadBalancer:
			p = &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: not programmed on port %d: a load balancer has at most %d target groups and rules of higher precedence took them; spread the routes over more Gateways",
				u.rule.field(""), port, model.MaxTargetGroupsPerLoadBalancer)}
		}
		if p != nil {
			u.route.addRuleProblem(u.rule.index, false, *p)
			continue
		}
		t.stack.TargetGroups = append(t.stack.TargetGroups, add...)
		kept = append(kept, u)
	}
	return kept
}

// ruleUnits expands the attached routes' rules into units for one port.
func (t *translator) ruleUnits(port int32, protocol string, ls []*listenerState, routes []*routeState) []*ruleUnit {
	var out []*ruleUnit
	for _, r := range routes {
		hosts := r.hostsOn(t.listeners, port)
		for _, rule := range r.l7 {
			if rule.rejected != nil {
				continue
			}
			actions, tgs, p := t.ruleActions(r, rule, port, protocol)
			if p != nil {
				r.addRuleProblem(rule.index, false, *p)
				continue
			}
			for _, m := range rule.matches {
				for _, h := range hosts {
					u, p := t.ruleUnit(r, rule, m, h)
					if p != nil {
						r.addRuleProblem(rule.index, false, *p)
						continue
					}
					u.actions, u.tgs = actions, tgs
					out = append(out, u)
				}
			}
		}
	}
	return out
}

func (t *translator) ruleUnit(r *routeState, rule *l7Rule, m *l7Match, host string) (*ruleUnit, *problem) {
	var conds []model.Condition
	if host != "" {
		conds = append(conds, model.Condition{Field: condHost, Values: []string{host}})
	}
	conds = append(conds, m.conditions...)
	if c := sourceIPCondition(rule.lrc, m.index); c != nil {
		conds = append(conds, *c)
	}
	if n := conditionValues(conds); n > model.MaxConditionValuesPerRule {
		return nil, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: %d condition values (hostname, paths, header and query values, source IPs), an ALB rule takes at most %d; split the match",
			rule.field(fmt.Sprintf("matches[%d]", m.index)), n, model.MaxConditionValuesPerRule)}
	}
	class, dots := hostPrecedence(host)
	return &ruleUnit{
		route: r, rule: rule, conditions: conds, transforms: transforms(rule, m),
		prec: precedence{hostClass: class, hostDots: dots, hostLen: len(host), hostBand: hostnameBand(class, host), host: host, match: m.prec,
			created: r.created.Time, route: r.namespace + "/" + r.name, kind: r.kind, rule: rule.index, matchIdx: m.index},
	}, nil
}

// hostsOn are the hostnames the route serves on a port: the intersections with each listener
// of the port it attached to. "" (any hostname) makes the others redundant.
func (r *routeState) hostsOn(listeners []*listenerState, port int32) []string {
	var out []string
	for _, p := range r.parents {
		for _, li := range p.listeners {
			l := listeners[li]
			if l.spec.Port != port || !l.servable() {
				continue
			}
			hs, _ := intersectHostnames(l.spec.Hostname, r.hostnames)
			if len(hs) == 0 {
				return []string{""}
			}
			out = append(out, hs...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (r *routeState) addRuleProblem(rule int, everywhere bool, p problem) {
	rp := ruleProblem{rule: rule, everywhere: everywhere, problem: p}
	if !slices.Contains(r.ruleProblems, rp) {
		r.ruleProblems = append(r.ruleProblems, rp)
	}
}

// mutualAuthentication is the listener configuration's mTLS setting.
func mutualAuthentication(lc *awsv1.ListenerConfiguration) *model.MutualAuthentication {
	if lc == nil || lc.MutualAuthentication == nil {
		return nil
	}
	m := lc.MutualAuthentication
	out := &model.MutualAuthentication{Mode: string(m.Mode), TrustStore: deref(m.TrustStore),
		IgnoreClientCertificateExpiry: deref(m.IgnoreClientCertificateExpiry)}
	if m.AdvertiseTrustStoreCaNames != nil {
		out.AdvertiseTrustStoreCANames = string(*m.AdvertiseTrustStoreCaNames)
	}
	if out.Mode == "" {
		out.Mode = "off"
	}
	return out
}
