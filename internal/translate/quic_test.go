package translate

import (
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// quicSnapshot is the UDPRoute case with a configuration that turns UDP:53 into QUIC.
func quicSnapshot(t *testing.T, edit func(*awsv1.LoadBalancerConfigurationSpec)) *snapshot.Snapshot {
	t.Helper()
	s := loadSnapshot(t, filepath.Join("testdata", "UDPRouteSimpleSameNamespace"))
	spec := awsv1.LoadBalancerConfigurationSpec{DisableSecurityGroup: ptr(true),
		ListenerConfigurations: []awsv1.ListenerConfiguration{{ProtocolPort: "UDP:53", QuicEnabled: ptr(true)}}}
	edit(&spec)
	s.LoadBalancerConfigurations = append(s.LoadBalancerConfigurations, awsv1.LoadBalancerConfiguration{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Gateway.Namespace, Name: "quic"}, Spec: spec})
	s.Gateway.Spec.Infrastructure = &gwv1.GatewayInfrastructure{ParametersRef: &gwv1.LocalParametersReference{
		Group: "gateway.k8s.aws", Kind: "LoadBalancerConfiguration", Name: "quic"}}
	s.Settings.DefaultTargetType = "ip"
	return s
}

// TestQUICRefusals: quicEnabled makes a QUIC listener and target group without weights on an
// IPv4 NLB without security groups; AWS's conditions are refused before any AWS call, naming
// the field.
func TestQUICRefusals(t *testing.T) {
	stack, set := Gateway(quicSnapshot(t, func(*awsv1.LoadBalancerConfigurationSpec) {}))
	if len(stack.Listeners) != 1 || stack.Listeners[0].Protocol != "QUIC" || len(stack.TargetGroups) != 1 || stack.TargetGroups[0].Protocol != "QUIC" {
		t.Fatalf("stack %+v, want one QUIC listener and target group; %v", stack.Listeners, rejections(set))
	}
	if !model.IsQUIC(stack.Listeners[0].Protocol) {
		t.Fatal("IsQUIC")
	}
	for _, c := range []struct {
		name  string
		edit  func(*awsv1.LoadBalancerConfigurationSpec)
		where string
		field string
	}{
		{"security groups", func(s *awsv1.LoadBalancerConfigurationSpec) { s.DisableSecurityGroup = nil }, "Gateway Accepted", "listenerConfigurations[0].quicEnabled"},
		{"dualstack", func(s *awsv1.LoadBalancerConfigurationSpec) {
			s.IpAddressType = ptr(awsv1.LoadBalancerIPAddressTypeDualstack)
		}, "Gateway Accepted", "listenerConfigurations[0].quicEnabled"},
		{"TCP port", func(s *awsv1.LoadBalancerConfigurationSpec) {
			s.ListenerConfigurations[0].ProtocolPort = "TCP:53"
		}, "", ""},
	} {
		stack, set := Gateway(quicSnapshot(t, c.edit))
		if c.where == "" {
			// quicEnabled names a port this Gateway does not have as TCP: nothing changes.
			if len(stack.Listeners) != 1 || stack.Listeners[0].Protocol != "UDP" {
				t.Errorf("%s: listeners %+v, want the plain UDP listener", c.name, stack.Listeners)
			}
			continue
		}
		got := rejections(set)[c.where]
		if got.Reason != "InvalidParameters" || !strings.Contains(got.Message, c.field) || stack.LoadBalancer != nil {
			t.Errorf("%s: %s %q (load balancer %v), want InvalidParameters naming %s", c.name, got.Reason, got.Message, stack.LoadBalancer != nil, c.field)
		}
	}
	s := quicSnapshot(t, func(*awsv1.LoadBalancerConfigurationSpec) {})
	s.Settings.DefaultTargetType = "instance"
	stack, set = Gateway(s)
	var refused bool
	for where, c := range rejections(set) {
		if strings.HasPrefix(where, "UDPRoute") && strings.Contains(c.Message, "needs ip targets") {
			refused = true
		}
	}
	if !refused || len(stack.Listeners) != 0 {
		t.Errorf("instance targets behind QUIC: listeners %+v, refusals %v", stack.Listeners, rejections(set))
	}
}

