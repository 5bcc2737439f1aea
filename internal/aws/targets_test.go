package aws

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

func TestTargetsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/targets"
	desired := nlbStack(stack, "targets", vpcID, subnets)
	converge(t, c, desired)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	arn := observed.TargetGroups[0].ARN

	// 1200 loopback targets: three RegisterTargets calls of at most 500.
	var targets []model.Target
	for i := 0; i < 1200; i++ {
		targets = append(targets, model.Target{ID: fmt.Sprintf("127.0.%d.%d", i/200, i%200+1), Port: 3000})
	}
	before := c.CallCounts()["elbv2:RegisterTargets"]
	if err := c.RegisterTargets(ctx, arn, targets); err != nil {
		t.Fatal(err)
	}
	if got := c.CallCounts()["elbv2:RegisterTargets"] - before; got != 3 {
		t.Errorf("registering 1200 targets took %d calls, want 3", got)
	}
	got, err := c.Targets(ctx, arn, "ip")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(targets) {
		t.Fatalf("registered %d targets, Targets lists %d", len(targets), len(got))
	}
	for i := 1; i < len(got); i++ {
		if compareTargets(got[i-1], got[i]) >= 0 {
			t.Fatalf("Targets is not sorted: %v before %v", got[i-1], got[i])
		}
	}

	if err := c.DeregisterTargets(ctx, arn, targets[:1100]); err != nil {
		t.Fatal(err)
	}
	got, err = c.Targets(ctx, arn, "ip")
	if err != nil {
		t.Fatal(err)
	}
	want := map[model.Target]bool{}
	for _, tg := range targets[1100:] {
		want[tg] = true
	}
	if len(got) != len(want) {
		t.Fatalf("after deregistering 1100 of 1200, Targets lists %d, want %d", len(got), len(want))
	}
	for _, tg := range got {
		if !want[model.Target{ID: tg.ID, Port: tg.Port}] {
			t.Errorf("target %v should be gone", tg)
		}
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
}

// TestApplyAgainAfterPartialFailure: only the first half of a plan ran, then the controller
// crashed. A new process observes the stack (everything created carries its tags from the
// create on), plans again and applies: nothing is created twice, and no name is looked up.
func TestApplyAgainAfterPartialFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/partial"
	desired := nlbStack(stack, "partial", vpcID, subnets)
	changes := plan.Diff(desired, nil)
	if _, err := c.Apply(ctx, desired, nil, changes[:3]); err != nil {
		t.Fatal(err)
	}
	c, _ = newCloud(t, vpcID)
	half, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	before := c.CallCounts()
	if _, err := c.Apply(ctx, desired, half, plan.Diff(desired, half)); err != nil {
		t.Fatalf("applying the rest of the plan: %v", err)
	}
	calls := callDiff(before, c.CallCounts())
	if calls["elbv2:DescribeLoadBalancers"]+calls["elbv2:DescribeTargetGroups"]+calls["ec2:DescribeSecurityGroups"] != 0 {
		t.Errorf("the rest of the plan looked names up: %v", calls)
	}
	lbs, _, err := c.ownedLoadBalancers(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if len(lbs) != 1 {
		t.Errorf("%d load balancers carry the stack's tags, want 1", len(lbs))
	}
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if len(observed.TargetGroups) != 1 || len(observed.SecurityGroups) != 1 || len(observed.Listeners) != 1 {
		t.Errorf("want one target group, security group and listener, got %d, %d, %d",
			len(observed.TargetGroups), len(observed.SecurityGroups), len(observed.Listeners))
	}
	if rest := plan.Diff(desired, observed); len(rest) != 0 {
		t.Errorf("plan after replay is not empty:\n%s", lines(rest))
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// TestReplaceUnderSameNameAndScheme covers the plans that delete before they create: a target
// group replaced under the same name and a load balancer whose scheme changes.
func TestReplaceUnderSameNameAndScheme(t *testing.T) {
	t.Parallel()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/replace"
	desired := nlbStack(stack, "replace", vpcID, subnets)
	converge(t, c, desired)

	desired.TargetGroups[0].TargetType = "instance"
	desired.TargetGroups[0].Port = 31000
	changes := converge(t, c, desired)
	wantOps(t, "same-name replace", changes, []string{"delete Listener 8080", "delete TargetGroup " + tg1, "create TargetGroup " + tg1, "create Listener 8080"})

	desired.LoadBalancer.Scheme = "internal"
	changes = converge(t, c, desired)
	wantOps(t, "scheme change", changes, []string{"delete LoadBalancer LoadBalancer", "create LoadBalancer LoadBalancer", "create Listener 8080"})

	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// TestRegisteredOfZones: targets read from DescribeTargetHealth keep the AvailabilityZone AWS
// reports only in target groups of type ip. For types instance and alb AWS refuses a
// TargetDescription that names one, so the DeregisterTargets a plan builds from what was read
// (registerGroupTargets, toTargets) must name none, even if AWS reported one.
func TestRegisteredOfZones(t *testing.T) {
	t.Parallel()
	described := func(id string, port int32, zone string, state elbtypes.TargetHealthStateEnum) elbtypes.TargetHealthDescription {
		return elbtypes.TargetHealthDescription{
			Target:       &elbtypes.TargetDescription{Id: aws.String(id), Port: aws.Int32(port), AvailabilityZone: optional(zone)},
			TargetHealth: &elbtypes.TargetHealth{State: state},
		}
	}
	const alb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/chained/0123456789abcdef"
	for _, tc := range []struct {
		targetType string
		read       []elbtypes.TargetHealthDescription
		want       []model.Target
	}{
		{"ip", []elbtypes.TargetHealthDescription{
			described("10.0.1.5", 8080, "us-east-1a", elbtypes.TargetHealthStateEnumHealthy),
			described("192.168.0.9", 8080, ZoneAll, elbtypes.TargetHealthStateEnumInitial),
			described("10.0.2.7", 8080, "us-east-1b", elbtypes.TargetHealthStateEnumDraining),
		}, []model.Target{{ID: "10.0.1.5", Port: 8080, AvailabilityZone: "us-east-1a"}, {ID: "192.168.0.9", Port: 8080, AvailabilityZone: ZoneAll}}},
		{"instance", []elbtypes.TargetHealthDescription{
			described("i-0123456789abcdef0", 30080, "us-east-1a", elbtypes.TargetHealthStateEnumHealthy),
			described("i-0fedcba9876543210", 30080, "", elbtypes.TargetHealthStateEnumUnhealthy),
		}, []model.Target{{ID: "i-0123456789abcdef0", Port: 30080}, {ID: "i-0fedcba9876543210", Port: 30080}}},
		{"alb", []elbtypes.TargetHealthDescription{
			described(alb, 80, "us-east-1a", elbtypes.TargetHealthStateEnumHealthy),
		}, []model.Target{{ID: alb, Port: 80}}},
	} {
		got := registeredOf(tc.read, tc.targetType)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: registered %+v, want %+v", tc.targetType, got, tc.want)
		}
		if tc.targetType == "ip" {
			continue
		}
		for _, d := range toTargets(got) {
			if d.AvailabilityZone != nil {
				t.Errorf("%s: a deregistration of %s names AvailabilityZone %q, which AWS refuses for this type",
					tc.targetType, aws.ToString(d.Id), aws.ToString(d.AvailabilityZone))
			}
		}
	}
}
