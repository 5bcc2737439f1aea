//go:build conformance

package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/testenv"
	"github.com/elbgateway/elbgateway/internal/testenv/elb"
	"github.com/elbgateway/elbgateway/test/conformance/workloads"
)

// The conformance run's cluster: Pods get IPs from the private subnet of the VPC's first zone
// (SeedVPC), Nodes from its public subnet.
const (
	podCIDR  = "10.0.128.0/20"
	nodeCIDR = "10.0.0.0/20"
)

// reportDir is where the run writes its reports, under the repository root.
var reportDir = filepath.Join("conformance", "reports", "v1.6.3")

// TestConformanceFull runs every test of the suite against both classes on a full local cluster:
// kube-controller-manager, kube-scheduler and kwok make the suite's Deployments Ready Pods, an
// echo-basic process answers for each, and the local data plane carries the suite's requests
// from each Gateway's address to them. Every load balancer's DNS name is a loopback address of its
// own (the strict layer's LoopbackDNSNames), so the suite's HTTP, gRPC, TCP, UDP and TLS clients
// dial the Gateway's address as they would on AWS. It writes the suite's ConformanceReport of
// each class and a README with what passed, what was skipped and why, and what failed.
// Only `make conformance` builds it (tag conformance).
func TestConformanceFull(t *testing.T) {
	ctx := context.Background()
	moto, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	moto.Strict.SetKnobs(testenv.StrictKnobs{LoopbackDNSNames: true})
	bin, err := testenv.BuildController(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	assets := os.Getenv(testenv.AssetsEnv)
	if assets == "" {
		assets = filepath.Join(repoRoot, "bin")
	}
	start := time.Now()
	var mu sync.Mutex
	reports := map[string]*confv1.ConformanceReport{}
	for _, c := range classes {
		t.Run(c.name, func(t *testing.T) {
			if err := moto.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			runFull(t, c, moto, bin, assets, func(r *confv1.ConformanceReport) {
				mu.Lock()
				defer mu.Unlock()
				reports[c.name] = r
			})
		})
	}
	duration := time.Since(start).Round(time.Second)
	if runTest() != "" {
		return // one test: no report
	}
	if len(reports) != len(classes) {
		t.Fatalf("%d of %d classes produced a report", len(reports), len(classes))
	}
	if err := writeReports(reports, duration); err != nil {
		t.Fatal(err)
	}
}

// runFull runs the suite against one class and hands its report to deliver. The report is made
// in a cleanup: the suite's parallel tests end after runFull returns.
func runFull(t *testing.T, c class, moto *testenv.Moto, bin, assets string, deliver func(*confv1.ConformanceReport)) {
	ctx, cluster, k8s, opts := startClass(t, c, moto, bin, true)
	w, err := workloads.Start(ctx, k8s, workloads.Options{Assets: assets, Kubeconfig: cluster.KubeconfigPath,
		PodCIDR: podCIDR, NodeCIDR: nodeCIDR, Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster processes:\n%s", w.Logs())
		}
		w.Stop()
	})
	if err := warmUpPodIPs(ctx, k8s); err != nil {
		t.Fatal(err)
	}
	echoes, err := workloads.StartEchoes(ctx, k8s, filepath.Join(assets, "echo-basic"), "gateway-conformance-")
	if err != nil {
		t.Fatal(err)
	}
	dpLog, err := os.Create(filepath.Join(os.TempDir(), "elbgateway-conformance-"+c.name+"-dataplane.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dpLog.Close() })
	var logMu sync.Mutex
	dp, err := elb.Start(ctx, elb.Options{
		Endpoint: moto.Endpoint, Region: region,
		AccessKeyID: testenv.TestAccessKeyID, SecretAccessKey: testenv.TestSecretAccessKey,
		HealthReportURL: moto.Strict.URL + testenv.TargetHealthPath, HealthTimeScale: 0.05,
		PrivateKey: elb.KeyFromURL(moto.Strict.URL+testenv.CertificateKeyPath, region),
		// A Pod IP and port lead to the echo-basic process answering for that Pod.
		TargetAddr: echoes.Lookup,
		Logf: func(format string, args ...any) {
			logMu.Lock()
			defer logMu.Unlock()
			fmt.Fprintf(dpLog, time.Now().Format(time.TimeOnly)+" "+format+"\n", args...)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Close)
	t.Logf("data plane log: %s", dpLog.Name())

	for name := range c.trafficSkips() {
		opts.SkipTests = append(opts.SkipTests, name)
	}
	opts.Mode = c.name
	opts.RunTest = runTest()
	opts.Implementation = implementation()
	opts.Hook = func(st *testing.T, test suite.ConformanceTest, _ *suite.ConformanceTestSuite) {
		if st.Failed() {
			for _, e := range echoes.Errors() {
				st.Logf("echo-basic: %s", e)
			}
		}
	}
	cSuite, err := suite.NewConformanceTestSuite(opts)
	if err != nil {
		t.Fatal(err)
	}
	cSuite.Setup(t, tests.ConformanceTests)
	// Registered before Run's own cleanup, so it runs after it: after the parallel tests, once
	// the suite no longer counts as running, and before the cluster stops.
	t.Cleanup(func() {
		r, err := cSuite.Report()
		if err != nil {
			t.Errorf("report: %v", err)
			return
		}
		deliver(r)
	})
	if err := cSuite.Run(t, tests.ConformanceTests); err != nil {
		t.Fatal(err)
	}
}

// warmUpPodIPs creates and deletes one Pod before the suite's, so kwok's IP pool exists before
// Pods arrive together: without it, Pods created at once can get the same IP.
func warmUpPodIPs(ctx context.Context, k8s client.Client) error {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "warm-up"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "none", Image: "none"}}}}
	if err := k8s.Create(ctx, pod); err != nil {
		return fmt.Errorf("creating the warm-up pod: %w", err)
	}
	deadline := time.Now().Add(time.Minute)
	for pod.Status.PodIP == "" {
		if time.Now().After(deadline) {
			return fmt.Errorf("the warm-up pod got no IP within a minute (node %q, phase %s)", pod.Spec.NodeName, pod.Status.Phase)
		}
		time.Sleep(200 * time.Millisecond)
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return err
		}
	}
	return k8s.Delete(ctx, pod)
}

