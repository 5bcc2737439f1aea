package controller_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// Fault injection (see docs/performance.md): a controller whose AWS calls pass through a
// testenv.FaultProxy in front of the shared moto must converge to exactly the resources a
// fault-free run creates, with its retries bounded, and leave nothing behind when its Gateways
// go. It runs on a cluster of its own (the package's controller would reconcile the same
// Gateways otherwise), under a cluster name of its own, in a VPC of its own, so that
// "nothing of ours is left" can be checked by the cluster tag.

const faultClusterName = "fault-cluster"

// faultWorlds numbers the fault worlds of the process: each has a cluster name of its own, so
// that worlds running side by side never share what AWS tags with the cluster's name.
var faultWorlds atomic.Int32

// faultWorld is a cluster of its own, its VPC in moto, and the proxy its controllers call AWS
// through.
type faultWorld struct {
	// name is the world's cluster name: faultClusterName and the world's number.
	name    string
	client  client.Client
	cluster *testenv.Cluster
	vpc     *testenv.VPC
	proxy   *testenv.FaultProxy
}

func TestFaultInjection(t *testing.T) {
	parallelWorld(t, true) // a world of its own (world_test.go)
	w := startFaultWorld(t)
	t.Run("throttled and failing ELBv2 calls converge without duplicates", w.throttledAndFailing)
	t.Run("a lost CreateLoadBalancer response leaves one load balancer", w.lostCreateResponse)
	t.Run("DescribeTags throttled after a restart shows on the Gateways, then converges", w.describeTagsThrottled)
	t.Run("a refused CreateLoadBalancer costs at most 10 calls in the next minute", w.refusedCreate)
	t.Run("the per-Gateway gauges follow refusals, failures and deletion", w.gatewayGauges)
	if left := w.clusterLeftovers(t); len(left) != 0 {
		t.Errorf("after every Gateway is gone, AWS still holds resources tagged with cluster %s: %v", w.name, left)
	}
}

