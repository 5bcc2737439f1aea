package translate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/status"
)

// TestNLBStickiness: targetGroupStickiness on an NLB listener becomes source-IP stickiness
// attributes of its target groups, never a stickiness setting of the forward action; a TLS
// target group takes none (AWS supports no sticky sessions with TLS target groups) and the
// route says so.
func TestNLBStickiness(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "LoadBalancerConfigurationMergePreferGateway"))
	stack, _ := Gateway(s)
	if err := stack.Validate(); err != nil {
		t.Fatalf("stack does not validate: %v", err)
	}
	if f := stack.Listeners[0].DefaultActions[0].Forward; f.Stickiness != nil {
		t.Errorf("NLB forward action carries stickiness %+v", f.Stickiness)
	}
	if a := stack.TargetGroups[0].Attributes; a["stickiness.enabled"] != "true" || a["stickiness.type"] != "source_ip" {
		t.Errorf("target group attributes %v, want stickiness.enabled=true and stickiness.type=source_ip", a)
	}

	s = loadSnapshot(t, filepath.Join("testdata", "TLSRouteSimpleSameNamespace"))
	s.LoadBalancerConfigurations[0].Spec.ListenerConfigurations[0].TargetGroupStickiness = ptr(true)
	stack, _ = Gateway(s)
	for _, tg := range stack.TargetGroups {
		if tg.Protocol == "TLS" && tg.Attributes["stickiness.enabled"] != "" {
			t.Errorf("TLS target group %s got stickiness attributes %v", tg.Name, tg.Attributes)
		}
	}
	if msg := routeMessages(t, s, s.TLSRoutes[0].Name); !strings.Contains(msg, "targetGroupStickiness does not apply to TLS target groups") {
		t.Errorf("route conditions do not explain the ignored stickiness:\n%s", msg)
	}
}

// TestDualstackUDPNeedsIPv6TargetGroups: a UDP listener on a dualstack NLB forwards to IPv6
// target groups only; an IPv4 Service is reported on the route instead of a listener AWS
// refuses, and an IPv6 one is programmed.
func TestDualstackUDPNeedsIPv6TargetGroups(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "UDPRouteSimpleSameNamespace"))
	dualstack(s)
	withIPv6Subnets(s)
	stack, _ := Gateway(s)
	if stack.LoadBalancer == nil || stack.LoadBalancer.IPAddressType != "dualstack" {
		t.Fatalf("load balancer %+v, want a dualstack one", stack.LoadBalancer)
	}
	if len(stack.Listeners) != 0 || len(stack.TargetGroups) != 0 {
		t.Errorf("listeners %d, target groups %d for an IPv4 Service behind a dualstack UDP listener, want none", len(stack.Listeners), len(stack.TargetGroups))
	}
	if msg := routeMessages(t, s, s.UDPRoutes[0].Name); !strings.Contains(msg, "forwards only to IPv6 target groups") {
		t.Errorf("route conditions do not explain the IPv4 Service:\n%s", msg)
	}

	for _, fam := range [][]corev1.IPFamily{{corev1.IPv6Protocol}, {corev1.IPv4Protocol, corev1.IPv6Protocol}} {
		for i := range s.Services {
			s.Services[i].Spec.IPFamilies = fam
		}
		stack, _ = Gateway(s)
		if len(stack.Listeners) != 1 || len(stack.TargetGroups) != 1 || stack.TargetGroups[0].IPAddressType != "ipv6" {
			t.Errorf("with a Service of families %v: %d listeners, target groups %+v, want one listener and an ipv6 target group", fam, len(stack.Listeners), stack.TargetGroups)
		}
	}
}

// TestTargetGroupFamilyOnIPv4LoadBalancer: behind an ipv4 load balancer a dual-stack Service
// keeps an ipv4 target group, and an IPv6-only Service is refused on its route.
func TestTargetGroupFamilyOnIPv4LoadBalancer(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteSimpleSameNamespace"))
	for i := range s.Services {
		s.Services[i].Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
	}
	stack, _ := Gateway(s)
	if len(stack.TargetGroups) != 1 || stack.TargetGroups[0].IPAddressType != "ipv4" {
		t.Errorf("dual-stack Service behind an ipv4 load balancer: target groups %+v, want one ipv4", stack.TargetGroups)
	}
	for i := range s.Services {
		s.Services[i].Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
	}
	stack, _ = Gateway(s)
	if len(stack.TargetGroups) != 0 {
		t.Errorf("IPv6-only Service behind an ipv4 load balancer: target groups %+v, want none", stack.TargetGroups)
	}
	if msg := routeMessages(t, s, s.TCPRoutes[0].Name); !strings.Contains(msg, "the Service is IPv6 but the load balancer is ipv4") {
		t.Errorf("route conditions do not explain the IPv6 Service:\n%s", msg)
	}
}

