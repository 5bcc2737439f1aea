package aws

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// foreignResources is how many load balancers and target groups of other owners the
// inventory tests put in their VPC.
const foreignResources = 30

// testPageSize makes listing foreignResources take several pages, so that a listing shows in
// the call counts next to the one by-ARN describe of the stack's own resources.
const testPageSize = 10

// fakeClock is a Cloud clock the test moves forward.
type fakeClock struct{ offset atomic.Int64 }

func (f *fakeClock) now() time.Time              { return time.Now().Add(time.Duration(f.offset.Load())) }
func (f *fakeClock) advance(d time.Duration)     { f.offset.Add(int64(d)) }
func (f *fakeClock) install(c *Cloud) *fakeClock { c.now = f.now; return f }

// seedForeign creates n target groups and n network load balancers in the VPC that belong to
// another cluster, or to another stack of ours.
func seedForeign(t *testing.T, vpcID string, subnets []string, n int) {
	t.Helper()
	ctx := context.Background()
	_, elb := rawClients(t)
	for i := range n {
		cluster := "other-cluster"
		if i%2 == 0 {
			cluster = testCluster
		}
		tags := []elbtypes.Tag{{Key: aws.String(clusterTagKey), Value: aws.String(cluster)},
			{Key: aws.String(stackTagKey(model.Network)), Value: aws.String(fmt.Sprintf("other/gw-%d", i))},
			{Key: aws.String(resourceTagKey(model.Network)), Value: aws.String(model.LoadBalancerID)}}
		suffix := fmt.Sprintf("%s-%02d", vpcID[len(vpcID)-6:], i)
		if _, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String("k8s-foreign-" + suffix), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(80),
			VpcId: aws.String(vpcID), TargetType: elbtypes.TargetTypeEnumIp, Tags: tags,
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
			Name: aws.String("k8s-foreign-" + suffix), Type: elbtypes.LoadBalancerTypeEnumNetwork,
			Subnets: subnets[:1], Tags: tags,
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// callDelta runs f and returns the calls it made by "service:Operation".
func callDelta(t *testing.T, c *Cloud, f func()) map[string]int {
	t.Helper()
	before := c.CallCounts()
	f()
	out := map[string]int{}
	for k, v := range c.CallCounts() {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func TestObserveDescribesOnlyTheStacksARNs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	seedForeign(t, vpcID, subnets, foreignResources)
	c, _ := newCloud(t, vpcID)
	c.listPageSize = testPageSize
	clock := (&fakeClock{}).install(c)
	const stack = "default/inventory"
	desired := nlbStack(stack, "inventory", vpcID, subnets)

	var observed *model.Stack
	first := callDelta(t, c, func() {
		var err error
		if observed, err = c.Observe(ctx, stack, model.Network); err != nil {
			t.Fatal(err)
		}
	})
	if observed.LoadBalancer != nil || len(observed.TargetGroups) != 0 {
		t.Fatalf("the stack does not exist yet, Observe found %+v", observed)
	}
	// Listing at least the foreign resources, testPageSize a page (moto answers
	// DescribeTargetGroups in one page whatever the page size), and reading their tags.
	minPages := foreignResources / testPageSize
	if first["elbv2:DescribeTargetGroups"] < 1 || first["elbv2:DescribeLoadBalancers"] < minPages {
		t.Errorf("the first Observe made %v: want the region listed (at least %d pages of load balancers)", first, minPages)
	}
	if first["elbv2:DescribeTags"] < 2*foreignResources/describeTagsLimit {
		t.Errorf("the first Observe made %d DescribeTags calls: the tags of the %d foreign resources were not read", first["elbv2:DescribeTags"], 2*foreignResources)
	}
	if c.inv.refreshCount() != 1 {
		t.Errorf("%d listings after the first Observe, want 1", c.inv.refreshCount())
	}
	if _, err := c.Apply(ctx, desired, observed, plan.Diff(desired, observed)); err != nil {
		t.Fatal(err)
	}

	// Steady state: what Apply created is known without a listing or a DescribeTags.
	steady := callDelta(t, c, func() { observeUnchanged(t, c, desired) })
	if got := steady["elbv2:DescribeLoadBalancers"]; got != 1 {
		t.Errorf("steady-state Observe made %d DescribeLoadBalancers calls, want 1 (by ARN)", got)
	}
	if got := steady["elbv2:DescribeTargetGroups"]; got != 1 {
		t.Errorf("steady-state Observe made %d DescribeTargetGroups calls, want 1 (by ARN)", got)
	}
	if got := steady["elbv2:DescribeTags"]; got != 0 {
		t.Errorf("steady-state Observe made %d DescribeTags calls, want 0", got)
	}
	if c.inv.refreshCount() != 1 {
		t.Errorf("%d listings after a steady-state Observe, want still 1", c.inv.refreshCount())
	}

	// After InventoryTTL the region is listed once more.
	clock.advance(c.opts.InventoryTTL + time.Second)
	again := callDelta(t, c, func() { observeUnchanged(t, c, desired) })
	if again["elbv2:DescribeTargetGroups"] < 2 || again["elbv2:DescribeLoadBalancers"] < 1+minPages {
		t.Errorf("Observe after InventoryTTL made %v: want one listing plus the by-ARN describes", again)
	}
	if c.inv.refreshCount() != 2 {
		t.Errorf("%d listings after InventoryTTL, want 2", c.inv.refreshCount())
	}

	// A load balancer deleted by hand is gone from the view and from the inventory.
	_, elb := rawClients(t)
	arn := observedLBARN(t, c, stack)
	if _, err := elb.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	gone, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if gone.LoadBalancer != nil {
		t.Fatalf("Observe still sees load balancer %s deleted by hand", gone.LoadBalancer.ARN)
	}
	after := callDelta(t, c, func() {
		if _, err := c.Observe(ctx, stack, model.Network); err != nil {
			t.Fatal(err)
		}
	})
	if got := after["elbv2:DescribeLoadBalancers"]; got != 0 {
		t.Errorf("Observe made %d DescribeLoadBalancers calls for a stack whose load balancer is gone from the inventory, want 0", got)
	}
	if changes := plan.Diff(desired, gone); !hasKind(changes, plan.KindLoadBalancer) {
		t.Errorf("the plan after a manual delete does not recreate the load balancer: %v", changes)
	}
}

func hasKind(changes []plan.Change, k plan.Kind) bool {
	for _, ch := range changes {
		if ch.Kind == k && ch.Op == plan.OpCreate {
			return true
		}
	}
	return false
}

func observedLBARN(t *testing.T, c *Cloud, stack string) string {
	t.Helper()
	s, err := c.Observe(context.Background(), stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if s.LoadBalancer == nil {
		t.Fatalf("stack %s has no load balancer", stack)
	}
	return s.LoadBalancer.ARN
}

// observeUnchanged observes the stack and fails unless it matches desired.
func observeUnchanged(t *testing.T, c *Cloud, desired *model.Stack) {
	t.Helper()
	observed, err := c.Observe(context.Background(), desired.ID, desired.Type)
	if err != nil {
		t.Fatal(err)
	}
	if rest := plan.Diff(desired, observed); len(rest) != 0 {
		t.Fatalf("stack %s is not in steady state: %d changes, first %s", desired.ID, len(rest), rest[0])
	}
}

func TestInventoryListsOnceForConcurrentObserves(t *testing.T) {
	t.Parallel()
	vpcID, _ := testVPC(t)
	c, _ := newCloud(t, vpcID)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := c.inventoryARNs(context.Background(), stackKey{model.Network, fmt.Sprintf("ns/gw-%d", i)}, kindTargetGroup)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := c.inv.refreshCount(); got != 1 {
		t.Errorf("8 concurrent look-ups made %d listings, want 1", got)
	}
	if got := c.CallCounts()["elbv2:DescribeLoadBalancers"]; got == 0 {
		t.Errorf("no DescribeLoadBalancers call: the region was not listed")
	}
}

func TestObserveFailsWhenTheListingFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	clock := (&fakeClock{}).install(c)
	const stack = "default/listing-fails"
	desired := nlbStack(stack, "listfail", vpcID, subnets)
	if _, err := c.Apply(ctx, desired, nil, plan.Diff(desired, nil)); err != nil {
		t.Fatal(err)
	}
	observeUnchanged(t, c, desired)
	// ELBv2 stops answering (nothing listens on port 1) and the index expires.
	c.elb = elbv2.NewFromConfig(testenv.AWSConfig("http://127.0.0.1:1", testRegion), func(o *elbv2.Options) {
		o.RetryMaxAttempts = 1
	})
	clock.advance(c.opts.InventoryTTL + time.Second)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err == nil {
		t.Fatalf("Observe answered %+v while the listing failed; want an error, never an empty stack", observed)
	}
	if !strings.Contains(err.Error(), "listing the region") {
		t.Errorf("error %q does not say the listing failed", err)
	}
	if got := c.inv.refreshCount(); got != 1 {
		t.Errorf("%d successful listings, want 1 (the failed one must not count)", got)
	}
}

func TestInventoryReplaysWritesMadeDuringAListing(t *testing.T) {
	t.Parallel()
	inv := newInventory()
	key := stackKey{model.Network, "ns/gw"}
	f := &inventoryFlight{done: make(chan struct{})}
	inv.flight = f
	// While the listing runs, Apply creates one target group and deletes another.
	inv.add(key, kindTargetGroup, "arn:created")
	inv.remove(kindTargetGroup, "arn:deleted")
	// The listing read the region before both writes.
	listed := map[stackKey]stackARNs{key: {kindTargetGroup: {"arn:deleted": {}, "arn:kept": {}}}}
	inv.finish(f, listed, nil, time.Now().Add(time.Hour))
	got := strings.Join(sortedKeys(inv.index[key][kindTargetGroup]), ",")
	if want := "arn:created,arn:kept"; got != want {
		t.Errorf("after the listing the stack's target groups are %q, want %q", got, want)
	}
	if len(inv.journal) != 0 || inv.flight != nil {
		t.Errorf("the listing left journal %v and flight %v behind", inv.journal, inv.flight)
	}
}