func startFaultWorld(t testing.TB) *faultWorld {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("%s-%d", faultClusterName, faultWorlds.Add(1))
	cluster := startTestCluster(t, testenv.ClusterOptions{})
	vpc, err := testenv.SeedVPC(ctx, env.moto.Endpoint, region, name)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := testenv.NewFaultProxy(env.moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	return &faultWorld{name: name, client: newDirectClient(t, cluster), cluster: cluster, vpc: vpc, proxy: proxy}
}

// startController starts a controller (a fresh aws.Cloud: empty caches, as after a restart)
// that reaches AWS through the proxy, and stops it when the test ends or stop is called.
// maxRetries bounds the SDK's retries of one call; 0 keeps the product's default (5).
func (w *faultWorld) startController(t testing.TB, maxRetries int) (stop func()) {
	t.Helper()
	co := cloudOptions(w.name, w.vpc.VPCID, w.proxy.URL)
	co.MaxRetries = maxRetries
	cloud, err := aws.New(context.Background(), co)
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(w.name, cloud)
	o.VPCID, o.Gates = w.vpc.VPCID, controller.Gates{NLB: true}
	stop, _ = startTestController(t, w.cluster.Config, o)
	return stop
}

// throttledAndFailing: 30% of ELBv2 calls throttled, and 10% of the others answered 503, for
// the whole life of the seed Gateway.
func (w *faultWorld) throttledAndFailing(t *testing.T) {
	w.proxy.SetFaults(
		testenv.FaultRule{Kind: testenv.FaultThrottle, Service: "elasticloadbalancing", Share: 0.3},
		testenv.FaultRule{Kind: testenv.FaultServerError, Service: "elasticloadbalancing", Share: 0.1},
		testenv.FaultRule{Kind: testenv.FaultServerError, Service: "ec2", Share: 0.1},
	)
	defer w.proxy.SetFaults()
	w.proxy.ResetCounts()
	w.startController(t, 0)

	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	lbARN := w.waitProgrammed(t, ns, "aws-tcp-gateway", 3*time.Minute)
	stack := ns + "/aws-tcp-gateway"
	wantStack(t, stack, lbARN)
	tgs := targetGroups(t, lbARN)
	eventually(t, 2*time.Minute, "the endpoint registered despite the faults", func() error {
		if got := targetSummary(t, *tgs[0].TargetGroupArn); got != "192.0.2.10:3000" {
			return fmt.Errorf("targets %q", got)
		}
		return nil
	})
	if w.proxy.Injected() == 0 {
		t.Fatal("the proxy injected no fault: the controller does not call AWS through it")
	}
	created := w.proxy.ServiceCounts()
	t.Logf("calls to create the Gateway under faults (%d injected): %s", w.proxy.Injected(), countsText(created))
	// The seed's stack takes about 30 calls without faults; retries of 37% failing calls
	// roughly double that. A retry storm would not stay under these caps.
	assertCallCaps(t, created, map[string]int{
		"elasticloadbalancing:CreateLoadBalancer": 6, "elasticloadbalancing:CreateTargetGroup": 6,
		"elasticloadbalancing:CreateListener": 6, "elasticloadbalancing:DescribeTags": 30,
		"elasticloadbalancing": 200, "ec2": 100,
	})

	w.proxy.ResetCounts()
	w.deleteGateway(t, ns, "aws-tcp-gateway", 3*time.Minute)
	if left := stackLeftovers(t, stack); len(left) != 0 {
		t.Errorf("after deleting the Gateway under faults, AWS still holds %v", left)
	}
	t.Logf("calls to delete the Gateway under faults: %s", countsText(w.proxy.ServiceCounts()))
	assertCallCaps(t, w.proxy.ServiceCounts(), map[string]int{
		"elasticloadbalancing:DeleteLoadBalancer": 6, "elasticloadbalancing": 150, "ec2": 100,
	})
}

// lostCreateResponse: moto creates the load balancer but its answer is lost. On AWS the SDK's
// retry of CreateLoadBalancer would get the same load balancer back (the call is idempotent by
// name); moto would create a second one (docs/moto-notes.md), so the proxy throttles the SDK's
// retries of that call. What is tested is the controller's own recovery: the next reconcile
// finds the load balancer by its tags and creates no other. Two SDK retries instead of five
// keep the test short.
func (w *faultWorld) lostCreateResponse(t *testing.T) {
	w.proxy.SetFaults(
		testenv.FaultRule{Kind: testenv.FaultLoseResponse, Action: "CreateLoadBalancer", Times: 1},
		testenv.FaultRule{Kind: testenv.FaultThrottle, Action: "CreateLoadBalancer", Times: 10},
	)
	defer w.proxy.SetFaults()
	w.proxy.ResetCounts()
	w.startController(t, 2)

	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	lbARN := w.waitProgrammed(t, ns, "aws-tcp-gateway", 2*time.Minute)
	stack := ns + "/aws-tcp-gateway"
	wantStack(t, stack, lbARN)
	counts := w.proxy.Counts()
	t.Logf("calls to create the Gateway with a lost response: %s", countsText(counts))
	if w.proxy.Injected() == 0 {
		t.Fatal("the proxy lost no CreateLoadBalancer response")
	}
	// One lost call and its two retries, throttled; the next reconcile creates nothing.
	if got := counts["CreateLoadBalancer"]; got != 3 {
		t.Errorf("CreateLoadBalancer called %d times, want 3 (the lost call and two SDK retries)", got)
	}

	w.deleteGateway(t, ns, "aws-tcp-gateway", 2*time.Minute)
	if left := stackLeftovers(t, stack); len(left) != 0 {
		t.Errorf("after deleting the Gateway, AWS still holds %v", left)
	}
}

// describeTagsThrottled: a Gateway exists; the controller restarts (its tag cache is empty)
// while every DescribeTags call is throttled, and a second Gateway is created meanwhile. Both
// report the error in Programmed; nothing is created twice; when the throttling stops both
// are programmed, the first with the load balancer it had. Two SDK retries instead of five
// keep the test short.
func (w *faultWorld) describeTagsThrottled(t *testing.T) {
	stop := w.startController(t, 2)
	nsA := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, nsA, seedFiles...)
	lbA := w.waitProgrammed(t, nsA, "aws-tcp-gateway", time.Minute)
	stop()

	w.proxy.SetFault(testenv.FaultRule{Kind: testenv.FaultThrottle, Service: "elasticloadbalancing", Action: "DescribeTags"})
	w.proxy.ResetCounts()
	faultStart := time.Now()
	w.startController(t, 2)
	nsB := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, nsB, seedFiles...)
	for _, ns := range []string{nsA, nsB} {
		eventually(t, 2*time.Minute, "Gateway "+ns+" reports the throttling", func() error {
			c, err := w.programmed(ns, "aws-tcp-gateway")
			if err != nil {
				return err
			}
			if c.Status != metav1.ConditionFalse || c.Reason != string(gwv1.GatewayReasonPending) ||
				!strings.Contains(c.Message, "DescribeTags") {
				return fmt.Errorf("Programmed %s/%s %q, want False/Pending naming DescribeTags", c.Status, c.Reason, c.Message)
			}
			return nil
		})
	}
	// Gateway B never got through a reconcile: none of its conditions may still be the CRD's
	// defaults (no observedGeneration), as if nothing had looked at it.
	var gwB gwv1.Gateway
	if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: nsB, Name: "aws-tcp-gateway"}, &gwB); err != nil {
		t.Fatal(err)
	}
	for _, c := range gwB.Status.Conditions {
		if c.ObservedGeneration != gwB.Generation {
			t.Errorf("Gateway %s condition %s is of generation %d after a failed reconcile of generation %d", nsB, c.Type, c.ObservedGeneration, gwB.Generation)
		}
	}
	if c := meta.FindStatusCondition(gwB.Status.Conditions, string(gwv1.GatewayConditionAccepted)); c == nil ||
		c.Status != metav1.ConditionUnknown || !strings.Contains(c.Message, "DescribeTags") {
		t.Errorf("Gateway %s Accepted %+v after a failed first reconcile, want Unknown naming the failure", nsB, c)
	}
	throttled := w.proxy.Counts()
	w.proxy.SetFaults()
	t.Logf("calls in %s of throttled DescribeTags: %s", time.Since(faultStart).Round(time.Second), countsText(throttled))
	for _, op := range []string{"CreateLoadBalancer", "CreateTargetGroup", "CreateListener", "CreateSecurityGroup"} {
		if throttled[op] != 0 {
			t.Errorf("%s called %d times while ownership could not be read: the controller must not create blind", op, throttled[op])
		}
	}
	// Each failing call makes 3 attempts; the work queue's backoff keeps the reconciles of two
	// Gateways to a handful in that time.
	assertCallCaps(t, throttled, map[string]int{"DescribeTags": 30})

	if got := w.waitProgrammed(t, nsA, "aws-tcp-gateway", 2*time.Minute); got != lbA {
		t.Errorf("Gateway %s has load balancer %s after the fault, want the one it had, %s", nsA, got, lbA)
	}
	lbB := w.waitProgrammed(t, nsB, "aws-tcp-gateway", 2*time.Minute)
	wantStack(t, nsA+"/aws-tcp-gateway", lbA)
	wantStack(t, nsB+"/aws-tcp-gateway", lbB)

	for _, ns := range []string{nsA, nsB} {
		w.deleteGateway(t, ns, "aws-tcp-gateway", 2*time.Minute)
		if left := stackLeftovers(t, ns+"/aws-tcp-gateway"); len(left) != 0 {
			t.Errorf("after deleting Gateway %s, AWS still holds %v", ns, left)
		}
	}
}

