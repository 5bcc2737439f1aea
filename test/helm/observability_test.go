package helm

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// observabilityValues are the walkthrough's values with the PrometheusRule and the dashboard on.
func observabilityValues(t *testing.T) map[string]any {
	v := seedValues(t, clusterName, awsRegion, "vpc-0123456789abcdef0")
	v["prometheusRule"] = map[string]any{"enabled": true, "additionalLabels": map[string]any{"release": "prometheus"}}
	v["grafanaDashboard"] = map[string]any{"enabled": true}
	return v
}

// TestObservabilityKitRendersOnlyWhenAsked: the PrometheusRule and the dashboard ConfigMap are off
// by default; on, the rule keeps Prometheus's own {{ $labels }} templates (Helm must not eat
// them) and the ConfigMap holds the repository's dashboard file unchanged.
func TestObservabilityKitRendersOnlyWhenAsked(t *testing.T) {
	off, err := render(seedValues(t, clusterName, awsRegion, "vpc-0123456789abcdef0"))
	if err != nil {
		t.Fatal(err)
	}
	if o := find(off, "PrometheusRule", ""); o != nil {
		t.Error("a PrometheusRule renders with the default values")
	}
	if o := dashboardConfigMap(off); o != nil {
		t.Error("the dashboard ConfigMap renders with the default values")
	}
	on, err := render(observabilityValues(t))
	if err != nil {
		t.Fatal(err)
	}
	rule := find(on, "PrometheusRule", "")
	if rule == nil {
		t.Fatal("no PrometheusRule with prometheusRule.enabled")
	}
	if rule.GetLabels()["release"] != "prometheus" {
		t.Errorf("PrometheusRule labels %v, want additionalLabels release=prometheus", rule.GetLabels())
	}
	raw, _ := json.Marshal(rule.Object)
	if !strings.Contains(string(raw), "{{ $labels.gateway_name }}") {
		t.Errorf("the rendered PrometheusRule lost Prometheus's templates:\n%s", raw)
	}
	cm := dashboardConfigMap(on)
	if cm == nil {
		t.Fatal("no dashboard ConfigMap with grafanaDashboard.enabled")
	}
	if cm.GetLabels()["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap labels %v, want grafana_dashboard=1 for Grafana's sidecar", cm.GetLabels())
	}
	file, err := os.ReadFile(dashboardFile())
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedString(cm.Object, "data", "elbgateway.json")
	if strings.TrimSpace(data) != strings.TrimSpace(string(file)) {
		t.Error("the ConfigMap's dashboard differs from " + dashboardFile())
	}
}

// TestAlertsAndDashboardQueryExportedMetrics runs the controller and scrapes its metrics
// endpoint after it programmed the seed Gateway through a proxy that throttled one AWS call and
// then denied calls: every metric the rendered PrometheusRule and the dashboard query must be
// one the controller exports.
func TestAlertsAndDashboardQueryExportedMetrics(t *testing.T) {
	// What the alerts and the dashboard query, from the chart as it renders.
	objs, err := render(observabilityValues(t))
	if err != nil {
		t.Fatal(err)
	}
	queries := map[string]string{} // where → PromQL
	rule := find(objs, "PrometheusRule", "")
	if rule == nil {
		t.Fatal("no PrometheusRule")
	}
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	for _, g := range groups {
		rules, _ := g.(map[string]any)["rules"].([]any)
		for _, r := range rules {
			r := r.(map[string]any)
			queries[fmt.Sprintf("alert %v", r["alert"])] = fmt.Sprint(r["expr"])
		}
	}
	if len(queries) == 0 {
		t.Fatal("the PrometheusRule has no alerts")
	}
	cm := dashboardConfigMap(objs)
	if cm == nil {
		t.Fatal("no dashboard ConfigMap")
	}
	data, _, _ := unstructured.NestedString(cm.Object, "data", "elbgateway.json")
	for where, q := range dashboardQueries(t, []byte(data)) {
		queries[where] = q
	}

	exported := scrapeRunningController(t)

	used := map[string]bool{}
	for where, q := range queries {
		names := metricNames(q)
		if len(names) == 0 {
			t.Errorf("%s: no metric found in %q", where, q)
		}
		for _, n := range names {
			used[n] = true
			if exported[n] == nil {
				t.Errorf("%s queries %s, which the controller does not export (query %q)", where, n, q)
			}
		}
		// Labels it matches or groups by are on the series it reads; a value it matches
		// exactly is one of theirs (the scrape saw a throttled and a denied call).
		for _, m := range labelMatchers(q) {
			exact := m.op == "=" && !strings.Contains(m.value, "$")
			if !anySeries(exported, names, func(l map[string]string) bool {
				v, ok := l[m.label]
				return ok && (!exact || v == m.value)
			}) {
				t.Errorf("%s matches %s%s%q, which no series of %v has (query %q)", where, m.label, m.op, m.value, names, q)
			}
		}
		for _, label := range groupingLabels(q) {
			if !anySeries(exported, names, func(l map[string]string) bool { _, ok := l[label]; return ok }) {
				t.Errorf("%s groups by %s, which no series of %v has (query %q)", where, label, names, q)
			}
		}
	}
	// The kit covers what the issue asks for.
	for _, n := range []string{"elbgateway_gateway_programmed", "elbgateway_gateway_reconcile_error",
		"elbgateway_aws_api_call_duration_seconds_bucket", "elbgateway_aws_api_permission_errors_total",
		"elbgateway_aws_api_calls_total", "controller_runtime_reconcile_time_seconds_bucket"} {
		if !used[n] {
			t.Errorf("neither the alerts nor the dashboard use %s", n)
		}
	}
}

