package translate

import (
	"fmt"
	"maps"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
)

const defaultSSLPolicy = "ELBSecurityPolicy-2016-08"

// awsProtocol is the protocol of the AWS listener the valid listeners of one port become:
// TCP and UDP together are TCP_UDP.
func awsProtocol(ls []*listenerState) string {
	has := map[string]bool{}
	for _, l := range ls {
		has[l.effective] = true
	}
	switch {
	case has["TCP"] && has["UDP"]:
		return "TCP_UDP"
	case has["TLS"]:
		return "TLS"
	case has["UDP"]:
		return "UDP"
	default:
		return "TCP"
	}
}

// portGroup is one port with its accepted Gateway listeners and the routes attached there.
type portGroup struct {
	port      int32
	listeners []*listenerState
	routes    []*routeState
}

// portGroups returns, by ascending port, every port that has accepted listeners and at
// least one attached route: the ports that become AWS listeners.
func (t *translator) portGroups() []portGroup {
	byPort := map[int32][]*listenerState{}
	for _, l := range t.listeners {
		if l.accepted() {
			byPort[l.spec.Port] = append(byPort[l.spec.Port], l)
		}
	}
	var groups []portGroup
	for _, port := range slices.Sorted(maps.Keys(byPort)) {
		g := portGroup{port: port, listeners: byPort[port]}
		for _, rs := range t.routes {
			switch {
			case rs.attachedOn(t.listeners, port, true):
				g.routes = append(g.routes, rs)
			case rs.attachedOn(t.listeners, port, false):
				// Only through listeners without a usable certificate: another listener's
				// certificate must not answer for them (see checkCertificateRefs).
				rs.notes = append(rs.notes, fmt.Sprintf(
					"not programmed on port %d: the listeners it attaches to there have no usable certificate; see the Gateway's listener conditions", port))
			}
		}
		if len(g.routes) > 0 {
			groups = append(groups, g)
		}
	}
	return groups
}

// buildListeners turns each port with valid listeners and an attached route with a usable
// backend into one AWS listener that forwards to the oldest route's backends.
func (t *translator) buildListeners() {
	// quicPort and udpPort are the lowest ports given a QUIC (or TCP_QUIC) and a UDP (or TCP_UDP)
	// listener: AWS takes one QUIC listener on an NLB, and none beside UDP listeners.
	var quicPort, udpPort int32
	var p *problem
	for _, pg := range t.portGroups() {
		port, ls, candidates := pg.port, pg.listeners, pg.routes
		slices.SortFunc(candidates, func(a, b *routeState) int { return olderRoute(a.l4Route, b.l4Route) })
		protocol := awsProtocol(ls)
		lc := t.cfg.listenerConfig(protocol, port)
		if lc != nil && isTrue(lc.QuicEnabled) {
			protocol, p = quicProtocol(protocol, quicPort, udpPort, port)
		} else if carriesUDP(protocol) && quicPort != 0 {
			p = &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
				"spec.listeners: port %d would be a %s listener, and AWS allows no UDP or TCP_UDP listener on an NLB with a QUIC listener, here port %d (LoadBalancerConfiguration quicEnabled); move the UDP listener to another Gateway, or remove quicEnabled",
				port, protocol, quicPort)}
		}
		if p != nil {
			for _, l := range ls {
				l.unresolved = cmpFirst(l.unresolved, p)
			}
			p = nil
			continue
		}
		listener := model.Listener{Port: port, Protocol: protocol, Tags: t.tags(t.cfg.spec.Tags, portString(port))}
		if protocol == "TLS" {
			certs, p := t.certificates(lc, port, ls)
			if p != nil {
				for _, l := range ls {
					l.unresolved = cmpFirst(l.unresolved, p)
				}
				for _, r := range candidates {
					r.notes = append(r.notes, fmt.Sprintf(
						"not programmed on port %d: the TLS listener has no certificate; see the Gateway's listener conditions", port))
				}
				continue
			}
			listener.Certificates = certs
		}
		t.listenerSettings(&listener, lc)
		winner, forward, tgs := t.pickRoute(candidates, protocol, port)
		if winner == nil {
			continue
		}
		if p := t.overLimits(len(tgs)); p != nil {
			for _, l := range ls {
				l.unresolved = cmpFirst(l.unresolved, p)
			}
			winner.notes = append(winner.notes, fmt.Sprintf("not programmed on port %d: %s", port, p.message))
			continue
		}
		listener.DefaultActions = []model.Action{{Type: model.ActionForward, Forward: forward}}
		t.stack.Listeners = append(t.stack.Listeners, listener)
		// Only a port that becomes an AWS listener takes the load balancer's QUIC or UDP side.
		switch {
		case model.IsQUIC(protocol) && quicPort == 0:
			quicPort = port
		case carriesUDP(protocol) && udpPort == 0:
			udpPort = port
		}
		t.stack.TargetGroups = append(t.stack.TargetGroups, tgs...)
		if lc != nil && deref(lc.TargetGroupStickiness) {
			if skipped := t.stickyTargetGroups(forward); skipped {
				winner.notes = append(winner.notes, fmt.Sprintf(
					"port %d: targetGroupStickiness does not apply to TLS target groups (AWS: \"Sticky sessions are not supported with TLS listeners and TLS target groups\"); they are not sticky",
					port))
			}
		}
	}
}

