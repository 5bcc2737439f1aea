package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// TargetHealth is one registered target and what the load balancer says of its health.
type TargetHealth struct {
	ID     string `json:"id"`
	Port   int32  `json:"port"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// TargetHealth reads the health of a target group's targets, draining ones included, sorted
// by ID and port. It only reads.
func (c *Cloud) TargetHealth(ctx context.Context, tgARN string) ([]TargetHealth, error) {
	resp, err := c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		return nil, fmt.Errorf("reading target health of %s: %w", tgARN, err)
	}
	out := make([]TargetHealth, 0, len(resp.TargetHealthDescriptions))
	for _, d := range resp.TargetHealthDescriptions {
		if d.Target == nil {
			continue
		}
		h := TargetHealth{ID: aws.ToString(d.Target.Id), Port: aws.ToInt32(d.Target.Port)}
		if d.TargetHealth != nil {
			h.State = string(d.TargetHealth.State)
			h.Reason = string(d.TargetHealth.Reason)
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b TargetHealth) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return int(a.Port) - int(b.Port)
	})
	return out, nil
}