// implementation names the project in the report.
func implementation() confv1.Implementation {
	version := "dev"
	if out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	return confv1.Implementation{
		Organization: "elbgateway",
		Project:      "elbgateway",
		URL:          "https://github.com/elbgateway/elbgateway",
		Version:      version,
		Contact:      []string{"https://github.com/elbgateway/elbgateway/issues"},
	}
}

// writeReports writes each class's report and the README that sums them up.
func writeReports(reports map[string]*confv1.ConformanceReport, duration time.Duration) error {
	dir := filepath.Join(repoRoot, reportDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, c := range classes {
		raw, err := yaml.Marshal(reports[c.name])
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, c.gatewayClass+"-report.yaml"), raw, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(reportReadme(reports, duration)), 0o644)
}

// trafficSkip are the tests that send traffic a class does not run although it claims their
// features, each with the AWS reason it cannot pass. (The status-only ones are class.skip.)
var trafficSkip = map[string]map[string]string{
	"alb": {
		"HTTPRouteRequestHeaderModifier":    albNoHeaderModifier,
		"GRPCExactMethodMatching":           albGRPCNeedsHTTPS,
		"GRPCRouteHeaderMatching":           albGRPCNeedsHTTPS,
		"GRPCRouteListenerHostnameMatching": albGRPCNeedsHTTPS,
		"GRPCRouteNamedRule":                albGRPCNeedsHTTPS,
		"GRPCRouteWeight":                   albGRPCNeedsHTTPS,
		"HTTPRouteQueryParamMatching":       albQueryCaseInsensitive,
	},
	"nlb": {
		"TLSRouteHostnameIntersection": nlbNoSNIRouting,
	},
}

// albQueryCaseInsensitive: QueryStringConfig Values — "The comparison is case insensitive."
const albQueryCaseInsensitive = "it needs ?ANIMAL=Whale and ?animal=whale to reach different backends; an ALB compares query string keys and values case-insensitively (QueryStringConfig: \"The comparison is case insensitive\"), so both match the first rule"

