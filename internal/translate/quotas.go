package translate

import (
	"cmp"
	"fmt"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// Per-load-balancer quotas. AWS counts rules ("Rules per Application Load Balancer, excluding
// default rules") and certificates ("Certificates per load balancer, excluding default
// certificates") across all listeners of a load balancer, and an account can raise both:
// the values come from the controller's flags through the snapshot's settings.

// Quotas returns the quotas that apply to a load balancer of type typ, AWS's defaults where
// the settings leave them zero.
func Quotas(s snapshot.Settings, typ model.LoadBalancerType) model.Quotas {
	q := model.Quotas{CertificatesPerLoadBalancer: s.Quotas.NLBCertificatesPerLoadBalancer}
	if typ == model.Application {
		q = model.Quotas{RulesPerLoadBalancer: s.Quotas.ALBRulesPerLoadBalancer,
			CertificatesPerLoadBalancer: s.Quotas.ALBCertificatesPerLoadBalancer}
	}
	return q.WithDefaults()
}

func (t *translator) quotas() model.Quotas { return Quotas(t.s.Settings, t.stack.Type) }

// l7Port is an ALB listener being built and its rule units in precedence order.
type l7Port struct {
	listener model.Listener
	units    []*ruleUnit
}

// withinLimits keeps the rule units the load balancer can hold: the rule quota and the 100
// target groups are shared by all listeners, so the units of every port are taken together in
// precedence order (port breaks ties) and the first ones win. The kept units' target groups
// are added to the stack; the others are reported on their routes.
func (t *translator) withinLimits(ports []*l7Port) {
	type entry struct {
		port *l7Port
		unit *ruleUnit
	}
	var all []entry
	for _, p := range ports {
		for _, u := range p.units {
			all = append(all, entry{p, u})
		}
		p.units = nil
	}
	slices.SortStableFunc(all, func(a, b entry) int {
		return cmp.Or(comparePrecedence(&a.unit.prec, &b.unit.prec), cmp.Compare(a.port.listener.Port, b.port.listener.Port))
	})
	quota := t.quotas().RulesPerLoadBalancer
	kept := 0
	for _, e := range all {
		u, port := e.unit, e.port.listener.Port
		var add []model.TargetGroup
		for _, tg := range u.tgs {
			if !slices.ContainsFunc(t.stack.TargetGroups, func(x model.TargetGroup) bool { return x.ID == tg.ID }) &&
				!slices.ContainsFunc(add, func(x model.TargetGroup) bool { return x.ID == tg.ID }) {
				add = append(add, tg)
			}
		}
		var p *problem
		switch {
		case kept >= quota:
			p = &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: not programmed on port %d: the ALB holds at most %d rules across all its listeners (the account's quota, --alb-rules-per-load-balancer) and rules of higher precedence took them; spread the routes over more Gateways, or raise the quota",
				u.rule.field(""), port, quota)}
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
		e.port.units = append(e.port.units, u)
		kept++
	}
}

// limitCertificates keeps the listeners' certificates within the load balancer's quota: every
// listener keeps its default certificate; the others count in port order, and a Gateway
// listener on a port whose certificates did not all fit says which were left out.
func (t *translator) limitCertificates() {
	quota := t.quotas().CertificatesPerLoadBalancer
	used := 0
	for i := range t.stack.Listeners {
		l := &t.stack.Listeners[i]
		if len(l.Certificates) <= 1 {
			continue
		}
		extra := len(l.Certificates) - 1
		if used+extra <= quota {
			used += extra
			continue
		}
		keep := 1 + max(quota-used, 0)
		dropped := len(l.Certificates) - keep
		l.Certificates = l.Certificates[:keep]
		used = quota
		flag := "--nlb-certificates-per-load-balancer"
		if t.alb() {
			flag = "--alb-certificates-per-load-balancer"
		}
		p := &problem{string(gwv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf(
			"spec.listeners: %d certificates of port %d are not attached: the load balancer holds at most %d certificates besides each listener's default (the account's quota, %s) and lower ports took them; spread the hostnames over more Gateways, or raise the quota",
			dropped, l.Port, quota, flag)}
		for _, ls := range t.listeners {
			if ls.spec.Port == l.Port && ls.accepted() {
				ls.unresolved = cmpFirst(ls.unresolved, p)
			}
		}
	}
}