// TestQUICBesideUDP: AWS allows no UDP or TCP_UDP listener on an NLB with a QUIC listener
// ("QUIC and TCP_QUIC listeners are not allowed on an Network Load Balancer that has UDP or
// TCP_UDP listeners"). A Gateway asking for both is refused on the higher port's listener, before
// any AWS call, whichever of the two is the QUIC one; the lower port is served.
func TestQUICBesideUDP(t *testing.T) {
	for _, c := range []struct {
		name      string
		quicPort  string // the port quicEnabled names
		wantProto string // the protocol port 53 is served with
	}{
		{"QUIC below a UDP listener", "UDP:53", "QUIC"},
		{"UDP below a QUIC listener", "UDP:54", "UDP"},
	} {
		s := quicSnapshot(t, func(spec *awsv1.LoadBalancerConfigurationSpec) {
			spec.ListenerConfigurations[0].ProtocolPort = awsv1.ProtocolPort(c.quicPort)
		})
		s.Gateway.Spec.Listeners = append(s.Gateway.Spec.Listeners, gwv1.Listener{Name: "dns2", Protocol: gwv1.UDPProtocolType, Port: 54})
		r := s.UDPRoutes[0].DeepCopy()
		r.Name = r.Name + "-2"
		r.Spec.ParentRefs[0].SectionName = ptr(gwv1.SectionName("dns2"))
		s.UDPRoutes = append(s.UDPRoutes, *r)

		stack, set := Gateway(s)
		if len(stack.Listeners) != 1 || stack.Listeners[0].Port != 53 || stack.Listeners[0].Protocol != c.wantProto {
			t.Errorf("%s: listeners %+v, want port 53 only, as %s", c.name, stack.Listeners, c.wantProto)
		}
		got := rejections(set)["listener dns2 ResolvedRefs"]
		if got.Reason != string(gwv1.ListenerReasonUnsupportedValue) || !strings.Contains(got.Message, "QUIC") || !strings.Contains(got.Message, "port 53") {
			t.Errorf("%s: listener dns2 ResolvedRefs %s %q, want UnsupportedValue naming QUIC and port 53; all: %v", c.name, got.Reason, got.Message, rejections(set))
		}
	}
}

// TestQUICBesideAUDPPortWithoutListener: a UDP port whose route has no usable backend becomes no
// AWS listener, so it does not keep the QUIC port above it off the load balancer.
func TestQUICBesideAUDPPortWithoutListener(t *testing.T) {
	s := quicSnapshot(t, func(spec *awsv1.LoadBalancerConfigurationSpec) {
		spec.ListenerConfigurations[0].ProtocolPort = awsv1.ProtocolPort("UDP:54")
	})
	s.Gateway.Spec.Listeners = append(s.Gateway.Spec.Listeners, gwv1.Listener{Name: "dns2", Protocol: gwv1.UDPProtocolType, Port: 54})
	r := s.UDPRoutes[0].DeepCopy()
	r.Name = r.Name + "-2"
	r.Spec.ParentRefs[0].SectionName = ptr(gwv1.SectionName("dns2"))
	s.UDPRoutes = append(s.UDPRoutes, *r)
	s.UDPRoutes[0].Spec.Rules[0].BackendRefs[0].Name = "missing"

	stack, set := Gateway(s)
	if len(stack.Listeners) != 1 || stack.Listeners[0].Port != 54 || stack.Listeners[0].Protocol != "QUIC" {
		t.Errorf("listeners %+v, want port 54 only, as QUIC", stack.Listeners)
	}
	if got, ok := rejections(set)["listener dns2 ResolvedRefs"]; ok {
		t.Errorf("listener dns2 ResolvedRefs %s %q, want none: port 53 has no AWS listener", got.Reason, got.Message)
	}
}
