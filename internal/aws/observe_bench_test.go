package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// The Observe benchmarks read stacks that exist in moto and report the AWS calls one Observe
// makes, per operation (describeloadbalancers/op, describetags/op, …) and in all (calls/op).
// In steady state the inventory knows the stack's ARNs and the tag cache answers every ownership
// question: no region-wide listing and no DescribeTags at all, only by-ARN describes.
// After a restart (a new Cloud, an empty cache) the first Observe pays one DescribeTags per 20
// resources it has not seen.

// benchWorld is an NLB stack and an ALB stack that exist in one VPC of moto, made once for all
// Observe benchmarks.
var benchWorld struct {
	once sync.Once
	err  error
	vpc  *testenv.VPC
	nlb  *model.Stack
	alb  *model.Stack
}

func benchStacks(b *testing.B) (vpcID string, nlb, alb *model.Stack) {
	b.Helper()
	w := &benchWorld
	w.once.Do(func() { w.err = buildBenchWorld(context.Background()) })
	if w.err != nil {
		b.Fatal(w.err)
	}
	return w.vpc.VPCID, w.nlb, w.alb
}

func buildBenchWorld(ctx context.Context) error {
	w := &benchWorld
	vpc, err := testenv.SeedVPC(ctx, moto.Endpoint, testRegion, testCluster)
	if err != nil {
		return err
	}
	w.vpc = vpc
	w.nlb = nlbStack("bench/nlb", "bench-nlb", vpc.VPCID, vpc.PublicSubnets)
	w.alb = albStack("bench/alb", "bench-alb", vpc.VPCID, vpc.PrivateSubnets, nil)
	// The HTTP listener with its ten rules of every condition and action type; the HTTPS one
	// would need an imported certificate.
	w.alb.Listeners = w.alb.Listeners[:1]
	w.alb.SecurityGroups[0].Ingress = w.alb.SecurityGroups[0].Ingress[:1]
	c, err := benchCloud(ctx, vpc.VPCID)
	if err != nil {
		return err
	}
	for _, s := range []*model.Stack{w.nlb, w.alb} {
		observed, err := c.Observe(ctx, s.ID, s.Type)
		if err != nil {
			return err
		}
		if _, err := c.Apply(ctx, s, observed, plan.Diff(s, observed)); err != nil {
			return fmt.Errorf("creating %s: %w", s.ID, err)
		}
	}
	return nil
}

// foreignTargetGroups is how many target groups of another cluster share the busy VPC: more
// than one page of DescribeTargetGroups (400).
const foreignTargetGroups = 500

// busy is a VPC with an NLB stack of ours and foreignTargetGroups target groups of another
// cluster, made once.
var busy busyWorld

type busyWorld struct {
	once  sync.Once
	err   error
	vpcID string
	nlb   *model.Stack
}

func busyVPC(ctx context.Context) (*busyWorld, error) {
	busy.once.Do(func() {
		vpc, err := testenv.SeedVPC(ctx, moto.Endpoint, testRegion, testCluster)
		if err != nil {
			busy.err = err
			return
		}
		busy.vpcID = vpc.VPCID
		elb := elbv2.NewFromConfig(testenv.AWSConfig(moto.Endpoint, testRegion))
		for i := range foreignTargetGroups {
			_, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
				Name: aws.String(fmt.Sprintf("k8s-other-%04d", i)), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(80),
				VpcId: aws.String(vpc.VPCID), TargetType: elbtypes.TargetTypeEnumIp,
				Tags: []elbtypes.Tag{{Key: aws.String(clusterTagKey), Value: aws.String("other-cluster")},
					{Key: aws.String("gateway.k8s.aws.nlb/stack"), Value: aws.String(fmt.Sprintf("other/gw-%d", i))}},
			})
			if err != nil {
				busy.err = err
				return
			}
		}
		busy.nlb = nlbStack("bench/busy", "bench-busy", vpc.VPCID, vpc.PublicSubnets)
		c, err := benchCloud(ctx, vpc.VPCID)
		if err != nil {
			busy.err = err
			return
		}
		observed, err := c.Observe(ctx, busy.nlb.ID, busy.nlb.Type)
		if err != nil {
			busy.err = err
			return
		}
		_, busy.err = c.Apply(ctx, busy.nlb, observed, plan.Diff(busy.nlb, observed))
	})
	return &busy, busy.err
}

func benchCloud(ctx context.Context, vpcID string) (*Cloud, error) {
	return New(ctx, Options{
		Region: testRegion, VPCID: vpcID, ClusterName: testCluster, Endpoint: moto.Endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(testenv.TestAccessKeyID, testenv.TestSecretAccessKey, ""),
		// The benchmark measures calls, not our client-side rate limit.
		RateLimits: RateLimits{FamilyELBDescribe: {PerSecond: 1e6, Burst: 1e6}, FamilyEC2Describe: {PerSecond: 1e6, Burst: 1e6}},
	})
}

// observeCase is one stack an Observe benchmark reads, in the VPC it stands in.
type observeCase struct {
	name  string
	vpcID string
	stack *model.Stack
}

