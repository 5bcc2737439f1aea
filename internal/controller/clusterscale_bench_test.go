package controller_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// clusterScale is the size of BenchmarkClusterScale's cluster: services Services, each with one
// EndpointSlice of endpoints ready endpoints; secrets TLS Secrets no Gateway uses; gateways ALB
// Gateways with routes HTTPRoutes in all, each to a Service of its own (ip targets).
type clusterScale struct {
	services, endpoints, secrets, gateways, routes int
}

// fullClusterScale is the cluster: 10,000 Services + EndpointSlices (5 endpoints each),
// 6,000 TLS Secrets, 1,000 HTTPRoutes over 10 ALB Gateways. 100 routes on one ALB is AWS's default
// quota of 100 rules per load balancer, exactly: the routes are programmed with one Gateway one
// route short, and the route added afterwards fills it.
var fullClusterScale = clusterScale{services: 10000, endpoints: 5, secrets: 6000, gateways: 10, routes: 1000}

// clusterScaleEnv scales BenchmarkClusterScale's cluster down: ELBGATEWAY_CLUSTER_SCALE=0.2 makes
// it 2,000 Services, 1,200 Secrets and 200 routes over 2 Gateways, for trying changes quickly.
const clusterScaleEnv = "ELBGATEWAY_CLUSTER_SCALE"

