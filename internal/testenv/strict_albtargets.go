package testenv

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Target groups of type alb: a Network Load Balancer forwarding to an Application Load Balancer
// (Elastic Load Balancing, "Use an Application Load Balancer as a target of a Network Load
// Balancer"). moto stores such groups and targets without any of these checks.

var albTargetRules = []strictRule{
	{svcELB, "CreateTargetGroup", albTargetGroupProtocol},
	{svcELB, "RegisterTargets", albTargetIsOneALB},
	{svcELB, "RegisterTargets", albTargetOfTwoNLBs},
	{svcELB, "ModifyTargetGroupAttributes", albTargetGroupAttributes},
}

// albTargetGroupProtocol: CreateTargetGroup TargetType — "alb - Register a single Application
// Load Balancer as a target"; the NLB guide's target groups of type alb use TCP ("Protocol:
// TCP" is the only protocol offered for them): any other protocol is refused.
func albTargetGroupProtocol(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	if r.form.Get("TargetType") != string(elbtypes.TargetTypeEnumAlb) {
		return nil
	}
	if p := r.form.Get("Protocol"); p != string(elbtypes.ProtocolEnumTcp) {
		return refuse("ValidationError", "Protocol '%s' is not supported for target groups with target type 'alb'; use TCP", p)
	}
	return nil
}

// albTargetIsOneALB: "You can only register one Application Load Balancer per target group";
// "they must be in the same VPC within the same account"; the ALB's listener port "matches the
// port of the target group". A target that is not an Application Load Balancer, a second one, one
// of another VPC or one without a listener on the group's port is InvalidTarget.
func albTargetIsOneALB(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	tg, e := describeTargetGroup(ctx, r, r.form.Get("TargetGroupArn"))
	if e != nil || tg == nil || tg.TargetType != elbtypes.TargetTypeEnumAlb {
		return e
	}
	targets := queryList(r.form, "Targets.member")
	if len(targets) != 1 {
		return refuse("InvalidTarget", "A target group of type 'alb' takes exactly one Application Load Balancer, not %d targets", len(targets))
	}
	arn := targets[0].Get("Id")
	port := aws.ToInt32(tg.Port)
	if p := targets[0].Get("Port"); p != "" && p != itoa32(port) {
		return refuse("InvalidTarget", "The target port %s must be the target group's port %d", p, port)
	}
	registered, e := registeredTargets(ctx, r, aws.ToString(tg.TargetGroupArn))
	if e != nil {
		return e
	}
	for _, id := range registered {
		if id != arn {
			return refuse("InvalidTarget", "Target group '%s' already has Application Load Balancer '%s' registered; a target group of type 'alb' takes one",
				aws.ToString(tg.TargetGroupArn), id)
		}
	}
	lb, e := describeLoadBalancer(ctx, r, arn)
	if e != nil {
		return e
	}
	if lb == nil || lb.Type != elbtypes.LoadBalancerTypeEnumApplication {
		return refuse("InvalidTarget", "The target '%s' is not an Application Load Balancer", arn)
	}
	if aws.ToString(lb.VpcId) != aws.ToString(tg.VpcId) {
		return refuse("InvalidTarget", "The Application Load Balancer '%s' is not in the target group's VPC %s", arn, aws.ToString(tg.VpcId))
	}
	listeners, e := listenersOf(ctx, r, arn)
	if e != nil {
		return e
	}
	for _, l := range listeners {
		if aws.ToInt32(l.Port) == port {
			return nil
		}
	}
	return refuse("InvalidTarget", "The Application Load Balancer '%s' has no listener on port %d, the target group's port", arn, port)
}

// albTargetGroupAttributes: "When the target group type is alb, you can't modify the target
// group attributes. These attributes always use their default values."
func albTargetGroupAttributes(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	tg, e := describeTargetGroup(ctx, r, r.form.Get("TargetGroupArn"))
	if e != nil || tg == nil || tg.TargetType != elbtypes.TargetTypeEnumAlb {
		return e
	}
	return refuse("InvalidConfigurationRequest", "The attributes of target group '%s' of type 'alb' cannot be modified", aws.ToString(tg.TargetGroupArn))
}

// albTargetOfTwoNLBs: "You can associate an Application Load Balancer as a target of up to two
// Network Load Balancers. To do this, register the Application Load Balancer with a separate
// target group for each Network Load Balancer." An ALB registered in two other target groups of
// type alb is refused a third (TooManyRegistrationsForTargetId, RegisterTargets' error for a
// target at its registration limit).
func albTargetOfTwoNLBs(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	tgARN := r.form.Get("TargetGroupArn")
	tg, e := describeTargetGroup(ctx, r, tgARN)
	if e != nil || tg == nil || tg.TargetType != elbtypes.TargetTypeEnumAlb {
		return e
	}
	targets := queryList(r.form, "Targets.member")
	if len(targets) != 1 {
		return nil // albTargetIsOneALB's refusal
	}
	alb := targets[0].Get("Id")
	var holding []string
	p := elbv2.NewDescribeTargetGroupsPaginator(r.aws.elb, &elbv2.DescribeTargetGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return mustRead(err)
		}
		for _, g := range page.TargetGroups {
			if g.TargetType != elbtypes.TargetTypeEnumAlb || aws.ToString(g.TargetGroupArn) == tgARN {
				continue
			}
			ids, e := registeredTargets(ctx, r, aws.ToString(g.TargetGroupArn))
			if e != nil {
				return e
			}
			for _, id := range ids {
				if id == alb {
					holding = append(holding, aws.ToString(g.TargetGroupArn))
				}
			}
		}
	}
	if len(holding) >= 2 {
		return refuse("TooManyRegistrationsForTargetId",
			"Application Load Balancer '%s' is already the target of two target groups (%v); an Application Load Balancer can be the target of up to two Network Load Balancers", alb, holding)
	}
	return nil
}

// registeredTargets lists the IDs of the targets moto holds for a target group.
func registeredTargets(ctx context.Context, r *strictRequest, tgARN string) ([]string, *apiError) {
	out, err := r.aws.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		return nil, mustRead(err)
	}
	var ids []string
	for _, d := range out.TargetHealthDescriptions {
		if d.Target != nil {
			ids = append(ids, aws.ToString(d.Target.Id))
		}
	}
	return ids, nil
}

func itoa32(n int32) string { return strconv.Itoa(int(n)) }