func (w *faultWorld) programmed(ns, name string) (*metav1.Condition, error) {
	var gw gwv1.Gateway
	if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
		return nil, err
	}
	c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
	if c == nil {
		return nil, fmt.Errorf("no Programmed condition yet: %s", conditionsText(gw.Status.Conditions))
	}
	return c, nil
}

// waitProgrammed waits for Programmed=True and returns the load balancer ARN (its message).
func (w *faultWorld) waitProgrammed(t testing.TB, ns, name string, timeout time.Duration) string {
	t.Helper()
	var arn string
	eventually(t, timeout, "Gateway "+ns+"/"+name+" programmed", func() error {
		c, err := w.programmed(ns, name)
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue {
			return fmt.Errorf("Programmed %s/%s %q", c.Status, c.Reason, c.Message)
		}
		arn = c.Message
		return nil
	})
	return arn
}

// deleteGateway deletes a Gateway and waits until the controller has let it go.
func (w *faultWorld) deleteGateway(t testing.TB, ns, name string, timeout time.Duration) {
	t.Helper()
	gw := &gwv1.Gateway{}
	gw.Namespace, gw.Name = ns, name
	if err := w.client.Delete(context.Background(), gw); err != nil {
		t.Fatal(err)
	}
	eventually(t, timeout, "Gateway "+ns+"/"+name+" gone", func() error {
		err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, gw)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there with finalizers %v: %s", gw.Finalizers, conditionsText(gw.Status.Conditions))
	})
}

