package controller

import (
	"context"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// TestReferenceGrantMapsToGatewaysOfItsCertificates: a grant in namespace certs from Gateways
// of namespace apps reaches the Gateways of apps whose certificateRefs name Secrets in certs,
// in either served version, and no other: not those of another namespace, not those naming
// Secrets elsewhere, and not through a from entry of another kind.
func TestReferenceGrantMapsToGatewaysOfItsCertificates(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	gateway := func(ns, name, certNS string) *gwv1.Gateway {
		ref := gwv1.SecretObjectReference{Name: "tls"}
		if certNS != "" {
			n := gwv1.Namespace(certNS)
			ref.Namespace = &n
		}
		return &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.GatewaySpec{
			GatewayClassName: "c",
			Listeners: []gwv1.Listener{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType,
				TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{ref}}}},
		}}
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		gateway("apps", "uses-certs", "certs"),
		gateway("apps", "uses-own", ""),
		gateway("apps", "uses-other", "other"),
		gateway("elsewhere", "uses-certs", "certs"),
	)
	if err := addIndexes(context.Background(), builderIndexer{b}, nil); err != nil {
		t.Fatal(err)
	}
	m := &mapper{reader: b.Build(), routeKinds: []schema.GroupVersionKind{}}
	spec := gwv1.ReferenceGrantSpec{
		From: []gwv1.ReferenceGrantFrom{
			{Group: gwv1.GroupName, Kind: "Gateway", Namespace: "apps"},
			{Group: gwv1.GroupName, Kind: "HTTPRoute", Namespace: "elsewhere"},
		},
		To: []gwv1.ReferenceGrantTo{{Group: "", Kind: "Secret"}},
	}
	meta := metav1.ObjectMeta{Namespace: "certs", Name: "g"}
	for _, o := range []client.Object{
		&gwv1.ReferenceGrant{ObjectMeta: meta, Spec: spec},
		&gwv1beta1.ReferenceGrant{ObjectMeta: meta, Spec: spec},
	} {
		var got []string
		for _, r := range m.referenceGrant(context.Background(), o) {
			got = append(got, r.String())
		}
		if want := []string{"apps/uses-certs"}; !reflect.DeepEqual(got, want) {
			t.Errorf("%T maps to %v, want %v", o, got, want)
		}
	}
}

// TestReferenceGrantFromListenerSetsMapsToTheirGateways: a grant from ListenerSets of namespace
// team reaches the parent Gateways of team's ListenerSets (their entries' certificateRefs),
// not the parents of ListenerSets of another namespace.
func TestReferenceGrantFromListenerSetsMapsToTheirGateways(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	listenerSet := func(ns, name, parentNS, parent string) *gwv1.ListenerSet {
		n := gwv1.Namespace(parentNS)
		return &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gwv1.ListenerSetSpec{
			ParentRef: gwv1.ParentGatewayReference{Name: gwv1.ObjectName(parent), Namespace: &n},
			Listeners: []gwv1.ListenerEntry{{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType}},
		}}
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		listenerSet("team", "a", "infra", "shared"),
		listenerSet("other", "b", "infra", "elsewhere"),
	)
	if err := addIndexes(context.Background(), builderIndexer{b}, nil); err != nil {
		t.Fatal(err)
	}
	m := &mapper{reader: b.Build(), routeKinds: []schema.GroupVersionKind{}, listenerSets: true}
	grant := &gwv1beta1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "certs", Name: "g"}, Spec: gwv1.ReferenceGrantSpec{
		From: []gwv1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: "ListenerSet", Namespace: "team"}},
		To:   []gwv1.ReferenceGrantTo{{Group: "", Kind: "Secret"}},
	}}
	var got []string
	for _, r := range m.referenceGrant(context.Background(), grant) {
		got = append(got, r.String())
	}
	if want := []string{"infra/shared"}; !reflect.DeepEqual(got, want) {
		t.Errorf("maps to %v, want %v", got, want)
	}
}
