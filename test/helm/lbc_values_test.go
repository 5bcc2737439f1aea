package helm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// lbcValues reads testdata/lbc-values.yaml, a values file shaped like the AWS Load Balancer
// Controller chart's.
func lbcValues(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "test", "helm", "testdata", "lbc-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// renderNotes renders the chart and returns NOTES.txt.
func renderNotes(t *testing.T, values map[string]any) string {
	t.Helper()
	chrt, err := loader.LoadDir(chartDir())
	if err != nil {
		t.Fatal(err)
	}
	vals, err := util.ToRenderValues(chrt, values, common.ReleaseOptions{
		Name: releaseName, Namespace: releaseNamespace, Revision: 1, IsInstall: true,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(chrt, vals)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			return content
		}
	}
	t.Fatal("the chart renders no NOTES.txt")
	return ""
}

func podSpec(t *testing.T, objs []*unstructured.Unstructured) (pod, container map[string]any) {
	t.Helper()
	d := find(objs, "Deployment", "")
	if d == nil {
		t.Fatal("the chart renders no Deployment")
	}
	pod, _, _ = unstructured.NestedMap(d.Object, "spec", "template", "spec")
	containers, _ := pod["containers"].([]any)
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	return pod, containers[0].(map[string]any)
}

// TestChartRendersLBCValues renders an AWS Load Balancer Controller values file: its env map,
// its log level names, its security group keys, probes, pod settings and ServiceMonitor reach
// the Deployment, and the keys the chart ignores are named in NOTES.txt.
func TestChartRendersLBCValues(t *testing.T) {
	values := lbcValues(t)
	objs, err := render(values)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(containerArgs(t, objs), "\n")
	for _, want := range []string{
		"--cluster-name=prod-eks",
		"--log-level=warn",
		"--feature-gates=ALBGatewayAPI=true,NLBGatewayAPI=true",
		"--enable-backend-security-group=true",
		"--backend-security-group=sg-0fedcba9876543210",
		"--disable-restricted-sg-rules=true",
		"--service-target-eni-security-group-tags=team=payments,env=prod",
	} {
		if !strings.Contains(args+"\n", want+"\n") {
			t.Errorf("container args lack %s:\n%s", want, args)
		}
	}
	pod, c := podSpec(t, objs)
	env := map[string]string{}
	for _, e := range c["env"].([]any) {
		m := e.(map[string]any)
		v, _ := m["value"].(string)
		env[m["name"].(string)] = v
	}
	if env["HTTPS_PROXY"] != "http://proxy.internal:3128" || env["NO_PROXY"] != "169.254.169.254,.svc" {
		t.Errorf("env %v lacks the map's HTTPS_PROXY and NO_PROXY", env)
	}
	if _, ok := env["POD_NAMESPACE"]; !ok {
		t.Errorf("env %v lacks POD_NAMESPACE", env)
	}
	if n, _, _ := unstructured.NestedInt64(c, "livenessProbe", "initialDelaySeconds"); n != 30 {
		t.Errorf("livenessProbe.initialDelaySeconds %d, want 30 from the values", n)
	}
	if p, _, _ := unstructured.NestedString(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
		t.Errorf("readinessProbe path %q, want the chart's default /readyz", p)
	}
	if n, _, _ := unstructured.NestedInt64(pod, "terminationGracePeriodSeconds"); n != 10 {
		t.Errorf("terminationGracePeriodSeconds %d, want 10", n)
	}
	if hn, _, _ := unstructured.NestedBool(pod, "hostNetwork"); !hn {
		t.Error("hostNetwork not set")
	}
	if p, _, _ := unstructured.NestedString(pod, "dnsPolicy"); p != "ClusterFirstWithHostNet" {
		t.Errorf("dnsPolicy %q", p)
	}
	if vols, _, _ := unstructured.NestedSlice(pod, "volumes"); len(vols) != 1 {
		t.Errorf("volumes %v, want the one extra volume", vols)
	}
	if mounts, _, _ := unstructured.NestedSlice(c, "volumeMounts"); len(mounts) != 1 {
		t.Errorf("volumeMounts %v, want the one extra mount", mounts)
	}
	d := find(objs, "Deployment", "")
	if n, _, _ := unstructured.NestedInt64(d.Object, "spec", "strategy", "rollingUpdate", "maxUnavailable"); n != 1 {
		t.Errorf("strategy %v, want updateStrategy's", d.Object["spec"].(map[string]any)["strategy"])
	}
	sm := find(objs, "ServiceMonitor", "")
	if sm == nil {
		t.Fatal("no ServiceMonitor with serviceMonitor.enabled")
	}
	if l := sm.GetLabels()["release"]; l != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v lack serviceMonitor.additionalLabels", sm.GetLabels())
	}
	eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(eps) != 1 || eps[0].(map[string]any)["port"] != "metrics" || eps[0].(map[string]any)["interval"] != "1m" {
		t.Errorf("ServiceMonitor endpoints %v, want the metrics port every 1m", eps)
	}

	notes := renderNotes(t, values)
	for _, key := range []string{"defaultSSLPolicy", "vpcTags", "awsMaxRetries", "externalManagedTags", "clusterSecretsPermissions", "syncPeriod"} {
		if !strings.Contains(notes, "  - "+key+"\n") && !strings.HasSuffix(notes, "  - "+key) {
			t.Errorf("NOTES.txt does not warn that %s is ignored:\n%s", key, notes)
		}
	}
	if strings.Contains(notes, "- watchNamespace") {
		t.Errorf("NOTES.txt warns about watchNamespace, which is empty:\n%s", notes)
	}
}

// TestChartEnvAcceptsListAndMap: env as a list of EnvVar objects passes through unchanged.
func TestChartEnvAcceptsListAndMap(t *testing.T) {
	for name, env := range map[string]any{
		"list": []any{map[string]any{"name": "AWS_ENDPOINT_URL", "value": "http://moto:5000"}},
		"map":  map[string]any{"AWS_ENDPOINT_URL": "http://moto:5000"},
	} {
		values := seedValues(t, "demo", "us-east-1", "vpc-1")
		values["env"] = env
		objs, err := render(values)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, c := podSpec(t, objs)
		found := false
		for _, e := range c["env"].([]any) {
			m := e.(map[string]any)
			if m["name"] == "AWS_ENDPOINT_URL" && m["value"] == "http://moto:5000" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: env %v lacks AWS_ENDPOINT_URL", name, c["env"])
		}
	}
}

// TestChartSchemaRefusesBadValues: wrong types and unknown log levels are refused before
// anything renders, with a message that names the key.
func TestChartSchemaRefusesBadValues(t *testing.T) {
	for key, bad := range map[string]any{
		"logLevel":                      "verbose",
		"replicaCount":                  "two",
		"env":                           "HTTPS_PROXY=x",
		"enableBackendSecurityGroup":    "yes",
		"backendSecurityGroup":          "my-group",
		"hostNetwork":                   "true",
		"terminationGracePeriodSeconds": "30s",
		"externalManagedTags":           "CostCenter",
		"resyncPeriod":                  "ten minutes",
	} {
		values := seedValues(t, "demo", "us-east-1", "vpc-1")
		values[key] = bad
		_, err := render(values)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v: error %v, want a schema error naming %s", key, bad, err, key)
		}
	}
}