// observeCases are the stacks the Observe benchmarks read: the network and application stacks,
// and a network stack in a VPC busy with another cluster's target groups.
func observeCases(b *testing.B) []observeCase {
	b.Helper()
	vpcID, nlb, alb := benchStacks(b)
	busy, err := busyVPC(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return []observeCase{
		{"network", vpcID, nlb},
		{"application", vpcID, alb},
		{"busy-account", busy.vpcID, busy.nlb},
	}
}

func BenchmarkObserveSteadyState(b *testing.B) {
	for _, bc := range observeCases(b) {
		vpcID, s := bc.vpcID, bc.stack
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			c, err := benchCloud(ctx, vpcID)
			if err != nil {
				b.Fatal(err)
			}
			observeChecked(b, c, s) // warms the caches, as the reconcile that created the stack did
			listings := c.inv.refreshCount()
			before := c.CallCounts()
			n := 0
			for b.Loop() {
				observeChecked(b, c, s)
				n++
			}
			calls := reportCalls(b, before, c.CallCounts(), n)
			if calls["elbv2:DescribeTags"] != 0 {
				b.Fatalf("steady-state Observe made %d DescribeTags calls in %d runs, want 0", calls["elbv2:DescribeTags"], n)
			}
			if w := writes(calls); len(w) != 0 {
				b.Fatalf("Observe made write calls %v", w)
			}
			// No region-wide listing: the stack's own ARNs only, 20 a call.
			if got := c.inv.refreshCount(); got != listings {
				b.Fatalf("steady-state Observe listed the region %d times in %d runs, want 0", got-listings, n)
			}
			if got, want := calls["elbv2:DescribeLoadBalancers"], n; got != want {
				b.Fatalf("steady-state Observe made %d DescribeLoadBalancers calls in %d runs, want %d (by ARN)", got, n, want)
			}
			if got, want := calls["elbv2:DescribeTargetGroups"], n*((len(s.TargetGroups)+describeByARNLimit-1)/describeByARNLimit); got != want {
				b.Fatalf("steady-state Observe made %d DescribeTargetGroups calls in %d runs, want %d (by ARN)", got, n, want)
			}
		})
	}
}

// BenchmarkObserveAfterRestart is the first Observe of a new process: every tag is read once.
// "busy-account" adds foreignTargetGroups target groups of another cluster to the VPC, as in an
// account shared by several clusters: their tags are read once too, 20 per call.
func BenchmarkObserveAfterRestart(b *testing.B) {
	for _, bc := range observeCases(b) {
		vpcID, s := bc.vpcID, bc.stack
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			total := map[string]int{}
			n := 0
			for b.Loop() {
				c, err := benchCloud(ctx, vpcID)
				if err != nil {
					b.Fatal(err)
				}
				observeChecked(b, c, s)
				for k, v := range c.CallCounts() {
					total[k] += v
				}
				n++
			}
			calls := reportCalls(b, map[string]int{}, total, n)
			if calls["elbv2:DescribeTags"] == 0 {
				b.Fatalf("a first Observe made no DescribeTags call: the cache cannot be warm in a new Cloud")
			}
			if bc.name == "busy-account" && calls["elbv2:DescribeTags"] < n*foreignTargetGroups/describeTagsLimit {
				b.Fatalf("%d DescribeTags calls in %d runs: the %d foreign target groups were not read", calls["elbv2:DescribeTags"], n, foreignTargetGroups)
			}
		})
	}
}

// observeChecked observes s and fails unless AWS holds all of it.
func observeChecked(b *testing.B, c *Cloud, s *model.Stack) {
	b.Helper()
	observed, err := c.Observe(context.Background(), s.ID, s.Type)
	if err != nil {
		b.Fatal(err)
	}
	if rest := plan.Diff(s, observed); len(rest) != 0 {
		b.Fatalf("the benchmark stack %s is not in steady state: %d changes, first %s", s.ID, len(rest), rest[0])
	}
}

// reportCalls reports the calls between two CallCounts snapshots per run: each operation as
// "<operation>/op" and all of them as calls/op. It returns the totals by "service:Operation".
func reportCalls(b *testing.B, before, after map[string]int, runs int) map[string]int {
	b.Helper()
	if runs == 0 {
		return nil
	}
	delta := map[string]int{}
	total := 0
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			delta[k] = d
			total += d
		}
	}
	keys := make([]string, 0, len(delta))
	for k := range delta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.ReportMetric(float64(delta[k])/float64(runs), metricUnit(k))
	}
	b.ReportMetric(float64(total)/float64(runs), "calls/op")
	if _, ok := delta["elbv2:DescribeTags"]; !ok {
		b.ReportMetric(0, metricUnit("elbv2:DescribeTags"))
	}
	return delta
}

// metricUnit turns "elbv2:DescribeTags" into describeTags/op and "ec2:DescribeSecurityGroups"
// into ec2.describeSecurityGroups/op: ELBv2 is the API that throttles, the others say theirs.
func metricUnit(key string) string {
	service, op, _ := strings.Cut(key, ":")
	if op != "" {
		op = strings.ToLower(op[:1]) + op[1:]
	}
	if service != "elbv2" {
		op = service + "." + op
	}
	return op + "/op"
}

// writes keeps the operations of calls that change something.
func writes(calls map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range calls {
		service, op, _ := strings.Cut(k, ":")
		if f := family(service, op); f != FamilyELBDescribe && f != FamilyEC2Describe {
			out[k] = v
		}
	}
	return out
}
