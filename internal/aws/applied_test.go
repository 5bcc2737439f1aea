package aws

import (
	"context"
	"testing"
	"time"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// A stack applied in full and recorded is taken as applied by the first Observe of a new process
// with the same hash, at the cost of the shared listing, one DescribeSecurityGroups and one
// DescribeListeners; a different hash, or a second Observe, reads it in full. The applied-stack
// tag never shows in the observed tags, so no plan removes it.
func TestObserveAppliedAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/applied-gateway"
	desired := nlbStack(stack, "applied", vpcID, subnets)
	converge(t, c, desired)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordApplied(ctx, observed, "hash-1"); err != nil {
		t.Fatal(err)
	}
	before := c.CallCounts()
	if err := c.RecordApplied(ctx, observed, "hash-1"); err != nil {
		t.Fatal(err)
	}
	if d := callDiff(before, c.CallCounts()); len(d) != 0 {
		t.Errorf("recording the same hash again called %v", d)
	}
	again, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.LoadBalancer.Tags[appliedTagKey]; ok {
		t.Errorf("observed load balancer tags show %s: a plan would remove it", appliedTagKey)
	}
	if changes := plan.Diff(desired, again); len(changes) != 0 {
		t.Errorf("after recording, the plan is not empty:\n%s", lines(changes))
	}

	restarted, _ := newCloud(t, vpcID)
	if s, _, err := restarted.ObserveApplied(ctx, desired, "other-hash"); err != nil || s != nil {
		t.Errorf("ObserveApplied with another hash: stack %v, err %v; want a full observe", s != nil, err)
	}
	restarted, _ = newCloud(t, vpcID)
	before = restarted.CallCounts()
	s, ok, err := restarted.ObserveApplied(ctx, desired, "hash-1")
	if err != nil || !ok {
		t.Fatalf("ObserveApplied after a restart: ok %v, err %v", ok, err)
	}
	calls := callDiff(before, restarted.CallCounts())
	for _, op := range []string{"elbv2:DescribeLoadBalancerAttributes", "elbv2:DescribeTargetGroupAttributes", "elbv2:DescribeListenerAttributes"} {
		if calls[op] != 0 {
			t.Errorf("ObserveApplied called %s: %v", op, calls)
		}
	}
	if calls["ec2:DescribeSecurityGroups"] != 1 || calls["elbv2:DescribeListeners"] != 1 {
		t.Errorf("ObserveApplied calls %v, want one DescribeSecurityGroups and one DescribeListeners besides the listing", calls)
	}
	if s.LoadBalancer.ARN != observed.LoadBalancer.ARN || s.LoadBalancer.DNSName == "" || s.LoadBalancer.State == "" {
		t.Errorf("load balancer %+v, want ARN %s with DNS name and state", s.LoadBalancer, observed.LoadBalancer.ARN)
	}
	if s.TargetGroups[0].ARN != observed.TargetGroups[0].ARN || s.SecurityGroups[0].GroupID != observed.SecurityGroups[0].GroupID ||
		s.Listeners[0].ARN != observed.Listeners[0].ARN {
		t.Errorf("ARNs %s %s %s, want %s %s %s", s.TargetGroups[0].ARN, s.SecurityGroups[0].GroupID, s.Listeners[0].ARN,
			observed.TargetGroups[0].ARN, observed.SecurityGroups[0].GroupID, observed.Listeners[0].ARN)
	}
	// Until the resync pass, however much later, the stack is answered from memory.
	later := restarted.now().Add(time.Hour)
	restarted.now = func() time.Time { return later }
	before = restarted.CallCounts()
	if _, ok, err := restarted.ObserveApplied(ctx, desired, "hash-1"); !ok || err != nil {
		t.Errorf("a second ObserveApplied an hour later, before the resync pass: ok %v, err %v", ok, err)
	}
	if d := callDiff(before, restarted.CallCounts()); len(d) != 0 {
		t.Errorf("a second ObserveApplied before the resync pass called %v", d)
	}
	if s, _, _ := restarted.ObserveApplied(WithFreshRead(ctx), desired, "hash-1"); s != nil {
		t.Error("ObserveApplied on a resync pass answers from memory: drift would never be found")
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

func callDiff(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// After an apply that succeeded in full, the next reconciles plan against its result without
// reading AWS, whatever they want; a failed apply forgets it.
func TestObserveAppliedAfterApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/after-apply"
	desired := nlbStack(stack, "afterapply", vpcID, subnets)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	result, err := c.Apply(ctx, desired, observed, plan.Diff(desired, observed))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordApplied(ctx, result, "h1"); err != nil {
		t.Fatal(err)
	}
	if result.LoadBalancer.State != "active" {
		if s, _, _ := c.ObserveApplied(ctx, desired, "h1"); s != nil {
			t.Fatalf("a load balancer in state %s is answered from memory", result.LoadBalancer.State)
		}
		// The next reconcile reads it, active now.
		if result, err = c.Observe(ctx, stack, model.Network); err != nil {
			t.Fatal(err)
		}
		if err := c.RecordApplied(ctx, result, "h1"); err != nil {
			t.Fatal(err)
		}
	}
	before := c.CallCounts()
	s, same, err := c.ObserveApplied(ctx, desired, "h1")
	if err != nil || s == nil || !same {
		t.Fatalf("ObserveApplied right after the apply: stack %v, same %v, err %v", s != nil, same, err)
	}
	changed := nlbStack(stack, "afterapply", vpcID, subnets)
	changed.Listeners[0].Port = 8081
	s, same, err = c.ObserveApplied(ctx, changed, "h2")
	if err != nil || s == nil || same {
		t.Fatalf("ObserveApplied for a changed stack: stack %v, same %v, err %v; want the last result to plan against", s != nil, same, err)
	}
	if d := callDiff(before, c.CallCounts()); len(d) != 0 {
		t.Errorf("ObserveApplied before the resync pass called %v", d)
	}
	changes := plan.Diff(changed, s)
	if got := ops(changes); len(got) == 0 {
		t.Fatal("no changes planned against the last result")
	}
	result, err = c.Apply(ctx, changed, s, changes)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordApplied(ctx, result, "h2"); err != nil {
		t.Fatal(err)
	}
	full, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if again := plan.Diff(changed, full); len(again) != 0 {
		t.Errorf("AWS does not hold what was planned against the last result:\n%s", lines(again))
	}
	// A failed apply: the next reconcile reads AWS.
	if _, err := c.Apply(ctx, desired, full, []plan.Change{{Op: plan.OpCreate, Kind: plan.KindListener, ID: "broken",
		Desired: plan.Resource{Listener: &model.Listener{Port: 1, Protocol: "NOPE"}, ListenerPort: 1}}}); err == nil {
		t.Fatal("the broken change applied")
	}
	if s, _, _ := c.ObserveApplied(ctx, changed, "h2"); s != nil {
		t.Error("after a failed apply, ObserveApplied still answers from memory")
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}
