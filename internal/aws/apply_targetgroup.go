package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

func (a *applier) targetGroup(ctx context.Context, ch plan.Change) error {
	switch ch.Op {
	case plan.OpCreate:
		return a.createTargetGroup(ctx, ch.Desired.TargetGroup)
	case plan.OpUpdate:
		return a.updateTargetGroup(ctx, ch.Desired.TargetGroup, ch.Observed.TargetGroup, ch.Update)
	case plan.OpDelete:
		return a.deleteTargetGroup(ctx, ch.Observed.TargetGroup)
	}
	return fmt.Errorf("unknown op %q", ch.Op)
}

func (a *applier) createTargetGroup(ctx context.Context, tg *model.TargetGroup) error {
	var arn string
	if a.c.uncertain.mayExist("targetgroup", tg.Name) {
		var err error
		if arn, err = a.adoptTargetGroup(ctx, tg); err != nil {
			return err
		}
	}
	// created: AWS made the group in this call, so its attributes are its defaults and ours.
	created := false
	if arn == "" {
		in := &elbv2.CreateTargetGroupInput{
			Name:            aws.String(tg.Name),
			TargetType:      elbtypes.TargetTypeEnum(tg.TargetType),
			Protocol:        elbtypes.ProtocolEnum(tg.Protocol),
			ProtocolVersion: optional(tg.ProtocolVersion),
			VpcId:           optional(tg.VPCID),
			Tags:            toELBTags(tg.Tags),
		}
		if tg.Port != 0 {
			in.Port = aws.Int32(tg.Port)
		}
		if tg.IPAddressType != "" {
			in.IpAddressType = elbtypes.TargetGroupIpAddressTypeEnum(tg.IPAddressType)
		}
		setHealthCheck(tg.HealthCheck, &healthCheckFields{
			enabled: &in.HealthCheckEnabled, protocol: &in.HealthCheckProtocol, port: &in.HealthCheckPort, path: &in.HealthCheckPath,
			interval: &in.HealthCheckIntervalSeconds, timeout: &in.HealthCheckTimeoutSeconds,
			healthy: &in.HealthyThresholdCount, unhealthy: &in.UnhealthyThresholdCount, matcher: &in.Matcher,
		})
		resp, err := a.c.elb.CreateTargetGroup(ctx, in)
		if err == nil && len(resp.TargetGroups) == 0 {
			return fmt.Errorf("creating target group %s: AWS returned no target group", tg.Name)
		}
		if errorCode(err) == "DuplicateTargetGroupName" || (err == nil && a.c.recentlyDeleted(aws.ToString(resp.TargetGroups[0].TargetGroupArn))) {
			// The name is taken: by a group of this stack's from an earlier attempt, or by
			// one we deleted to replace it that AWS still lists; adoptTargetGroup tells.
			adopted, aerr := a.adoptTargetGroup(ctx, tg)
			if aerr != nil {
				return aerr
			}
			if adopted == "" {
				return fmt.Errorf("creating target group %s: the name is taken but no target group of that name is listed; the next reconcile tries again", tg.Name)
			}
			resp, err = &elbv2.CreateTargetGroupOutput{TargetGroups: []elbtypes.TargetGroup{{TargetGroupArn: aws.String(adopted)}}}, nil
		} else if err == nil {
			created = true
		}
		if err != nil {
			a.c.uncertain.failed("targetgroup", tg.Name, err)
			return fmt.Errorf("creating target group %s: %w", tg.Name, err)
		}
		arn = aws.ToString(resp.TargetGroups[0].TargetGroupArn)
		// CreateTargetGroup returns an existing target group of the same name and settings;
		// one the last listing saw was there before this call and must be this stack's.
		if a.c.inv.listedBefore(arn) {
			created = false
			tags, err := a.c.elbTags(ctx, []string{arn})
			if err != nil {
				return err
			}
			if id, ok := a.c.owned(tags[arn], a.stackID, a.typ); !ok || id != tg.ID {
				return fmt.Errorf("target group name %s is taken by %s, which is not this Gateway's %q; delete it or choose another targetGroupName", tg.Name, arn, tg.ID)
			}
		}
		a.c.tags.put(arn, tg.Tags, a.c.now())
	}
	a.c.uncertain.settled("targetgroup", tg.Name)
	a.c.noteQUIC(arn, tg.Protocol)
	a.tgARNs[tg.ID] = arn
	a.c.inv.add(stackKey{a.typ, a.stackID}, kindTargetGroup, arn)
	written := plan.ImpliedTargetGroupAttributes(tg.Attributes)
	if len(written) > 0 {
		if _, err := a.c.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{
			TargetGroupArn: aws.String(arn), Attributes: toTGAttributes(written),
		}); err != nil {
			a.c.tgAttrs.forget(arn)
			return fmt.Errorf("setting attributes of target group %s: %w", tg.Name, err)
		}
	}
	if created {
		a.c.rememberNewTargetGroupAttributes(arn, a.typ, tg.Protocol, written)
	}
	return a.registerGroupTargets(ctx, arn, tg.Name, tg.Targets, nil)
}