// stickyTargetGroups turns on source-IP stickiness in the target groups of an NLB listener
// whose configuration asks for targetGroupStickiness. An NLB listener's forward action takes
// no TargetGroupStickinessConfig (that is ALB's group stickiness): on an NLB, stickiness is
// the target group attributes stickiness.enabled and stickiness.type=source_ip
// (TargetGroupAttribute reference: "source_ip for Network Load Balancers"). Values a
// TargetGroupConfiguration sets win. TLS target groups take no stickiness ("Sticky sessions
// are not supported with TLS listeners and TLS target groups"): it reports whether it left
// one out.
func (t *translator) stickyTargetGroups(f *model.ForwardAction) (skippedTLS bool) {
	for _, w := range f.TargetGroups {
		if w.TargetGroup.ID == "" {
			continue // an existing target group, by ARN, is never modified
		}
		for i := range t.stack.TargetGroups {
			tg := &t.stack.TargetGroups[i]
			if tg.ID != w.TargetGroup.ID {
				continue
			}
			if tg.Protocol == "TLS" {
				skippedTLS = true
				continue
			}
			if tg.Attributes == nil {
				tg.Attributes = map[string]string{}
			}
			if _, set := tg.Attributes["stickiness.enabled"]; !set {
				tg.Attributes["stickiness.enabled"] = "true"
				tg.Attributes["stickiness.type"] = "source_ip"
			}
		}
	}
	return skippedTLS
}

// listenerSettings applies the listener configuration: SSL and ALPN policies of a TLS
// listener (ALPN None unless configured, so removing it resets it), attributes of the others.
func (t *translator) listenerSettings(listener *model.Listener, lc *awsv1.ListenerConfiguration) {
	if listener.Protocol == "TLS" || listener.Protocol == "HTTPS" {
		listener.SSLPolicy = defaultSSLPolicy
		if t.s.Settings.DefaultSSLPolicy != "" {
			listener.SSLPolicy = t.s.Settings.DefaultSSLPolicy
		}
		if lc != nil && lc.SslPolicy != nil && *lc.SslPolicy != "" {
			listener.SSLPolicy = *lc.SslPolicy
		}
	}
	if listener.Protocol == "TLS" {
		listener.ALPNPolicy = "None"
		if lc != nil && lc.ALPNPolicy != nil && *lc.ALPNPolicy != "" {
			listener.ALPNPolicy = string(*lc.ALPNPolicy)
		}
		return
	}
	if lc == nil {
		return
	}
	for _, a := range lc.ListenerAttributes {
		if listener.Attributes == nil {
			listener.Attributes = map[string]string{}
		}
		listener.Attributes[a.Key] = a.Value
	}
}

// pickRoute picks the route an AWS listener forwards to: the oldest attached route with a
// backend that carries traffic. (The AWS Load Balancer Controller takes the oldest route even
// when none of its backends is usable, so one broken route takes the port down; here it only
// degrades its own status.)
func (t *translator) pickRoute(candidates []*routeState, protocol string, port int32) (*routeState, *model.ForwardAction, []model.TargetGroup) {
	for i, r := range candidates {
		forward, tgs := t.forward(r, protocol, port)
		if forward == nil {
			r.notes = append(r.notes, fmt.Sprintf(
				"not programmed on port %d: no usable backend with a weight above 0; see ResolvedRefs and spec.rules[].backendRefs", port))
			continue
		}
		for _, other := range candidates[i+1:] {
			other.notes = append(other.notes, fmt.Sprintf(
				"not programmed on port %d: an NLB listener forwards to one route, the oldest attached one with a usable backend, %s %s/%s",
				port, r.kind, r.namespace, r.name))
		}
		return r, forward, tgs
	}
	return nil, nil, nil
}

