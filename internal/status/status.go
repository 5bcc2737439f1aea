// Package status holds the conditions translation decides, as data, for one writer to apply.
package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Set is every status one Gateway's translation decides.
type Set struct {
	// GatewayClass conditions, when the class was translated too.
	GatewayClass *GatewayClass `json:"gatewayClass,omitempty"`
	Gateway      *Gateway      `json:"gateway,omitempty"`
	// Routes holds one entry per route that names the Gateway, sorted by kind, namespace, name.
	Routes []Route `json:"routes,omitempty"`
	// ListenerSets holds one entry per ListenerSet whose parentRef names the Gateway, in
	// precedence order.
	ListenerSets []ListenerSet `json:"listenerSets,omitempty"`
	// AwaitsCertificate says a listener of the Gateway or of one of its ListenerSets that names
	// no certificateRefs has no certificate (ResolvedRefs=False InvalidCertificateRef): nothing
	// in Kubernetes announces a certificate requested or imported in ACM, so the Gateway is
	// looked at again soon rather than at the resync.
	AwaitsCertificate bool `json:"awaitsCertificate,omitempty"`
}

// ListenerSet is a ListenerSet's status as translation sees it: Programmed follows the
// Gateway's, which the report step knows once AWS has answered.
type ListenerSet struct {
	Namespace  string                 `json:"namespace"`
	Name       string                 `json:"name"`
	Generation int64                  `json:"generation"`
	Status     gwv1.ListenerSetStatus `json:"status"`
}

// GatewayClass is a GatewayClass's status.
type GatewayClass struct {
	Name       string             `json:"name"`
	Generation int64              `json:"generation"`
	Conditions []metav1.Condition `json:"conditions"`
}

// Gateway is a Gateway's status as translation sees it. Programmed, and the addresses, are
// added by the report step once AWS has answered.
type Gateway struct {
	Namespace  string             `json:"namespace"`
	Name       string             `json:"name"`
	Generation int64              `json:"generation"`
	Conditions []metav1.Condition `json:"conditions"`
	// Listeners are in the order of spec.listeners.
	Listeners []gwv1.ListenerStatus `json:"listeners"`
	// SubnetChoice says which subnets were chosen by route table, when no subnet carries a
	// role tag (reported as an event, not a condition).
	SubnetChoice string `json:"subnetChoice,omitempty"`
	// AttachedListenerSets is the number of accepted ListenerSets (nil when none names the
	// Gateway).
	AttachedListenerSets *int32 `json:"attachedListenerSets,omitempty"`
}

// Route is the part of a route's status that this Gateway decides: one entry per parentRef of
// the route that names this Gateway.
type Route struct {
	Kind       string                   `json:"kind"`
	Namespace  string                   `json:"namespace"`
	Name       string                   `json:"name"`
	Generation int64                    `json:"generation"`
	Parents    []gwv1.RouteParentStatus `json:"parents"`
}