// TestAtMostFiveSecurityGroups: a load balancer takes at most 5 security groups; a
// configuration that names more is refused with the count, instead of a CreateLoadBalancer
// AWS refuses.
func TestAtMostFiveSecurityGroups(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "ExplicitSecurityGroupsAndLoadBalancerName"))
	cfg := &s.LoadBalancerConfigurations[0].Spec
	cfg.SecurityGroups = []string{"sg-01", "sg-02", "sg-03", "sg-04", "sg-05"}
	stack, _ := Gateway(s)
	if stack.LoadBalancer == nil || len(stack.LoadBalancer.SecurityGroups) != 5 {
		t.Fatalf("five groups: load balancer %+v, want it with the five", stack.LoadBalancer)
	}
	cfg.SecurityGroups = append(cfg.SecurityGroups, "sg-06")
	stack, set := Gateway(s)
	if stack.LoadBalancer != nil {
		t.Errorf("six groups: a load balancer was built")
	}
	if c := set.Gateway.Conditions[0]; c.Status != "False" || !strings.Contains(c.Message, "6 security groups") || !strings.Contains(c.Message, "at most 5") {
		t.Errorf("Gateway Accepted = %s %q, want False naming 6 groups and the limit of 5", c.Status, c.Message)
	}
}

// TestSecurityGroupRuleQuota: a managed security group within 60 inbound rules per family is
// left as it is; over it, consecutive listener ports become port ranges (no port opened that
// was not), and when that is still too many every listener says why.
func TestSecurityGroupRuleQuota(t *testing.T) {
	withPorts := func(ports []int32, ranges []string) (*model.Stack, *status.Set) {
		s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteSimpleSameNamespace"))
		s.Gateway.Spec.Listeners = nil
		for _, p := range ports {
			s.Gateway.Spec.Listeners = append(s.Gateway.Spec.Listeners, gwv1.Listener{
				Name: gwv1.SectionName(fmt.Sprintf("tcp-%d", p)), Protocol: gwv1.TCPProtocolType, Port: gwv1.PortNumber(p)})
		}
		s.TCPRoutes[0].Spec.ParentRefs[0].SectionName = nil
		s.LoadBalancerConfigurations = append(s.LoadBalancerConfigurations, awsv1.LoadBalancerConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "ranges", Namespace: s.Gateway.Namespace},
			Spec:       awsv1.LoadBalancerConfigurationSpec{SourceRanges: ranges}})
		s.Gateway.Spec.Infrastructure = &gwv1.GatewayInfrastructure{ParametersRef: &gwv1.LocalParametersReference{
			Group: "gateway.k8s.aws", Kind: "LoadBalancerConfiguration", Name: "ranges"}}
		return Gateway(s)
	}
	ingress := func(st *model.Stack) []model.IngressRule {
		for _, sg := range st.SecurityGroups {
			if sg.ID == model.ManagedSecurityGroupID {
				return sg.Ingress
			}
		}
		t.Fatal("no managed security group")
		return nil
	}
	var consecutive, spread []int32
	for i := range int32(40) {
		consecutive = append(consecutive, 10000+i)
		spread = append(spread, 10000+2*i)
	}
	two := []string{"10.0.0.0/8", "192.168.0.0/16"}

	stack, _ := withPorts(consecutive[:30], two)
	if n := len(ingress(stack)); n != 60 {
		t.Errorf("30 ports × 2 ranges: %d rules, want 60 (one per port and range, as within the quota)", n)
	}
	stack, set := withPorts(consecutive, two)
	rules := ingress(stack)
	if len(rules) != 2 || rules[0].FromPort != 10000 || rules[0].ToPort != 10039 {
		t.Errorf("40 consecutive ports × 2 ranges: rules %+v, want one 10000-10039 range per source", rules)
	}
	if err := stack.Validate(); err != nil {
		t.Errorf("stack does not validate: %v", err)
	}
	if c := set.Gateway.Listeners[0].Conditions[2]; c.Status != "True" {
		t.Errorf("listener ResolvedRefs %s %q, want True", c.Status, c.Message)
	}
	_, set = withPorts(spread, two)
	if c := set.Gateway.Listeners[0].Conditions[2]; c.Status != "False" || !strings.Contains(c.Message, "80 IPv4 and 0 IPv6 inbound rules") {
		t.Errorf("40 spread ports × 2 ranges: listener ResolvedRefs %s %q, want False naming 80 rules", c.Status, c.Message)
	}
}