// nlbNoSNIRouting: an NLB listener forwards every connection on its port to its target groups;
// it has no rules, so it cannot refuse a TLS client by server name.
const nlbNoSNIRouting = "it needs connections whose server name (SNI) falls outside the route's hostnames to be refused; an NLB listener has no rules and forwards every connection on its port, so there is no SNI routing to program"

// albNoHeaderModifier: an ALB rule's transforms are host-header-rewrite and url-rewrite only
// ("Application Load Balancers support the following transforms for listener rules"); request
// headers are set per listener for a fixed list of headers, never per rule.
const albNoHeaderModifier = "an ALB rule rewrites only the Host header and the URL (transforms host-header-rewrite and url-rewrite); it cannot set, add or remove request headers"

// albGRPCNeedsHTTPS: the suite's gRPC tests attach their GRPCRoutes to HTTP listeners and send
// gRPC in cleartext (HTTP/2 with prior knowledge). An ALB speaks HTTP/2 to clients only over TLS
// (ALPN on HTTPS listeners), and a target group with protocol version GRPC needs an HTTPS
// listener; elbgateway serves GRPCRoutes on HTTPS listeners.
const albGRPCNeedsHTTPS = "its GRPCRoutes attach to HTTP listeners and the suite sends cleartext gRPC (h2c); an ALB speaks HTTP/2 and gRPC to clients only on HTTPS listeners (gRPC target groups need one), so there is nothing AWS can program for it"

// trafficSkips are the tests a full run skips in the class: its status-only skips and its
// traffic ones.
func (c class) trafficSkips() map[string]string {
	out := map[string]string{}
	for k, v := range c.skip {
		out[k] = v
	}
	for k, v := range trafficSkip[c.name] {
		out[k] = v
	}
	return out
}

// knownFailures say why a test fails where that is understood: what is missing in the controller
// or in the local run. A failure without an entry is listed as unexplained.
var knownFailures = map[string]map[string]string{
	"alb": {
		"HTTPRouteRewriteHost":  rewriteWithHeaderModifier,
		"HTTPRouteRewritePath":  rewriteWithHeaderModifier,
		"HTTPRouteRedirectPath": prefixOnlyRedirect,
	},
	"nlb": {
		"TLSRouteInvalidBackendRefNonexistent": nlbNoListenerWithoutBackend,
		"TLSRouteInvalidBackendRefUnknownKind": nlbNoListenerWithoutBackend,
	},
}

// rewriteWithHeaderModifier: the rewrites themselves pass (host-header-rewrite and url-rewrite
// transforms); the test's last rules also carry a RequestHeaderModifier, which an ALB rule cannot
// carry out (see albNoHeaderModifier), so the controller refuses those rules and their requests
// reach no rule.
const rewriteWithHeaderModifier = "the rewrite cases pass; the cases whose rule also has a RequestHeaderModifier fail: an ALB rule cannot set, add or remove request headers, so the controller refuses that rule and its requests get the listener's 404"

// prefixOnlyRedirect: a redirect that keeps scheme, host and port and replaces only the path
// prefix is one an ALB rejects as a redirect loop, so translate refuses it (UnsupportedValue).
const prefixOnlyRedirect = "the cases that redirect with ReplacePrefixMatch and keep scheme, host and port fail: an ALB rejects such a redirect as a loop, so the controller refuses the rule (UnsupportedValue) and the request gets the listener's 404; the other cases, a prefix redirect with a new host among them, pass"

// nlbNoListenerWithoutBackend: a port with no route with a usable backend gets no NLB listener.
// The spec asks the implementation to reject the connection; the suite accepts only a reset or a
// close after the TCP handshake, not a refused or unanswered connection. A passthrough TLS listener
// on an NLB is a TCP listener, whose handshake is the target's; AWS says an NLB fails open with an
// empty target group ("The Network Load Balancer also fails open when you have an empty target
// group", Health checks for Network Load Balancer target groups) and documents no reset for it, so
// an empty target group would be a listener that promises nothing the suite can rely on.
const nlbNoListenerWithoutBackend = "an NLB cannot reject the connection the way the suite expects (accepted, then reset or closed): a passthrough TLS listener is a TCP listener whose handshake is the target's, and with no valid backend there is none. The port gets no listener (the local data plane refuses the connection); a listener forwarding to an empty target group would not help, as AWS documents only that an NLB fails open with an empty target group, not that it resets connections"

