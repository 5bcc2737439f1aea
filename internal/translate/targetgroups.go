package translate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
)

// targetGroupProtocols are the target group protocols each NLB listener protocol can forward to.
var targetGroupProtocols = map[string][]string{
	"TCP":      {"TCP", "TCP_UDP"},
	"UDP":      {"UDP", "TCP_UDP"},
	"TCP_UDP":  {"TCP_UDP"},
	"TLS":      {"TLS", "TCP"},
	"QUIC":     {"QUIC"},
	"TCP_QUIC": {"TCP_QUIC"},
}

// targetGroupProtocol picks the protocol of a route's target group behind an AWS listener: a
// TCP_UDP listener forces TCP_UDP; else the TargetGroupConfiguration's protocol; else by route
// kind (a TLSRoute behind a TLS-terminating listener re-encrypts; behind a passthrough listener,
// which is TCP on AWS, it stays TCP).
func targetGroupProtocol(listener, kind string, props awsv1.TargetGroupProps) (string, bool) {
	if listener == "TCP_UDP" || model.IsQUIC(listener) {
		// AWS: "The target group for a TCP_QUIC listener must use the TCP_QUIC protocol"; a
		// QUIC listener's, QUIC.
		return listener, true
	}
	want := ""
	if props.Protocol != nil {
		want = string(*props.Protocol)
	} else {
		switch kind {
		case kindUDPRoute:
			want = "UDP"
		case kindTLSRoute:
			want = "TCP"
			if listener == "TLS" {
				want = "TLS"
			}
		default:
			want = "TCP"
		}
	}
	for _, p := range targetGroupProtocols[listener] {
		if p == want {
			return want, true
		}
	}
	return want, false
}

// targetGroup builds the target group of a Service backend of a route.
func (t *translator) targetGroup(r *l4Route, sb *serviceBackend, protocol string) (model.TargetGroup, *problem) {
	gw := t.gw
	id := fmt.Sprintf("%s/%s:%s-%s:%s-%s-%s:%s", gw.Namespace, gw.Name, r.namespace, r.name, r.kind,
		sb.svc.Namespace, sb.svc.Name, sb.idPort)
	name := t.defaultTargetGroupName(r, sb, protocol, "")
	if sb.props.TargetGroupName != nil {
		name = *sb.props.TargetGroupName
	}
	if p := t.checkTargetGroupProps(sb); p != nil {
		return model.TargetGroup{}, p
	}
	hc, p := t.healthCheck(sb)
	if p != nil {
		return model.TargetGroup{}, p
	}
	tg := model.TargetGroup{
		ID:            id,
		Name:          name,
		TargetType:    sb.targetType,
		Protocol:      protocol,
		Port:          sb.tgPort,
		IPAddressType: sb.ipType,
		VPCID:         t.s.Settings.VPCID,
		HealthCheck:   hc,
		Tags:          t.tags(sb.props.Tags, id),
		Route:         model.RouteOwner(r.kind, r.namespace, r.name),
		Backend: &model.Backend{
			Namespace: sb.svc.Namespace,
			Service:   sb.svc.Name,
			Port:      sb.port.Port,
			PortName:  sb.port.Name,
			NodePort:  sb.port.NodePort,
		},
	}
	if sb.targetType == string(awsv1.TargetTypeInstance) && sb.props.NodeSelector != nil && len(sb.props.NodeSelector.MatchLabels) > 0 {
		tg.Backend.NodeSelector = sb.props.NodeSelector.MatchLabels
	}
	for _, a := range sb.props.TargetGroupAttributes {
		if tg.Attributes == nil {
			tg.Attributes = map[string]string{}
		}
		tg.Attributes[a.Key] = a.Value
	}
	return tg, nil
}

// albTargetGroup is the target group of type alb an NLB route forwards to an ALB Gateway with:
// TCP on the ALB listener's port, the ALB as its one target, and an HTTP health check on the
// traffic port (an HTTPS ALB listener needs an HTTPS check: set it in AWS, or front an HTTP
// listener). Target groups of type alb take no attributes.
func (t *translator) albTargetGroup(r *l4Route, g *gatewayBackend) model.TargetGroup {
	gw := t.gw
	port := strconv.Itoa(int(g.port))
	id := fmt.Sprintf("%s/%s:%s-%s:%s-gateway-%s-%s:%s", gw.Namespace, gw.Name, r.namespace, r.name, r.kind, g.namespace, g.name, port)
	name := targetGroupName(targetGroupNameParts{
		cluster: t.s.Settings.ClusterName, gatewayNamespace: gw.Namespace, gateway: gw.Name,
		routeNamespace: r.namespace, route: r.name, kind: r.kind,
		serviceNamespace: g.namespace, service: "gateway/" + g.name, port: port,
		targetType: "alb", protocol: "TCP",
	})
	return model.TargetGroup{
		ID:            id,
		Name:          name,
		TargetType:    "alb",
		Protocol:      "TCP",
		Port:          g.port,
		IPAddressType: "ipv4",
		VPCID:         t.s.Settings.VPCID,
		HealthCheck: model.HealthCheck{Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/",
			IntervalSeconds: 30, TimeoutSeconds: 6, HealthyThreshold: 5, UnhealthyThreshold: 2, HTTPCode: "200-399"},
		Tags:    t.tags(nil, id),
		Route:   model.RouteOwner(r.kind, r.namespace, r.name),
		Targets: []model.Target{{ID: g.arn, Port: g.port}},
	}
}