// adoptTargetGroup returns the ARN of a target group of this name that an interrupted apply
// created for the same resource; "" if there is none. Another owner's is an error.
func (a *applier) adoptTargetGroup(ctx context.Context, tg *model.TargetGroup) (string, error) {
	pause := a.c.consistencyPause()
	for try := 0; ; try++ {
		resp, err := a.c.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{tg.Name}})
		if errorCode(err) == "TargetGroupNotFound" {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("looking up target group %s: %w", tg.Name, err)
		}
		if len(resp.TargetGroups) == 0 {
			return "", nil
		}
		arn := aws.ToString(resp.TargetGroups[0].TargetGroupArn)
		if !a.c.recentlyDeleted(arn) {
			tags, err := a.c.elbTags(ctx, []string{arn})
			if err != nil {
				return "", err
			}
			if id, ok := a.c.owned(tags[arn], a.stackID, a.typ); !ok || id != tg.ID {
				return "", fmt.Errorf("target group name %s is taken by %s, which is not this Gateway's %q; delete it or choose another targetGroupName", tg.Name, arn, tg.ID)
			}
			return arn, nil
		}
		// We deleted it (a replacement under the same name) and AWS still lists it: adopting
		// it would point the listener at a deleted target group, and creating one with its
		// name now would be refused or answered with the old one.
		if try == briefRetries {
			return "", fmt.Errorf("target group %s (%s) was deleted to be replaced and AWS still lists it; the next reconcile creates the new one", tg.Name, arn)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(pause):
		}
		pause *= 2
	}
}

func (a *applier) updateTargetGroup(ctx context.Context, want, have *model.TargetGroup, u *plan.Update) error {
	if u.Has(plan.FieldHealthCheck) {
		in := &elbv2.ModifyTargetGroupInput{TargetGroupArn: aws.String(have.ARN)}
		setHealthCheck(want.HealthCheck, &healthCheckFields{
			enabled: &in.HealthCheckEnabled, protocol: &in.HealthCheckProtocol, port: &in.HealthCheckPort, path: &in.HealthCheckPath,
			interval: &in.HealthCheckIntervalSeconds, timeout: &in.HealthCheckTimeoutSeconds,
			healthy: &in.HealthyThresholdCount, unhealthy: &in.UnhealthyThresholdCount, matcher: &in.Matcher,
		})
		if _, err := a.c.elb.ModifyTargetGroup(ctx, in); err != nil {
			return fmt.Errorf("modifying health check of target group %s: %w", have.Name, err)
		}
	}
	if u.Has(plan.FieldAttributes) {
		if _, err := a.c.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{
			TargetGroupArn: aws.String(have.ARN), Attributes: toTGAttributes(u.SetAttributes),
		}); err != nil {
			a.c.tgAttrs.forget(have.ARN)
			return fmt.Errorf("setting attributes of target group %s: %w", have.Name, err)
		}
		a.c.rememberWrittenTargetGroupAttributes(have.ARN, u.SetAttributes)
	}
	if u.Has(plan.FieldTargets) {
		if err := a.registerGroupTargets(ctx, have.ARN, have.Name, u.Register, u.Deregister); err != nil {
			return err
		}
	}
	return a.updateELBTags(ctx, have.ARN, u)
}

