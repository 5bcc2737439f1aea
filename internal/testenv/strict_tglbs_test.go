package testenv

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// TargetGroup LoadBalancerArns: "The Amazon Resource Name (ARN) of the load balancer that routes
// traffic to this target group": every load balancer whose listener's default actions or rules
// forward to the group, whichever call made them forward, and none once nothing does.
func TestStrictTargetGroupLoadBalancers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lbA := f.loadBalancer("tglbs-a", elbtypes.LoadBalancerTypeEnumApplication)
	lbB := f.loadBalancer("tglbs-b", elbtypes.LoadBalancerTypeEnumApplication)
	tg1 := f.targetGroup("tglbs-1", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	tg2 := f.targetGroup("tglbs-2", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	tg3 := f.targetGroup("tglbs-3", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	forward := func(tg string) []elbtypes.Action {
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}
	}
	fixed := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse,
		FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("500")}}}
	lbsOf := func(tg string) []string {
		t.Helper()
		out, err := f.elb.DescribeTargetGroups(f.ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{tg}})
		if err != nil {
			t.Fatal(err)
		}
		return out.TargetGroups[0].LoadBalancerArns
	}
	want := func(when, tg string, lbs ...string) {
		t.Helper()
		slices.Sort(lbs)
		if got := lbsOf(tg); !slices.Equal(got, lbs) {
			t.Fatalf("%s: LoadBalancerArns of %s = %v, want %v", when, tg, got, lbs)
		}
	}

	// A rule answering a fixed response, then modified to forward.
	listenerA, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbA),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: fixed})
	if err != nil {
		t.Fatal(err)
	}
	rule := func(priority int32, actions []elbtypes.Action) string {
		t.Helper()
		out, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: listenerA.Listeners[0].ListenerArn,
			Priority: aws.Int32(priority), Actions: actions, Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"),
				PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{fmt.Sprintf("/p%d", priority)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Rules[0].RuleArn)
	}
	r1 := rule(1, fixed)
	want("a rule answering a fixed response", tg1)
	if _, err := f.elb.ModifyRule(f.ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(r1), Actions: forward(tg1)}); err != nil {
		t.Fatal(err)
	}
	want("the rule modified to forward", tg1, lbA)
	if out, _ := f.cliDirect("elbv2", "describe-target-groups", "--target-group-arns", tg1); strings.Contains(out, lbA) {
		t.Fatalf("moto now lists the load balancer of a rule modified to forward; the layer's answer may be unneeded:\n%s", out)
	}
	// A second rule forwarding to the same group lists its load balancer once.
	r2 := rule(2, forward(tg1))
	want("two rules forwarding", tg1, lbA)

	// A listener's default action moved from one group to a weighted forward of two others.
	listenerB, err := f.elb.CreateListener(f.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbB),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), DefaultActions: forward(tg2)})
	if err != nil {
		t.Fatal(err)
	}
	want("a listener forwarding", tg2, lbB)
	if _, err := f.elb.ModifyListener(f.ctx, &elbv2.ModifyListenerInput{ListenerArn: listenerB.Listeners[0].ListenerArn,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(tg1), Weight: aws.Int32(1)}, {TargetGroupArn: aws.String(tg3), Weight: aws.Int32(1)}}}}}}); err != nil {
		t.Fatal(err)
	}
	want("the listener modified away", tg2)
	want("the listener modified to a weighted forward", tg1, lbA, lbB)
	want("the listener modified to a weighted forward", tg3, lbB)

	// The LoadBalancerArn filter answers the groups the load balancer routes to.
	byLB, err := f.elb.DescribeTargetGroups(f.ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbB)})
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range byLB.TargetGroups {
		groups = append(groups, aws.ToString(g.TargetGroupArn))
	}
	slices.Sort(groups)
	wantGroups := []string{tg1, tg3}
	slices.Sort(wantGroups)
	if !slices.Equal(groups, wantGroups) {
		t.Fatalf("DescribeTargetGroups of %s: %v, want %v", lbB, groups, wantGroups)
	}

	// Rules deleted: the load balancer no longer routes to the group.
	for _, r := range []string{r1, r2} {
		if _, err := f.elb.DeleteRule(f.ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(r)}); err != nil {
			t.Fatal(err)
		}
	}
	want("the rules deleted", tg1, lbB)
	_, err = f.elb.DescribeTargetGroups(f.ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbA)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "TargetGroupNotFound" {
		t.Fatalf("DescribeTargetGroups of %s, which routes to no group: %v, want TargetGroupNotFound", lbA, err)
	}
	// A load balancer deleted routes nothing.
	if _, err := f.elb.DeleteLoadBalancer(f.ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbB)}); err != nil {
		t.Fatal(err)
	}
	want("the load balancer deleted", tg1)
	want("the load balancer deleted", tg3)
}