// healthCheck is the NLB default health check (TCP on the traffic port, 15 s / 5 s / 3 / 3; for
// instance targets of a Service with externalTrafficPolicy Local, HTTP /healthz on the health
// check node port, 10 s / 6 s / 2 / 2) with the TargetGroupConfiguration's settings over it.
func (t *translator) healthCheck(sb *serviceBackend) (model.HealthCheck, *problem) {
	hc := model.HealthCheck{Enabled: true, Protocol: "TCP", Port: "traffic-port",
		IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3}
	local := sb.targetType == string(awsv1.TargetTypeInstance) &&
		sb.svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal && sb.svc.Spec.HealthCheckNodePort > 0
	if local {
		hc = model.HealthCheck{Enabled: true, Protocol: "HTTP", Port: strconv.Itoa(int(sb.svc.Spec.HealthCheckNodePort)),
			Path: "/healthz", IntervalSeconds: 10, TimeoutSeconds: 6, HealthyThreshold: 2, UnhealthyThreshold: 2}
	}
	c := sb.props.HealthCheckConfig
	if c != nil {
		if c.HealthCheckProtocol != nil {
			hc.Protocol = string(*c.HealthCheckProtocol)
		}
		if p := applyHealthCheckSettings(&hc, sb, c); p != nil {
			return hc, p
		}
	}
	if hc.Protocol == "HTTP" || hc.Protocol == "HTTPS" {
		if hc.Path == "" {
			hc.Path = "/"
		}
		hc.HTTPCode = "200-399"
		if c != nil && c.HealthCheckPath != nil {
			hc.Path = *c.HealthCheckPath
		}
		if c != nil && c.Matcher != nil && c.Matcher.HTTPCode != nil {
			hc.HTTPCode = *c.Matcher.HTTPCode
		}
	} else {
		hc.Path = ""
	}
	return hc, nil
}

// defaultTargetGroupName is the name of a route's target group for a Service backend when the
// TargetGroupConfiguration names none; version is the ALB protocol version, empty for an NLB.
func (t *translator) defaultTargetGroupName(r *l4Route, sb *serviceBackend, protocol, version string) string {
	gw := t.gw
	return targetGroupName(targetGroupNameParts{
		cluster: t.s.Settings.ClusterName, gatewayNamespace: gw.Namespace, gateway: gw.Name,
		routeNamespace: r.namespace, route: r.name, kind: r.kind,
		serviceNamespace: sb.svc.Namespace, service: sb.svc.Name, port: sb.hashPort,
		targetType: sb.targetType, protocol: protocol, version: version,
	})
}

// applyHealthCheckSettings lays the interval, timeout, thresholds and port of a
// TargetGroupConfiguration's healthCheckConfig over hc; the protocol, path and matcher differ
// between NLB and ALB and are left to the caller.
func applyHealthCheckSettings(hc *model.HealthCheck, sb *serviceBackend, c *awsv1.HealthCheckConfiguration) *problem {
	if c.HealthCheckInterval != nil {
		hc.IntervalSeconds = *c.HealthCheckInterval
	}
	if c.HealthCheckTimeout != nil {
		hc.TimeoutSeconds = *c.HealthCheckTimeout
	}
	if c.HealthyThresholdCount != nil {
		hc.HealthyThreshold = *c.HealthyThresholdCount
	}
	if c.UnhealthyThresholdCount != nil {
		hc.UnhealthyThreshold = *c.UnhealthyThresholdCount
	}
	if c.HealthCheckPort != nil {
		port, p := healthCheckPort(sb, c.HealthCheckPort.String(), c.HealthCheckPort.IntVal)
		if p != nil {
			return p
		}
		hc.Port = port
	}
	if field, err := model.CheckHealthCheck(*hc); err != nil {
		return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s.%s: %v, which AWS refuses; fix it", tgConfigField(sb, "healthCheckConfig"), field, err)}
	}
	return nil
}

// tgConfigField names a field of the TargetGroupConfiguration that configures a Service.
func tgConfigField(sb *serviceBackend, field string) string {
	return fmt.Sprintf("TargetGroupConfiguration for Service %s/%s spec.defaultConfiguration.%s", sb.svc.Namespace, sb.svc.Name, field)
}

// checkTargetGroupProps refuses the attributes and tags of a TargetGroupConfiguration that
// AWS would refuse (see model/limits.go).
func (t *translator) checkTargetGroupProps(sb *serviceBackend) *problem {
	for i, a := range sb.props.TargetGroupAttributes {
		if err := model.CheckTargetGroupAttribute(t.stack.Type, a.Key, a.Value); err != nil {
			return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s[%d]: %v", tgConfigField(sb, "targetGroupAttributes"), i, err)}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(sb.props.Tags)) {
		if err := model.CheckTagKey(k); err != nil {
			return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf("%s: %v", tgConfigField(sb, "tags"), err)}
		}
	}
	return nil
}

// healthCheckPort resolves a configured health check port: a number, traffic-port, or the name
// of a Service port (its node port for instance targets, its numeric targetPort for ip).
func healthCheckPort(sb *serviceBackend, value string, number int32) (string, *problem) {
	where := tgConfigField(sb, "healthCheckConfig.healthCheckPort")
	if value == "traffic-port" {
		return value, nil
	}
	if number > 0 && number <= 65535 {
		return strconv.Itoa(int(number)), nil
	}
	for _, p := range sb.svc.Spec.Ports {
		if p.Name != value || value == "" {
			continue
		}
		if sb.targetType == string(awsv1.TargetTypeInstance) && p.NodePort > 0 {
			return strconv.Itoa(int(p.NodePort)), nil
		}
		if sb.targetType == string(awsv1.TargetTypeIP) && p.TargetPort.StrVal == "" && p.TargetPort.IntVal > 0 {
			return strconv.Itoa(int(p.TargetPort.IntVal)), nil
		}
	}
	return "", &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
		"%s: %q is neither traffic-port, a port number, nor a Service port with a usable number; fix it", where, value)}
}