// wantStack checks that AWS holds exactly the seed's stack: one load balancer (lbARN), one
// listener, one target group and one managed security group.
func wantStack(t *testing.T, stack, lbARN string) {
	t.Helper()
	kinds := map[string][]string{}
	for _, id := range stackLeftovers(t, stack) {
		kind := "security group"
		switch {
		case strings.Contains(id, ":loadbalancer/"):
			kind = "load balancer"
		case strings.Contains(id, ":listener/"):
			kind = "listener"
		case strings.Contains(id, ":targetgroup/"):
			kind = "target group"
		}
		kinds[kind] = append(kinds[kind], id)
	}
	for _, kind := range []string{"load balancer", "listener", "target group", "security group"} {
		if len(kinds[kind]) != 1 {
			t.Errorf("stack %s has %d %ss in AWS, want 1: %v", stack, len(kinds[kind]), kind, kinds[kind])
		}
	}
	if lbs := kinds["load balancer"]; len(lbs) == 1 && lbs[0] != lbARN {
		t.Errorf("stack %s has load balancer %s, the Gateway reports %s", stack, lbs[0], lbARN)
	}
}

// clusterLeftovers lists what AWS holds tagged with the world's cluster name: load balancers,
// listeners and target groups of the VPC, and its security groups.
func (w *faultWorld) clusterLeftovers(t *testing.T) []string {
	t.Helper()
	left := taggedELBResources(t, w.vpc.VPCID, "elbv2.k8s.aws/cluster", w.name)
	groups := securityGroups(t, ec2types.Filter{Name: awssdk.String("vpc-id"), Values: []string{w.vpc.VPCID}},
		tagFilter("elbv2.k8s.aws/cluster", w.name))
	for _, g := range groups {
		left = append(left, awssdk.ToString(g.GroupId)+" ("+awssdk.ToString(g.GroupName)+")")
	}
	sort.Strings(left)
	return left
}

// assertCallCaps fails for each key of caps whose calls exceed it. A key is an action
// ("CreateLoadBalancer"), a "service:Action", or a service alone (all its actions).
func assertCallCaps(t *testing.T, counts map[string]int, caps map[string]int) {
	t.Helper()
	for _, key := range sortedKeys(caps) {
		got := counts[key]
		if !strings.Contains(key, ":") {
			for k, n := range counts {
				if strings.HasPrefix(k, key+":") {
					got += n
				}
			}
		}
		if got > caps[key] {
			t.Errorf("%s: %d calls, want at most %d (retries must stay bounded)", key, got, caps[key])
		}
	}
}

func countsText(counts map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(counts) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
