package testenv

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ipv6Subnets gives the fixture's VPC an IPv6 block and its subnets a /64 each.
func (f *fixture) ipv6Subnets() {
	f.t.Helper()
	if err := AddIPv6(f.ctx, f.moto.Endpoint, testRegion, f.vpc, f.subnets...); err != nil {
		f.t.Fatal(err)
	}
}

// ipv4Subnet adds a subnet 10.N.third.0/24 without IPv6 to the fixture's VPC, in a third zone.
func (f *fixture) ipv4Subnet(third int) string {
	f.t.Helper()
	s, err := f.ec2.CreateSubnet(f.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(f.vpc), AvailabilityZone: aws.String(testRegion + "c"),
		CidrBlock: aws.String(fmt.Sprintf("10.%d.%d.0/24", f.n, third))})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(s.Subnet.SubnetId)
}

func TestStrictDualStackSubnets(t *testing.T) {
	t.Parallel()
	t.Run("CreateLoadBalancer", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.refused("ValidationError", "elbv2", "create-load-balancer", "--name", f.name("v4only"), "--type", "network",
			"--ip-address-type", "dualstack", "--subnets", f.subnets[0], f.subnets[1])
		f.ipv6Subnets()
		// The layer gives DescribeSubnets AWS's shape of the association state.
		subnets, err := f.ec2.DescribeSubnets(f.ctx, &ec2.DescribeSubnetsInput{SubnetIds: f.subnets})
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range subnets.Subnets {
			if len(sn.Ipv6CidrBlockAssociationSet) != 1 || sn.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlockState.State != "associated" {
				t.Errorf("subnet %s IPv6 associations %+v, want one associated", aws.ToString(sn.SubnetId), sn.Ipv6CidrBlockAssociationSet)
			}
		}
		f.dualstackNLB("dual", f.subnets...)
		v4 := f.ipv4Subnet(9)
		f.refused("ValidationError", "elbv2", "create-load-balancer", "--name", f.name("map"), "--type", "network",
			"--ip-address-type", "dualstack", "--subnet-mappings", "SubnetId="+f.subnets[0], "SubnetId="+v4)
	})
	t.Run("SetSubnets and SetIpAddressType", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.ipv6Subnets()
		v4 := f.ipv4Subnet(9)
		dual := f.dualstackNLB("dual", f.subnets...)
		f.refused("ValidationError", "elbv2", "set-subnets", "--load-balancer-arn", dual, "--subnets", f.subnets[0], v4)
		// SetIpAddressType to dualstack checks the subnets the load balancer already has.
		mixed, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(f.name("mixed")),
			Type: elbtypes.LoadBalancerTypeEnumNetwork, Subnets: []string{f.subnets[0], v4}})
		if err != nil {
			t.Fatal(err)
		}
		f.refused("ValidationError", "elbv2", "set-ip-address-type", "--load-balancer-arn",
			aws.ToString(mixed.LoadBalancers[0].LoadBalancerArn), "--ip-address-type", "dualstack")
	})
}

// dualstackNLB creates a dualstack NLB on subnets through the layer (which must accept it).
func (f *fixture) dualstackNLB(name string, subnets ...string) string {
	f.t.Helper()
	out, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(f.name(name)),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Subnets: subnets, IpAddressType: elbtypes.IpAddressTypeDualstack})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
}

func TestStrictDualStackUDPListeners(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.ipv6Subnets()
	nlb := f.dualstackNLB("dual", f.subnets...)
	tg6 := func(name string, protocol elbtypes.ProtocolEnum) string {
		out, err := f.elb.CreateTargetGroup(f.ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(f.name(name)),
			Protocol: protocol, Port: aws.Int32(53), VpcId: aws.String(f.vpc),
			TargetType: elbtypes.TargetTypeEnumIp, IpAddressType: elbtypes.TargetGroupIpAddressTypeEnumIpv6})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.TargetGroups[0].TargetGroupArn)
	}
	udp4 := f.targetGroup("udp4", elbtypes.ProtocolEnumUdp, elbtypes.TargetTypeEnumIp)
	both4 := f.targetGroup("tu4", elbtypes.ProtocolEnumTcpUdp, elbtypes.TargetTypeEnumIp)
	udp6, both6 := tg6("udp6", elbtypes.ProtocolEnumUdp), tg6("tu6", elbtypes.ProtocolEnumTcpUdp)
	listen := func(protocol elbtypes.ProtocolEnum, port int32, tg string) string {
		out, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(nlb), Protocol: protocol,
			Port: aws.Int32(port), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}})
		if err != nil {
			t.Fatalf("%s listener to an IPv6 target group: %v", protocol, err)
		}
		return aws.ToString(out.Listeners[0].ListenerArn)
	}
	refusedListener := func(protocol, port, tg string) {
		f.refused("ValidationError", "elbv2", "create-listener", "--load-balancer-arn", nlb, "--protocol", protocol, "--port", port,
			"--default-actions", "Type=forward,TargetGroupArn="+tg)
	}
	refusedListener("UDP", "53", udp4)
	refusedListener("TCP_UDP", "54", both4)
	listen(elbtypes.ProtocolEnumTcpUdp, 54, both6)
	l := listen(elbtypes.ProtocolEnumUdp, 53, udp6)

	// ModifyListener keeps the protocol: pointing the UDP listener at an IPv4 group is refused.
	f.refused("ValidationError", "elbv2", "modify-listener", "--listener-arn", l, "--default-actions", "Type=forward,TargetGroupArn="+udp4)
	if _, err := f.elb.ModifyListener(f.ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(l),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(udp6)}}}); err != nil {
		t.Errorf("modify-listener to an IPv6 target group: %v", err)
	}
}