// overLimits reports when one more listener with newTargetGroups target groups would break
// the load balancer's limits.
func (t *translator) overLimits(newTargetGroups int) *problem {
	switch {
	case len(t.stack.Listeners) >= model.MaxListenersPerLoadBalancer:
		return &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
			"spec.listeners: an NLB has at most %d listeners and lower ports took them all; spread the ports over more Gateways",
			model.MaxListenersPerLoadBalancer)}
	case len(t.stack.TargetGroups)+newTargetGroups > model.MaxTargetGroupsPerLoadBalancer:
		return &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
			"spec.listeners: a load balancer has at most %d target groups and lower ports took them; spread the routes over more Gateways",
			model.MaxTargetGroupsPerLoadBalancer)}
	}
	return nil
}

// forward builds the forward action of a port from every usable backend of the route, and the
// new target groups it needs. It returns nil when no backend carries traffic.
func (t *translator) forward(r *routeState, protocol string, port int32) (*model.ForwardAction, []model.TargetGroup) {
	var pending []model.TargetGroup
	var order []model.Ref
	weights := map[model.Ref]int32{}
	for _, b := range r.backends {
		ref := model.Ref{External: b.external}
		if b.gateway != nil {
			tg := t.albTargetGroup(r.l4Route, b.gateway)
			if !slices.ContainsFunc(t.stack.TargetGroups, func(x model.TargetGroup) bool { return x.ID == tg.ID }) &&
				!slices.ContainsFunc(pending, func(x model.TargetGroup) bool { return x.ID == tg.ID }) {
				pending = append(pending, tg)
			}
			ref = model.Ref{ID: tg.ID}
		}
		if b.service != nil {
			tgProtocol, ok := targetGroupProtocol(protocol, r.kind, b.service.props)
			if !ok {
				r.problems = append(r.problems, problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
					"%s: TargetGroupConfiguration protocol %s cannot serve the %s listener on port %d; use one of %v",
					b.field, tgProtocol, protocol, port, targetGroupProtocols[protocol])})
				continue
			}
			tg, p := t.targetGroup(r.l4Route, b.service, tgProtocol)
			if p == nil {
				tg, p = t.uniqueTargetGroup(tg, pending, b.field)
			}
			if p == nil && carriesUDP(protocol) && t.ipAddressType() != string(awsv1.LoadBalancerIPAddressTypeIPv4) && tg.IPAddressType != "ipv6" {
				// AWS: a UDP listener on a dualstack NLB forwards to IPv6 target groups; a TCP_UDP
				// listener carries the same UDP traffic.
				p = &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
					"%s: a %s listener on a dualstack NLB forwards only to IPv6 target groups, and the Service is IPv4; give it an IPv6 family (ipFamilies [IPv6] or dual-stack), or set ipAddressType: ipv4 in the LoadBalancerConfiguration",
					b.field, protocol)}
			}
			if p == nil && model.IsQUIC(protocol) && tg.TargetType != "ip" {
				// LBC: QUIC targets are pods (ip), each registered with its QUIC server ID.
				p = &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
					"%s: the %s listener on port %d needs ip targets, and the Service's target type is %s; set targetType: ip in its TargetGroupConfiguration",
					b.field, protocol, port, tg.TargetType)}
			}
			if p != nil {
				r.problems = append(r.problems, *p)
				continue
			}
			if !slices.ContainsFunc(t.stack.TargetGroups, func(x model.TargetGroup) bool { return x.ID == tg.ID }) &&
				!slices.ContainsFunc(pending, func(x model.TargetGroup) bool { return x.ID == tg.ID }) {
				pending = append(pending, tg)
			}
			ref = model.Ref{ID: tg.ID}
		}
		if _, seen := weights[ref]; !seen {
			order = append(order, ref)
		}
		weights[ref] = min(weights[ref]+b.weight, model.MaxWeight)
	}
	if len(order) > model.MaxTargetGroupsPerForward {
		r.problems = append(r.problems, problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"spec.rules: %d backends on port %d, an NLB listener forwards to at most %d; only the first %d are used",
			len(order), port, model.MaxTargetGroupsPerForward, model.MaxTargetGroupsPerForward)})
		for _, dropped := range order[model.MaxTargetGroupsPerForward:] {
			pending = slices.DeleteFunc(pending, func(x model.TargetGroup) bool { return x.ID == dropped.ID })
		}
		order = order[:model.MaxTargetGroupsPerForward]
	}
	f := &model.ForwardAction{}
	carries := false
	for _, ref := range order {
		if model.IsQUIC(protocol) {
			// AWS takes no weights on QUIC listeners: every group listed gets its share, so one
			// of weight 0 is left out.
			if weights[ref] == 0 {
				continue
			}
			weights[ref] = 1
		}
		f.TargetGroups = append(f.TargetGroups, model.WeightedTargetGroup{TargetGroup: ref, Weight: weights[ref]})
		carries = carries || weights[ref] > 0
	}
	if !carries {
		return nil, nil
	}
	return f, pending
}

