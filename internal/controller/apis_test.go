package controller

import (
	"context"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
)

func resources(gv string, kinds ...string) *metav1.APIResourceList {
	l := &metav1.APIResourceList{GroupVersion: gv}
	for _, k := range kinds {
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: strings.ToLower(k) + "s", Kind: k},
			metav1.APIResource{Name: strings.ToLower(k) + "s/status", Kind: k})
	}
	return l
}

func TestDetectAPIsPrefersV1AndFallsBackToV1alpha2(t *testing.T) {
	d := &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{
		resources("gateway.networking.k8s.io/v1", "Gateway", "GatewayClass", "HTTPRoute", "TLSRoute"),
		resources("gateway.networking.k8s.io/v1beta1", "ReferenceGrant", "Gateway"),
		resources("gateway.networking.k8s.io/v1alpha2", "TCPRoute", "UDPRoute", "TLSRoute"),
		resources("gateway.k8s.aws/v1", "LoadBalancerConfiguration", "TargetGroupConfiguration", "ListenerRuleConfiguration"),
	}}}
	a, err := DetectAPIs(d)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]schema.GroupVersionKind{
		"TCPRoute":  {Group: gatewayGroup, Version: "v1alpha2", Kind: "TCPRoute"},
		"UDPRoute":  {Group: gatewayGroup, Version: "v1alpha2", Kind: "UDPRoute"},
		"TLSRoute":  {Group: gatewayGroup, Version: "v1", Kind: "TLSRoute"},
		"HTTPRoute": {Group: gatewayGroup, Version: "v1", Kind: "HTTPRoute"},
	}
	if !reflect.DeepEqual(a.Routes, want) {
		t.Errorf("routes %v, want %v", a.Routes, want)
	}
	if !a.Gateway || !a.GatewayClass || !a.ReferenceGrant || !a.LoadBalancerConfiguration || !a.TargetGroupConfiguration ||
		!a.ListenerRuleConfiguration {
		t.Errorf("core kinds not all detected: %+v", a)
	}
	if a.ReferenceGrantV1 {
		t.Errorf("ReferenceGrantV1 with ReferenceGrant served in v1beta1 only")
	}
	gates, notes := a.Restrict(Gates{NLB: true, ALB: true})
	if gates != (Gates{NLB: true, ALB: true}) {
		t.Errorf("gates %+v, want both on (HTTPRoute is served)", gates)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "GRPCRoute is not served") {
		t.Errorf("notes %q, want one about GRPCRoute", notes)
	}
}

func TestRestrictSwitchesOffGatesWithoutTheirKinds(t *testing.T) {
	a := APIs{Gateway: true, GatewayClass: true, LoadBalancerConfiguration: true, TargetGroupConfiguration: true,
		ReferenceGrant: true, Routes: map[string]schema.GroupVersionKind{
			"TCPRoute": {Group: gatewayGroup, Version: "v1alpha2", Kind: "TCPRoute"},
		}}
	gates, notes := a.Restrict(Gates{NLB: true, ALB: true})
	if gates != (Gates{NLB: true}) {
		t.Errorf("gates %+v, want NLB only", gates)
	}
	joined := strings.Join(notes, "\n")
	if !strings.Contains(joined, "ALBGatewayAPI switched off: the cluster does not serve grpcroutes.gateway.networking.k8s.io, httproutes.gateway.networking.k8s.io") {
		t.Errorf("notes do not say which CRDs the ALB gate misses:\n%s", joined)
	}

	a.LoadBalancerConfiguration = false
	gates, notes = a.Restrict(Gates{NLB: true})
	if gates.NLB || !strings.Contains(strings.Join(notes, "\n"), "loadbalancerconfigurations.gateway.k8s.aws/v1") {
		t.Errorf("without the LoadBalancerConfiguration CRD: gates %+v, notes %q", gates, notes)
	}
}

// TestDetectAPIsReadsReferenceGrantInV1WhenServed: Gateway API v1.5 and later serve
// ReferenceGrant in v1 beside v1beta1; v1 is the version to read and watch, and a cluster that
// serves v1 only still has ReferenceGrants.
func TestDetectAPIsReadsReferenceGrantInV1WhenServed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lists []*metav1.APIResourceList
		v1    bool
	}{
		{"v1 and v1beta1", []*metav1.APIResourceList{
			resources("gateway.networking.k8s.io/v1", "Gateway", "ReferenceGrant"),
			resources("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
		}, true},
		{"v1 only", []*metav1.APIResourceList{resources("gateway.networking.k8s.io/v1", "Gateway", "ReferenceGrant")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DetectAPIs(&fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: tc.lists}})
			if err != nil {
				t.Fatal(err)
			}
			if !a.ReferenceGrant || a.ReferenceGrantV1 != tc.v1 {
				t.Errorf("ReferenceGrant %v, ReferenceGrantV1 %v; want served, v1 %v", a.ReferenceGrant, a.ReferenceGrantV1, tc.v1)
			}
		})
	}
}

// TestDetectAPIsFindsLBCBindings: the AWS Load Balancer Controller's TargetGroupBinding is
// watched only where it is served.
func TestDetectAPIsFindsLBCBindings(t *testing.T) {
	base := []*metav1.APIResourceList{resources("gateway.networking.k8s.io/v1", "Gateway", "GatewayClass", "TCPRoute")}
	for _, c := range []struct {
		extra *metav1.APIResourceList
		want  bool
	}{
		{nil, false},
		{resources("elbv2.k8s.aws/v1beta1", "TargetGroupBinding", "IngressClassParams"), true},
		{resources("elbv2.k8s.aws/v1alpha1", "TargetGroupBinding"), false},
	} {
		lists := base
		if c.extra != nil {
			lists = append(append([]*metav1.APIResourceList(nil), base...), c.extra)
		}
		a, err := DetectAPIs(&fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: lists}})
		if err != nil {
			t.Fatal(err)
		}
		if a.TargetGroupBinding != c.want {
			t.Errorf("served %v: TargetGroupBinding detected %v, want %v", c.extra, a.TargetGroupBinding, c.want)
		}
	}
}

// TestLBCBindingGateway maps a binding to the Gateway its labels name, for the controller whose
// label prefix it carries only.
func TestLBCBindingGateway(t *testing.T) {
	b := lbcBindingObject()
	b.SetLabels(map[string]string{"gateway.k8s.aws.alb/stack-namespace": "shop", "gateway.k8s.aws.alb/stack-name": "web"})
	if got := lbcBindingGateway(ControllerALB)(context.Background(), b); len(got) != 1 || got[0].Namespace != "shop" || got[0].Name != "web" {
		t.Errorf("ALB controller maps the binding to %v, want shop/web", got)
	}
	if got := lbcBindingGateway(ControllerNLB)(context.Background(), b); len(got) != 0 {
		t.Errorf("NLB controller maps an ALB binding to %v, want nothing", got)
	}
}
