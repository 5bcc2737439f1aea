package translate

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// Route kinds an NLB Gateway serves.
const (
	kindTCPRoute = "TCPRoute"
	kindUDPRoute = "UDPRoute"
	kindTLSRoute = "TLSRoute"
	// Route kinds an ALB Gateway serves.
	kindHTTPRoute = "HTTPRoute"
	kindGRPCRoute = "GRPCRoute"
)

// l4Route is a route reduced to what translation reads: for a TCPRoute, UDPRoute or TLSRoute
// all of it; an HTTPRoute or GRPCRoute keeps its rules in l7.
type l4Route struct {
	kind, namespace, name string
	generation            int64
	created               metav1.Time
	parentRefs            []gwv1.ParentReference
	hostnames             []gwv1.Hostname
	// rules holds each rule's backendRefs.
	rules         [][]gwv1.BackendRef
	statusParents []gwv1.RouteParentStatus
	// l7 are the rules of an HTTPRoute or GRPCRoute.
	l7 []*l7Rule
}

func (r *l4Route) key() string { return r.kind + "/" + r.namespace + "/" + r.name }

// l4Routes collects the L4 routes of the snapshot, sorted by kind, namespace and name.
func l4Routes(s *snapshot.Snapshot) []*l4Route {
	var out []*l4Route
	add := func(kind string, meta metav1.ObjectMeta, spec gwv1.CommonRouteSpec, hostnames []gwv1.Hostname,
		rules [][]gwv1.BackendRef, parents []gwv1.RouteParentStatus) {
		out = append(out, &l4Route{
			kind: kind, namespace: meta.Namespace, name: meta.Name, generation: meta.Generation,
			created: meta.CreationTimestamp, parentRefs: spec.ParentRefs, hostnames: hostnames,
			rules: rules, statusParents: parents,
		})
	}
	for _, r := range s.TCPRoutes {
		var rules [][]gwv1.BackendRef
		for _, rule := range r.Spec.Rules {
			rules = append(rules, rule.BackendRefs)
		}
		add(kindTCPRoute, r.ObjectMeta, r.Spec.CommonRouteSpec, nil, rules, r.Status.Parents)
	}
	for _, r := range s.UDPRoutes {
		var rules [][]gwv1.BackendRef
		for _, rule := range r.Spec.Rules {
			rules = append(rules, rule.BackendRefs)
		}
		add(kindUDPRoute, r.ObjectMeta, r.Spec.CommonRouteSpec, nil, rules, r.Status.Parents)
	}
	for _, r := range s.TLSRoutes {
		var rules [][]gwv1.BackendRef
		for _, rule := range r.Spec.Rules {
			rules = append(rules, rule.BackendRefs)
		}
		add(kindTLSRoute, r.ObjectMeta, r.Spec.CommonRouteSpec, r.Spec.Hostnames, rules, r.Status.Parents)
	}
	slices.SortStableFunc(out, func(a, b *l4Route) int { return cmp.Compare(a.key(), b.key()) })
	return slices.CompactFunc(out, func(a, b *l4Route) bool { return a.key() == b.key() })
}

// olderRoute orders routes for an NLB listener: the oldest wins, then namespace/name, then kind.
func olderRoute(a, b *l4Route) int {
	return cmp.Or(
		a.created.Compare(b.created.Time),
		cmp.Compare(a.namespace+"/"+a.name, b.namespace+"/"+b.name),
		cmp.Compare(a.kind, b.kind),
	)
}
