package translate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// withIPv6Subnets gives every subnet of s an associated IPv6 block, as a dual-stack VPC has.
func withIPv6Subnets(s *snapshot.Snapshot) {
	for i := range s.AWS.Subnets {
		s.AWS.Subnets[i].IPv6CIDRs = []string{fmt.Sprintf("2001:db8:0:%x::/64", i+1)}
	}
}

// dualstack makes the Gateway of s dual-stack through a LoadBalancerConfiguration.
func dualstack(s *snapshot.Snapshot) *awsv1.LoadBalancerConfiguration {
	dual := awsv1.LoadBalancerIPAddressTypeDualstack
	s.LoadBalancerConfigurations = append(s.LoadBalancerConfigurations, awsv1.LoadBalancerConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "dual", Namespace: s.Gateway.Namespace},
		Spec:       awsv1.LoadBalancerConfigurationSpec{IpAddressType: &dual}})
	s.Gateway.Spec.Infrastructure = &gwv1.GatewayInfrastructure{ParametersRef: &gwv1.LocalParametersReference{
		Group: "gateway.k8s.aws", Kind: "LoadBalancerConfiguration", Name: "dual"}}
	return &s.LoadBalancerConfigurations[len(s.LoadBalancerConfigurations)-1]
}

func gatewayMessage(t *testing.T, s *snapshot.Snapshot) string {
	t.Helper()
	_, set := Gateway(s)
	var out []string
	for _, c := range set.Gateway.Conditions {
		out = append(out, c.Type+"/"+c.Reason+": "+c.Message)
	}
	return strings.Join(out, "\n")
}

// TestDualstackSubnetsNeedIPv6: a dual-stack load balancer takes only subnets with an IPv6 CIDR
// block (CreateLoadBalancer refuses others): discovery and the selector skip the rest, and when
// none is left, or a listed subnet has none, the Gateway says so instead of a refused call. An
// ipv4 load balancer keeps every subnet.
func TestDualstackSubnetsNeedIPv6(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteSimpleSameNamespace"))
	stack, _ := Gateway(s)
	if stack.LoadBalancer == nil || len(stack.LoadBalancer.Subnets) < 2 {
		t.Fatalf("ipv4 load balancer %+v, want the discovered subnets", stack.LoadBalancer)
	}
	all := len(stack.LoadBalancer.Subnets)

	cfg := dualstack(s)
	stack, _ = Gateway(s)
	if stack.LoadBalancer != nil {
		t.Errorf("dual-stack load balancer on subnets without IPv6: %+v, want none", stack.LoadBalancer.Subnets)
	}
	if msg := gatewayMessage(t, s); !strings.Contains(msg, "has an IPv6 CIDR block, which a dualstack load balancer needs") {
		t.Errorf("Gateway conditions do not explain the missing IPv6 subnets:\n%s", msg)
	}

	// One zone's subnet is dual-stack: only it is taken.
	six := s.AWS.Subnets[0].ID
	s.AWS.Subnets[0].IPv6CIDRs = []string{"2001:db8:0:1::/64"}
	stack, _ = Gateway(s)
	if stack.LoadBalancer == nil || len(stack.LoadBalancer.Subnets) != 1 || stack.LoadBalancer.Subnets[0].SubnetID != six {
		t.Errorf("dual-stack load balancer subnets %+v, want only %s", stack.LoadBalancer, six)
	}
	withIPv6Subnets(s)
	stack, _ = Gateway(s)
	if stack.LoadBalancer == nil || len(stack.LoadBalancer.Subnets) != all {
		t.Errorf("dual-stack load balancer on dual-stack subnets: %+v, want %d subnets", stack.LoadBalancer, all)
	}

	// A listed subnet without IPv6 is refused, naming it.
	s.AWS.Subnets[1].IPv6CIDRs = nil
	cfg.Spec.LoadBalancerSubnets = []awsv1.SubnetConfiguration{{Identifier: s.AWS.Subnets[0].ID}, {Identifier: s.AWS.Subnets[1].ID}}
	if stack, _ = Gateway(s); stack.LoadBalancer != nil {
		t.Errorf("listed subnet without IPv6: load balancer %+v, want none", stack.LoadBalancer.Subnets)
	}
	if msg := gatewayMessage(t, s); !strings.Contains(msg, "spec.loadBalancerSubnets[1].identifier: subnet "+s.AWS.Subnets[1].ID+" has no IPv6 CIDR block") {
		t.Errorf("Gateway conditions do not name the listed subnet:\n%s", msg)
	}

	// The selector skips it.
	cfg.Spec.LoadBalancerSubnets = nil
	cfg.Spec.LoadBalancerSubnetsSelector = map[string][]string{"kubernetes.io/role/elb": nil}
	stack, _ = Gateway(s)
	if stack.LoadBalancer == nil {
		t.Fatalf("selector: no load balancer: %s", gatewayMessage(t, s))
	}
	for _, m := range stack.LoadBalancer.Subnets {
		if m.SubnetID == s.AWS.Subnets[1].ID {
			t.Errorf("selector: dual-stack load balancer took %s, which has no IPv6 block", m.SubnetID)
		}
	}
}

// TestDualstackTCPUDPNeedsIPv6TargetGroups: a TCP_UDP listener (a TCPRoute and a UDPRoute on one
// port) carries UDP too, so on a dualstack NLB an IPv4 Service is reported on the routes.
func TestDualstackTCPUDPNeedsIPv6TargetGroups(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteAndUDPRouteSamePortTCP_UDP"))
	dualstack(s)
	withIPv6Subnets(s)
	stack, _ := Gateway(s)
	if stack.LoadBalancer == nil {
		t.Fatalf("no load balancer: %s", gatewayMessage(t, s))
	}
	for _, l := range stack.Listeners {
		if l.Protocol == "TCP_UDP" {
			t.Errorf("TCP_UDP listener %+v forwards to an IPv4 target group on a dualstack NLB", l)
		}
	}
	if msg := routeMessages(t, s, s.UDPRoutes[0].Name); !strings.Contains(msg, "a TCP_UDP listener on a dualstack NLB forwards only to IPv6 target groups") {
		t.Errorf("route conditions do not explain the IPv4 Service:\n%s", msg)
	}
}
