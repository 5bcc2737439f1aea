package translate

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

const (
	maxTargetGroupsPerForward = model.MaxTargetGroupsPerForward
	appProtocolH2C            = "kubernetes.io/h2c"
	grpcHealthCheckPath       = "/AWS.ALB/healthcheck"
)

// l7TargetGroup builds the target group of a Service backend of an HTTPRoute or GRPCRoute
// behind an ALB listener of the given protocol: HTTP (or the configured HTTPS), with the
// protocol version an HTTPS listener allows: configured, else GRPC for a GRPCRoute, else HTTP2
// for a kubernetes.io/h2c Service port, else HTTP1. HTTP listeners speak HTTP1 to targets.
func (t *translator) l7TargetGroup(r *l4Route, b backend, listener string) (model.TargetGroup, *problem) {
	sb := b.service
	protocol := "HTTP"
	if p := sb.props.Protocol; p != nil {
		protocol = string(*p)
		if protocol != "HTTP" && protocol != "HTTPS" {
			return model.TargetGroup{}, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: TargetGroupConfiguration protocol %s cannot serve an ALB; use HTTP or HTTPS", b.field, protocol)}
		}
	}
	version := "HTTP1"
	if listener == "HTTPS" {
		switch {
		case sb.props.ProtocolVersion != nil:
			version = string(*sb.props.ProtocolVersion)
		case r.kind == kindGRPCRoute:
			version = "GRPC"
		case deref(sb.port.AppProtocol) == appProtocolH2C:
			version = "HTTP2"
		}
	}
	tg, p := t.targetGroup(r, sb, protocol)
	if p != nil {
		return tg, p
	}
	tg.ProtocolVersion = version
	if sb.props.TargetGroupName == nil {
		tg.Name = t.defaultTargetGroupName(r, sb, protocol, version)
	}
	tg.HealthCheck, p = t.l7HealthCheck(sb, protocol, version)
	return tg, p
}

// l7HealthCheck is the ALB default health check (the target group's protocol on the traffic
// port, path / expecting 200-399, or for GRPC /AWS.ALB/healthcheck expecting gRPC code 12;
// 15 s / 5 s / 3 / 3) with the TargetGroupConfiguration's settings over it.
func (t *translator) l7HealthCheck(sb *serviceBackend, protocol, version string) (model.HealthCheck, *problem) {
	hc := model.HealthCheck{Enabled: true, Protocol: protocol, Port: "traffic-port", Path: "/", HTTPCode: "200-399",
		IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3}
	if version == "GRPC" {
		hc.Path, hc.HTTPCode, hc.GRPCCode = grpcHealthCheckPath, "", "12"
	}
	c := sb.props.HealthCheckConfig
	if c == nil {
		return hc, nil
	}
	if c.HealthCheckProtocol != nil {
		hc.Protocol = string(*c.HealthCheckProtocol)
		if hc.Protocol != "HTTP" && hc.Protocol != "HTTPS" {
			return hc, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"TargetGroupConfiguration for Service %s/%s healthCheckConfig.healthCheckProtocol: %s cannot check ALB targets; use HTTP or HTTPS",
				sb.svc.Namespace, sb.svc.Name, hc.Protocol)}
		}
	}
	if c.HealthCheckPath != nil {
		hc.Path = *c.HealthCheckPath
	}
	if p := applyHealthCheckSettings(&hc, sb, c); p != nil {
		return hc, p
	}
	if m := c.Matcher; m != nil {
		switch {
		case m.GRPCCode != nil:
			hc.GRPCCode, hc.HTTPCode = *m.GRPCCode, ""
		case m.HTTPCode != nil:
			hc.HTTPCode, hc.GRPCCode = *m.HTTPCode, ""
		}
	}
	return hc, nil
}

// addTargetGroup keeps one target group per ID in the stack and the pending list, reusing an
// equal one. The AWS Load Balancer Controller keys a target group by route, Service and port
// only, so a route on an HTTP and an HTTPS port gets the spec of whichever port came first;
// here a target group whose protocol or version differs gets an ID of its own.
func (t *translator) addTargetGroup(tg model.TargetGroup, pending *[]model.TargetGroup, field string) (string, *problem) {
	// The stack's and this route's target groups, walked in place: copying them on every call
	// made translation quadratic in memory for Gateways with many routes. The target groups of
	// the ports built before this one (t.l7Candidates, not in the stack yet: withinLimits adds
	// the ones whose rules fit) are found through their index, as there can be thousands.
	groups := [2][]model.TargetGroup{t.stack.TargetGroups, *pending}
	find := func(match func(x *model.TargetGroup) bool) *model.TargetGroup {
		for _, g := range groups {
			for i := range g {
				if match(&g[i]) {
					return &g[i]
				}
			}
		}
		for _, i := range []int{t.l7CandidateByID[tg.ID], t.l7CandidateByName[tg.Name]} {
			if i > 0 && match(&t.l7Candidates[i-1]) {
				return &t.l7Candidates[i-1]
			}
		}
		return nil
	}
	if find(func(x *model.TargetGroup) bool {
		return x.ID == tg.ID && (x.Protocol != tg.Protocol || x.ProtocolVersion != tg.ProtocolVersion)
	}) != nil {
		tg.ID += ":" + tg.Protocol + "-" + tg.ProtocolVersion
		tg.Tags[resourceTagALB] = tg.ID
	}
	if x := find(func(x *model.TargetGroup) bool { return x.ID == tg.ID || x.Name == tg.Name }); x != nil {
		if x.ID == tg.ID {
			return tg.ID, nil
		}
		return "", &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: target group name %s is already used by %s; give each target group its own targetGroupName in the TargetGroupConfiguration",
			field, tg.Name, x.ID)}
	}
	if len(groups[0])+len(groups[1]) >= model.MaxTargetGroupsPerLoadBalancer {
		return "", &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: a load balancer has at most %d target groups and other rules took them; spread the routes over more Gateways",
			field, model.MaxTargetGroupsPerLoadBalancer)}
	}
	*pending = append(*pending, tg)
	return tg.ID, nil
}

// distinctBackends counts the target groups a rule's backends need.
func distinctBackends(bs []backend) int {
	seen := map[string]bool{}
	for _, b := range bs {
		key := b.external
		if b.service != nil {
			key = fmt.Sprintf("%s/%s:%d", b.service.svc.Namespace, b.service.svc.Name, b.service.port.Port)
		}
		seen[key] = true
	}
	return len(seen)
}
