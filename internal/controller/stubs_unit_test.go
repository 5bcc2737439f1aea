package controller

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// The set of named Services counts every route that names one, and says which no route names
// any more when a route changes or goes.
func TestServiceRefsCountRoutes(t *testing.T) {
	r := newServiceRefs()
	if d := r.set("a", []string{"ns/x", "ns/y"}); d != nil {
		t.Errorf("dropped %v on a first route", d)
	}
	r.set("b", []string{"ns/y"})
	if !r.has("ns/x") || !r.has("ns/y") || r.has("ns/z") {
		t.Fatalf("named: x %v, y %v, z %v; want x and y", r.has("ns/x"), r.has("ns/y"), r.has("ns/z"))
	}
	if d := r.set("a", []string{"ns/z"}); !reflect.DeepEqual(d, []string{"ns/x"}) {
		t.Errorf("route a moved from x and y to z: dropped %v, want [ns/x] (b still names y)", d)
	}
	if d := r.set("b", nil); !reflect.DeepEqual(d, []string{"ns/y"}) || r.has("ns/y") || !r.has("ns/z") {
		t.Errorf("route b deleted: dropped %v, y named %v, z named %v", d, r.has("ns/y"), r.has("ns/z"))
	}
	if len(r.byRoute) != 1 {
		t.Errorf("routes remembered: %v, want only a", r.byRoute)
	}
}

// The cache transforms keep a named Service and its slices trimmed but whole, and the others as
// stubs; an update of a stub passes the Service predicate when its version changes.
func TestCacheTransformStubsUnnamedServices(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: fatMeta("stubs-ns", "web"),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: fatMeta("stubs-ns", "web-1"), AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.1"}}}}
	stubOf := func() (*corev1.Service, *discoveryv1.EndpointSlice) {
		s, _ := cacheService(svc.DeepCopy())
		e, _ := cacheEndpointSlice(slice.DeepCopy())
		return s.(*corev1.Service), e.(*discoveryv1.EndpointSlice)
	}
	s, e := stubOf()
	want := metav1.ObjectMeta{Name: "web", Namespace: "stubs-ns", ResourceVersion: "42"}
	if !isStubService(s) || !reflect.DeepEqual(s.ObjectMeta, want) || !reflect.DeepEqual(s.Spec, corev1.ServiceSpec{}) {
		t.Errorf("unnamed Service cached as %+v, want a stub", s)
	}
	want.Name, want.Labels = "web-1", map[string]string{discoveryv1.LabelServiceName: "web"}
	if !isStubSlice(e) || !reflect.DeepEqual(e.ObjectMeta, want) || e.Endpoints != nil || e.Ports != nil {
		t.Errorf("unnamed Service's slice cached as %+v, want a stub", e)
	}
	newer := s.DeepCopy()
	newer.ResourceVersion = "43"
	if !cachedObjectChanged().Update(event.UpdateEvent{ObjectOld: s, ObjectNew: newer}) {
		t.Error("a new version of a stub Service is dropped by the predicate")
	}

	forget := NameServices("route-of-web", "stubs-ns/web")
	defer forget()
	s, e = stubOf()
	if isStubService(s) || len(s.Spec.Ports) != 1 || isStubSlice(e) || len(e.Endpoints) != 1 {
		t.Errorf("named Service cached as %+v and its slice as %+v, want them whole", s, e)
	}
	if !cachedObjectChanged().Update(event.UpdateEvent{ObjectOld: newer, ObjectNew: s}) {
		t.Error("a stub becoming whole is dropped by the predicate")
	}
}