// benchClusterScale is fullClusterScale, scaled down by $ELBGATEWAY_CLUSTER_SCALE when set.
func benchClusterScale(b *testing.B) clusterScale {
	v := os.Getenv(clusterScaleEnv)
	if v == "" {
		return fullClusterScale
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1 {
		b.Fatalf("%s=%q: want a fraction in (0, 1]", clusterScaleEnv, v)
	}
	s := fullClusterScale
	s.services = max(1, int(float64(s.services)*f))
	s.secrets = int(float64(s.secrets) * f)
	s.gateways = max(1, int(float64(s.gateways)*f))
	s.routes = s.gateways * (fullClusterScale.routes / fullClusterScale.gateways)
	s.services = max(s.services, s.routes)
	return s
}

// clusterScaleResult is what one run measured.
type clusterScaleResult struct {
	setupSeconds, programSeconds float64
	rssBytes, heapBytes          float64
	// rssAnonBytes and rssFileBytes split RSS: memory the process allocated, and pages of its
	// executable (and other mapped files).
	rssAnonBytes, rssFileBytes float64
	programCalls, addedCalls   map[string]int
	routesProgrammed, gateways int
	// Gateway reconciles (the gateway-alb controller's) while programming and for the route added.
	programReconciles, addedReconciles int
}

// BenchmarkClusterScale runs the controller binary against a cluster of fullClusterScale's size
// (kube-apiserver + moto behind the strict layer, every AWS call counted by a proxy). It reports:
//
//   - setup-s: creating the Services, EndpointSlices and Secrets (not the controller's work);
//   - program-s, program-calls, calls/route: from creating the Gateways and routes until every
//     route's rule is in AWS and the controller is quiet;
//   - rss-MB, heap-MB: the controller's resident memory and Go heap in use (its own metrics)
//     with the whole cluster cached and every Gateway programmed;
//   - added-calls: the calls of one route added afterwards, until quiet.
//
// Run it with make bench PKGS=./internal/controller/ BENCHTIME=1x (about 17 minutes on 2 cores),
// or at a fraction of the size with ELBGATEWAY_CLUSTER_SCALE (see clusterScaleEnv).
func BenchmarkClusterScale(b *testing.B) {
	for b.Loop() {
		r := runClusterScale(b, benchClusterScale(b))
		b.Logf("setup: %.1f s; program: %.1f s, %d calls (%.2f/route): %s", r.setupSeconds, r.programSeconds,
			total(r.programCalls), float64(total(r.programCalls))/float64(r.routesProgrammed), countsText(r.programCalls))
		b.Logf("reconciles: %d while programming (%.1f per Gateway), %d for the route added",
			r.programReconciles, float64(r.programReconciles)/float64(r.gateways), r.addedReconciles)
		b.Logf("memory: RSS %.1f MB (anonymous %.1f MB, file-backed %.1f MB), heap in use %.1f MB",
			r.rssBytes/1e6, r.rssAnonBytes/1e6, r.rssFileBytes/1e6, r.heapBytes/1e6)
		b.Logf("one route added: %d calls: %s", total(r.addedCalls), countsText(r.addedCalls))
		b.ReportMetric(r.setupSeconds, "setup-s")
		b.ReportMetric(r.programSeconds, "program-s")
		b.ReportMetric(float64(total(r.programCalls)), "program-calls")
		b.ReportMetric(float64(total(r.programCalls))/float64(r.routesProgrammed), "calls/route")
		b.ReportMetric(r.rssBytes/1e6, "rss-MB")
		b.ReportMetric(r.heapBytes/1e6, "heap-MB")
		b.ReportMetric(float64(total(r.addedCalls)), "added-calls")
		b.ReportMetric(float64(r.programReconciles)/float64(r.gateways), "reconciles/gateway")
	}
}

// TestClusterScaleCalls runs BenchmarkClusterScale's code on a small cluster and holds the AWS
// call budget the benchmark measures at full size: at most 4 calls per route to program (target
// group, its attributes when not default, rule, registration; 30 routes a Gateway spread the
// Gateway's own calls as the benchmark's 100 do), at most 6 for one route added afterwards.
func TestClusterScaleCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and the controller binary")
	}
	// The binary builds beside the sequential tests, not in this test's world slot.
	startControllerBuild()
	parallelWorld(t, true) // a world of its own (world_test.go)
	r := runClusterScale(t, clusterScale{services: 300, endpoints: 5, secrets: 200, gateways: 2, routes: 60})
	if per := float64(total(r.programCalls)) / float64(r.routesProgrammed); per > 4 {
		t.Errorf("programming %d routes took %d AWS calls, %.2f per route; want at most 4: %s",
			r.routesProgrammed, total(r.programCalls), per, countsText(r.programCalls))
	}
	if n := total(r.addedCalls); n > 6 {
		t.Errorf("one route added took %d AWS calls; want at most 6: %s", n, countsText(r.addedCalls))
	}
	if r.addedCalls["elasticloadbalancing:CreateRule"] != 1 || r.addedCalls["elasticloadbalancing:CreateTargetGroup"] != 1 {
		t.Errorf("the added route's rule and target group: %s", countsText(r.addedCalls))
	}
	// The Gateway's facts are remembered: a route added to a programmed Gateway reads no
	// subnets (nor any other region-wide fact).
	for _, op := range []string{"ec2:DescribeSubnets", "ec2:DescribeVpcs", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroupAttributes"} {
		if r.addedCalls[op] != 0 {
			t.Errorf("one route added read %s %d times; want none: %s", op, r.addedCalls[op], countsText(r.addedCalls))
		}
	}
	t.Logf("%.2f calls per route, %d for the route added; reconciles: %d while programming %d Gateways, %d for the route added",
		float64(total(r.programCalls))/float64(r.routesProgrammed), total(r.addedCalls), r.programReconciles, r.gateways, r.addedReconciles)
	// Route events coalesce per Gateway in the work queue (a Gateway's key is queued once,
	// however many of its routes change meanwhile): a burst of routes is a few reconciles per
	// Gateway, not one per route, and the route added is one or two.
	if r.programReconciles > r.routesProgrammed/4 {
		t.Errorf("programming %d routes took %d Gateway reconciles; want at most %d", r.routesProgrammed, r.programReconciles, r.routesProgrammed/4)
	}
	if r.addedReconciles > 2 {
		t.Errorf("one route added: %d Gateway reconciles; want at most 2", r.addedReconciles)
	}
	if r.rssBytes == 0 || r.heapBytes == 0 {
		t.Errorf("memory not measured: RSS %v, heap %v", r.rssBytes, r.heapBytes)
	}
}

// controllerBuild is the elbgateway command, built once for the package's tests and
// benchmarks that run it as a process (startControllerBuild, controllerBinary), in dir, which
// removeControllerBuild removes when they are done.
var controllerBuild struct {
	once     sync.Once
	done     chan struct{}
	dir, bin string
	err      error
}

// startControllerBuild starts building the controller binary in the background, once. A
// parallel test calls it before t.Parallel, so that the build runs while the sequential tests
// do, rather than in the slot of the test that waits for it.
func startControllerBuild() {
	controllerBuild.once.Do(func() {
		controllerBuild.done = make(chan struct{})
		go func() {
			defer close(controllerBuild.done)
			controllerBuild.dir, controllerBuild.err = os.MkdirTemp("", "elbgateway-bin-")
			if controllerBuild.err == nil {
				controllerBuild.bin, controllerBuild.err = testenv.BuildController(context.Background(), controllerBuild.dir)
			}
		}()
	})
}

