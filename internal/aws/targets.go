package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// targetsPerCall bounds the targets of one RegisterTargets or DeregisterTargets call.
const targetsPerCall = 500

// Targets lists the registered targets of a target group, sorted, leaving out the ones that
// are draining (already on their way out).
func (c *Cloud) Targets(ctx context.Context, tgARN string) ([]model.Target, error) {
	resp, err := c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		return nil, fmt.Errorf("reading targets of %s: %w", tgARN, err)
	}
	out := make([]model.Target, 0, len(resp.TargetHealthDescriptions))
	for _, d := range resp.TargetHealthDescriptions {
		if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining {
			continue
		}
		if d.Target == nil {
			continue
		}
		out = append(out, model.Target{ID: aws.ToString(d.Target.Id), Port: aws.ToInt32(d.Target.Port), AvailabilityZone: aws.ToString(d.Target.AvailabilityZone)})
	}
	slices.SortFunc(out, compareTargets)
	return out, nil
}

func compareTargets(a, b model.Target) int {
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return int(a.Port) - int(b.Port)
}

// RegisterTargets registers targets with a target group, at most 500 per call.
func (c *Cloud) RegisterTargets(ctx context.Context, tgARN string, targets []model.Target) error {
	for chunk := range slices.Chunk(targets, targetsPerCall) {
		if _, err := c.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: toTargets(chunk)}); err != nil {
			return fmt.Errorf("registering %d targets with %s: %w", len(chunk), tgARN, err)
		}
	}
	return nil
}

// DeregisterTargets deregisters targets from a target group, at most 500 per call.
func (c *Cloud) DeregisterTargets(ctx context.Context, tgARN string, targets []model.Target) error {
	for chunk := range slices.Chunk(targets, targetsPerCall) {
		if _, err := c.elb.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: toTargets(chunk)}); err != nil {
			return fmt.Errorf("deregistering %d targets from %s: %w", len(chunk), tgARN, err)
		}
	}
	return nil
}

func toTargets(targets []model.Target) []elbtypes.TargetDescription {
	out := make([]elbtypes.TargetDescription, 0, len(targets))
	for _, t := range targets {
		d := elbtypes.TargetDescription{Id: aws.String(t.ID), AvailabilityZone: optional(t.AvailabilityZone)}
		if t.Port != 0 {
			d.Port = aws.Int32(t.Port)
		}
		out = append(out, d)
	}
	return out
}
