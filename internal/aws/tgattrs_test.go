package aws

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// Target group attributes and registered targets are remembered from our own writes and from the
// last read: observing an unchanged stack again and again, and reading its targets, calls
// nothing more for them, however long a burst of events lasts. What a new process reads from AWS
// is what was remembered. A change made behind the controller's back shows on the next resync
// pass (WithFreshRead), and is repaired. A write that fails forgets what was remembered, so the
// next pass reads the group again.
func TestTargetGroupMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	clock := (&fakeClock{}).install(c)
	const stack = "default/tg-memory"
	desired := nlbStack(stack, "tgmem", vpcID, subnets)
	desired.TargetGroups[0].Attributes = map[string]string{"deregistration_delay.timeout_seconds": "30"}
	converge(t, c, desired)

	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	arn := observed.TargetGroups[0].ARN
	targets := []model.Target{{ID: addressIn(t, vpcID, 9), Port: 3000}}
	if err := c.RegisterTargets(ctx, arn, targets); err != nil {
		t.Fatal(err)
	}

	before := c.CallCounts()
	for range 5 {
		s, err := c.Observe(ctx, stack, model.Network)
		if err != nil {
			t.Fatal(err)
		}
		if d := plan.Diff(desired, s); len(d) != 0 {
			t.Fatalf("an unchanged stack plans changes:\n%s", lines(d))
		}
		got, err := c.Targets(ctx, arn, "ip")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != targets[0].ID {
			t.Fatalf("remembered targets %v, want %v", got, targets)
		}
	}
	calls := callDiff(before, c.CallCounts())
	if calls["elbv2:DescribeTargetGroupAttributes"] != 0 || calls["elbv2:DescribeTargetHealth"] != 0 {
		t.Errorf("5 observes and target reads of an unchanged stack called %v; want no DescribeTargetGroupAttributes or DescribeTargetHealth", calls)
	}

	// A new process reads AWS and finds what was remembered.
	fresh, _ := newCloud(t, vpcID)
	s, err := fresh.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if d := plan.Diff(desired, s); len(d) != 0 {
		t.Errorf("AWS holds other attributes than remembered:\n%s", lines(d))
	}
	if got, err := fresh.Targets(ctx, arn, "ip"); err != nil || len(got) != 1 || got[0].ID != targets[0].ID {
		t.Errorf("AWS holds targets %v (%v), want %v", got, err, targets)
	}

	// Behind the controller's back: another deregistration delay, the target deregistered.
	_, elb := rawClients(t)
	if _, err := elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("5")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := elb.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(arn),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(targets[0].ID), Port: aws.Int32(3000)}}}); err != nil {
		t.Fatal(err)
	}
	// Reconciles long after the last read (a burst of route events outlasting minutes), but
	// before the resync pass, still answer from memory: no call for the group.
	clock.advance(30 * time.Minute)
	before = c.CallCounts()
	if _, err := c.Observe(ctx, stack, model.Network); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Targets(ctx, arn, "ip"); err != nil {
		t.Fatal(err)
	}
	calls = callDiff(before, c.CallCounts())
	if calls["elbv2:DescribeTargetGroupAttributes"] != 0 || calls["elbv2:DescribeTargetHealth"] != 0 {
		t.Errorf("a reconcile 30 minutes later, not a resync pass, called %v; want no DescribeTargetGroupAttributes or DescribeTargetHealth", calls)
	}
	// The resync pass reads AWS and finds the drift.
	resync := WithFreshRead(ctx)
	before = c.CallCounts()
	s, err = c.Observe(resync, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	d := plan.Diff(desired, s)
	if len(d) != 1 || !d[0].Update.Has(plan.FieldAttributes) {
		t.Fatalf("on the resync pass, the plan is\n%s\nwant the attribute repaired", lines(d))
	}
	if got, err := c.Targets(resync, arn, "ip"); err != nil || len(got) != 0 {
		t.Errorf("on the resync pass, targets %v (%v), want none", got, err)
	}
	if calls := callDiff(before, c.CallCounts()); calls["elbv2:DescribeTargetGroupAttributes"] != 1 || calls["elbv2:DescribeTargetHealth"] != 1 {
		t.Errorf("the resync pass called %v; want one DescribeTargetGroupAttributes and one DescribeTargetHealth", calls)
	}
	converge(t, c, desired)
	s, err = fresh.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if d := plan.Diff(desired, s); len(d) != 0 {
		t.Errorf("the repair did not reach AWS:\n%s", lines(d))
	}

	// A registration AWS refuses (an IPv6 address in an IPv4 group) leaves the group's targets
	// unknown: the next read, resync pass or not, asks AWS.
	if err := c.RegisterTargets(ctx, arn, []model.Target{{ID: "2001:db8::1", Port: 3000}}); err == nil {
		t.Fatal("registering an IPv6 target in an IPv4 target group succeeded")
	}
	before = c.CallCounts()
	if _, err := c.Targets(ctx, arn, "ip"); err != nil {
		t.Fatal(err)
	}
	if calls := callDiff(before, c.CallCounts()); calls["elbv2:DescribeTargetHealth"] != 1 {
		t.Errorf("targets after a failed registration: calls %v, want one DescribeTargetHealth", calls)
	}
}

// addressIn is the n-th address of the VPC's CIDR block.
func addressIn(t *testing.T, vpcID string, n byte) string {
	t.Helper()
	e, _ := rawClients(t)
	out, err := e.DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})
	if err != nil || len(out.Vpcs) != 1 {
		t.Fatalf("DescribeVpcs %s: %v", vpcID, err)
	}
	p := netip.MustParsePrefix(aws.ToString(out.Vpcs[0].CidrBlock))
	a := p.Addr().As4()
	a[3] += n
	return netip.AddrFrom4(a).String()
}
