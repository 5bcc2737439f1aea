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
// precedence order, as many as the load balancer's quotas allow (withinLimits).
func (t *translator) buildL7Listeners() {
	var ports []*l7Port
	for _, pg := range t.portGroups() {
		port, ls, routes := pg.port, pg.listeners, pg.routes
		if len(ports) >= model.MaxListenersPerLoadBalancer {
			p := &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
				"spec.listeners: an ALB has at most %d listeners and lower ports took them all; spread the ports over more Gateways",
				model.MaxListenersPerLoadBalancer)}
			for _, l := range ls {
				l.unresolved = cmpFirst(l.unresolved, p)
			}
			continue
		}
		if p, ok := t.l7Listener(port, ls, routes); ok {
			ports = append(ports, p)
		}
	}
	t.withinLimits(ports)
	for _, p := range ports {
		t.numberRules(p)
		t.stack.Listeners = append(t.stack.Listeners, p.listener)
	}
}

// l7Listener builds the ALB listener of one port and its rule units, or reports why it cannot.
func (t *translator) l7Listener(port int32, ls []*listenerState, routes []*routeState) (*l7Port, bool) {
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
			return nil, false
		}
		listener.Certificates = certs
		listener.MutualAuthentication = mutualAuthentication(lc)
	}
	t.listenerSettings(&listener, lc)
	units := t.ruleUnits(port, protocol, ls, routes)
	slices.SortFunc(units, func(a, b *ruleUnit) int { return comparePrecedence(&a.prec, &b.prec) })
	for _, u := range units {
		for _, tg := range u.tgs {
			t.addCandidate(tg)
		}
	}
	return &l7Port{listener: listener, units: units}, true
}

// addCandidate remembers a target group of a port built, by ID and name (1-based indexes into
// t.l7Candidates), for the ports after it (addTargetGroup).
func (t *translator) addCandidate(tg model.TargetGroup) {
	if t.l7CandidateByID == nil {
		t.l7CandidateByID, t.l7CandidateByName = map[string]int{}, map[string]int{}
	}
	if t.l7CandidateByID[tg.ID] > 0 {
		return
	}
	t.l7Candidates = append(t.l7Candidates, tg)
	t.l7CandidateByID[tg.ID] = len(t.l7Candidates)
	if t.l7CandidateByName[tg.Name] == 0 {
		t.l7CandidateByName[tg.Name] = len(t.l7Candidates)
	}
}

// numberRules gives the kept units of a port their priorities and turns them into rules.
func (t *translator) numberRules(p *l7Port) {
	port := p.listener.Port
	natural := make([]int64, len(p.units))
	for i, u := range p.units {
		natural[i] = naturalPriority(&u.prec)
	}
	for i, priority := range assignPriorities(natural) {
		u := p.units[i]
		var tags map[string]string
		if u.rule.lrc != nil {
			tags = u.rule.lrc.Spec.Tags
		}
		p.listener.Rules = append(p.listener.Rules, model.Rule{
			Priority: priority, Conditions: u.conditions, Actions: u.actions, Transforms: u.transforms,
			Tags:  t.tags(tags, fmt.Sprintf("%d:%d", port, priority)),
			Route: model.RouteOwner(u.route.kind, u.route.namespace, u.route.name),
		})
	}
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
					us, p := t.ruleUnit(r, rule, m, h)
					if p != nil {
						r.addRuleProblem(rule.index, false, *p)
						continue
					}
					for _, u := range us {
						u.actions, u.tgs = actions, tgs
						out = append(out, u)
					}
				}
			}
		}
	}
	return out
}

