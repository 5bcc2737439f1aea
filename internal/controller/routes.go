package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// Routes are cached and written as unstructured objects in whatever version the cluster serves
// (v1, or v1alpha2 on older CRDs); every version has the same JSON shape, so they convert to
// the gwv1 types the snapshot holds through their JSON form.

// routeShape is the part of every route kind the indexes read.
type routeShape struct {
	Spec struct {
		ParentRefs []gwv1.ParentReference `json:"parentRefs,omitempty"`
		Rules      []struct {
			BackendRefs []gwv1.BackendObjectReference `json:"backendRefs,omitempty"`
		} `json:"rules,omitempty"`
	} `json:"spec"`
	Status gwv1.RouteStatus `json:"status,omitempty"`
}

func newRoute(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

func newRouteList(gvk schema.GroupVersionKind) *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	return l
}

func shapeOf(u *unstructured.Unstructured) (routeShape, error) {
	var s routeShape
	err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s)
	return s, err
}

// gatewaysOfRoute returns the namespace/name of every Gateway a route names in spec.parentRefs
// or has a status.parents entry for.
func gatewaysOfRoute(u *unstructured.Unstructured) []string {
	s, err := shapeOf(u)
	if err != nil {
		return nil
	}
	set := map[string]bool{}
	add := func(ref gwv1.ParentReference) {
		prefix := ""
		switch {
		case ref.Kind == nil || *ref.Kind == "Gateway":
		case *ref.Kind == "ListenerSet" && (ref.Group == nil || string(*ref.Group) == gatewayGroup):
			prefix = listenerSetKeyPrefix
		default:
			return
		}
		ns := u.GetNamespace()
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = string(*ref.Namespace)
		}
		set[prefix+ns+"/"+string(ref.Name)] = true
	}
	for _, p := range s.Spec.ParentRefs {
		add(p)
	}
	for _, p := range s.Status.Parents {
		add(p.ParentRef)
	}
	return sortedKeys(set)
}

// backendRef is a reference from a route to a backend, with its namespace resolved.
type backendRef struct {
	Kind      string
	Namespace string
	Name      string
}

// backendsOfRoute returns the backends a route's rules name, sorted and without duplicates.
func backendsOfRoute(u *unstructured.Unstructured) []backendRef {
	s, err := shapeOf(u)
	if err != nil {
		return nil
	}
	set := map[backendRef]bool{}
	for _, rule := range s.Spec.Rules {
		for _, b := range rule.BackendRefs {
			ref := backendRef{Kind: "Service", Namespace: u.GetNamespace(), Name: string(b.Name)}
			if b.Kind != nil {
				ref.Kind = string(*b.Kind)
			}
			if b.Namespace != nil && *b.Namespace != "" {
				ref.Namespace = string(*b.Namespace)
			}
			set[ref] = true
		}
	}
	out := make([]backendRef, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sortBackendRefs(out)
	return out
}

// servicesOfRoute returns the namespace/name of every Service a route's rules name.
func servicesOfRoute(u *unstructured.Unstructured) []string {
	var out []string
	for _, b := range backendsOfRoute(u) {
		if b.Kind == "Service" {
			out = append(out, b.Namespace+"/"+b.Name)
		}
	}
	return out
}

// backendGatewaysOfRoute returns the namespace/name of every Gateway a route forwards to.
func backendGatewaysOfRoute(u *unstructured.Unstructured) []string {
	var out []string
	for _, b := range backendsOfRoute(u) {
		if b.Kind == "Gateway" {
			out = append(out, b.Namespace+"/"+b.Name)
		}
	}
	return out
}

// addRoute converts a route into its gwv1 type and appends it to the snapshot.
func addRoute(s *snapshot.Snapshot, u *unstructured.Unstructured) error {
	kind := u.GetKind()
	var target any
	switch kind {
	case "TCPRoute":
		s.TCPRoutes = append(s.TCPRoutes, gwv1.TCPRoute{})
		target = &s.TCPRoutes[len(s.TCPRoutes)-1]
	case "UDPRoute":
		s.UDPRoutes = append(s.UDPRoutes, gwv1.UDPRoute{})
		target = &s.UDPRoutes[len(s.UDPRoutes)-1]
	case "TLSRoute":
		s.TLSRoutes = append(s.TLSRoutes, gwv1.TLSRoute{})
		target = &s.TLSRoutes[len(s.TLSRoutes)-1]
	case "HTTPRoute":
		s.HTTPRoutes = append(s.HTTPRoutes, gwv1.HTTPRoute{})
		target = &s.HTTPRoutes[len(s.HTTPRoutes)-1]
	case "GRPCRoute":
		s.GRPCRoutes = append(s.GRPCRoutes, gwv1.GRPCRoute{})
		target = &s.GRPCRoutes[len(s.GRPCRoutes)-1]
	default:
		return fmt.Errorf("unknown route kind %q", kind)
	}
	obj := u.DeepCopy()
	obj.SetAPIVersion(gwv1.GroupVersion.String())
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, target); err != nil {
		return fmt.Errorf("reading %s %s/%s: %w", kind, u.GetNamespace(), u.GetName(), err)
	}
	return nil
}
