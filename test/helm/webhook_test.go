package helm

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestChartRendersPodReadinessGateWebhook: with podReadinessGate.enabled the chart renders the
// webhook configuration, its Service and the certificate Secret; the configuration's caBundle
// is the Secret's CA, which signed the serving certificate for the Service's DNS name; the
// controller gets the flags, the port and the certificate mounted, and the ClusterRole pods and
// pods/status. Without it, none of these.
func TestChartRendersPodReadinessGateWebhook(t *testing.T) {
	off, err := render(seedValues(t, "demo", "us-east-1", "vpc-1"))
	if err != nil {
		t.Fatal(err)
	}
	if find(off, "MutatingWebhookConfiguration", "") != nil || find(off, "Secret", "") != nil {
		t.Error("the webhook or its Secret renders although podReadinessGate.enabled is false")
	}
	if slices.ContainsFunc(containerArgs(t, off), func(a string) bool { return strings.HasPrefix(a, "--enable-pod-readiness-gate-inject") }) {
		t.Error("the controller gets --enable-pod-readiness-gate-inject although podReadinessGate.enabled is false")
	}
	if grantsPods(t, off) {
		t.Error("the ClusterRole grants pods although podReadinessGate.enabled is false")
	}

	values := seedValues(t, "demo", "us-east-1", "vpc-1")
	values["podReadinessGate"] = map[string]any{"enabled": true}
	objs, err := render(values)
	if err != nil {
		t.Fatal(err)
	}
	mwc := find(objs, "MutatingWebhookConfiguration", "")
	if mwc == nil {
		t.Fatal("no MutatingWebhookConfiguration")
	}
	hooks, _, _ := unstructured.NestedSlice(mwc.Object, "webhooks")
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks, want 1", len(hooks))
	}
	hook := hooks[0].(map[string]any)
	caBundle, _, _ := unstructured.NestedString(hook, "clientConfig", "caBundle")
	svcName, _, _ := unstructured.NestedString(hook, "clientConfig", "service", "name")
	secret := find(objs, "Secret", strings.TrimSuffix(svcName, "-webhook")+"-webhook-tls")
	svc := find(objs, "Service", svcName)
	if secret == nil || svc == nil {
		t.Fatalf("Secret %v, Service %s %v: want both", secret != nil, svcName, svc != nil)
	}
	svcNS, _, _ := unstructured.NestedString(hook, "clientConfig", "service", "namespace")
	path, _, _ := unstructured.NestedString(hook, "clientConfig", "service", "path")
	if svcName != svc.GetName() || svcNS != releaseNamespace || path != "/mutate-v1-pod" {
		t.Errorf("webhook calls %s/%s%s, want the Service %s/%s at /mutate-v1-pod", svcNS, svcName, path, releaseNamespace, svc.GetName())
	}
	label, _, _ := unstructured.NestedString(hook, "namespaceSelector", "matchLabels", "elbgateway.k8s.aws/pod-readiness-gate-inject")
	policy, _, _ := unstructured.NestedString(hook, "failurePolicy")
	if label != "enabled" || policy != "Fail" {
		t.Errorf("namespace selector label %q, failure policy %q; want enabled, Fail", label, policy)
	}
	data, _, _ := unstructured.NestedStringMap(secret.Object, "data")
	if caBundle == "" || caBundle != data["ca.crt"] {
		t.Fatalf("caBundle %.20q… is not the Secret's ca.crt %.20q…", caBundle, data["ca.crt"])
	}
	ca := parseCert(t, caBundle)
	serving := parseCert(t, data["tls.crt"])
	if err := serving.CheckSignatureFrom(ca); err != nil {
		t.Errorf("the serving certificate is not signed by the caBundle's CA: %v", err)
	}
	if want := svc.GetName() + "." + releaseNamespace + ".svc"; !slices.Contains(serving.DNSNames, want) {
		t.Errorf("serving certificate names %v, want %s among them", serving.DNSNames, want)
	}
	if key, _ := base64.StdEncoding.DecodeString(data["tls.key"]); !strings.Contains(string(key), "PRIVATE KEY") {
		t.Error("the Secret's tls.key holds no private key")
	}
	args := containerArgs(t, objs)
	for _, want := range []string{"--enable-pod-readiness-gate-inject=true", "--webhook-port=9443", "--webhook-cert-dir=/etc/elbgateway/webhook-tls", "--readiness-gate-poll-interval=15s"} {
		if !slices.Contains(args, want) {
			t.Errorf("controller args %v lack %s", args, want)
		}
	}
	d := find(objs, "Deployment", "")
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	mounted := false
	for _, v := range volumes {
		if n, _, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName"); n == secret.GetName() {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("the Deployment's volumes %v do not mount the Secret %s", volumes, secret.GetName())
	}
	if !grantsPods(t, objs) {
		t.Error("the ClusterRole does not grant pods get/list/watch and pods/status patch")
	}
	role := find(objs, "Role", releaseName+"-elbgateway-readiness-gates")
	if role == nil || role.GetNamespace() != releaseNamespace {
		t.Fatalf("no Role for the readiness gate directory in %s", releaseNamespace)
	}
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	for _, r := range rules {
		names, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resourceNames")
		verbs, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "verbs")
		if !slices.Equal(verbs, []string{"create"}) && !slices.Equal(names, []string{"elbgateway-readiness-gates"}) {
			t.Errorf("directory Role rule %v reaches other ConfigMaps than elbgateway-readiness-gates", r)
		}
	}

	// The configuration the integration tests install (config/webhook) is the chart's, but for
	// the caBundle and the Service, which the tests replace with their local server.
	raw, err := os.ReadFile(filepath.Join(repoRoot, "config", "webhook", "pod-readiness-gate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tested, err := decodeAll(raw)
	if err != nil || len(tested) != 1 {
		t.Fatalf("config/webhook: %d objects, %v", len(tested), err)
	}
	testedHooks, _, _ := unstructured.NestedSlice(tested[0].Object, "webhooks")
	want := testedHooks[0].(map[string]any)
	for _, field := range []string{"name", "rules", "namespaceSelector", "objectSelector", "sideEffects", "admissionReviewVersions", "failurePolicy", "timeoutSeconds"} {
		if !reflect.DeepEqual(hook[field], want[field]) {
			t.Errorf("webhook %s: chart renders %v, config/webhook has %v", field, hook[field], want[field])
		}
	}

	values["podReadinessGate"] = map[string]any{"enabled": true, "failurePolicy": "Sometimes"}
	if _, err := render(values); err == nil || !strings.Contains(err.Error(), "failurePolicy") {
		t.Errorf("failurePolicy Sometimes: error %v, want a schema error naming failurePolicy", err)
	}
}

func parseCert(t *testing.T, b64 string) *x509.Certificate {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatalf("no PEM block in %q", raw)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// grantsPods says whether the ClusterRole lets the controller watch pods and patch their status.
func grantsPods(t *testing.T, objs []*unstructured.Unstructured) bool {
	t.Helper()
	cr := find(objs, "ClusterRole", "")
	if cr == nil {
		t.Fatal("no ClusterRole")
	}
	rules, _, _ := unstructured.NestedSlice(cr.Object, "rules")
	var watch, patch bool
	for _, r := range rules {
		resources, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resources")
		verbs, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "verbs")
		if slices.Contains(resources, "pods") && slices.Contains(verbs, "watch") && slices.Contains(verbs, "list") {
			watch = true
		}
		if slices.Contains(resources, "pods/status") && slices.Contains(verbs, "patch") {
			patch = true
		}
	}
	return watch && patch
}