// dashboardConfigMap is the rendered ConfigMap that holds the dashboard, or nil.
func dashboardConfigMap(objs []*unstructured.Unstructured) *unstructured.Unstructured {
	for _, o := range objs {
		if _, ok, _ := unstructured.NestedString(o.Object, "data", "elbgateway.json"); ok && o.GetKind() == "ConfigMap" {
			return o
		}
	}
	return nil
}

func dashboardFile() string { return chartDir() + "/files/grafana-dashboard.json" }

// dashboardQueries are the PromQL queries of a Grafana dashboard: every panel's targets (rows
// included) and the metric of each label_values() variable.
func dashboardQueries(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	type target struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	}
	type panel struct {
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	out := map[string]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out[fmt.Sprintf("panel %q query %s", p.Title, tg.RefID)] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^label_values\(\s*([^,]+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			_ = json.Unmarshal(v.Query, &q.Query)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, q.Query)
			continue
		}
		// The variable's label must be on the metric: read it as a grouping.
		out["variable "+v.Name] = fmt.Sprintf("count by (%s) (%s)", m[2], m[1])
	}
	if len(out) < 5 {
		t.Fatalf("the dashboard has %d queries", len(out))
	}
	return out
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promSelector = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true, "Inf": true, "NaN": true}
)