// uniqueTargetGroup keeps target group IDs and names unique in the stack. A route served on
// ports of different protocols needs one target group per protocol; the second gets the
// protocol appended to its ID. Two target groups cannot share a configured name.
func (t *translator) uniqueTargetGroup(tg model.TargetGroup, pending []model.TargetGroup, field string) (model.TargetGroup, *problem) {
	all := append(slices.Clone(t.stack.TargetGroups), pending...)
	if i := slices.IndexFunc(all, func(x model.TargetGroup) bool { return x.ID == tg.ID }); i >= 0 && all[i].Protocol != tg.Protocol {
		tg.ID += ":" + tg.Protocol
		tg.Tags[resourceTg] = tg.ID
	}
	for _, x := range all {
		if x.ID != tg.ID && x.Name == tg.Name {
			return tg, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: target group name %s is already used by %s; give each target group its own targetGroupName in the TargetGroupConfiguration",
				field, tg.Name, x.ID)}
		}
	}
	return tg, nil
}

// carriesUDP says whether a listener protocol takes UDP traffic.
func carriesUDP(protocol string) bool { return protocol == "UDP" || protocol == "TCP_UDP" }

// quicProtocol is the AWS listener protocol of a port whose listener configuration has
// quicEnabled (as LBC: UDP
// becomes QUIC, TCP_UDP becomes TCP_QUIC). AWS: "Only one QUIC or TCP_QUIC listener is allowed on
// an Network Load Balancer at any given time", and "QUIC and TCP_QUIC listeners are not allowed
// on an Network Load Balancer that has UDP or TCP_UDP listeners": a second QUIC port, or a QUIC
// port above a UDP one (udpPort), is refused on its listeners, lower ports first.
func quicProtocol(protocol string, quicPort, udpPort, port int32) (string, *problem) {
	switch protocol {
	case "UDP", "TCP_UDP":
	default:
		return "", &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
			"LoadBalancerConfiguration spec.listenerConfigurations[%s:%d].quicEnabled: only UDP and TCP_UDP listeners become QUIC; remove it", protocol, port)}
	}
	if quicPort != 0 {
		return "", &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
			"spec.listeners: port %d would be a second QUIC listener (LoadBalancerConfiguration spec.quicEnabled), and an NLB takes one, here port %d; move the UDP listener to another Gateway, or to port %d",
			port, quicPort, quicPort)}
	}
	if udpPort != 0 {
		return "", &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
			"spec.listeners: port %d would be a QUIC listener (LoadBalancerConfiguration quicEnabled), and AWS allows none on an NLB with a UDP or TCP_UDP listener, here port %d; move the UDP listener to another Gateway, or remove quicEnabled",
			port, udpPort)}
	}
	if protocol == "UDP" {
		return "QUIC", nil
	}
	return "TCP_QUIC", nil
}

// checkQUIC refuses quicEnabled where AWS refuses QUIC listeners: on ALBs (NLB protocols only),
// on dualstack NLBs and on NLBs with security groups ("QUIC and TCP_QUIC listeners are not
// allowed on dualstack load balancers or load balancers with associated security groups").
func (t *translator) checkQUIC() *problem {
	for i, lc := range t.cfg.spec.ListenerConfigurations {
		if !isTrue(lc.QuicEnabled) {
			continue
		}
		field := fmt.Sprintf("LoadBalancerConfiguration spec.listenerConfigurations[%d].quicEnabled", i)
		switch {
		case t.alb():
			return &problem{invalidParameters, field + ": QUIC listeners are for Network Load Balancers; remove it"}
		case t.ipAddressType() != "ipv4":
			return &problem{invalidParameters, field + ": AWS allows no QUIC listener on a dualstack load balancer; set spec.ipAddressType: ipv4, or remove it"}
		case !isTrue(t.cfg.spec.DisableSecurityGroup):
			return &problem{invalidParameters, field + ": AWS allows no QUIC listener on a load balancer with security groups; set spec.disableSecurityGroup: true (a new load balancer), or remove it"}
		}
	}
	return nil
}
