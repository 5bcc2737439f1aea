package aws

import (
	"context"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// A full observe reads every target group's attributes, one call each: a Gateway with N target
// groups observed once per burst of route events paid N calls per event. The attributes are
// remembered from the last read and from our own writes — a group we created holds AWS's
// defaults and what we wrote, a group we modified what we wrote on top of what we knew — until
// the Gateway's next resync pass, which reads them again and finds drift (fresh.go). A failed
// write forgets the group: what AWS holds is then unknown until read.

// targetGroupAttributes returns a target group's attributes, from memory unless ctx asks for a
// fresh read.
func (c *Cloud) targetGroupAttributes(ctx context.Context, arn string) (map[string]string, error) {
	if attrs, ok := c.tgAttrs.get(arn, c.now()); ok && !freshRead(ctx) {
		return maps.Clone(attrs), nil
	}
	out, err := c.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		c.tgAttrs.forget(arn) // gone, or unknown until read
		return nil, err
	}
	attrs := fromTGAttributes(out.Attributes)
	c.tgAttrs.put(arn, maps.Clone(attrs), c.now())
	return attrs, nil
}

// rememberNewTargetGroupAttributes records what a group AWS just created holds: its documented
// attribute defaults for the protocol and load balancer type with what we wrote, and no targets.
func (c *Cloud) rememberNewTargetGroupAttributes(arn string, t model.LoadBalancerType, protocol string, written map[string]string) {
	attrs := plan.TargetGroupDefaults(t, protocol)
	maps.Copy(attrs, written)
	c.tgAttrs.put(arn, attrs, c.now())
	c.registered.put(arn, []model.Target{}, c.now())
}

// rememberWrittenTargetGroupAttributes adds a successful write to what is known of a group;
// nothing when its attributes are not known.
func (c *Cloud) rememberWrittenTargetGroupAttributes(arn string, written map[string]string) {
	attrs, ok := c.tgAttrs.get(arn, c.now())
	if !ok {
		return
	}
	attrs = maps.Clone(attrs)
	maps.Copy(attrs, written)
	c.tgAttrs.put(arn, attrs, c.now())
}
