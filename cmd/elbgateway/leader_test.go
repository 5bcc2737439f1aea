//go:build demo

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// replica is one controller manager of the leader election test, with its own AWS client so
// its calls are counted apart.
type replica struct {
	name  string
	cloud *aws.Cloud
	mgr   ctrl.Manager
	stop  context.CancelFunc
	done  chan error
}

// TestLeaderElection runs two controller managers against one API server and one moto: only the
// elected one writes to AWS, and when it stops the other takes over and reconciles a new Gateway.
func TestLeaderElection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	setLogger("error", &bytes.Buffer{})
	moto, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer moto.Stop()
	vpc, err := testenv.SeedVPC(ctx, moto.Endpoint, demoRegion, demoCluster)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := testenv.StartCluster(ctx, testenv.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cluster.Stop() }()

	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", port)
	start := func(name string) *replica {
		cloud, err := aws.New(ctx, aws.Options{
			Region: demoRegion, VPCID: vpc.VPCID, ClusterName: demoCluster, Endpoint: moto.Endpoint,
			Credentials: credentials.NewStaticCredentialsProvider(testenv.TestAccessKeyID, testenv.TestSecretAccessKey, ""),
			Registerer:  metrics.Registry,
		})
		if err != nil {
			t.Fatal(err)
		}
		addr := "0"
		if name == "a" {
			addr = metricsAddr
		}
		f := controllerFlags{clusterName: demoCluster, region: demoRegion, vpcID: vpc.VPCID, targetType: "instance",
			scheme: "internal", metricsAddr: addr, probeAddr: "0",
			leader: leaderFlags{enabled: true, namespace: "kube-system",
				leaseDuration: 3 * time.Second, renewDeadline: 2 * time.Second, retryPeriod: 200 * time.Millisecond}}
		f.gates.gates = controller.Gates{NLB: true, ALB: true}
		mgr, err := newManager(cluster.Config, managerOptions{flags: f, cloud: cloud, inProcess: true})
		if err != nil {
			t.Fatal(err)
		}
		mctx, stop := context.WithCancel(ctx)
		r := &replica{name: name, cloud: cloud, mgr: mgr, stop: stop, done: make(chan error, 1)}
		go func() { r.done <- mgr.Start(mctx) }()
		return r
	}
	a, b := start("a"), start("b")
	defer func() {
		for _, r := range []*replica{a, b} {
			r.stop()
			<-r.done
			r.done <- nil
		}
	}()

	c := a.mgr.GetClient()
	if err := applySeed(ctx, c, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := waitGatewayProgrammed(ctx, a.mgr.GetAPIReader(), "aws-tcp-gateway"); err != nil {
		t.Fatal(err)
	}
	leader, follower := elected(t, a, b)
	if w := writeCalls(leader.cloud); len(w) == 0 {
		t.Errorf("leader %s made no AWS writes; calls %v", leader.name, leader.cloud.CallCounts())
	}
	if w := writeCalls(follower.cloud); len(w) > 0 {
		t.Errorf("non-leader %s wrote to AWS: %v", follower.name, w)
	}
	checkMetrics(t, "http://"+metricsAddr+"/metrics")
	firstHolder := leaseHolder(ctx, t, follower.mgr.GetAPIReader())
	if firstHolder == "" {
		t.Fatalf("Lease kube-system/%s has no holder", leaderElectionID)
	}

	// The leader stops; the follower takes over and reconciles a Gateway created after.
	leader.stop()
	if err := <-leader.done; err != nil {
		t.Errorf("leader %s stopped with %v", leader.name, err)
	}
	leader.done <- nil
	select {
	case <-follower.mgr.Elected():
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %s was not elected within 30s of the leader stopping", follower.name)
	}
	second := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "second-gateway"},
		Spec: gwv1.GatewaySpec{GatewayClassName: "aws-nlb-gateway-class", Listeners: []gwv1.Listener{{
			Name: "tcp", Protocol: gwv1.TCPProtocolType, Port: 9000,
		}}},
	}
	if err := follower.mgr.GetClient().Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	if _, err := waitGatewayProgrammed(ctx, follower.mgr.GetAPIReader(), second.Name); err != nil {
		t.Fatal(err)
	}
	if got := follower.cloud.CallCounts()["elbv2:CreateLoadBalancer"]; got == 0 {
		t.Errorf("new leader %s created no load balancer; calls %v", follower.name, follower.cloud.CallCounts())
	}
	if holder := leaseHolder(ctx, t, follower.mgr.GetAPIReader()); holder == firstHolder {
		t.Errorf("Lease holder still %q after the leader stopped", holder)
	}
}

// checkMetrics reads the Prometheus endpoint and checks the series docs/install.md documents.
func checkMetrics(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("reading metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`controller_runtime_reconcile_total{controller="gateway-nlb",result="success"}`,
		`controller_runtime_reconcile_errors_total{controller="gateway-nlb"}`,
		`controller_runtime_reconcile_time_seconds_bucket{controller="gateway-nlb"`,
		`workqueue_depth{controller="gateway-nlb",name="gateway-nlb",priority="0"}`,
		`workqueue_depth{controller="targets",name="targets",priority="0"}`,
		`elbgateway_aws_api_calls_total{operation="CreateLoadBalancer",outcome="success",service="elbv2"}`,
		`leader_election_master_status{name="elbgateway-leader"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// elected returns the replica that won the election and the other one, failing when both or
// neither did.
func elected(t *testing.T, a, b *replica) (leader, follower *replica) {
	t.Helper()
	isElected := func(r *replica) bool {
		select {
		case <-r.mgr.Elected():
			return true
		default:
			return false
		}
	}
	switch ea, eb := isElected(a), isElected(b); {
	case ea && !eb:
		return a, b
	case eb && !ea:
		return b, a
	default:
		t.Fatalf("elected: a=%t b=%t, want exactly one", ea, eb)
		return nil, nil
	}
}

// writeCalls lists the AWS operations of a Cloud that change something, sorted.
func writeCalls(c *aws.Cloud) []string {
	var out []string
	for op, n := range c.CallCounts() {
		_, name, _ := strings.Cut(op, ":")
		if n > 0 && !strings.HasPrefix(name, "Describe") && !strings.HasPrefix(name, "Get") && !strings.HasPrefix(name, "List") {
			out = append(out, op)
		}
	}
	sort.Strings(out)
	return out
}

func leaseHolder(ctx context.Context, t *testing.T, c client.Reader) string {
	t.Helper()
	var lease coordinationv1.Lease
	if err := c.Get(ctx, types.NamespacedName{Namespace: "kube-system", Name: leaderElectionID}, &lease); err != nil {
		t.Fatalf("reading the leader election Lease: %v", err)
	}
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// waitGatewayProgrammed waits up to a minute for a default-namespace Gateway to be programmed.
func waitGatewayProgrammed(ctx context.Context, r client.Reader, name string) (*gwv1.Gateway, error) {
	deadline := time.Now().Add(time.Minute)
	var gw gwv1.Gateway
	for {
		err := r.Get(ctx, types.NamespacedName{Namespace: "default", Name: name}, &gw)
		if err == nil && meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)) {
			return &gw, nil
		}
		if time.Now().After(deadline) {
			return nil, &timeoutError{name: name, conditions: conditionsText(gw.Status.Conditions)}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type timeoutError struct{ name, conditions string }

func (e *timeoutError) Error() string {
	return "Gateway " + e.name + " not programmed within a minute; conditions: " + e.conditions
}
