package targets

import (
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// A re-listed slice (same content) is dropped; a change of its endpoints, ports or labels passes.
func TestEndpointSliceChanged(t *testing.T) {
	p := endpointSliceChanged()
	meta := func(rv string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "web-1", Namespace: "ns", ResourceVersion: rv,
			Labels: map[string]string{discoveryv1.LabelServiceName: "web"}}
	}
	full := func(rv string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: meta(rv), AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.1"}}}}
	}
	moved := func(rv string) *discoveryv1.EndpointSlice {
		s := full(rv)
		s.Endpoints[0].Addresses = []string{"192.0.2.2"}
		return s
	}
	relabelled := func(rv string) *discoveryv1.EndpointSlice {
		s := full(rv)
		s.Labels = map[string]string{discoveryv1.LabelServiceName: "other"}
		return s
	}
	ported := func(rv string) *discoveryv1.EndpointSlice {
		s := full(rv)
		port := int32(8080)
		s.Ports = []discoveryv1.EndpointPort{{Port: &port}}
		return s
	}
	for name, c := range map[string]struct {
		old, new *discoveryv1.EndpointSlice
		want     bool
	}{
		"full, same content": {full("1"), full("2"), false},
		"endpoint changed":   {full("1"), moved("2"), true},
		"label changed":      {full("1"), relabelled("2"), true},
		"ports changed":      {full("1"), ported("2"), true},
	} {
		if got := p.Update(event.UpdateEvent{ObjectOld: c.old, ObjectNew: c.new}); got != c.want {
			t.Errorf("%s: passes %v, want %v", name, got, c.want)
		}
	}
}