// registerGroupTargets changes the targets a target group of type alb holds itself (the targets
// loop fills the others): the old ones go first, since such a group takes one target.
func (a *applier) registerGroupTargets(ctx context.Context, arn, name string, add, remove []model.Target) error {
	if len(remove) > 0 {
		if _, err := a.c.elb.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: toTargets(remove)}); err != nil {
			return fmt.Errorf("deregistering the targets of target group %s: %w", name, err)
		}
	}
	if len(add) > 0 {
		if _, err := a.c.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: toTargets(add)}); err != nil {
			return fmt.Errorf("registering %s as the target of target group %s: %w", add[0].ID, name, err)
		}
	}
	return nil
}

func (a *applier) deleteTargetGroup(ctx context.Context, tg *model.TargetGroup) error {
	err := a.retryWhile(ctx, func() error {
		_, err := a.c.elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(tg.ARN)})
		return err
	}, "ResourceInUse")
	if err != nil && errorCode(err) != "TargetGroupNotFound" {
		return fmt.Errorf("deleting target group %s: %w", tg.Name, err)
	}
	a.c.tags.forget(tg.ARN)
	a.c.tgAttrs.forget(tg.ARN)
	a.c.registered.forget(tg.ARN)
	a.c.deletedTGs.put(tg.ARN, true, a.c.now())
	a.c.inv.remove(kindTargetGroup, tg.ARN)
	a.c.tgNames.forget(tg.Name)
	if a.tgARNs[tg.ID] == tg.ARN {
		delete(a.tgARNs, tg.ID)
	}
	return nil
}

// healthCheckFields points at the health check fields of a create or modify input.
type healthCheckFields struct {
	enabled                               **bool
	protocol                              *elbtypes.ProtocolEnum
	port, path                            **string
	interval, timeout, healthy, unhealthy **int32
	matcher                               **elbtypes.Matcher
}

func setHealthCheck(h model.HealthCheck, f *healthCheckFields) {
	*f.enabled = aws.Bool(h.Enabled)
	if !h.Enabled {
		return
	}
	*f.protocol = elbtypes.ProtocolEnum(h.Protocol)
	*f.port = optional(h.Port)
	if h.Protocol != "TCP" && h.Protocol != "UDP" {
		*f.path = optional(h.Path)
		if h.HTTPCode != "" || h.GRPCCode != "" {
			*f.matcher = &elbtypes.Matcher{HttpCode: optional(h.HTTPCode), GrpcCode: optional(h.GRPCCode)}
		}
	}
	positive := func(dst **int32, v int32) {
		if v > 0 {
			*dst = aws.Int32(v)
		}
	}
	positive(f.interval, h.IntervalSeconds)
	positive(f.timeout, h.TimeoutSeconds)
	positive(f.healthy, h.HealthyThreshold)
	positive(f.unhealthy, h.UnhealthyThreshold)
}

// updateELBTags writes an update's tag changes to an ELB resource and the tag cache.
func (a *applier) updateELBTags(ctx context.Context, arn string, u *plan.Update) error {
	if !u.Has(plan.FieldTags) {
		return nil
	}
	if len(u.AddTags) > 0 {
		if _, err := a.c.elb.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arn}, Tags: toELBTags(u.AddTags)}); err != nil {
			return fmt.Errorf("tagging %s: %w", arn, err)
		}
	}
	if len(u.RemoveTags) > 0 {
		if _, err := a.c.elb.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{arn}, TagKeys: u.RemoveTags}); err != nil {
			return fmt.Errorf("untagging %s: %w", arn, err)
		}
	}
	a.c.tags.update(arn, u.AddTags, u.RemoveTags, a.c.now())
	return nil
}
