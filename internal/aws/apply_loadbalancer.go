package aws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

func (a *applier) loadBalancer(ctx context.Context, ch plan.Change) error {
	switch ch.Op {
	case plan.OpCreate:
		return a.createLoadBalancer(ctx, ch.Desired.LoadBalancer)
	case plan.OpUpdate:
		a.c.inv.changed(ch.Observed.LoadBalancer.ARN)
		return a.updateLoadBalancer(ctx, ch.Desired.LoadBalancer, ch.Observed.LoadBalancer, ch.Update)
	case plan.OpDelete:
		a.c.inv.changed(ch.Observed.LoadBalancer.ARN)
		return a.deleteLoadBalancer(ctx, ch.Observed.LoadBalancer, ch.IsReplace())
	}
	return fmt.Errorf("unknown op %q", ch.Op)
}

func (a *applier) createLoadBalancer(ctx context.Context, lb *model.LoadBalancer) error {
	var existing *elbtypes.LoadBalancer
	if a.c.uncertain.mayExist("loadbalancer", lb.Name) {
		var err error
		if existing, err = a.c.loadBalancerByName(ctx, lb.Name); err != nil {
			return fmt.Errorf("looking up load balancer %s: %w", lb.Name, err)
		}
	}
	if existing != nil {
		arn := aws.ToString(existing.LoadBalancerArn)
		tags, err := a.c.elbTags(ctx, []string{arn})
		if err != nil {
			return err
		}
		if id, ok := a.c.owned(tags[arn], a.stackID, a.typ); !ok || id != model.LoadBalancerID {
			return fmt.Errorf("load balancer name %s is taken by %s, which is not this Gateway's; delete it or set another loadBalancerName", lb.Name, arn)
		}
	} else {
		sgs, err := a.sgRefs(lb.SecurityGroups)
		if err != nil {
			return err
		}
		in := &elbv2.CreateLoadBalancerInput{
			Name:           aws.String(lb.Name),
			Type:           elbtypes.LoadBalancerTypeEnum(a.typ),
			Scheme:         elbtypes.LoadBalancerSchemeEnum(lb.Scheme),
			SubnetMappings: toSubnetMappings(lb.Subnets),
			SecurityGroups: sgs,
			Tags:           toELBTags(lb.Tags),
		}
		if lb.IPAddressType != "" {
			in.IpAddressType = elbtypes.IpAddressType(lb.IPAddressType)
		}
		resp, err := a.c.elb.CreateLoadBalancer(ctx, in)
		if err != nil {
			a.c.uncertain.failed("loadbalancer", lb.Name, err)
			a.c.forgetSubnets() // the subnets it named may be gone or full
			return fmt.Errorf("creating load balancer %s: %w", lb.Name, err)
		}
		if len(resp.LoadBalancers) == 0 {
			return fmt.Errorf("creating load balancer %s: AWS returned no load balancer", lb.Name)
		}
		existing = &resp.LoadBalancers[0]
		// CreateLoadBalancer returns an existing load balancer of the same name and settings
		// instead of failing; one the last listing saw was there before this call.
		if err := a.notSomeoneElses(ctx, aws.ToString(existing.LoadBalancerArn), lb.Name); err != nil {
			return err
		}
		a.c.tags.put(aws.ToString(existing.LoadBalancerArn), lb.Tags, a.c.now())
	}
	a.c.uncertain.settled("loadbalancer", lb.Name)
	a.c.inv.add(stackKey{a.typ, a.stackID}, kindLoadBalancer, aws.ToString(existing.LoadBalancerArn))
	a.lb = &model.LoadBalancer{ARN: aws.ToString(existing.LoadBalancerArn), DNSName: aws.ToString(existing.DNSName),
		Subnets: subnetsOf(existing.AvailabilityZones)}
	if existing.State != nil {
		a.lb.State = string(existing.State.Code)
	}
	a.lisARNs, a.ruleARNs = map[int32]string{}, map[string]string{}
	if len(lb.Attributes) > 0 {
		return a.setLoadBalancerAttributes(ctx, a.lb.ARN, lb.Attributes)
	}
	return nil
}

// notSomeoneElses fails when CreateLoadBalancer answered with a load balancer that existed
// before and does not carry this stack's tags.
func (a *applier) notSomeoneElses(ctx context.Context, arn, name string) error {
	if !a.c.inv.listedBefore(arn) {
		return nil
	}
	tags, err := a.c.elbTags(ctx, []string{arn})
	if err != nil {
		return err
	}
	if id, ok := a.c.owned(tags[arn], a.stackID, a.typ); !ok || id != model.LoadBalancerID {
		return fmt.Errorf("load balancer name %s is taken by %s, which is not this Gateway's; delete it or set another loadBalancerName", name, arn)
	}
	return nil
}