// ruleUnit turns a match on one hostname into rule units: usually one; several when a
// condition has more values than an ALB rule takes and its values are alternatives, so each
// unit takes a share of them (same actions, same precedence). None when the match's Host
// header can never equal the hostname.
func (t *translator) ruleUnit(r *routeState, rule *l7Rule, m *l7Match, host string) ([]*ruleUnit, *problem) {
	field := rule.field(fmt.Sprintf("matches[%d]", m.index))
	var conds []model.Condition
	switch {
	case m.host != nil && host == "":
		conds = append(conds, *m.host)
	case m.host != nil && len(m.host.RegexValues) > 0:
		return nil, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: a Host header regular expression on hostname %s: an ALB rule has one host-header condition; drop the route's (or listener's) hostnames or match the Host header exactly",
			field, host)}
	case m.host != nil:
		if !wildcardCovers(host, m.host.Values[0]) && host != m.host.Values[0] {
			return nil, nil // no request has both hostnames
		}
		conds = append(conds, *m.host)
	case host != "":
		conds = append(conds, model.Condition{Field: condHost, Values: []string{host}})
	}
	conds = append(conds, m.conditions...)
	if c := sourceIPCondition(rule.lrc, m.index); c != nil {
		conds = append(conds, *c)
	}
	for _, c := range conds {
		if c.ValueCount() > model.MaxValuesPerCondition {
			continue // split below
		}
		if p := c.Check(); p != "" {
			return nil, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf("%s: %s; shorten or drop it", field, p)}
		}
	}
	pieces, p := splitConditions(conds)
	if p != "" {
		return nil, &problem{string(gwv1.RouteReasonUnsupportedValue), field + ": " + p}
	}
	class, dots := hostPrecedence(host)
	var out []*ruleUnit
	for i, cs := range pieces {
		out = append(out, &ruleUnit{
			route: r, rule: rule, conditions: cs, transforms: transforms(rule, m),
			prec: precedence{hostClass: class, hostDots: dots, hostLen: len(host), hostBand: hostnameBand(class, host), host: host, match: m.prec,
				created: r.created.Time, route: r.namespace + "/" + r.name, kind: r.kind, rule: rule.index, matchIdx: m.index, split: i},
		})
	}
	return out, nil
}

// splitConditions keeps a rule's conditions within an ALB's limits: at most 3 values per
// condition and 5 per rule. The values of a condition are alternatives (a request matches
// when one of them does), so one condition with too many splits into several rules, each
// with a share of its values and all the other conditions. It says why when that is not
// enough (two conditions too large, or the others alone leave no room).
func splitConditions(conds []model.Condition) ([][]model.Condition, string) {
	total := 0
	for _, c := range conds {
		total += c.ValueCount()
	}
	if total <= model.MaxConditionValuesPerRule && conditionsFit(conds) {
		return [][]model.Condition{conds}, ""
	}
	// Split the condition with the most plain values.
	big := -1
	for i, c := range conds {
		if len(c.Values) > 1 && (big < 0 || len(c.Values) > len(conds[big].Values)) {
			big = i
		}
	}
	if big < 0 {
		return nil, fmt.Sprintf("%d condition values (hostname, paths, header and query values, source IPs), an ALB rule takes at most %d; split the match",
			total, model.MaxConditionValuesPerRule)
	}
	for i, c := range conds {
		if i != big && c.ValueCount() > model.MaxValuesPerCondition {
			return nil, fmt.Sprintf("%s and %s conditions both have more than %d values; an ALB rule takes at most %d per condition and only one can be split over several rules; reduce one to %d",
				conds[big].Field, c.Field, model.MaxValuesPerCondition, model.MaxValuesPerCondition, model.MaxValuesPerCondition)
		}
	}
	others := total - conds[big].ValueCount()
	share := min(model.MaxValuesPerCondition, model.MaxConditionValuesPerRule-others)
	if share < 1 {
		return nil, fmt.Sprintf("%d condition values besides the %s values, an ALB rule takes at most %d; split the match",
			others, conds[big].Field, model.MaxConditionValuesPerRule)
	}
	var out [][]model.Condition
	for chunk := range slices.Chunk(conds[big].Values, share) {
		cs := slices.Clone(conds)
		cs[big].Values = chunk
		out = append(out, cs)
	}
	return out, ""
}

func conditionsFit(conds []model.Condition) bool {
	for _, c := range conds {
		if c.ValueCount() > model.MaxValuesPerCondition {
			return false
		}
	}
	return true
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