// metricNames are the metric names a PromQL expression selects: its identifiers once strings,
// label matchers, ranges and grouping clauses are gone, less functions and keywords.
func metricNames(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	s = promSelector.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	seen := map[string]bool{}
	for _, m := range promIdent.FindAllStringSubmatchIndex(s, -1) {
		if m[2] >= 0 { // followed by "(": a function or an aggregation
			continue
		}
		id := s[m[0]:m[1]]
		if m[0] > 0 && strings.ContainsAny(s[m[0]-1:m[0]], "0123456789.$") {
			continue // a number's exponent, a variable
		}
		if !promKeywords[id] {
			seen[id] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// matcher is one label matcher of a selector.
type matcher struct{ label, op, value string }

var promMatcher = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)

// labelMatchers are the label matchers of an expression's selectors.
func labelMatchers(expr string) []matcher {
	var out []matcher
	for _, sel := range promSelector.FindAllString(expr, -1) {
		for _, m := range promMatcher.FindAllStringSubmatch(sel, -1) {
			out = append(out, matcher{label: m[1], op: m[2], value: m[3]})
		}
	}
	return out
}

// groupingLabels are the labels of an expression's by, without, on and ignoring clauses.
func groupingLabels(expr string) []string {
	var out []string
	for _, g := range promGrouping.FindAllString(promString.ReplaceAllString(expr, `""`), -1) {
		inner := g[strings.Index(g, "(")+1 : len(g)-1]
		for _, l := range strings.Split(inner, ",") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// anySeries says whether a series of one of names has labels that satisfy ok.
func anySeries(series map[string][]map[string]string, names []string, ok func(map[string]string) bool) bool {
	for _, n := range names {
		for _, l := range series[n] {
			if ok(l) {
				return true
			}
		}
	}
	return false
}

// TestMetricNames pins the PromQL reading the test above relies on.
func TestMetricNames(t *testing.T) {
	for expr, want := range map[string]string{
		`sum by (service, operation) (rate(a_total{outcome="throttled"}[10m])) / sum by (service) (rate(a_total[10m])) > 0.1`: "a_total",
		`histogram_quantile(0.99, sum by (le, controller) (rate(b_bucket{controller=~"gateway-.*"}[$__rate_interval])))`:      "b_bucket",
		`count(c{ns=~"$namespace"} == 0) or vector(0)`:                                                                        "c",
		`time() - min(d_seconds{x="y"} > 0) + on (a) group_left (b) e`:                                                        "d_seconds,e",
		`max by (controller, gateway_namespace, gateway_name) (f) == 1e3`:                                                     "f",
		`sum(rate(g[5m] offset 1h)) and ignoring (le) h unless bool i`:                                                        "g,h,i",
		`label_replace(j, "dst", "$1", "src", "(.*)")`:                                                                        "j",
		`increase(k_total[$__rate_interval]) * 60 > scalar(l) or absent(m)`:                                                   "k_total,l,m",
	} {
		if got := strings.Join(metricNames(expr), ","); got != want {
			t.Errorf("metricNames(%q) = %s, want %s", expr, got, want)
		}
	}
	q := `sum by (service, operation) (rate(a{outcome="throttled", x=~"$v"}[5m])) / on (le) group_left (b) c{d!="e,f"}`
	if got := fmt.Sprint(labelMatchers(q)); got != "[{outcome = throttled} {x =~ $v} {d != e,f}]" {
		t.Errorf("labelMatchers = %s", got)
	}
	if got := strings.Join(groupingLabels(q), ","); got != "service,operation,le,b" {
		t.Errorf("groupingLabels = %s", got)
	}
	exp := "# HELP a x\na_total{service=\"elbv2\",msg=\"a \\\"b\\\", c}\"} 1\nup 1\n"
	series, err := parseExposition(strings.NewReader(exp))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(series); got != `map[a_total:[map[msg:a "b", c} service:elbv2]] up:[map[]]]` {
		t.Errorf("parseExposition = %s", got)
	}
}

// scrapeRunningController starts moto behind a fault proxy, an API server and the controller
// binary, programs the seed Gateway with one throttled AWS call on the way, then has AWS deny
// every call while the Gateway changes, and returns the metric names the controller's /metrics
// serves (histograms as their _bucket, _sum and _count series).
func scrapeRunningController(t *testing.T) map[string][]map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := startWorld(ctx, t)
	proxy, err := testenv.NewFaultProxy(w.moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })

	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	args := []string{"controller",
		"--cluster-name=" + clusterName, "--aws-region=" + awsRegion, "--aws-vpc-id=" + w.vpc.VPCID,
		"--kubeconfig=" + w.cluster.KubeconfigPath, "--leader-elect=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", port), "--health-probe-bind-address=127.0.0.1:0"}
	// The first ELB call is throttled (the SDK retries it).
	proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultThrottle, Service: "elasticloadbalancing", Times: 1})
	runController(ctx, t, buildController(t), args, proxy.URL, "AWS_EC2_METADATA_DISABLED=true")
	admin := w.admin
	if err := applySeed(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := waitProgrammed(ctx, admin, "aws-tcp-gateway"); err != nil {
		t.Fatal(err)
	}
	if proxy.Injected() != 1 {
		t.Fatalf("the proxy throttled %d calls, want 1", proxy.Injected())
	}

	// AWS denies everything; a change of the Gateway's LoadBalancerConfiguration makes the
	// controller call it.
	proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Code: "AccessDenied", Status: 403})
	lbc := &unstructured.Unstructured{}
	lbc.SetAPIVersion("gateway.k8s.aws/v1beta1")
	lbc.SetKind("LoadBalancerConfiguration")
	if err := admin.Get(ctx, types.NamespacedName{Namespace: "default", Name: "internet-facing-config"}, lbc); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedStringMap(lbc.Object, map[string]string{"team": "observability"}, "spec", "tags"); err != nil {
		t.Fatal(err)
	}
	if err := admin.Update(ctx, lbc); err != nil {
		t.Fatal(err)
	}

	var exported map[string][]map[string]string
	var scrapeErr error
	err = poll(ctx, time.Minute, func() (bool, error) {
		exported, scrapeErr = scrape(ctx, metricsURL)
		return scrapeErr == nil && exported["elbgateway_aws_api_permission_errors_total"] != nil &&
			exported["elbgateway_gateway_reconcile_error"] != nil, nil
	})
	if err != nil {
		t.Fatalf("no permission error in %s: %v (last scrape error: %v; exported: %v)", metricsURL, err, scrapeErr, exported)
	}
	return exported
}

// scrape reads the series of a Prometheus text exposition: the label sets of each sample name.
func scrape(ctx context.Context, url string) (map[string][]map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("%s: %s %s", url, resp.Status, b)
	}
	return parseExposition(resp.Body)
}

// parseExposition reads the text exposition format: `name{label="value",…} value` lines.
func parseExposition(r io.Reader) (map[string][]map[string]string, error) {
	out := map[string][]map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.IndexAny(line, "{ ")
		if i <= 0 {
			return nil, fmt.Errorf("unreadable sample %q", line)
		}
		name, labels := line[:i], map[string]string{}
		if line[i] == '{' {
			rest := line[i+1:]
			for !strings.HasPrefix(rest, "}") {
				eq := strings.Index(rest, "=\"")
				if eq <= 0 {
					return nil, fmt.Errorf("unreadable labels in %q", line)
				}
				label := strings.TrimLeft(rest[:eq], ",")
				var value strings.Builder
				j := eq + 2
				for ; j < len(rest) && rest[j] != '"'; j++ {
					if rest[j] == '\\' && j+1 < len(rest) {
						j++
					}
					value.WriteByte(rest[j])
				}
				if j >= len(rest) {
					return nil, fmt.Errorf("unterminated label value in %q", line)
				}
				labels[label] = value.String()
				rest = strings.TrimPrefix(rest[j+1:], ",")
			}
		}
		out[name] = append(out[name], labels)
	}
	return out, sc.Err()
}