// loadBalancerByName returns the load balancer of that name, or nil.
func (c *Cloud) loadBalancerByName(ctx context.Context, name string) (*elbtypes.LoadBalancer, error) {
	resp, err := c.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{name}})
	if errorCode(err) == "LoadBalancerNotFound" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(resp.LoadBalancers) == 0 {
		return nil, nil
	}
	return &resp.LoadBalancers[0], nil
}

func toSubnetMappings(subnets []model.SubnetMapping) []elbtypes.SubnetMapping {
	out := make([]elbtypes.SubnetMapping, 0, len(subnets))
	for _, s := range subnets {
		out = append(out, elbtypes.SubnetMapping{SubnetId: aws.String(s.SubnetID), AllocationId: optional(s.AllocationID),
			PrivateIPv4Address: optional(s.PrivateIPv4Address), IPv6Address: optional(s.IPv6Address)})
	}
	return out
}

func (a *applier) setLoadBalancerAttributes(ctx context.Context, arn string, attrs map[string]string) error {
	if _, err := a.c.elb.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{
		LoadBalancerArn: aws.String(arn), Attributes: toLBAttributes(attrs),
	}); err != nil {
		return fmt.Errorf("setting attributes of load balancer %s: %w", arn, err)
	}
	return nil
}

func (a *applier) updateLoadBalancer(ctx context.Context, want, have *model.LoadBalancer, u *plan.Update) error {
	arn := have.ARN
	if u.Has(plan.FieldSubnets) {
		if _, err := a.c.elb.SetSubnets(ctx, &elbv2.SetSubnetsInput{LoadBalancerArn: aws.String(arn), SubnetMappings: toSubnetMappings(want.Subnets)}); err != nil {
			a.c.forgetSubnets()
			return fmt.Errorf("setting subnets of load balancer %s: %w", have.Name, err)
		}
	}
	if u.Has(plan.FieldSecurityGroups) {
		sgs, err := a.sgRefs(want.SecurityGroups)
		if err != nil {
			return err
		}
		if _, err := a.c.elb.SetSecurityGroups(ctx, &elbv2.SetSecurityGroupsInput{LoadBalancerArn: aws.String(arn), SecurityGroups: sgs}); err != nil {
			return fmt.Errorf("setting security groups of load balancer %s: %w", have.Name, err)
		}
	}
	if u.Has(plan.FieldIPAddressType) {
		if _, err := a.c.elb.SetIpAddressType(ctx, &elbv2.SetIpAddressTypeInput{LoadBalancerArn: aws.String(arn), IpAddressType: elbtypes.IpAddressType(want.IPAddressType)}); err != nil {
			return fmt.Errorf("setting IP address type of load balancer %s: %w", have.Name, err)
		}
	}
	if u.Has(plan.FieldAttributes) {
		if err := a.setLoadBalancerAttributes(ctx, arn, u.SetAttributes); err != nil {
			return err
		}
	}
	return a.updateELBTags(ctx, arn, u)
}

// ErrDeletionProtection is why a load balancer with deletion protection on is not deleted.
var ErrDeletionProtection = errors.New("deletion protection is on")

// deleteLoadBalancer deletes the load balancer with its listeners and rules. A load balancer
// with deletion protection on (observed, or as DeleteLoadBalancer answers OperationNotPermitted:
// "This operation is not allowed" while deletion_protection.enabled is true) is kept: someone
// turned it on to keep it. Only a replacement (a scheme change the user asked for) turns it off
// first.
func (a *applier) deleteLoadBalancer(ctx context.Context, lb *model.LoadBalancer, replace bool) error {
	protected := func() error {
		return fmt.Errorf("load balancer %s: %w (deletion_protection.enabled=true); to delete it, turn it off: aws elbv2 modify-load-balancer-attributes --load-balancer-arn %s --attributes Key=deletion_protection.enabled,Value=false",
			lb.Name, ErrDeletionProtection, lb.ARN)
	}
	if !replace && lb.Attributes["deletion_protection.enabled"] == "true" {
		return protected()
	}
	del := func() error {
		_, err := a.c.elb.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lb.ARN)})
		return err
	}
	err := del()
	if errorCode(err) == "OperationNotPermitted" {
		if !replace {
			return protected()
		}
		if err := a.setLoadBalancerAttributes(ctx, lb.ARN, map[string]string{"deletion_protection.enabled": "false"}); err != nil {
			return err
		}
		err = del()
	}
	if err != nil && errorCode(err) != "LoadBalancerNotFound" {
		return fmt.Errorf("deleting load balancer %s: %w", lb.Name, err)
	}
	a.c.tags.forget(lb.ARN)
	a.c.inv.remove(kindLoadBalancer, lb.ARN)
	for _, arn := range a.lisARNs {
		a.c.tags.forget(arn)
	}
	if a.lb != nil && a.lb.ARN == lb.ARN {
		a.lb = nil
		a.lisARNs, a.ruleARNs = map[int32]string{}, map[string]string{}
	}
	return nil
}
