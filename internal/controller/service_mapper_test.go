package controller

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestServiceWithoutRouteStartsNoReconcile: the Service watch reaches only the Gateways of the
// routes that name the Service as a backend. A Service no route names (most Services of a large
// cluster), or one of the same name in another namespace, enqueues nothing.
func TestServiceWithoutRouteStartsNoReconcile(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	gvk := schema.GroupVersionKind{Group: gwv1.GroupName, Version: "v1", Kind: "HTTPRoute"}
	route := newRoute(gvk)
	route.SetNamespace("apps")
	route.SetName("web")
	route.Object["spec"] = map[string]any{
		"parentRefs": []any{map[string]any{"name": "gw"}},
		"rules": []any{map[string]any{
			"backendRefs": []any{map[string]any{"name": "web", "port": int64(80)}},
		}},
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(route)
	if err := addIndexes(context.Background(), builderIndexer{b}, []schema.GroupVersionKind{gvk}); err != nil {
		t.Fatal(err)
	}
	m := &mapper{reader: b.Build(), routeKinds: []schema.GroupVersionKind{gvk}}
	for _, c := range []struct {
		ns, name string
		want     []string
	}{
		{"apps", "web", []string{"apps/gw"}},
		{"apps", "unreferenced", nil},
		{"other", "web", nil},
	} {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: c.name}}
		var got []string
		for _, r := range m.service(context.Background(), svc) {
			got = append(got, r.String())
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Service %s/%s enqueues %v, want %v", c.ns, c.name, got, c.want)
		}
	}
}
