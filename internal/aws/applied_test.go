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
	if _, ok, err := restarted.ObserveApplied(ctx, desired, "other-hash"); err != nil || ok {
		t.Errorf("ObserveApplied with another hash: ok %v, err %v; want a full observe", ok, err)
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
	before = restarted.CallCounts()
	if _, ok, err := restarted.ObserveApplied(ctx, desired, "hash-1"); !ok || err != nil {
		t.Errorf("a second ObserveApplied within %s: ok %v, err %v", appliedTrust, ok, err)
	}
	if d := callDiff(before, restarted.CallCounts()); len(d) != 0 {
		t.Errorf("a second ObserveApplied within %s called %v", appliedTrust, d)
	}
	later := restarted.now().Add(appliedTrust)
	restarted.now = func() time.Time { return later }
	if _, ok, _ := restarted.ObserveApplied(ctx, desired, "hash-1"); ok {
		t.Errorf("ObserveApplied %s after a restart still trusts the tag: drift would never be found", appliedTrust)
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
