// Package helm tests the Helm chart charts/elbgateway: it renders the chart with the seed
// walkthrough's values file, checks what comes out, and installs it on a real API server where
// the controller runs from the rendered arguments as the chart's ServiceAccount.
//
// It is a module of its own so that Helm's dependencies never move the versions the
// controller's module pins.
package helm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The release the walkthrough installs.
const (
	releaseName      = "aws-load-balancer-controller"
	releaseNamespace = "kube-system"
	serviceAccount   = "aws-load-balancer-controller"
)

// repoRoot is the controller module's root: this module lives in test/helm under it.
var repoRoot string

func TestMain(m *testing.M) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	// internal/testenv finds the repository (CRDs, bin/) from the working directory.
	if err := os.Chdir(repoRoot); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func chartDir() string { return filepath.Join(repoRoot, "charts", "elbgateway") }

// seedValues reads the walkthrough's values file with its placeholders filled in.
func seedValues(t *testing.T, clusterName, region, vpcID string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "test", "helm", "testdata", "seed-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("<cluster name>", clusterName, "<region>", region, "<vpc-id>", vpcID).Replace(string(raw))
	var v map[string]any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// render renders the chart's templates for the walkthrough's release, in file name order.
func render(values map[string]any) ([]*unstructured.Unstructured, error) {
	chrt, err := loader.LoadDir(chartDir())
	if err != nil {
		return nil, err
	}
	vals, err := util.ToRenderValues(chrt, values, common.ReleaseOptions{
		Name: releaseName, Namespace: releaseNamespace, Revision: 1, IsInstall: true,
	}, nil)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, ".yaml") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []*unstructured.Unstructured
	for _, n := range names {
		objs, err := decodeAll([]byte(files[n]))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// chartCRDs reads the CRDs the chart ships in crds/.
func chartCRDs() ([]*unstructured.Unstructured, error) {
	paths, err := filepath.Glob(filepath.Join(chartDir(), "crds", "*.yaml"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no CRDs in %s/crds (%v)", chartDir(), err)
	}
	var out []*unstructured.Unstructured
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		objs, err := decodeAll(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

func decodeAll(raw []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*unstructured.Unstructured
	for {
		var doc json.RawMessage
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if t := bytes.TrimSpace(doc); len(t) == 0 || string(t) == "null" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(doc); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && (name == "" || o.GetName() == name) {
			return o
		}
	}
	return nil
}

// containerArgs returns the controller container's args.
func containerArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	d := find(objs, "Deployment", "")
	if d == nil {
		t.Fatal("the chart renders no Deployment")
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	return args
}

// TestChartCRDsMatchConfig fails when charts/elbgateway/crds drifts from config/crd/bases.
func TestChartCRDsMatchConfig(t *testing.T) {
	read := func(dir string) map[string]string {
		paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, p := range paths {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(p)] = string(raw)
		}
		return out
	}
	want := read(filepath.Join(repoRoot, "config", "crd", "bases"))
	got := read(filepath.Join(chartDir(), "crds"))
	if len(want) == 0 {
		t.Fatal("config/crd/bases holds no CRDs")
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("charts/elbgateway/crds/%s differs from config/crd/bases/%s: run make chart-crds", name, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("charts/elbgateway/crds/%s is not in config/crd/bases: run make chart-crds", name)
		}
	}
}

// TestChartRendersSeedValues renders the walkthrough's values and checks the controller's
// arguments, the replicas, the ServiceAccount and the probes.
func TestChartRendersSeedValues(t *testing.T) {
	objs, err := render(seedValues(t, "karpenter-demo", "eu-west-1", "vpc-0123456789abcdef0"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"controller",
		"--cluster-name=karpenter-demo",
		"--aws-region=eu-west-1",
		"--aws-vpc-id=vpc-0123456789abcdef0",
		"--feature-gates=ALBGatewayAPI=true,NLBGatewayAPI=true",
		"--log-level=info",
		"--aws-inventory-ttl=10m",
		"--nlb-gateway-max-concurrent-reconciles=10",
		"--alb-gateway-max-concurrent-reconciles=10",
		"--default-target-type=instance",
		"--default-load-balancer-scheme=internal",
		"--alb-rules-per-load-balancer=100",
		"--alb-certificates-per-load-balancer=25",
		"--nlb-certificates-per-load-balancer=25",
		"--metrics-bind-address=:8080",
		"--health-probe-bind-address=:61779",
		"--leader-elect=true",
		"--leader-election-namespace=kube-system",
		"--leader-election-lease-duration=15s",
		"--leader-election-renew-deadline=10s",
		"--leader-election-retry-period=2s",
	}
	if got := containerArgs(t, objs); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("container args\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	d := find(objs, "Deployment", "")
	if n, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); n != 2 {
		t.Errorf("replicas %d, want 2", n)
	}
	if sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName"); sa != serviceAccount {
		t.Errorf("serviceAccountName %q, want %q (serviceAccount.name)", sa, serviceAccount)
	}
	if find(objs, "ServiceAccount", serviceAccount) == nil {
		t.Errorf("no ServiceAccount %s (serviceAccount.create: true)", serviceAccount)
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		port, _, _ := unstructured.NestedFieldNoCopy(containers[0].(map[string]any), probe, "httpGet", "port")
		if port != "health" {
			t.Errorf("%s on port %v, want the health port", probe, port)
		}
	}
	svc := find(objs, "Service", "")
	if svc == nil || !strings.HasSuffix(svc.GetName(), "-metrics") {
		t.Fatalf("metrics Service %v", svc)
	}
	port, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(port) != 1 || port[0].(map[string]any)["targetPort"] != "metrics" {
		t.Errorf("metrics Service ports %v, want the metrics port", port)
	}
}

// TestChartRendersQuotas: raised quotas in the values reach the controller's flags.
func TestChartRendersQuotas(t *testing.T) {
	values := seedValues(t, "karpenter-demo", "eu-west-1", "vpc-0123456789abcdef0")
	values["quotas"] = map[string]any{"albRulesPerLoadBalancer": 250, "albCertificatesPerLoadBalancer": 50, "nlbCertificatesPerLoadBalancer": 30}
	objs, err := render(values)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(containerArgs(t, objs), "\n")
	for _, want := range []string{"--alb-rules-per-load-balancer=250", "--alb-certificates-per-load-balancer=50", "--nlb-certificates-per-load-balancer=30"} {
		if !strings.Contains(args, want) {
			t.Errorf("container args lack %s:\n%s", want, args)
		}
	}
}

// TestChartPassesResyncPeriod: resyncPeriod becomes --resync-period; empty (the default), the
// flag is left out and the controller keeps its own default.
func TestChartPassesResyncPeriod(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  []string
	}{{"30m", []string{"--resync-period=30m"}}, {"", nil}} {
		v := seedValues(t, "demo", "eu-west-1", "vpc-0123456789abcdef0")
		v["resyncPeriod"] = tt.value
		objs, err := render(v)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range containerArgs(t, objs) {
			if strings.HasPrefix(a, "--resync-period") {
				got = append(got, a)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("resyncPeriod %q: --resync-period arguments %v, want %v", tt.value, got, tt.want)
		}
	}
}

// TestChartRBACIsLeastPrivilege: no wildcards, no Secrets, Leases only in a namespaced Role.
func TestChartRBACIsLeastPrivilege(t *testing.T) {
	objs, err := render(seedValues(t, "demo", "us-east-1", "vpc-1"))
	if err != nil {
		t.Fatal(err)
	}
	cr := find(objs, "ClusterRole", "")
	if cr == nil {
		t.Fatal("no ClusterRole")
	}
	rules, _, _ := unstructured.NestedSlice(cr.Object, "rules")
	for _, r := range rules {
		m := r.(map[string]any)
		resources, _, _ := unstructured.NestedStringSlice(m, "resources")
		verbs, _, _ := unstructured.NestedStringSlice(m, "verbs")
		for _, x := range append(append([]string(nil), resources...), verbs...) {
			if x == "*" || x == "secrets" || x == "leases" || x == "delete" || x == "deletecollection" {
				t.Errorf("ClusterRole rule %v grants %q", m, x)
			}
		}
	}
	role := find(objs, "Role", "")
	if role == nil || role.GetNamespace() != releaseNamespace {
		t.Fatalf("leader election Role %v, want one in %s", role, releaseNamespace)
	}
}

// TestChartRequiresOnlyClusterName: the chart refuses to render without clusterName, naming it;
// without region or vpcId it renders and leaves their flags out, so the controller reads them
// from the instance metadata service.
func TestChartRequiresOnlyClusterName(t *testing.T) {
	v := seedValues(t, "demo", "us-east-1", "vpc-1")
	delete(v, "clusterName")
	if _, err := render(v); err == nil || !strings.Contains(err.Error(), "clusterName is required") {
		t.Errorf("without clusterName: error %v, want %q", err, "clusterName is required")
	}
	for _, key := range []string{"region", "vpcId"} {
		v := seedValues(t, "demo", "us-east-1", "vpc-1")
		v[key] = ""
		objs, err := render(v)
		if err != nil {
			t.Fatalf("without %s: %v", key, err)
		}
		flag := map[string]string{"region": "--aws-region", "vpcId": "--aws-vpc-id"}[key]
		other := map[string]string{"region": "--aws-vpc-id=vpc-1", "vpcId": "--aws-region=us-east-1"}[key]
		args := strings.Join(containerArgs(t, objs), " ")
		if strings.Contains(args, flag) || !strings.Contains(args, other) {
			t.Errorf("without %s: arguments %s, want no %s and %s", key, args, flag, other)
		}
	}
}
