package aws

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestALBGroupTargetsLeaveOutDraining: the Application Load Balancer registered in a target
// group of type alb is its target while AWS reports it registered, and not once it is draining
// (being deregistered), so that a Gateway still chained to it registers it again.
func TestALBGroupTargetsLeaveOutDraining(t *testing.T) {
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	_, elb := rawClients(t)
	name := "chain-" + vpcID[len(vpcID)-6:]
	lb, err := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Type: elbtypes.LoadBalancerTypeEnumApplication, Subnets: subnets[:2],
	})
	if err != nil {
		t.Fatal(err)
	}
	albARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	t.Cleanup(func() {
		_, _ = elb.DeleteLoadBalancer(context.Background(), &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(albARN)})
	})
	if _, err := elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(albARN), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404")}}},
	}); err != nil {
		t.Fatal(err)
	}
	tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), TargetType: elbtypes.TargetTypeEnumAlb, Protocol: elbtypes.ProtocolEnumTcp,
		Port: aws.Int32(80), VpcId: aws.String(vpcID),
	})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	t.Cleanup(func() {
		_, _ = elb.DeleteTargetGroup(context.Background(), &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tgARN)})
	})
	if _, err := elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(albARN), Port: aws.Int32(80)}}}); err != nil {
		t.Fatal(err)
	}
	c, _ := newCloud(t, vpcID)
	targetsText := func() string {
		t.Helper()
		ts, err := c.albGroupTargets(ctx, tgARN)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, x := range ts {
			out += fmt.Sprintf("%s:%d ", x.ID, x.Port)
		}
		return out
	}
	if got, want := targetsText(), fmt.Sprintf("%s:80 ", albARN); got != want {
		t.Fatalf("registered: targets %q, want %q", got, want)
	}
	moto.Strict.SetTargetHealth(testRegion, tgARN, testenv.TargetHealthOverride{ID: albARN, Port: 80, State: "draining",
		Reason: "Target.DeregistrationInProgress", Description: "Target deregistration is in progress"})
	if got := targetsText(); got != "" {
		t.Errorf("draining: targets %q, want none", got)
	}
}
