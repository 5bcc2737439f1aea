package testenv

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestStrictSubnetMappingAddresses: static addresses in subnet mappings are for Network Load
// Balancers only, Elastic IPs for internet-facing and private IPv4 addresses (inside their
// subnet) for internal ones; a subnet in use keeps its address on SetSubnets. The addresses
// AWS reports come back in DescribeLoadBalancers.
func TestStrictSubnetMappingAddresses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	in, out := fmt.Sprintf("10.%d.0.10", f.n), fmt.Sprintf("10.%d.9.10", f.n)
	mapping := func(ip string) string { return "SubnetId=" + f.subnets[0] + ",PrivateIPv4Address=" + ip }
	f.refused("InvalidConfigurationRequest", "elbv2", "create-load-balancer", "--name", f.name("alb"), "--type", "application",
		"--scheme", "internal", "--subnet-mappings", mapping(in), "SubnetId="+f.subnets[1])
	f.refused("InvalidConfigurationRequest", "elbv2", "create-load-balancer", "--name", f.name("pub"), "--type", "network",
		"--scheme", "internet-facing", "--subnet-mappings", mapping(in))
	f.refused("InvalidConfigurationRequest", "elbv2", "create-load-balancer", "--name", f.name("out"), "--type", "network",
		"--scheme", "internal", "--subnet-mappings", mapping(out))
	if _, code := f.cliDirect("elbv2", "create-load-balancer", "--name", f.name("moto"), "--type", "network",
		"--scheme", "internal", "--subnet-mappings", mapping(out)); code != "" {
		t.Fatalf("plain moto refuses a private address outside its subnet (%s): the rule needs no copy", code)
	}
	eip, err := f.ec2.AllocateAddress(f.ctx, &ec2.AllocateAddressInput{Domain: "vpc"})
	if err != nil {
		t.Fatal(err)
	}
	f.refused("InvalidConfigurationRequest", "elbv2", "create-load-balancer", "--name", f.name("eipint"), "--type", "network",
		"--scheme", "internal", "--subnet-mappings", "SubnetId="+f.subnets[0]+",AllocationId="+aws.ToString(eip.AllocationId))

	created, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(f.name("nlb")),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal,
		SubnetMappings: []elbtypes.SubnetMapping{{SubnetId: aws.String(f.subnets[0]), PrivateIPv4Address: aws.String(in)}, {SubnetId: aws.String(f.subnets[1])}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.LoadBalancers[0].LoadBalancerArn)
	desc, err := f.elb.DescribeLoadBalancers(f.ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, az := range desc.LoadBalancers[0].AvailabilityZones {
		for _, a := range az.LoadBalancerAddresses {
			got[aws.ToString(az.SubnetId)] = aws.ToString(a.PrivateIPv4Address)
		}
	}
	if got[f.subnets[0]] != in || len(got) != 1 {
		t.Fatalf("addresses reported %v, want %s in %s", got, in, f.subnets[0])
	}
	other := fmt.Sprintf("10.%d.0.11", f.n)
	f.refused("InvalidConfigurationRequest", "elbv2", "set-subnets", "--load-balancer-arn", arn,
		"--subnet-mappings", mapping(other), "SubnetId="+f.subnets[1])
	f.accepted("elbv2", "set-subnets", "--load-balancer-arn", arn, "--subnet-mappings", mapping(in), "SubnetId="+f.subnets[1])

	pub, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(f.name("eip")),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing,
		SubnetMappings: []elbtypes.SubnetMapping{{SubnetId: aws.String(f.subnets[0]), AllocationId: eip.AllocationId}}})
	if err != nil {
		t.Fatal(err)
	}
	a := pub.LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses
	if len(a) != 1 || aws.ToString(a[0].IpAddress) != aws.ToString(eip.PublicIp) || aws.ToString(a[0].AllocationId) != aws.ToString(eip.AllocationId) {
		t.Fatalf("CreateLoadBalancer reported addresses %+v, want Elastic IP %s", a, aws.ToString(eip.PublicIp))
	}
}