// controllerBinary returns the path of the controller binary, waiting for its build (and
// starting it, if no test has).
func controllerBinary(tb testing.TB) string {
	tb.Helper()
	startControllerBuild()
	<-controllerBuild.done
	if controllerBuild.err != nil {
		tb.Fatal(controllerBuild.err)
	}
	return controllerBuild.bin
}

// removeControllerBuild removes the controller binary once its build, if one started, ends.
func removeControllerBuild() {
	if controllerBuild.done == nil {
		return
	}
	<-controllerBuild.done
	if controllerBuild.dir != "" {
		_ = os.RemoveAll(controllerBuild.dir)
	}
}

func runClusterScale(tb testing.TB, size clusterScale) clusterScaleResult {
	tb.Helper()
	var res clusterScaleResult
	w := startFaultWorld(tb)
	cluster := w.cluster
	ns := newNamespaceIn(tb, w.client)

	start := time.Now()
	createClusterObjects(tb, w.client, ns, size)
	res.setupSeconds = time.Since(start).Seconds()

	bin := controllerBinary(tb)
	metricsAddr, pprofAddr := freeLoopbackAddr(tb), freeLoopbackAddr(tb)
	ctl, err := testenv.StartController(testenv.ControllerOptions{
		Binary: bin, Kubeconfig: cluster.KubeconfigPath, AWSEndpoint: w.proxy.URL,
		Region: region, ClusterName: w.name, VPCID: w.vpc.VPCID,
		// The resync pass (every 10 minutes by default) reads every target group of a Gateway
		// afresh; programming 1,000 routes can outlast it on a busy machine, and its calls would
		// then be counted as the programming's or the added route's. It is measured on its own
		// (BenchmarkSteadyStateReconcile); here it waits an hour.
		Args: []string{"--default-target-type=ip", "--log-level=error", "--resync-period=1h", "--metrics-bind-address=" + metricsAddr,
			"--pprof-bind-address=" + pprofAddr},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctl.Stop()
		if tb.Failed() {
			tb.Logf("controller output:\n%s", ctl.Logs())
		}
	})
	// Until its caches hold the cluster: its metrics answer once the manager runs.
	eventually(tb, 5*time.Minute, "the controller's metrics", func() error {
		_, err := scrapeMetric(metricsAddr, "go_memstats_heap_inuse_bytes")
		return err
	})

	reconciles := func() int {
		n, _ := scrapeMetric(metricsAddr, "controller_runtime_reconcile_total", `controller="gateway-alb"`)
		return int(n)
	}
	before := reconciles()
	w.proxy.ResetCounts()
	start = time.Now()
	applyYAML(tb, w.client, ns, albClass+"---"+albConfig(""))
	perGateway := size.routes / size.gateways
	perGatewayRoutes := make([]int, size.gateways)
	route := 0
	for i := range size.gateways {
		var text strings.Builder
		text.WriteString(albGateway(fmt.Sprintf("gw-%d", i), "  - {name: http, protocol: HTTP, port: 80}\n"))
		n := perGateway
		if i == 0 {
			n-- // the route added afterwards
		}
		for range n {
			fmt.Fprintf(&text, "---\n%s", clusterScaleRoute(i, route))
			route++
		}
		perGatewayRoutes[i] = n
		applyYAML(tb, w.client, ns, text.String())
	}
	res.routesProgrammed, res.gateways = route, size.gateways
	waitRoutesProgrammed(tb, w, ns, perGatewayRoutes, 20*time.Minute)
	waitTargetsRegistered(tb, w, metricsAddr, route)
	res.programCalls = w.quietCalls(tb)
	res.programSeconds = time.Since(start).Seconds() - 5 // quietCalls waits 5 s of silence
	res.programReconciles = reconciles() - before

	// The heap profile runs a GC first: the figures below are after it.
	if err := saveHeapProfile(pprofAddr, os.Getenv(clusterProfileEnv)); err != nil {
		tb.Fatal(err)
	}
	if res.heapBytes, err = scrapeMetric(metricsAddr, "go_memstats_heap_inuse_bytes"); err != nil {
		tb.Fatal(err)
	}
	if res.rssBytes, err = processRSS(ctl.Pid()); err != nil {
		tb.Fatal(err)
	}
	res.rssAnonBytes, _ = processStatusBytes(ctl.Pid(), "RssAnon:")
	res.rssFileBytes, _ = processStatusBytes(ctl.Pid(), "RssFile:")

	w.proxy.ResetCounts()
	before = reconciles()
	applyYAML(tb, w.client, ns, clusterScaleRoute(0, route))
	perGatewayRoutes[0]++
	waitRoutesProgrammed(tb, w, ns, perGatewayRoutes, 3*time.Minute)
	waitTargetsRegistered(tb, w, metricsAddr, 1)
	res.addedCalls = w.quietCalls(tb)
	res.addedReconciles = reconciles() - before
	if ctl.Exited() {
		tb.Fatalf("the controller exited:\n%s", ctl.Logs())
	}
	return res
}

