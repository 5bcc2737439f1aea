package translate

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
)

// TestRefusedBeforeCalling feeds translation inputs AWS is known to refuse. Each must end as
// a condition on the object that owns the field, naming the field, and never reach the stack:
// a refused Gateway has no load balancer (so no CreateLoadBalancer), a refused backend has no
// target group.
func TestRefusedBeforeCalling(t *testing.T) {
	nlbLBC := func(s *snapshot.Snapshot) *awsv1.LoadBalancerConfigurationSpec {
		return &s.LoadBalancerConfigurations[0].Spec
	}
	tgc := func(s *snapshot.Snapshot) *awsv1.TargetGroupProps {
		return &s.TargetGroupConfigurations[0].Spec.DefaultConfiguration
	}
	cases := []struct {
		name   string
		base   string
		mutate func(*snapshot.Snapshot)
		// where is the key of the rejections map that must hold the refusal.
		where  string
		reason string
		field  string
		// noLoadBalancer says the whole Gateway is refused; else the backend's target group
		// must be missing from the stack.
		noLoadBalancer bool
	}{{
		name: "subnet ID not in the VPC", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			nlbLBC(s).LoadBalancerSubnets[0].Identifier = "subnet-0doesnotexist"
		},
		where: "Gateway Accepted", reason: "InvalidParameters", noLoadBalancer: true,
		field: "spec.loadBalancerSubnets[0].identifier",
	}, {
		name: "spec.addresses of type Hostname", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			s.Gateway.Spec.Addresses = []gwv1.GatewaySpecAddress{{Type: ptr(gwv1.HostnameAddressType), Value: "lb.example.com"}}
		},
		where: "Gateway Accepted", reason: "UnsupportedAddress", noLoadBalancer: true, field: "spec.addresses[0].type",
	}, {
		name: "spec.addresses IPv4 on an internet-facing NLB", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			s.Gateway.Spec.Addresses = []gwv1.GatewaySpecAddress{{Value: "10.0.0.10"}}
		},
		where: "Gateway Programmed", reason: "AddressNotUsable", noLoadBalancer: true, field: "spec.addresses[0].value",
	}, {
		name: "spec.addresses outside every subnet", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			internalWithCIDRs(s, nlbLBC(s))
			s.Gateway.Spec.Addresses = []gwv1.GatewaySpecAddress{{Value: "10.9.9.9"}}
		},
		where: "Gateway Programmed", reason: "AddressNotUsable", noLoadBalancer: true, field: "spec.addresses[0].value",
	}, {
		name: "eipAllocation on an internal NLB", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			nlbLBC(s).Scheme = ptr(awsv1.LoadBalancerSchemeInternal)
		},
		where: "Gateway Accepted", reason: "InvalidParameters", noLoadBalancer: true, field: "eipAllocation",
	}, {
		name: "eipAllocation on some subnets only", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			nlbLBC(s).LoadBalancerSubnets[1].EIPAllocation = nil
		},
		where: "Gateway Accepted", reason: "InvalidParameters", noLoadBalancer: true, field: "eipAllocation",
	}, {
		name: "privateIPv4Allocation outside its subnet", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			internalWithCIDRs(s, nlbLBC(s))
			nlbLBC(s).LoadBalancerSubnets[0].PrivateIPv4Allocation = ptr("10.0.1.20")
			nlbLBC(s).LoadBalancerSubnets[1].PrivateIPv4Allocation = ptr("10.0.1.21")
		},
		where: "Gateway Accepted", reason: "InvalidParameters", noLoadBalancer: true, field: "spec.loadBalancerSubnets[0].privateIPv4Allocation",
	}, {
		name: "load balancer attribute of the other type", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			nlbLBC(s).LoadBalancerAttributes = []awsv1.LoadBalancerAttribute{{Key: "idle_timeout.timeout_seconds", Value: "60"}}
		},
		where: "Gateway Accepted", reason: "InvalidParameters", noLoadBalancer: true,
		field: "spec.loadBalancerAttributes[0]",
	}, {
		name: "load balancer attribute value out of range", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			nlbLBC(s).LoadBalancerAttributes = []awsv1.LoadBalancerAttribute{{Key: "secondary_ips.auto_assigned.per_subnet", Value: "9"}}
		},
		where: "Gateway Accepted", reason: "InvalidParameters", noLoadBalancer: true,
		field: "spec.loadBalancerAttributes[0]",
	}, {
		name: "NLB ipAddressType", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) {
			v := awsv1.LoadBalancerIPAddressType("dualstack-without-public-ipv4")
			nlbLBC(s).IpAddressType = &v
		},
		where: "Gateway Accepted", reason: "InvalidParameters", noLoadBalancer: true, field: "spec.ipAddressType",
	}, {
		name: "tag key aws:", base: "GatewayExplicitSubnets",
		mutate: func(s *snapshot.Snapshot) { nlbLBC(s).Tags = map[string]string{"aws:owner": "x"} },
		where:  "Gateway Accepted", reason: "InvalidParameters", noLoadBalancer: true, field: "spec.tags",
	}, {
		name: "health check timeout not below interval", base: "HTTPRouteTargetGroupConfigurationIPTargets",
		mutate: func(s *snapshot.Snapshot) {
			timeout := int32(10)
			tgc(s).HealthCheckConfig.HealthCheckTimeout = &timeout
		},
		where: "HTTPRoute", reason: "UnsupportedValue", field: "healthCheckConfig.healthCheckTimeout",
	}, {
		name: "health check interval out of range", base: "HTTPRouteTargetGroupConfigurationIPTargets",
		mutate: func(s *snapshot.Snapshot) {
			interval := int32(301)
			tgc(s).HealthCheckConfig.HealthCheckInterval = &interval
		},
		where: "HTTPRoute", reason: "UnsupportedValue", field: "healthCheckConfig.healthCheckInterval",
	}, {
		name: "target group attribute of NLB target groups on an ALB", base: "HTTPRouteTargetGroupConfigurationIPTargets",
		mutate: func(s *snapshot.Snapshot) {
			tgc(s).TargetGroupAttributes = append(tgc(s).TargetGroupAttributes,
				awsv1.TargetGroupAttribute{Key: "proxy_protocol_v2.enabled", Value: "true"})
		},
		where: "HTTPRoute", reason: "UnsupportedValue", field: "targetGroupAttributes[1]",
	}, {
		name: "target group tag key aws:", base: "HTTPRouteTargetGroupConfigurationIPTargets",
		mutate: func(s *snapshot.Snapshot) { tgc(s).Tags = map[string]string{"aws:cloudformation:stack": "x"} },
		where:  "HTTPRoute", reason: "UnsupportedValue", field: "spec.defaultConfiguration.tags",
	}, {
		name: "ExternalName Service", base: "TCPRouteSimpleSameNamespace",
		mutate: func(s *snapshot.Snapshot) {
			s.Services[0].Spec.Type = corev1.ServiceTypeExternalName
			s.Services[0].Spec.ExternalName = "example.com"
		},
		where: "TCPRoute", reason: "UnsupportedValue", field: "spec.rules[0].backendRefs[0]",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := loadSnapshot(t, filepath.Join("testdata", tc.base))
			before, _ := Gateway(loadSnapshot(t, filepath.Join("testdata", tc.base)))
			if before.LoadBalancer == nil || len(before.TargetGroups) == 0 {
				t.Fatalf("base case %s must translate to a load balancer with target groups", tc.base)
			}
			tc.mutate(s)
			stack, set := Gateway(s)
			var found bool
			for where, c := range refusals(set) {
				if !strings.HasPrefix(where, tc.where) {
					continue
				}
				found = true
				if c.Reason != tc.reason || !strings.Contains(c.Message, tc.field) {
					t.Errorf("%s: %s %s %q, want reason %s naming %s", where, c.Type, c.Reason, c.Message, tc.reason, tc.field)
				}
			}
			if !found {
				t.Fatalf("no refusal on %s; refusals: %v", tc.where, refusals(set))
			}
			if tc.noLoadBalancer {
				if stack.LoadBalancer != nil {
					t.Errorf("the refused Gateway still has a load balancer to create")
				}
				return
			}
			if stack.LoadBalancer == nil {
				t.Fatalf("a refused backend must not refuse the Gateway")
			}
			if len(stack.TargetGroups) >= len(before.TargetGroups) {
				t.Errorf("%d target groups, want fewer than %d: the refused backend's must be left out", len(stack.TargetGroups), len(before.TargetGroups))
			}
		})
	}
}