// reportReadme is the README of the reports: per class and profile, the suite's result, the
// counts, every skipped test with its reason and every failed test.
func reportReadme(reports map[string]*confv1.ConformanceReport, duration time.Duration) string {
	var b strings.Builder
	b.WriteString("# Gateway API conformance: elbgateway, Gateway API v1.6.3\n\n")
	b.WriteString("Written by `make conformance` (`TestConformanceFull` in `test/conformance`): the upstream suite\n")
	b.WriteString("`sigs.k8s.io/gateway-api/conformance` v1.6.3 against the controller binary on a local cluster\n")
	b.WriteString("(kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kwok; one echo-basic process per\n")
	b.WriteString("Pod) with moto behind the strict AWS contract layer as AWS and the local data plane carrying the\n")
	b.WriteString("traffic. One report per GatewayClass; the report's `mode` is the class.\n\n")
	fmt.Fprintf(&b, "This run took %s.\n\n", duration)
	for _, c := range classes {
		r := reports[c.name]
		// The suite's order of profiles is a map's; the README's is by name.
		sort.Slice(r.ProfileReports, func(i, j int) bool { return r.ProfileReports[i].Name < r.ProfileReports[j].Name })
		reasons := c.trafficSkips()
		fmt.Fprintf(&b, "## %s (`%s`, controller `%s`)\n\n", strings.ToUpper(c.name), c.gatewayClass, c.controller)
		fmt.Fprintf(&b, "Report: [%s-report.yaml](%s-report.yaml).\n\n", c.gatewayClass, c.gatewayClass)
		b.WriteString("| profile | core | passed | skipped | failed | extended | passed | skipped | failed |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, p := range r.ProfileReports {
			ext := confv1.ExtendedStatus{}
			if p.Extended != nil {
				ext = *p.Extended
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s | %d | %d | %d |\n", p.Name, p.Core.Result,
				p.Core.Statistics.Passed, p.Core.Statistics.Skipped, p.Core.Statistics.Failed,
				orNone(string(ext.Result)), ext.Statistics.Passed, ext.Statistics.Skipped, ext.Statistics.Failed)
		}
		b.WriteString("\n")
		for _, p := range r.ProfileReports {
			fmt.Fprintf(&b, "### %s\n\n", p.Name)
			skipped, failed := p.Core.SkippedTests, p.Core.FailedTests
			var unsupported []string
			if p.Extended != nil {
				skipped = append(append([]string{}, skipped...), p.Extended.SkippedTests...)
				failed = append(append([]string{}, failed...), p.Extended.FailedTests...)
				for _, f := range p.Extended.UnsupportedFeatures {
					unsupported = append(unsupported, string(f))
				}
			}
			if len(skipped) == 0 && len(failed) == 0 {
				b.WriteString("Every test of the claimed features passed.\n\n")
			}
			if len(skipped) > 0 {
				b.WriteString("| skipped | why |\n|---|---|\n")
				for _, name := range skipped {
					fmt.Fprintf(&b, "| %s | %s |\n", name, orNone(reasons[name]))
				}
				b.WriteString("\n")
			}
			if len(failed) > 0 {
				b.WriteString("| failed | why |\n|---|---|\n")
				for _, name := range failed {
					why := knownFailures[c.name][name]
					if why == "" {
						why = "not yet explained: see the run's log"
					}
					fmt.Fprintf(&b, "| %s | %s |\n", name, why)
				}
				b.WriteString("\n")
			}
			if len(unsupported) > 0 {
				fmt.Fprintf(&b, "Extended features not claimed (their tests do not run): %s.\n\n", strings.Join(unsupported, ", "))
			}
		}
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runTest is the one test CONFORMANCE_RUN_TEST names: the run sets up as always and runs only
// that test, and writes no report.
func runTest() string { return os.Getenv("CONFORMANCE_RUN_TEST") }
