package testenv

import (
	"testing"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestStrictALBTargetGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A target group of type alb speaks TCP.
	f.refused("ValidationError", "elbv2", "create-target-group", "--name", f.name("albtg-http"), "--protocol", "HTTP", "--port", "80",
		"--vpc-id", f.vpc, "--target-type", "alb")
	var created struct {
		TargetGroups []struct{ TargetGroupArn string }
	}
	f.decode(f.accepted("elbv2", "create-target-group", "--name", f.name("albtg"), "--protocol", "TCP", "--port", "80",
		"--vpc-id", f.vpc, "--target-type", "alb"), &created)
	tg := created.TargetGroups[0].TargetGroupArn

	alb := f.loadBalancer("chained", elbtypes.LoadBalancerTypeEnumApplication)
	other := f.loadBalancer("chained2", elbtypes.LoadBalancerTypeEnumApplication)
	nlb := f.loadBalancer("front", elbtypes.LoadBalancerTypeEnumNetwork)
	backend := f.targetGroup("chainbe", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	register := func(arn string) []string {
		return []string{"elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id=" + arn + ",Port=80"}
	}
	// Not a load balancer's ARN, a Network Load Balancer, and an ALB without a listener on the
	// group's port.
	f.refused("InvalidTarget", register(backend)...)
	f.refused("InvalidTarget", register(nlb)...)
	f.refused("InvalidTarget", register(alb)...)
	f.listener(alb, elbtypes.ProtocolEnumHttp, 8080, backend, "")
	f.refused("InvalidTarget", register(alb)...)
	f.listener(alb, elbtypes.ProtocolEnumHttp, 80, backend, "")
	// The target port is the group's.
	f.refused("InvalidTarget", "elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+alb+",Port=8080")
	f.accepted(register(alb)...)
	// One ALB per target group.
	f.listener(other, elbtypes.ProtocolEnumHttp, 80, f.targetGroup("chainbe2", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp), "")
	f.refused("InvalidTarget", register(other)...)
	// An ALB is the target of up to two Network Load Balancers: a third alb group is refused.
	for i, name := range []string{"albtg2", "albtg3"} {
		f.decode(f.accepted("elbv2", "create-target-group", "--name", f.name(name), "--protocol", "TCP", "--port", "80",
			"--vpc-id", f.vpc, "--target-type", "alb"), &created)
		args := []string{"elbv2", "register-targets", "--target-group-arn", created.TargetGroups[0].TargetGroupArn, "--targets", "Id=" + alb + ",Port=80"}
		if i == 0 {
			f.accepted(args...)
		} else {
			f.refused("TooManyRegistrationsForTargetId", args...)
		}
	}
	// The group's attributes keep their defaults.
	f.refused("InvalidConfigurationRequest", "elbv2", "modify-target-group-attributes", "--target-group-arn", tg,
		"--attributes", "Key=deregistration_delay.timeout_seconds,Value=10")
}