// refusals are the rejections that refuse an input: Accepted or ResolvedRefs False, or a route's
// PartiallyInvalid (a rule left out).
func refusals(set *status.Set) map[string]metav1.Condition {
	out := map[string]metav1.Condition{}
	for where, c := range rejections(set) {
		if c.Type == "Accepted" || c.Type == "ResolvedRefs" || c.Type == "Programmed" && c.Reason == "AddressNotUsable" {
			out[where] = c
		}
	}
	for _, r := range set.Routes {
		for i, p := range r.Parents {
			if c := meta.FindStatusCondition(p.Conditions, "PartiallyInvalid"); c != nil && c.Status == metav1.ConditionTrue {
				out[r.Kind+" "+r.Namespace+"/"+r.Name+" parent "+itoa(i)+" PartiallyInvalid"] = *c
			}
		}
	}
	return out
}

// TestCertificateValidityWindow checks a Secret's certificate against the snapshot's clock: an
// expired or not yet valid one is refused on its listener (ACM would refuse the import), a
// valid one is imported, and a snapshot without a clock checks no window.
func TestCertificateValidityWindow(t *testing.T) {
	base := loadSnapshot(t, filepath.Join("testdata", "CertificateRefsSameNamespace"))
	block, _ := pem.Decode([]byte(base.TLSSecrets["gateway-conformance-infra/secure-tls"].Certificate))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want string // "" for no refusal
	}{
		{"no clock", time.Time{}, ""},
		{"valid", leaf.NotBefore.Add(time.Hour), ""},
		{"expired", leaf.NotAfter.Add(time.Hour), "expired at"},
		{"not yet valid", leaf.NotBefore.Add(-time.Hour), "is not valid before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loadSnapshot(t, filepath.Join("testdata", "CertificateRefsSameNamespace"))
			s.Now = metav1.NewTime(tc.now)
			stack, set := Gateway(s)
			c := meta.FindStatusCondition(set.Gateway.Listeners[0].Conditions, "ResolvedRefs")
			if tc.want == "" {
				if c.Status != metav1.ConditionTrue || len(stack.Certificates) != 1 {
					t.Fatalf("ResolvedRefs %s %q, %d certificates to import; want True and 1", c.Status, c.Message, len(stack.Certificates))
				}
				return
			}
			if c.Status != metav1.ConditionFalse || c.Reason != "InvalidCertificateRef" || !strings.Contains(c.Message, tc.want) ||
				!strings.Contains(c.Message, "certificateRefs[0]") {
				t.Errorf("ResolvedRefs %s %s %q; want False InvalidCertificateRef naming the field and %q", c.Status, c.Reason, c.Message, tc.want)
			}
			if len(stack.Certificates) != 0 {
				t.Errorf("%d certificates to import, want none", len(stack.Certificates))
			}
		})
	}
}

