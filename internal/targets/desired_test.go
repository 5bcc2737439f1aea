package targets

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

func ptr[T any](v T) *T { return &v }

func slice(name, svc string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
	return discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       ports,
		Endpoints:   eps,
	}
}

func endpoint(ready *bool, serving bool, addrs ...string) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: addrs, Conditions: discoveryv1.EndpointConditions{Ready: ready, Serving: ptr(serving)}}
}

func TestFromEndpointSlices(t *testing.T) {
	httpPort := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr[int32](3000)}, {Name: ptr("admin"), Port: ptr[int32](9000)}}
	backend := model.Backend{Namespace: "default", Service: "backend", Port: 3000, PortName: "http"}
	tests := []struct {
		name   string
		b      model.Backend
		slices []discoveryv1.EndpointSlice
		want   []model.Target
	}{
		{
			name: "ready endpoints on the named port, sorted and merged across slices",
			b:    backend,
			slices: []discoveryv1.EndpointSlice{
				slice("a", "backend", httpPort, endpoint(ptr(true), true, "127.0.0.12"), endpoint(nil, true, "127.0.0.11")),
				slice("b", "backend", httpPort, endpoint(ptr(true), true, "127.0.0.10", "127.0.0.11")),
			},
			want: []model.Target{{ID: "127.0.0.10", Port: 3000}, {ID: "127.0.0.11", Port: 3000}, {ID: "127.0.0.12", Port: 3000}},
		},
		{
			name: "terminating endpoints that still serve are left out",
			b:    backend,
			slices: []discoveryv1.EndpointSlice{
				slice("a", "backend", httpPort, endpoint(ptr(false), true, "127.0.0.10"), endpoint(ptr(true), true, "127.0.0.11")),
			},
			want: []model.Target{{ID: "127.0.0.11", Port: 3000}},
		},
		{
			name: "the other named port of the Service",
			b:    model.Backend{Namespace: "default", Service: "backend", Port: 9000, PortName: "admin"},
			slices: []discoveryv1.EndpointSlice{
				slice("a", "backend", httpPort, endpoint(ptr(true), true, "127.0.0.10")),
			},
			want: []model.Target{{ID: "127.0.0.10", Port: 9000}},
		},
		{
			name: "unnamed single port",
			b:    model.Backend{Namespace: "default", Service: "backend", Port: 80},
			slices: []discoveryv1.EndpointSlice{
				slice("a", "backend", []discoveryv1.EndpointPort{{Port: ptr[int32](8080)}}, endpoint(ptr(true), true, "127.0.0.10")),
			},
			want: []model.Target{{ID: "127.0.0.10", Port: 8080}},
		},
		{
			name: "slices of other Services are ignored",
			b:    backend,
			slices: []discoveryv1.EndpointSlice{
				slice("a", "other", httpPort, endpoint(ptr(true), true, "127.0.0.10")),
			},
			want: []model.Target{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromEndpointSlices(tt.b, tt.slices)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func node(name, providerID string, ready corev1.ConditionStatus, labels map[string]string) corev1.Node {
	return corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{ProviderID: providerID},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}},
	}
}

// tainted is a ready node in pool batch carrying taints.
func tainted(name, instance string, taints ...corev1.Taint) corev1.Node {
	n := node(name, "aws:///us-east-1a/"+instance, corev1.ConditionTrue, map[string]string{"pool": "batch"})
	n.Spec.Taints = taints
	return n
}

func TestFromNodes(t *testing.T) {
	deleting := node("deleting", "aws:///us-east-1a/i-0000000000000000e", corev1.ConditionTrue, nil)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
	deleting.Finalizers = []string{"x"}
	nodes := []corev1.Node{
		node("b", "aws:///us-east-1b/i-0000000000000000b", corev1.ConditionTrue, map[string]string{"pool": "web"}),
		node("a", "aws:///us-east-1a/i-0000000000000000a", corev1.ConditionTrue, map[string]string{"pool": "web"}),
		node("c", "aws:///us-east-1a/i-0000000000000000c", corev1.ConditionTrue, map[string]string{"pool": "batch"}),
		node("notready", "aws:///us-east-1a/i-0000000000000000d", corev1.ConditionFalse, map[string]string{"pool": "web"}),
		node("excluded", "aws:///us-east-1a/i-0000000000000000f", corev1.ConditionTrue, map[string]string{"pool": "web", ExcludeFromLoadBalancersLabel: ""}),
		node("legacy-excluded", "aws:///us-east-1a/i-00000000000000010", corev1.ConditionTrue, map[string]string{"pool": "web", LegacyExcludeBalancerLabel: "true"}),
		tainted("autoscaler", "i-00000000000000011", corev1.Taint{Key: ClusterAutoscalerDeletionTaint, Value: "1733490000", Effect: corev1.TaintEffectNoSchedule}),
		tainted("karpenter", "i-00000000000000012", corev1.Taint{Key: KarpenterDisruptedTaint, Effect: corev1.TaintEffectNoSchedule}),
		tainted("karpenter-old", "i-00000000000000013", corev1.Taint{Key: KarpenterLegacyDisruptionTaint, Value: "disrupting", Effect: corev1.TaintEffectNoSchedule}),
		// Other taints, and the older Karpenter key with another value, leave a node eligible.
		tainted("karpenter-other", "i-00000000000000014", corev1.Taint{Key: KarpenterLegacyDisruptionTaint, Value: "other", Effect: corev1.TaintEffectNoSchedule},
			corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}),
		node("kind", "kind://docker/kind/kind-worker", corev1.ConditionTrue, map[string]string{"pool": "web"}),
		deleting,
	}
	got := FromNodes(model.Backend{NodePort: 30080}, nodes)
	want := []model.Target{
		{ID: "i-0000000000000000a", Port: 30080},
		{ID: "i-0000000000000000b", Port: 30080},
		{ID: "i-0000000000000000c", Port: 30080},
		{ID: "i-00000000000000014", Port: 30080},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("all nodes: got %v, want %v", got, want)
	}
	got = FromNodes(model.Backend{NodePort: 30080, NodeSelector: map[string]string{"pool": "web"}}, nodes)
	if !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("node selector pool=web: got %v, want %v", got, want[:2])
	}
	if got := FromNodes(model.Backend{}, nodes); len(got) != 0 {
		t.Errorf("no node port: got %v, want none", got)
	}
}

func TestParseProviderID(t *testing.T) {
	for _, tt := range []struct {
		in     string
		zone   string
		id     string
		wantOK bool
	}{
		{"aws:///eu-west-1c/i-0123456789abcdef0", "eu-west-1c", "i-0123456789abcdef0", true},
		{"aws://eu-west-1c/i-0123456789abcdef0", "eu-west-1c", "i-0123456789abcdef0", true},
		{"aws:///eu-west-1c/fargate-ip-1", "", "", false},
		{"gce://project/zone/name", "", "", false},
		{"", "", "", false},
	} {
		zone, id, ok := ParseProviderID(tt.in)
		if zone != tt.zone || id != tt.id || ok != tt.wantOK {
			t.Errorf("ParseProviderID(%q) = %q, %q, %v; want %q, %q, %v", tt.in, zone, id, ok, tt.zone, tt.id, tt.wantOK)
		}
	}
}
