package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/elbgateway/elbgateway/internal/model"
)

func TestFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, reg := newCloud(t, vpcID)
	const stack = "default/facts"
	req := FactsRequest{StackID: stack, Type: model.Network, LoadBalancerName: "k8s-lb-facts", TargetGroupNames: []string{"k8s-tg1-facts", "does-not-exist"}}

	f, err := c.Facts(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range f.Subnets {
		ids = append(ids, s.ID)
		if s.VPCID != vpcID || s.AvailabilityZone == "" || s.Tags["kubernetes.io/role/elb"] != "1" {
			t.Errorf("subnet %+v lacks its VPC, zone or tags", s)
		}
	}
	sorted := slices.Clone(subnets)
	slices.Sort(sorted)
	if !slices.Equal(ids, sorted) {
		t.Errorf("subnets: got %v, want %v (sorted)", ids, sorted)
	}
	if f.ExistingLoadBalancer != nil || len(f.TargetGroupARNs) != 0 {
		t.Errorf("before creation: want no load balancer and no target groups, got %+v", f)
	}

	converge(t, c, nlbStack(stack, "facts", vpcID, subnets))
	before := c.CallCounts()
	f, err = c.Facts(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if d := c.CallCounts()["ec2:DescribeSubnets"] - before["ec2:DescribeSubnets"]; d != 0 {
		t.Errorf("second Facts made %d DescribeSubnets calls, want 0 (cached)", d)
	}
	// Subnets are remembered like the other facts: an hour later still, until a resync pass
	// (WithFreshRead) or a refused write that named subnets.
	subnetReads := func(ctx context.Context, after func()) int {
		t.Helper()
		before := c.CallCounts()["ec2:DescribeSubnets"]
		after()
		if _, err := c.Facts(ctx, req); err != nil {
			t.Fatal(err)
		}
		return c.CallCounts()["ec2:DescribeSubnets"] - before
	}
	later := time.Now().Add(time.Hour)
	if d := subnetReads(ctx, func() { c.now = func() time.Time { return later } }); d != 0 {
		t.Errorf("Facts an hour later made %d DescribeSubnets calls, want 0 (remembered until a resync pass)", d)
	}
	if d := subnetReads(WithFreshRead(ctx), func() {}); d != 1 {
		t.Errorf("Facts of a resync pass made %d DescribeSubnets calls, want 1", d)
	}
	if d := subnetReads(ctx, func() {}); d != 0 {
		t.Errorf("Facts after the resync pass made %d DescribeSubnets calls, want 0", d)
	}
	if d := subnetReads(ctx, c.forgetSubnets); d != 1 {
		t.Errorf("Facts after refused subnets made %d DescribeSubnets calls, want 1", d)
	}
	c.now = time.Now
	if e := f.ExistingLoadBalancer; e == nil || e.Scheme != "internet-facing" || !slices.Equal(e.Subnets, sorted) {
		t.Errorf("existing load balancer: got %+v, want internet-facing in %v", e, sorted)
	}
	if arn := f.TargetGroupARNs["k8s-tg1-facts"]; !strings.Contains(arn, ":targetgroup/k8s-tg1-facts/") {
		t.Errorf("target group ARN by name: got %q", arn)
	}
	if _, ok := f.TargetGroupARNs["does-not-exist"]; ok {
		t.Errorf("a missing target group name has an ARN: %v", f.TargetGroupARNs)
	}

	if got, want := counterValue(t, reg, "ec2", "DescribeSubnets", "success"), float64(c.CallCounts()["ec2:DescribeSubnets"]); got != want || got == 0 {
		t.Errorf("elbgateway_aws_api_calls_total{service=ec2,operation=DescribeSubnets,outcome=success} = %g, want %g (and > 0)", got, want)
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
}

// TestSubnetsSharedByResyncPasses: the VPC's subnets are one fact for every Gateway. Five
// Gateways whose resync passes come half a minute apart read them once a period, not five
// times: the first pass a period after the last read reads them, the others take that read.
// A refused write that named subnets, and a plain WithFreshRead, still read them at once.
func TestSubnetsSharedByResyncPasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, _ := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const period = 10 * time.Minute
	passes := NewFreshPasses(period)
	start := time.Now()
	clock := start
	passes.now = func() time.Time { return clock }
	c.now = passes.now
	gateways := []string{"default/gw-0", "default/gw-1", "default/gw-2", "default/gw-3", "default/gw-4"}
	reads := func(ctx context.Context, key string) int {
		t.Helper()
		before := c.CallCounts()["ec2:DescribeSubnets"]
		if _, err := c.Facts(ctx, FactsRequest{StackID: key, Type: model.Network}); err != nil {
			t.Fatal(err)
		}
		return c.CallCounts()["ec2:DescribeSubnets"] - before
	}

	n := 0
	for _, gw := range gateways {
		n += reads(passes.Context(ctx, gw), gw)
	}
	if n != 1 {
		t.Errorf("the Gateways' first reconciles read the subnets %d times, want 1", n)
	}
	for round := 1; round <= 3; round++ {
		n = 0
		for i, gw := range gateways {
			clock = start.Add(time.Duration(round)*period + time.Duration(i)*30*time.Second)
			pass := passes.Context(ctx, gw)
			if !freshRead(pass) {
				t.Fatalf("round %d: %s's reconcile a period after its last pass is not a resync pass", round, gw)
			}
			n += reads(pass, gw)
		}
		if n != 1 {
			t.Errorf("round %d: %d Gateways' resync passes read the subnets %d times, want 1", round, len(gateways), n)
		}
	}
	c.forgetSubnets()
	if d := reads(ctx, gateways[1]); d != 1 {
		t.Errorf("a reconcile after refused subnets read the subnets %d times, want 1", d)
	}
	if d := reads(WithFreshRead(ctx), gateways[2]); d != 1 {
		t.Errorf("a read WithFreshRead right after another read the subnets %d times, want 1", d)
	}
}

// TestDescribeTagsChunks: tags of 45 target groups in the VPC take three DescribeTags calls
// (20 ARNs each at most), and none on the next Observe.
func TestDescribeTagsChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, _ := testVPC(t)
	_, elb := rawClients(t)
	for i := 0; i < 45; i++ {
		if _, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: aws.String(fmt.Sprintf("other-%s-%d", vpcID[len(vpcID)-6:], i)), Protocol: elbtypes.ProtocolEnumTcp,
			Port: aws.Int32(80), VpcId: aws.String(vpcID), TargetType: elbtypes.TargetTypeEnumIp,
		}); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := newCloud(t, vpcID)
	if _, err := c.Observe(ctx, "default/chunks", model.Network); err != nil {
		t.Fatal(err)
	}
	if got := c.CallCounts()["elbv2:DescribeTags"]; got != 3 {
		t.Errorf("first Observe: %d DescribeTags calls for 45 target groups, want 3", got)
	}
	if _, err := c.Observe(ctx, "default/chunks", model.Network); err != nil {
		t.Fatal(err)
	}
	if got := c.CallCounts()["elbv2:DescribeTags"]; got != 3 {
		t.Errorf("second Observe: DescribeTags calls went to %d, want still 3 (cache)", got)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, service, op, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "elbgateway_aws_api_calls_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["service"] == service && labels["operation"] == op && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