// TestConfiguredCertificateARNsChecked: a certificate ARN a LoadBalancerConfiguration names that
// ACM does not have, or has but not ISSUED, refuses the listener (ResolvedRefs=False
// InvalidCertificateRef, naming the field) and leaves it out of the stack, so no CreateListener
// is made; an issued one or one that was not checked is left as it is.
func TestConfiguredCertificateARNsChecked(t *testing.T) {
	const (
		def   = "arn:aws:acm:eu-west-1:111122223333:certificate/default-cert"
		extra = "arn:aws:acm:eu-west-1:111122223333:certificate/extra-cert"
	)
	for _, tc := range []struct {
		name     string
		statuses map[string]string
		want     string // "" for no refusal, else a part of the message
	}{
		{"not checked", nil, ""},
		{"issued", map[string]string{def: "ISSUED", extra: "ISSUED"}, ""},
		{"default missing", map[string]string{def: snapshot.CertificateNotFound, extra: "ISSUED"},
			"listenerConfigurations[HTTPS:443].defaultCertificate: certificate " + def + " does not exist in ACM"},
		{"extra expired", map[string]string{def: "ISSUED", extra: "EXPIRED"},
			"listenerConfigurations[HTTPS:443].certificates[0]: certificate " + extra + " is EXPIRED in ACM, not ISSUED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loadSnapshot(t, filepath.Join("testdata", "HTTPRouteHTTPSListenerExplicitCertificatesAndMTLS"))
			s.AWS.CertificateStatuses = tc.statuses
			stack, set := Gateway(s)
			c := meta.FindStatusCondition(set.Gateway.Listeners[0].Conditions, "ResolvedRefs")
			if tc.want == "" {
				if c.Status != metav1.ConditionTrue || len(stack.Listeners) != 1 || len(stack.Listeners[0].Certificates) != 2 {
					t.Fatalf("ResolvedRefs %s %q, %d listeners; want True and the listener with both certificates", c.Status, c.Message, len(stack.Listeners))
				}
				return
			}
			if c.Status != metav1.ConditionFalse || c.Reason != string(gwv1.ListenerReasonInvalidCertificateRef) || !strings.Contains(c.Message, tc.want) {
				t.Errorf("ResolvedRefs %s %s %q, want False InvalidCertificateRef containing %q", c.Status, c.Reason, c.Message, tc.want)
			}
			if len(stack.Listeners) != 0 {
				t.Errorf("the refused listener is still in the stack: %+v", stack.Listeners)
			}
			if stack.LoadBalancer == nil {
				t.Errorf("a refused certificate must not refuse the Gateway")
			}
		})
	}
}

