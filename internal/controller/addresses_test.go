package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// addressGateway is an internal NLB Gateway with one TCP listener and the given spec.addresses.
func addressGateway(name, addresses string) string {
	return fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: %s
spec:
  gatewayClassName: aws-nlb-gateway-class
  addresses: %s
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: internal-config}
  listeners:
  - {name: tcp, protocol: TCP, port: 7000}
`, name, addresses)
}

const internalConfig = `
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata:
  name: internal-config
spec:
  scheme: internal
`

// TestStaticAddresses: an internal NLB Gateway's spec.addresses become the private addresses of
// the subnets that hold them, as AWS reports them, and are listed in status.addresses. An
// address in none of the subnets, or of a type the NLB cannot take, is refused on the Gateway
// and asks nothing of AWS.
func TestStaticAddresses(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, "examples/seed-l4/gwc-nlb.yaml")
	applyYAML(t, env.client, ns, internalConfig+"---"+addressGateway("pinned", "[{type: IPAddress, value: 10.0.130.7}]")+
		"---"+addressGateway("outside", "[{value: 10.9.9.9}]")+"---"+addressGateway("named", "[{type: Hostname, value: lb.example.com}]"))

	gw, lbARN := programmedGateway(t, env.client, ns, "pinned")
	var listed []string
	for _, a := range gw.Status.Addresses {
		listed = append(listed, fmt.Sprintf("%s=%s", *a.Type, a.Value))
	}
	if !strings.Contains(strings.Join(listed, " "), "IPAddress=10.0.130.7") {
		t.Errorf("status.addresses %v, want IPAddress 10.0.130.7 after the DNS name", listed)
	}
	out, err := env.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	if err != nil {
		t.Fatal(err)
	}
	var mapped []string
	for _, az := range out.LoadBalancers[0].AvailabilityZones {
		for _, a := range az.LoadBalancerAddresses {
			mapped = append(mapped, awssdk.ToString(az.SubnetId)+"="+awssdk.ToString(a.PrivateIPv4Address))
		}
	}
	if want := env.vpc.PrivateSubnets[0] + "=10.0.130.7"; strings.Join(mapped, " ") != want {
		t.Errorf("subnet addresses in AWS %v, want %s", mapped, want)
	}

	for _, c := range []struct{ gateway, condition, reason, field string }{
		{"outside", "Programmed", "AddressNotUsable", "spec.addresses[0].value"},
		{"named", "Accepted", "UnsupportedAddress", "spec.addresses[0].type"},
	} {
		eventually(t, 30*timeoutScale, "Gateway "+c.gateway+" refused", func() error {
			var g gwv1.Gateway
			if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: c.gateway}, &g); err != nil {
				return err
			}
			got := meta.FindStatusCondition(g.Status.Conditions, c.condition)
			if got == nil || got.Status != metav1.ConditionFalse || got.Reason != c.reason || !strings.Contains(got.Message, c.field) {
				return fmt.Errorf("conditions %s, want %s=False %s naming %s", conditionsText(g.Status.Conditions), c.condition, c.reason, c.field)
			}
			if len(g.Status.Addresses) > 0 {
				return fmt.Errorf("addresses %v for a Gateway without a load balancer", g.Status.Addresses)
			}
			return nil
		})
		if left := stackLeftovers(t, ns+"/"+c.gateway); len(left) > 0 {
			t.Errorf("Gateway %s refused before any AWS call, yet AWS holds %v", c.gateway, left)
		}
	}
}