// createClusterObjects creates the Services, their EndpointSlices and the Secrets, 16 at a time.
func createClusterObjects(tb testing.TB, c client.Client, ns string, size clusterScale) {
	tb.Helper()
	jobs := make(chan client.Object, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				if err := c.Create(context.Background(), o); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	cert := strings.Repeat("A", 1200) // the size of a PEM certificate; nothing parses it
	for i := range size.services {
		name := fmt.Sprintf("svc-%d", i)
		jobs <- &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
			// Headless: the test API server's service range holds 254 cluster IPs.
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, ClusterIP: corev1.ClusterIPNone,
				Ports: []corev1.ServicePort{{Name: "http", Port: 3000, TargetPort: intstr.FromInt32(3000)}}},
		}
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](3000), Protocol: ptr.To(corev1.ProtocolTCP)}},
		}
		for k := range size.endpoints {
			// Distinct addresses in the VPC (10.0.0.0/16), past its first addresses.
			n := 1024 + i*size.endpoints + k
			slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{fmt.Sprintf("10.0.%d.%d", n/256, n%256)},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)},
			})
		}
		jobs <- slice
	}
	for i := range size.secrets {
		jobs <- &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("tls-%d", i)},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: []byte(cert), corev1.TLSPrivateKeyKey: []byte(cert[:600])},
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		tb.Fatal(firstErr)
	}
}

func clusterScaleRoute(gateway, n int) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route-%[2]d
spec:
  parentRefs: [{name: gw-%[1]d, sectionName: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /r%[2]d}}]
    backendRefs: [{name: svc-%[2]d, port: 3000}]