// internalWithCIDRs makes the GatewayExplicitSubnets case an internal NLB without Elastic IPs,
// its subnets 10.0.1.0/24, 10.0.2.0/24 and 10.0.3.0/24.
func internalWithCIDRs(s *snapshot.Snapshot, spec *awsv1.LoadBalancerConfigurationSpec) {
	spec.Scheme = ptr(awsv1.LoadBalancerSchemeInternal)
	for i := range spec.LoadBalancerSubnets {
		spec.LoadBalancerSubnets[i].EIPAllocation = nil
	}
	for i := range s.AWS.Subnets {
		s.AWS.Subnets[i].CIDR = fmt.Sprintf("10.0.%d.0/24", i+1)
	}
}

// TestStaticAddresses: an internal NLB's spec.addresses become the private addresses of the
// subnets whose ranges hold them; the configuration's private allocations are kept.
func TestStaticAddresses(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "GatewayExplicitSubnets"))
	spec := &s.LoadBalancerConfigurations[0].Spec
	internalWithCIDRs(s, spec)
	s.Gateway.Spec.Addresses = []gwv1.GatewaySpecAddress{{Type: ptr(gwv1.IPAddressType), Value: "10.0.2.30"}, {Value: "10.0.1.40"}}
	stack, set := Gateway(s)
	if stack.LoadBalancer == nil {
		t.Fatalf("no load balancer: %v", rejections(set))
	}
	got := map[string]string{}
	for _, m := range stack.LoadBalancer.Subnets {
		got[m.SubnetID] = m.PrivateIPv4Address
	}
	if want := map[string]string{"subnet-0a1": "10.0.1.40", "subnet-0b2": "10.0.2.30"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("subnet addresses %v, want %v", got, want)
	}
	// Two addresses in one subnet: AWS takes one per subnet.
	s.Gateway.Spec.Addresses = []gwv1.GatewaySpecAddress{{Value: "10.0.2.30"}, {Value: "10.0.2.31"}}
	stack, set = Gateway(s)
	if c := rejections(set)["Gateway Programmed"]; stack.LoadBalancer != nil || c.Reason != "AddressNotUsable" || !strings.Contains(c.Message, "spec.addresses[1].value") {
		t.Errorf("two addresses in one subnet: load balancer %v, Programmed %s %q", stack.LoadBalancer != nil, c.Reason, c.Message)
	}
}

