package targets

import (
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

// A re-listed slice (same content) is dropped; a cached stub (no address type: a slice of a
// Service no route names) passes whenever its version changes, since it shows nothing else.
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
	stub := func(rv string) *discoveryv1.EndpointSlice { return &discoveryv1.EndpointSlice{ObjectMeta: meta(rv)} }
	for name, c := range map[string]struct {
		old, new *discoveryv1.EndpointSlice
		want     bool
	}{
		"full, same content":  {full("1"), full("2"), false},
		"stub, same version":  {stub("1"), stub("1"), false},
		"stub, new version":   {stub("1"), stub("2"), true},
		"stub becoming whole": {stub("1"), full("2"), true},
	} {
		if got := p.Update(event.UpdateEvent{ObjectOld: c.old, ObjectNew: c.new}); got != c.want {
			t.Errorf("%s: passes %v, want %v", name, got, c.want)
		}
	}
}
