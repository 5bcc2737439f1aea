package controller_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// clusterScaleResult is what one run measured.
type clusterScaleResult struct {
	setupSeconds, programSeconds float64
	rssBytes, heapBytes          float64
	programCalls, addedCalls     map[string]int
	routesProgrammed             int
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
// Run it with make bench PKGS=./internal/controller/ BENCHTIME=1x (about 10 minutes).
func BenchmarkClusterScale(b *testing.B) {
	for b.Loop() {
		r := runClusterScale(b, fullClusterScale)
		b.Logf("setup: %.1f s; program: %.1f s, %d calls (%.2f/route): %s", r.setupSeconds, r.programSeconds,
			total(r.programCalls), float64(total(r.programCalls))/float64(r.routesProgrammed), countsText(r.programCalls))
		b.Logf("memory: RSS %.1f MB, heap in use %.1f MB", r.rssBytes/1e6, r.heapBytes/1e6)
		b.Logf("one route added: %d calls: %s", total(r.addedCalls), countsText(r.addedCalls))
		b.ReportMetric(r.setupSeconds, "setup-s")
		b.ReportMetric(r.programSeconds, "program-s")
		b.ReportMetric(float64(total(r.programCalls)), "program-calls")
		b.ReportMetric(float64(total(r.programCalls))/float64(r.routesProgrammed), "calls/route")
		b.ReportMetric(r.rssBytes/1e6, "rss-MB")
		b.ReportMetric(r.heapBytes/1e6, "heap-MB")
		b.ReportMetric(float64(total(r.addedCalls)), "added-calls")
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
	if r.rssBytes == 0 || r.heapBytes == 0 {
		t.Errorf("memory not measured: RSS %v, heap %v", r.rssBytes, r.heapBytes)
	}
}

func runClusterScale(tb testing.TB, size clusterScale) clusterScaleResult {
	tb.Helper()
	var res clusterScaleResult
	ctx := context.Background()
	w := startFaultWorld(tb)
	cluster := w.cluster
	ns := newNamespaceIn(tb, w.client)

	start := time.Now()
	createClusterObjects(tb, w.client, ns, size)
	res.setupSeconds = time.Since(start).Seconds()

	bin, err := testenv.BuildController(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	metricsAddr := freeLoopbackAddr(tb)
	ctl, err := testenv.StartController(testenv.ControllerOptions{
		Binary: bin, Kubeconfig: cluster.KubeconfigPath, AWSEndpoint: w.proxy.URL,
		Region: region, ClusterName: faultClusterName, VPCID: w.vpc.VPCID,
		Args: []string{"--default-target-type=ip", "--log-level=error", "--metrics-bind-address=" + metricsAddr},
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

	w.proxy.ResetCounts()
	start = time.Now()
	applyYAML(tb, w.client, ns, albClass+"---"+albConfig(""))
	perGateway := size.routes / size.gateways
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
		applyYAML(tb, w.client, ns, text.String())
	}
	res.routesProgrammed = route
	waitRoutesProgrammed(tb, w, ns, size.gateways, route)
	res.programCalls = w.quietCalls(tb)
	res.programSeconds = time.Since(start).Seconds() - 5 // quietCalls waits 5 s of silence

	if res.heapBytes, err = scrapeMetric(metricsAddr, "go_memstats_heap_inuse_bytes"); err != nil {
		tb.Fatal(err)
	}
	if res.rssBytes, err = processRSS(ctl.Pid()); err != nil {
		tb.Fatal(err)
	}

	w.proxy.ResetCounts()
	applyYAML(tb, w.client, ns, clusterScaleRoute(0, route))
	eventually(tb, 2*time.Minute, "the added route's rule in AWS", func() error {
		if n := w.proxy.ServiceCounts()["elasticloadbalancing:CreateRule"]; n < 1 {
			return fmt.Errorf("no rule created yet")
		}
		return nil
	})
	res.addedCalls = w.quietCalls(tb)
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

// waitRoutesProgrammed waits until every Gateway is Programmed and AWS holds a rule per route.
func waitRoutesProgrammed(tb testing.TB, w *faultWorld, ns string, gateways, routes int) {
	tb.Helper()
	eventually(tb, 20*time.Minute, "every Gateway programmed and every route's rule in AWS", func() error {
		var list gwv1.GatewayList
		if err := w.client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return err
		}
		programmed := 0
		for _, gw := range list.Items {
			if c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)); c != nil && c.Status == metav1.ConditionTrue {
				programmed++
			}
		}
		if programmed < gateways {
			return fmt.Errorf("%d of %d Gateways programmed", programmed, gateways)
		}
		if n := w.proxy.ServiceCounts()["elasticloadbalancing:CreateRule"]; n < routes {
			return fmt.Errorf("%d of %d rules created", n, routes)
		}
		return nil
	})
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

// scrapeMetric reads one unlabelled metric from a Prometheus text endpoint.
func scrapeMetric(addr, name string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found at %s", name, addr)
}

// processRSS is a process's resident set size, from /proc.
func processRSS(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}