// TestSubnetsByRouteTable: without any role tag in the VPC, an internet-facing load balancer
// takes the public subnets (one per zone) and an internal one the private subnets, and the
// Gateway's status says which for the event; a VPC with role tags ignores the route tables.
func TestSubnetsByRouteTable(t *testing.T) {
	yes, no := true, false
	subnets := []snapshot.Subnet{
		{ID: "subnet-pub-a", AvailabilityZone: "z-a", Public: &yes},
		{ID: "subnet-pub-a2", AvailabilityZone: "z-a", Public: &yes},
		{ID: "subnet-pub-b", AvailabilityZone: "z-b", Public: &yes},
		{ID: "subnet-priv-a", AvailabilityZone: "z-a", Public: &no},
		{ID: "subnet-priv-b", AvailabilityZone: "z-b", Public: &no, Tags: map[string]string{"kubernetes.io/cluster/other": "owned"}},
	}
	for _, c := range []struct {
		scheme awsv1.LoadBalancerScheme
		want   string
	}{
		{awsv1.LoadBalancerSchemeInternetFacing, "subnet-pub-a subnet-pub-b"},
		{awsv1.LoadBalancerSchemeInternal, "subnet-priv-a"},
	} {
		s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteSimpleSameNamespace"))
		s.AWS.Subnets = append([]snapshot.Subnet(nil), subnets...)
		s.AWS.ExistingLoadBalancer = nil
		s.Settings.DefaultScheme = string(c.scheme)
		s.LoadBalancerConfigurations = nil
		s.Gateway.Spec.Infrastructure = nil
		stack, set := Gateway(s)
		if stack.LoadBalancer == nil {
			t.Fatalf("%s: no load balancer: %v", c.scheme, rejections(set))
		}
		var got []string
		for _, m := range stack.LoadBalancer.Subnets {
			got = append(got, m.SubnetID)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: subnets %v, want %s", c.scheme, got, c.want)
		}
		if note := set.Gateway.SubnetChoice; !strings.Contains(note, strings.ReplaceAll(c.want, " ", ", ")) {
			t.Errorf("%s: subnet choice %q does not name %s", c.scheme, note, c.want)
		}
	}
	s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteSimpleSameNamespace"))
	s.AWS.Subnets = append([]snapshot.Subnet(nil), subnets...)
	s.AWS.Subnets[3].Tags = map[string]string{"kubernetes.io/role/elb": "1"}
	s.AWS.ExistingLoadBalancer, s.LoadBalancerConfigurations, s.Gateway.Spec.Infrastructure = nil, nil, nil
	s.Settings.DefaultScheme = string(awsv1.LoadBalancerSchemeInternetFacing)
	stack, set := Gateway(s)
	if stack.LoadBalancer == nil || len(stack.LoadBalancer.Subnets) != 1 || stack.LoadBalancer.Subnets[0].SubnetID != "subnet-priv-a" || set.Gateway.SubnetChoice != "" {
		t.Errorf("with a role tag in the VPC the route tables are not used: %+v, choice %q", stack.LoadBalancer, set.Gateway.SubnetChoice)
	}
}
