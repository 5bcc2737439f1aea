package controller_test

import (
	"context"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// TestDualStackGatewayUsesIPv6Subnets: a dual-stack Gateway's NLB is created in the public
// subnets that have an IPv6 CIDR block only (the shared VPC has one such), not in every tagged
// public subnet, which CreateLoadBalancer refuses.
func TestDualStackGatewayUsesIPv6Subnets(t *testing.T) {
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, seedWithoutConfigs...)
	applyYAML(t, env.client, ns, seedLBC+"  ipAddressType: dualstack\n---\n"+seedTGC)
	_, lbARN := programmedGateway(t, env.client, ns, "aws-tcp-gateway")

	out, err := env.elb.DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	if err != nil {
		t.Fatal(err)
	}
	lb := out.LoadBalancers[0]
	if lb.IpAddressType != "dualstack" {
		t.Errorf("load balancer IP address type %s, want dualstack", lb.IpAddressType)
	}
	var subnets []string
	for _, z := range lb.AvailabilityZones {
		subnets = append(subnets, awssdk.ToString(z.SubnetId))
	}
	if len(subnets) != 1 || subnets[0] != env.vpc.PublicSubnets[0] {
		t.Errorf("dual-stack load balancer subnets %v, want only %s, the public subnet with an IPv6 block", subnets, env.vpc.PublicSubnets[0])
	}
}
