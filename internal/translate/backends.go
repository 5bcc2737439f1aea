package translate

import (
	"fmt"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

const kindTargetGroupName = "TargetGroupName"

// backend is one usable backendRef of a route.
type backend struct {
	field  string
	weight int32
	// external is the ARN of an out-of-band target group (kind TargetGroupName).
	external string
	// service is set for a Service backend.
	service *serviceBackend
	// gateway is set for a Gateway backend (NLB to ALB chaining).
	gateway *gatewayBackend
}

// gatewayBackend is an ALB Gateway of this controller that an NLB route forwards to.
type gatewayBackend struct {
	namespace, name, arn string
	port                 int32
}

// serviceBackend is a Service port with the target group settings it gets.
type serviceBackend struct {
	svc        *corev1.Service
	port       corev1.ServicePort
	props      awsv1.TargetGroupProps
	targetType string
	// tgPort is the target group's port: the node port (instance) or the target port (ip).
	tgPort int32
	// hashPort is the port in the generated name: the node port (instance), or the Service's
	// targetPort as written (ip).
	hashPort string
	// idPort is the port in the logical ID: the Service's targetPort as written.
	idPort string
	ipType string
}

// resolveBackends resolves every backendRef of a route. Unusable ones are dropped and each
// becomes a problem for the route's ResolvedRefs condition.
func (t *translator) resolveBackends(r *l4Route) ([]backend, []problem) {
	var out []backend
	var problems []problem
	for i, refs := range r.rules {
		for j, ref := range refs {
			field := fmt.Sprintf("spec.rules[%d].backendRefs[%d]", i, j)
			b, p := t.resolveBackend(r, ref, field)
			if p != nil {
				problems = append(problems, *p)
				continue
			}
			out = append(out, b)
		}
	}
	return out, problems
}

func (t *translator) resolveBackend(r *l4Route, ref gwv1.BackendRef, field string) (backend, *problem) {
	b := backend{field: field, weight: 1}
	if ref.Weight != nil {
		b.weight = *ref.Weight
	}
	if b.weight < 0 || b.weight > model.MaxWeight {
		return b, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s.weight: %d is outside 0-%d, the range ELB accepts; lower it (weights are relative)", field, b.weight, model.MaxWeight)}
	}
	kind := "Service"
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	group := ""
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	switch {
	case kind == "Service" && group == "":
		sb, p := t.resolveService(r, ref, field)
		b.service = sb
		return b, p
	case kind == "Gateway" && group == gatewayAPIGroup && r.kind == "TCPRoute":
		gb, p := t.resolveGateway(r, ref, field)
		b.gateway = gb
		return b, p
	case kind == kindTargetGroupName:
		arn, ok := t.s.AWS.TargetGroupARNs[string(ref.Name)]
		if !ok || arn == "" {
			return b, &problem{string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf(
				"%s: target group named %s not found in AWS; create it or fix the name", field, ref.Name)}
		}
		b.external = arn
		return b, nil
	default:
		return b, &problem{string(gwv1.RouteReasonInvalidKind), fmt.Sprintf(
			"%s.kind: %s (group %q) is not a supported backend; use a Service, kind %s, or (TCPRoute) an ALB Gateway of group %s", field, kind, group, kindTargetGroupName, gatewayAPIGroup)}
	}
}

// resolveGateway resolves a TCPRoute backendRef of kind Gateway: an ALB Gateway of this
// controller, programmed, with a listener on the backendRef's port. Until the ALB Gateway is
// programmed the backend is not resolved; its status change brings the route back (watches.go).
func (t *translator) resolveGateway(r *l4Route, ref gwv1.BackendRef, field string) (*gatewayBackend, *problem) {
	ns := r.namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	name := string(ref.Name)
	if ref.Port == nil {
		return nil, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s.port: a Gateway backend needs a port; set it to one of Gateway %s/%s's listener ports", field, ns, name)}
	}
	if ns != r.namespace && !referenceGranted(t.s.ReferenceGrants,
		objectRef{group: gatewayAPIGroup, kind: r.kind, namespace: r.namespace},
		objectRef{group: gatewayAPIGroup, kind: "Gateway", namespace: ns, name: name}) {
		return nil, &problem{string(gwv1.RouteReasonRefNotPermitted), fmt.Sprintf(
			"%s: Gateway %s/%s is in another namespace and no ReferenceGrant in %s allows %s from namespace %s; create one",
			field, ns, name, ns, r.kind, r.namespace)}
	}
	i := slices.IndexFunc(t.s.BackendGateways, func(g snapshot.BackendGateway) bool { return g.Namespace == ns && g.Name == name })
	if i < 0 {
		return nil, &problem{string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf(
			"%s: Gateway %s/%s not found; create it or fix the name", field, ns, name)}
	}
	g := t.s.BackendGateways[i]
	if g.ControllerName != controllerALB {
		return nil, &problem{string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf(
			"%s: Gateway %s/%s is not an Application Load Balancer Gateway of %s (its class's controller is %q); an NLB forwards only to one",
			field, ns, name, controllerALB, g.ControllerName)}
	}
	port := int32(*ref.Port)
	if !slices.Contains(g.Ports, port) {
		return nil, &problem{string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf(
			"%s.port: %d is not a port Gateway %s/%s's load balancer listens on (it listens on %v; a listener without a route with a usable backend has no AWS listener); the NLB forwards to the ALB's listener on that port",
			field, port, ns, name, g.Ports)}
	}
	if g.ARN == "" {
		return nil, &problem{string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf(
			"%s: Gateway %s/%s is not programmed yet; the route is resolved once its load balancer exists", field, ns, name)}
	}
	return &gatewayBackend{namespace: ns, name: name, arn: g.ARN, port: port}, nil
}

func (t *translator) resolveService(r *l4Route, ref gwv1.BackendRef, field string) (*serviceBackend, *problem) {
	ns := r.namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	name := string(ref.Name)
	if ref.Port == nil {
		return nil, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s.port: a Service backend needs a port; set it to one of Service %s/%s's spec.ports[].port", field, ns, name)}
	}
	if ns != r.namespace && !referenceGranted(t.s.ReferenceGrants,
		objectRef{group: gatewayAPIGroup, kind: r.kind, namespace: r.namespace},
		objectRef{group: "", kind: "Service", namespace: ns, name: name}) {
		return nil, &problem{string(gwv1.RouteReasonRefNotPermitted), fmt.Sprintf(
			"%s: Service %s/%s is in another namespace and no ReferenceGrant in %s allows %s from namespace %s; create one",
			field, ns, name, ns, r.kind, r.namespace)}
	}
	svc := t.service(ns, name)
	if svc == nil {
		return nil, &problem{string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf(
			"%s: Service %s/%s not found; create it or fix the name", field, ns, name)}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		// An ExternalName Service has no endpoints to register as targets.
		return nil, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: Service %s/%s is of type ExternalName, which a load balancer cannot send traffic to; refer to a Service with endpoints (ClusterIP, NodePort or LoadBalancer) or to a TargetGroupName backend",
			field, ns, name)}
	}
	var port *corev1.ServicePort
	var ports []string
	for i := range svc.Spec.Ports {
		ports = append(ports, strconv.Itoa(int(svc.Spec.Ports[i].Port)))
		if svc.Spec.Ports[i].Port == *ref.Port && port == nil {
			port = &svc.Spec.Ports[i]
		}
	}
	if port == nil {
		return nil, &problem{string(gwv1.RouteReasonBackendNotFound), fmt.Sprintf(
			"%s.port: Service %s/%s has no port %d (ports: %v); use one of its spec.ports[].port", field, ns, name, *ref.Port, ports)}
	}
	sb := &serviceBackend{svc: svc, port: *port}
	sb.props = t.cfg.backendProps(serviceTGC(t.s.TargetGroupConfigurations, ns, name), r)
	return sb, t.targetPort(sb, field)
}

