package translate

import (
	"fmt"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

// listenerState is one Gateway listener after validation.
type listenerState struct {
	index int
	spec  gwv1.Listener
	// alb says the listener belongs to an ALB Gateway.
	alb bool
	// effective is the AWS protocol of the listener on its own: TLS passthrough is TCP.
	effective string
	// supported are the route kinds the listener admits.
	supported []gwv1.RouteGroupKind
	// notAccepted, conflicted and unresolved are the listener's problems, if any.
	notAccepted *problem
	conflicted  *problem
	unresolved  *problem
	attached    int32
	// certificates are what the listener's tls.certificateRefs resolved to, and the first ref
	// that could not be used; resolved says they were resolved (see checkCertificateRefs).
	certificates        []model.Ref
	certificateProblem  *problem
	certificatesChecked bool
	// hostnames are the hostnames attached TLSRoutes share with the listener.
	hostnames []string
	// owner is the namespace/name of the ListenerSet the listener comes from ("" for the
	// Gateway's own), ownerNamespace its namespace, and entry its index in the ListenerSet.
	owner, ownerNamespace string
	entry                 int
}

func (l *listenerState) accepted() bool { return l.notAccepted == nil }

func (l *listenerState) field(sub string) string {
	f := fmt.Sprintf("spec.listeners[%d]", l.index)
	if l.owner != "" {
		f = fmt.Sprintf("ListenerSet %s spec.listeners[%d]", l.owner, l.entry)
	}
	if sub != "" {
		f += "." + sub
	}
	return f
}

// passthrough says whether a TLS listener passes TLS through to the targets.
func passthrough(l gwv1.Listener) bool {
	return l.TLS != nil && l.TLS.Mode != nil && *l.TLS.Mode == gwv1.TLSModePassthrough
}

// kindsFor are the route kinds each NLB listener protocol admits, the default first.
var kindsFor = map[gwv1.ProtocolType][]string{
	gwv1.TCPProtocolType: {kindTCPRoute},
	gwv1.UDPProtocolType: {kindUDPRoute},
	gwv1.TLSProtocolType: {kindTLSRoute, kindTCPRoute},
}

// l7KindsFor are the route kinds each ALB listener protocol admits, the default first.
var l7KindsFor = map[gwv1.ProtocolType][]string{
	gwv1.HTTPProtocolType:  {kindHTTPRoute},
	gwv1.HTTPSProtocolType: {kindHTTPRoute, kindGRPCRoute},
}

// validateListeners checks every listener in spec order, then the conflicts between those
// valid on their own: no listener of a conflict wins. alb picks the ALB's protocols and kinds.
func validateListeners(gw *gwv1.Gateway, alb bool) []*listenerState {
	var out []*listenerState
	for i, spec := range gw.Spec.Listeners {
		out = append(out, newListenerState(i, spec, alb))
	}
	// Every listener of an indistinct set is conflicted: the Gateway API says "The
	// implementation MUST NOT pick one conflicting Listener as the winner. ALL indistinct
	// Listeners must not be accepted for processing."
	conflicts := make([]*problem, len(out))
	for i, l := range out {
		if l.notAccepted == nil {
			conflicts[i] = conflict(l, out)
		}
	}
	for i, l := range out {
		if conflicts[i] != nil {
			l.conflicted, l.notAccepted = conflicts[i], conflicts[i]
		}
		if l.notAccepted != nil {
			// A listener that is not accepted admits no route.
			l.supported = []gwv1.RouteGroupKind{}
		}
	}
	return out
}

// newListenerState checks one listener on its own: its port, its protocol for the load
// balancer type, and its route kinds.
func newListenerState(i int, spec gwv1.Listener, alb bool) *listenerState {
	l := &listenerState{index: i, spec: spec, effective: string(spec.Protocol), alb: alb}
	if spec.Protocol == gwv1.TLSProtocolType && passthrough(spec) {
		l.effective = string(gwv1.TCPProtocolType)
	}
	l.supported, l.unresolved = routeKinds(l)
	switch {
	case spec.Port < 1 || spec.Port > 65535:
		l.notAccepted = &problem{string(gwv1.ListenerReasonPortUnavailable), fmt.Sprintf(
			"%s: %d is outside 1-65535; pick another port", l.field("port"), spec.Port)}
	case alb && l7KindsFor[spec.Protocol] == nil:
		l.notAccepted = &problem{string(gwv1.ListenerReasonUnsupportedProtocol), fmt.Sprintf(
			"%s: %s is not supported by an ALB Gateway; use HTTP or HTTPS, or a GatewayClass with controllerName %s for TCP, UDP and TLS",
			l.field("protocol"), spec.Protocol, controllerNLB)}
	case !alb && kindsFor[spec.Protocol] == nil:
		l.notAccepted = &problem{string(gwv1.ListenerReasonUnsupportedProtocol), fmt.Sprintf(
			"%s: %s is not supported by an NLB Gateway; use TCP, UDP or TLS, or a GatewayClass with controllerName %s for HTTP and HTTPS",
			l.field("protocol"), spec.Protocol, controllerALB)}
	}
	return l
}

// protocolKey tells listeners apart that cannot share an AWS listener.
func protocolKey(l gwv1.Listener) string {
	if l.Protocol == gwv1.TLSProtocolType && passthrough(l) {
		return "TLS/Passthrough"
	}
	return string(l.Protocol)
}

// conflict returns why l is indistinct from another listener that is valid otherwise, if it is.
func conflict(l *listenerState, all []*listenerState) *problem {
	for _, o := range all {
		if o == l || !o.accepted() || o.spec.Port != l.spec.Port {
			continue
		}
		a, b := protocolKey(o.spec), protocolKey(l.spec)
		if a != b && !(a == "TCP" && b == "UDP" || a == "UDP" && b == "TCP") {
			return &problem{string(gwv1.ListenerReasonProtocolConflict), fmt.Sprintf(
				"%s: port %d is also used by listener %s with protocol %s, and neither is served; use another port, or the same protocol",
				l.field("protocol"), l.spec.Port, o.spec.Name, a)}
		}
		if a == b && l.spec.Hostname != nil && o.spec.Hostname != nil && *l.spec.Hostname == *o.spec.Hostname {
			return &problem{string(gwv1.ListenerReasonHostnameConflict), fmt.Sprintf(
				"%s: listener %s also serves hostname %s on port %d, and neither is served; use another hostname or port",
				l.field("hostname"), o.spec.Name, *l.spec.Hostname, l.spec.Port)}
		}
	}
	return nil
}

// routeKinds returns the kinds a listener admits, and a problem naming the kinds it cannot.
func routeKinds(l *listenerState) ([]gwv1.RouteGroupKind, *problem) {
	allowed := kindsFor[l.spec.Protocol]
	lb := "NLB"
	if l.alb {
		allowed, lb = l7KindsFor[l.spec.Protocol], "ALB"
	} else if passthrough(l.spec) {
		// A passthrough listener never sees the stream in clear; only a TLSRoute, which routes by
		// SNI, can describe it (the Gateway API dropped TCPRoute from TLS listeners in v1.5).
		allowed = []string{kindTLSRoute}
	}
	group := gwv1.Group(gatewayAPIGroup)
	if l.spec.AllowedRoutes == nil || len(l.spec.AllowedRoutes.Kinds) == 0 {
		var out []gwv1.RouteGroupKind
		for _, k := range allowed {
			out = append(out, gwv1.RouteGroupKind{Group: &group, Kind: gwv1.Kind(k)})
		}
		return out, nil
	}
	out := []gwv1.RouteGroupKind{}
	var bad []string
	for j, k := range l.spec.AllowedRoutes.Kinds {
		okGroup := k.Group == nil || string(*k.Group) == gatewayAPIGroup
		if okGroup && slices.Contains(allowed, string(k.Kind)) {
			if !slices.ContainsFunc(out, func(x gwv1.RouteGroupKind) bool { return x.Kind == k.Kind }) {
				out = append(out, gwv1.RouteGroupKind{Group: &group, Kind: k.Kind})
			}
			continue
		}
		g := gatewayAPIGroup
		if k.Group != nil {
			g = string(*k.Group)
		}
		bad = append(bad, fmt.Sprintf("%s[%d] %s/%s", l.field("allowedRoutes.kinds"), j, g, k.Kind))
	}
	if len(bad) == 0 {
		return out, nil
	}
	want := "no route kinds"
	if len(allowed) > 0 {
		want = strings.Join(allowed, " or ")
	}
	return out, &problem{string(gwv1.ListenerReasonInvalidRouteKinds), fmt.Sprintf(
		"%s: not supported on a %s listener of an %s Gateway; use %s", strings.Join(bad, ", "), l.spec.Protocol, lb, want)}
}

func (l *listenerState) admits(kind string) bool {
	return slices.ContainsFunc(l.supported, func(k gwv1.RouteGroupKind) bool { return string(k.Kind) == kind })
}
