package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// BenchmarkSteadyStateReconcile programs benchGateways copies of the seed's NLB Gateway with the
// package's controller, then, per iteration, sends every Gateway an event (an annotation
// change) and waits until each has been reconciled. Nothing changed, so the figures are the
// cost of a resync: AWS calls per reconcile by operation (calls/reconcile,
// describeTags/reconcile, …), write calls (must be 0) and the process's heap after GC.
func BenchmarkSteadyStateReconcile(b *testing.B) {
	gateways, err := steadyGateways()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := waitQuiet(2 * time.Second); err != nil {
		b.Fatal(err)
	}
	startCalls := env.cloud.CallCounts()
	startReconciles := nlbReconciles()
	runs := 0
	for b.Loop() {
		runs++
		for _, key := range gateways {
			patch := fmt.Sprintf(`{"metadata":{"annotations":{"bench.elbgateway.io/resync":"%d"}}}`, runs)
			gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
			if err := env.client.Patch(ctx, gw, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
				b.Fatal(err)
			}
		}
		want := startReconciles + runs*len(gateways)
		if err := waitFor(time.Minute, func() error {
			if got := nlbReconciles(); got < want {
				return fmt.Errorf("%d of %d reconciles done", got-startReconciles, want-startReconciles)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	reconciles := nlbReconciles() - startReconciles
	calls := callDelta(startCalls, env.cloud.CallCounts())
	if reconciles < runs*len(gateways) {
		b.Fatalf("%d reconciles for %d events", reconciles, runs*len(gateways))
	}
	total, writes := 0, map[string]int{}
	for _, k := range sortedKeys(calls) {
		total += calls[k]
		_, op, _ := strings.Cut(k, ":")
		if !strings.HasPrefix(op, "Describe") && !strings.HasPrefix(op, "Get") && !strings.HasPrefix(op, "List") {
			writes[k] = calls[k]
		}
		b.ReportMetric(float64(calls[k])/float64(reconciles), benchUnit(k, "reconcile"))
	}
	if len(writes) != 0 {
		b.Fatalf("steady-state reconciles wrote to AWS: %v", writes)
	}
	if calls["elbv2:DescribeTags"] == 0 {
		b.ReportMetric(0, benchUnit("elbv2:DescribeTags", "reconcile"))
	}
	b.ReportMetric(float64(total)/float64(reconciles), "calls/reconcile")
	b.ReportMetric(0, "writes/reconcile")
	b.ReportMetric(float64(reconciles)/float64(runs), "reconciles/op")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
}

const benchGateways = 10

var steady struct {
	once     sync.Once
	err      error
	gateways []types.NamespacedName
}

// steadyGateways creates the benchmark's Gateways once per process and waits until each is
// programmed with its endpoint registered.
func steadyGateways() ([]types.NamespacedName, error) {
	steady.once.Do(func() {
		for i := range benchGateways {
			ns := fmt.Sprintf("bench-steady-%d-%d", i, time.Now().UnixNano()%100000)
			if err := env.client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
				steady.err = err
				return
			}
			for _, f := range seedFiles {
				if err := createFromFile(env.client, ns, filepath.Join(env.root, f)); err != nil {
					steady.err = err
					return
				}
			}
			steady.gateways = append(steady.gateways, types.NamespacedName{Namespace: ns, Name: "aws-tcp-gateway"})
		}
		for _, key := range steady.gateways {
			if steady.err = waitFor(2*time.Minute, func() error { return programmedWithTargets(key) }); steady.err != nil {
				return
			}
		}
	})
	return steady.gateways, steady.err
}

// programmedWithTargets is nil once the Gateway is Programmed and its target group holds the
// seed's endpoint.
func programmedWithTargets(key types.NamespacedName) error {
	var gw gwv1.Gateway
	if err := env.client.Get(context.Background(), key, &gw); err != nil {
		return err
	}
	var lbARN string
	for _, c := range gw.Status.Conditions {
		if c.Type == string(gwv1.GatewayConditionProgrammed) && c.Status == metav1.ConditionTrue {
			lbARN = c.Message
		}
	}
	if lbARN == "" {
		return fmt.Errorf("Gateway %s not programmed: %s", key, conditionsText(gw.Status.Conditions))
	}
	if got := registeredTargets(lbARN); got != "192.0.2.10:3000" {
		return fmt.Errorf("Gateway %s targets %q", key, got)
	}
	return nil
}

// registeredTargets lists the targets of the load balancer's target groups as IP:PORT.
func registeredTargets(lbARN string) string {
	ctx := context.Background()
	out, err := env.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: &lbARN})
	if err != nil || len(out.TargetGroups) == 0 {
		return ""
	}
	var parts []string
	for _, tg := range out.TargetGroups {
		th, err := env.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			return ""
		}
		for _, d := range th.TargetHealthDescriptions {
			parts = append(parts, fmt.Sprintf("%s:%d", *d.Target.Id, *d.Target.Port))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// createFromFile creates the objects of a YAML file in a namespace; cluster-scoped objects that
// exist already are left as they are.
func createFromFile(c client.Client, namespace, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(raw)), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		namespaced, err := c.IsObjectNamespaced(u)
		if err != nil {
			return err
		}
		if namespaced {
			u.SetNamespace(namespace)
		}
		if err := c.Create(context.Background(), u); err != nil && !(!namespaced && apierrors.IsAlreadyExists(err)) {
			return fmt.Errorf("creating %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
}

// waitFor polls check every 50ms until it returns nil, or returns its last error after timeout.
func waitFor(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitQuiet waits until the NLB controller has not reconciled for the given time.
func waitQuiet(quiet time.Duration) error {
	last, since := nlbReconciles(), time.Now()
	return waitFor(2*time.Minute, func() error {
		if n := nlbReconciles(); n != last {
			last, since = n, time.Now()
		}
		if time.Since(since) < quiet {
			return errors.New("the controller is still reconciling")
		}
		return nil
	})
}

// nlbReconciles is controller-runtime's count of finished reconciles of the NLB Gateway controller.
func nlbReconciles() int { return reconciles("gateway-nlb") }

// reconciles is controller-runtime's count of finished reconciles of a controller of this
// process ("gateway-nlb", "gateway-alb"), whichever manager ran them.
func reconciles(controllerName string) int {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		return 0
	}
	n := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controllerName {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(n)
}

func callDelta(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// benchUnit turns "elbv2:DescribeTags" into describeTags/<per> and "ec2:DescribeSubnets" into
// ec2.describeSubnets/<per>.
func benchUnit(key, per string) string {
	service, op, _ := strings.Cut(key, ":")
	if op != "" {
		op = strings.ToLower(op[:1]) + op[1:]
	}
	if service != "elbv2" {
		op = service + "." + op
	}
	return op + "/" + per
}