// targetPort decides the target type and ports of a Service backend.
func (t *translator) targetPort(sb *serviceBackend, field string) *problem {
	where := fmt.Sprintf("%s: Service %s/%s port %d", field, sb.svc.Namespace, sb.svc.Name, sb.port.Port)
	sb.targetType = string(awsv1.TargetTypeInstance)
	if t.s.Settings.DefaultTargetType != "" {
		sb.targetType = t.s.Settings.DefaultTargetType
	}
	if sb.props.TargetType != nil {
		sb.targetType = string(*sb.props.TargetType)
	}
	tp := sb.port.TargetPort
	sb.idPort = tp.String()
	if tp.IntValue() == 0 && tp.StrVal == "" {
		sb.idPort = strconv.Itoa(int(sb.port.Port))
	}
	switch sb.targetType {
	case string(awsv1.TargetTypeInstance):
		if sb.port.NodePort < 1 || sb.port.NodePort > 65535 {
			return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s has no nodePort; service must be of type NodePort or LoadBalancer for instance targets, or set targetType: ip in a TargetGroupConfiguration", where)}
		}
		sb.tgPort = sb.port.NodePort
		sb.hashPort = strconv.Itoa(int(sb.tgPort))
	case string(awsv1.TargetTypeIP):
		switch {
		case tp.StrVal != "":
			sb.tgPort = 1 // a named port: each target registers with its own port
		case tp.IntVal > 0:
			sb.tgPort = tp.IntVal
		default:
			sb.tgPort = sb.port.Port
		}
		sb.hashPort = sb.idPort
	default:
		return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: targetType %q is not supported; use instance or ip", where, sb.targetType)}
	}
	if sb.tgPort < 1 || sb.tgPort > 65535 {
		return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s: target port %d is outside 1-65535; fix the Service's spec.ports[].targetPort", where, sb.tgPort)}
	}
	// As LBC: a Service with an IPv6 family gets an ipv6 target group on a dualstack load
	// balancer. On an ipv4 one a dual-stack Service keeps ipv4 targets (LBC refuses it), and an
	// IPv6-only Service is refused.
	sb.ipType = "ipv4"
	if fam := sb.svc.Spec.IPFamilies; slices.Contains(fam, corev1.IPv6Protocol) {
		switch {
		case t.ipAddressType() != string(awsv1.LoadBalancerIPAddressTypeIPv4):
			sb.ipType = "ipv6"
		case !slices.Contains(fam, corev1.IPv4Protocol):
			return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: the Service is IPv6 but the load balancer is ipv4; set ipAddressType: dualstack in the LoadBalancerConfiguration", where)}
		}
	}
	if n := sb.props.TargetGroupName; n != nil {
		if err := model.CheckName(*n); err != nil {
			return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: TargetGroupConfiguration targetGroupName %q %v; fix it", where, *n, err)}
		}
	}
	return nil
}

func (t *translator) service(namespace, name string) *corev1.Service {
	for i := range t.s.Services {
		if t.s.Services[i].Namespace == namespace && t.s.Services[i].Name == name {
			return &t.s.Services[i]
		}
	}
	return nil
}
