package translate

import (
	"fmt"
	"path/filepath"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestListenerLimit attaches one route to more ports than an NLB has listeners: the lowest 50
// ports are programmed, the others report why, and the stack stays valid.
func TestListenerLimit(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteSimpleSameNamespace"))
	s.Gateway.Spec.Listeners = nil
	for i := range 55 {
		s.Gateway.Spec.Listeners = append(s.Gateway.Spec.Listeners, gwv1.Listener{
			Name: gwv1.SectionName(fmt.Sprintf("tcp-%d", i)), Protocol: gwv1.TCPProtocolType, Port: int32(10000 + i)})
	}
	s.TCPRoutes[0].Spec.ParentRefs[0].SectionName = nil
	stack, set := Gateway(s)
	if err := stack.Validate(); err != nil {
		t.Fatalf("stack does not validate: %v", err)
	}
	if got := len(stack.Listeners); got != model.MaxListenersPerLoadBalancer {
		t.Fatalf("%d listeners programmed, want %d", got, model.MaxListenersPerLoadBalancer)
	}
	if got := stack.Listeners[len(stack.Listeners)-1].Port; got != 10049 {
		t.Errorf("last programmed port %d, want 10049 (lowest ports first)", got)
	}
	last := set.Gateway.Listeners[54]
	if c := last.Conditions[2]; c.Type != "ResolvedRefs" || c.Status != "False" || c.Reason != string(gwv1.ListenerReasonUnsupportedValue) {
		t.Errorf("listener beyond the limit has %+v, want ResolvedRefs False UnsupportedValue", c)
	}
}

// TestRouteFailureDoesNotFailGateway pins the design rule: one bad route degrades to that
// route's condition, the other routes keep their listeners.
func TestRouteFailureDoesNotFailGateway(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "GatewayWithAttachedRoutes"))
	bad := s.TCPRoutes[1].DeepCopy()
	bad.Name = "broken"
	bad.Spec.ParentRefs[0].SectionName = ptr(gwv1.SectionName("tcp-idle"))
	weight := int32(5000)
	bad.Spec.Rules[0].BackendRefs[0].Weight = &weight
	bad.CreationTimestamp.Time = bad.CreationTimestamp.AddDate(-1, 0, 0)
	s.TCPRoutes = append(s.TCPRoutes, *bad)
	stack, set := Gateway(s)
	if stack.LoadBalancer == nil || len(stack.Listeners) != 3 {
		t.Fatalf("want the load balancer with 3 listeners despite the broken route, got %d listeners", len(stack.Listeners))
	}
	if c := set.Gateway.Conditions[0]; c.Status != "True" {
		t.Errorf("Gateway Accepted = %s %s, want True", c.Status, c.Reason)
	}
	for _, r := range set.Routes {
		if r.Name != "broken" {
			continue
		}
		if c := r.Parents[0].Conditions[1]; c.Status != "False" || c.Reason != string(gwv1.RouteReasonUnsupportedValue) {
			t.Errorf("broken route ResolvedRefs = %s %s, want False UnsupportedValue", c.Status, c.Reason)
		}
		return
	}
	t.Fatal("no status for the broken route")
}

func ptr[T any](v T) *T { return &v }
