package testenv

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestStrictQUIC: QUIC listeners and target groups, which moto refuses, exist through the layer
// with AWS's rules: only on NLBs without security groups, one per load balancer, forwarding to a
// target group of the same protocol, whose targets carry a QUIC server ID.
func TestStrictQUIC(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, code := f.cliDirect("elbv2", "create-target-group", "--name", f.name("moto-quic"), "--protocol", "QUIC", "--port", "443",
		"--vpc-id", f.vpc, "--target-type", "ip"); code == "" {
		t.Fatal("plain moto takes a QUIC target group: the stand-in is not needed any more")
	}
	tg := f.targetGroup("quic", "QUIC", elbtypes.TargetTypeEnumIp)
	udp := f.targetGroup("udp", elbtypes.ProtocolEnumUdp, elbtypes.TargetTypeEnumIp)
	out, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(f.name("nosg")),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: f.subnets})
	if err != nil {
		t.Fatal(err)
	}
	lb := aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
	withSG := f.loadBalancer("withsg", elbtypes.LoadBalancerTypeEnumNetwork, f.securityGroup("sg"))

	f.refused("ValidationError", "elbv2", "create-listener", "--load-balancer-arn", withSG, "--protocol", "QUIC", "--port", "443",
		"--default-actions", "Type=forward,TargetGroupArn="+tg)
	f.refused("ValidationError", "elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "QUIC", "--port", "443",
		"--default-actions", "Type=forward,TargetGroupArn="+udp)
	f.accepted("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "QUIC", "--port", "443",
		"--default-actions", "Type=forward,TargetGroupArn="+tg)
	f.refused("ValidationError", "elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "UDP", "--port", "53",
		"--default-actions", "Type=forward,TargetGroupArn="+udp)

	ls, err := f.elb.DescribeListeners(f.ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
	if err != nil || len(ls.Listeners) != 1 || ls.Listeners[0].Protocol != "QUIC" {
		t.Fatalf("listeners %+v (%v), want one QUIC listener", ls, err)
	}
	tgs, err := f.elb.DescribeTargetGroups(f.ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tg, udp}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range tgs.TargetGroups {
		want := elbtypes.ProtocolEnumUdp
		if aws.ToString(g.TargetGroupArn) == tg {
			want = "QUIC"
		}
		if g.Protocol != want {
			t.Errorf("target group %s has protocol %s, want %s", aws.ToString(g.TargetGroupName), g.Protocol, want)
		}
	}

	ip := fmt.Sprintf("10.%d.0.9", f.n)
	f.refused("ValidationError", "elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+ip)
	f.refused("ValidationError", "elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+ip+",QuicServerId=0xABCDEF0123456789")
	f.refused("ValidationError", "elbv2", "register-targets", "--target-group-arn", udp, "--targets", "Id="+ip+",QuicServerId=0x0000000000000001")
	f.accepted("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+ip+",QuicServerId=0x000000000a000009")
}