`, gateway, n)
}

// waitRoutesProgrammed waits until the cluster and AWS agree that every route is programmed:
// every Gateway Programmed=True with its load balancer's ARN, its listener counting all its
// routes as attached, no route Accepted with a part AWS does not have, and each load balancer
// holding one rule (besides the default) per route of its Gateway. The proxy's CreateRule
// count is no such signal: a rule created by a call whose answer came too late is found again
// by the next reconcile, not created again, and a rule may be moved or modified in place. It
// fails with each Gateway's state once timeout passes without all of them done.
func waitRoutesProgrammed(tb testing.TB, w *faultWorld, ns string, perGateway []int, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		state, done := routesProgrammed(w, ns, perGateway)
		if done {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the routes were not all programmed within %s (%d CreateRule calls counted):\n%s",
				timeout, w.proxy.ServiceCounts()["elasticloadbalancing:CreateRule"], strings.Join(state, "\n"))
		}
		time.Sleep(3 * time.Second)
	}
}

// routesProgrammed says per Gateway what is not programmed yet, and whether all is.
func routesProgrammed(w *faultWorld, ns string, perGateway []int) (state []string, done bool) {
	ctx := context.Background()
	var routes gwv1.HTTPRouteList
	if err := w.client.List(ctx, &routes, client.InNamespace(ns)); err != nil {
		return []string{err.Error()}, false
	}
	pending := 0
	for _, r := range routes.Items {
		accepted := false
		for _, p := range r.Status.Parents {
			c := meta.FindStatusCondition(p.Conditions, string(gwv1.RouteConditionAccepted))
			accepted = c != nil && c.Status == metav1.ConditionTrue && !strings.Contains(c.Message, "not programmed")
		}
		if !accepted {
			if pending < 5 {
				state = append(state, fmt.Sprintf("route %s not accepted and programmed: %v", r.Name, r.Status.Parents))
			}
			pending++
		}
	}
	done = pending == 0
	if pending > 0 {
		state = append(state, fmt.Sprintf("%d of %d routes not accepted and programmed", pending, len(routes.Items)))
	}
	for i, want := range perGateway {
		name := fmt.Sprintf("gw-%d", i)
		var gw gwv1.Gateway
		if err := w.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &gw); err != nil {
			return append(state, err.Error()), false
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
		if c == nil || c.Status != metav1.ConditionTrue {
			state, done = append(state, fmt.Sprintf("%s: not programmed: %v", name, c)), false
			continue
		}
		attached := int32(-1)
		if len(gw.Status.Listeners) == 1 {
			attached = gw.Status.Listeners[0].AttachedRoutes
		}
		rules, err := ruleCount(ctx, c.Message)
		if err != nil {
			state, done = append(state, fmt.Sprintf("%s: reading the rules of %s: %v", name, c.Message, err)), false
			continue
		}
		if int(attached) != want || rules != want {
			state, done = append(state, fmt.Sprintf("%s: %d routes attached, %d rules in AWS; want %d", name, attached, rules, want)), false
		}
	}
	return state, done
}

// ruleCount is how many rules, the default ones left out, a load balancer's listeners hold in
// AWS, read past the proxy so that the reads are not counted.
func ruleCount(ctx context.Context, lbARN string) (int, error) {
	listeners, err := env.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: &lbARN})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range listeners.Listeners {
		in := &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn}
		for {
			page, err := env.elb.DescribeRules(ctx, in)
			if err != nil {
				return 0, err
			}
			for _, r := range page.Rules {
				if !awssdk.ToBool(r.IsDefault) {
					n++
				}
			}
			if page.NextMarker == nil {
				break
			}
			in.Marker = page.NextMarker
		}
	}
	return n, nil
}

// waitTargetsRegistered waits until the targets loop has registered the targets of at least n
// target groups (one RegisterTargets each, counted since the counts were reset) and its work
// queue is empty. A route's rule can be in AWS long before its targets: with a thousand target
// groups the targets loop runs behind the Gateways', and pauses of more than quietCalls' five
// seconds let the programming phase end with hundreds of registrations still to come, which
// the route added afterwards was then charged with.
func waitTargetsRegistered(tb testing.TB, w *faultWorld, metricsAddr string, n int) {
	tb.Helper()
	eventually(tb, 20*time.Minute, "the targets of every target group registered", func() error {
		if got := w.proxy.ServiceCounts()["elasticloadbalancing:RegisterTargets"]; got < n {
			return fmt.Errorf("%d RegisterTargets, want %d", got, n)
		}
		depth, err := scrapeMetric(metricsAddr, "workqueue_depth", `name="targets"`)
		if err != nil {
			return err
		}
		busy, err := scrapeMetric(metricsAddr, "workqueue_unfinished_work_seconds", `name="targets"`)
		if err != nil {
			return err
		}
		if depth > 0 || busy > 0 {
			return fmt.Errorf("the targets loop has %v requests queued and work in progress for %v s", depth, busy)
		}
		return nil
	})
}

// clusterProfileEnv names a file for the controller's heap profile, taken when everything is
// programmed: ELBGATEWAY_CLUSTER_PROFILE=heap.pb.gz, then go tool pprof heap.pb.gz.
const clusterProfileEnv = "ELBGATEWAY_CLUSTER_PROFILE"

// saveHeapProfile asks the process serving pprof at addr for its heap profile, which makes it
// collect garbage first, and writes the profile to path unless path is empty.
func saveHeapProfile(addr, path string) error {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s: %s", resp.Status, raw)
	}
	if path == "" {
		return nil
	}
	return os.WriteFile(path, raw, 0o644)
}

// freeLoopbackAddr is a free loopback TCP address.
func freeLoopbackAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// scrapeMetric reads a metric from a Prometheus text endpoint: the sum of its series whose
// labels contain every one of labels (`controller="gateway-alb"`), or its one unlabelled value.
func scrapeMetric(addr, name string, labels ...string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sum, found := 0.0, false
	for sc.Scan() {
		line := sc.Text()
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		matches := true
		for _, l := range labels {
			matches = matches && strings.Contains(series, l)
		}
		if !matches {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return 0, fmt.Errorf("metric %s: %w", line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		return 0, fmt.Errorf("metric %s %v not found at %s", name, labels, addr)
	}
	return sum, sc.Err()
}

// processRSS is a process's resident set size, from /proc.
func processRSS(pid int) (float64, error) { return processStatusBytes(pid, "VmRSS:") }

// processStatusBytes reads one kB figure of /proc/<pid>/status (field with its colon).
func processStatusBytes(pid int, field string) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in the status of process %d", field, pid)
}
