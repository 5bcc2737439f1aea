package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files of the plan tests")

func seedDir(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "examples", "seed-l4")
}

func runPlanCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(append([]string{"plan"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestPlanSeedGolden plans the seed walkthrough's manifests: an internet-facing NLB with a
// TCP:8080 listener forwarding to an ip target group on port 3000.
func TestPlanSeedGolden(t *testing.T) {
	code, out, errOut := runPlanCmd("-f", seedDir(t))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"Gateway default/aws-tcp-gateway (gateway.k8s.aws/nlb)",
		"network  internet-facing",
		"8080  TCP       forward k8s-default-tcpbacke-",
		"TCP       3000  ip           default/backend:3000  TCP traffic-port every 15s, timeout 5s, healthy 3, unhealthy 3  192.0.2.10:3000",
		"TCPRoute default/tcp-backend-aws",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	golden := filepath.Join("testdata", "plan-seed-l4.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/elbgateway -run TestPlanSeedGolden -update)", err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (rerun with -update and review the diff):\n%s", golden, out)
	}
}

// TestPlanYAML checks -o yaml carries the stack and the statuses.
func TestPlanYAML(t *testing.T) {
	code, out, errOut := runPlanCmd("-f", seedDir(t), "-o", "yaml", "--cluster-name", "prod", "--subnets", "subnet-0aa=eu-west-1a,subnet-0bb=eu-west-1b")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var doc struct {
		Gateways []gatewayPlan `json:"gateways"`
	}
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Gateways) != 1 {
		t.Fatalf("%d gateways, want 1", len(doc.Gateways))
	}
	p := doc.Gateways[0]
	s := p.Stack
	if s == nil || s.LoadBalancer == nil || s.Type != model.Network || s.LoadBalancer.Scheme != "internet-facing" {
		t.Fatalf("stack %+v, want an internet-facing network load balancer", s)
	}
	if got := subnetList(s.LoadBalancer.Subnets); got != "subnet-0aa, subnet-0bb" {
		t.Errorf("subnets %s, want the two of --subnets", got)
	}
	if s.LoadBalancer.Tags["elbv2.k8s.aws/cluster"] != "prod" {
		t.Errorf("cluster tag %q, want prod (--cluster-name)", s.LoadBalancer.Tags["elbv2.k8s.aws/cluster"])
	}
	if len(s.Listeners) != 1 || s.Listeners[0].Port != 8080 || s.Listeners[0].Protocol != "TCP" {
		t.Errorf("listeners %+v, want TCP:8080", s.Listeners)
	}
	if len(s.TargetGroups) != 1 || s.TargetGroups[0].Port != 3000 || s.TargetGroups[0].TargetType != "ip" {
		t.Errorf("target groups %+v, want one ip target group on 3000", s.TargetGroups)
	}
	if p.Status == nil || p.Status.Gateway == nil || len(p.Status.Routes) != 1 {
		t.Errorf("status %+v, want the Gateway's and the TCPRoute's", p.Status)
	}
}

// TestPlanOlderVersions plans the seed with the versions older clusters serve (TCPRoute
// v1alpha2, Gateway v1beta1, our CRDs v1beta1) and expects the same plan.
func TestPlanOlderVersions(t *testing.T) {
	dir := t.TempDir()
	copySeed(t, dir, map[string][2]string{
		"tcproute.yaml":      {"apiVersion: gateway.networking.k8s.io/v1", "apiVersion: gateway.networking.k8s.io/v1alpha2"},
		"gw-public-nlb.yaml": {"apiVersion: gateway.networking.k8s.io/v1", "apiVersion: gateway.networking.k8s.io/v1beta1"},
	})
	_, want, _ := runPlanCmd("-f", seedDir(t))
	code, got, errOut := runPlanCmd("-f", dir)
	if code != 0 || got != want {
		t.Errorf("exit %d, stderr %s; output differs from the v1 manifests' plan:\n%s", code, errOut, got)
	}
}

// TestPlanRejects: every rejected manifest exits 1, naming the object and the field.
func TestPlanRejects(t *testing.T) {
	for _, tt := range []struct {
		name    string
		file    string
		replace [2]string
		want    []string
	}{
		{"backendRef without port", "tcproute.yaml", [2]string{"      port: 3000\n", ""},
			[]string{"rejected: TCPRoute default/tcp-backend-aws", "spec.rules[0].backendRefs[0].port"}},
		{"unknown field", "tcproute.yaml", [2]string{"      port: 3000", "      prot: 3000"},
			[]string{"TCPRoute default/tcp-backend-aws", `unknown field "spec.rules[0].backendRefs[0].prot"`}},
		{"field of the wrong type", "gw-public-nlb.yaml", [2]string{"port: 8080", "port: eighty"},
			[]string{"Gateway default/aws-tcp-gateway", "spec.listeners"}},
		{"unknown kind", "tcproute.yaml", [2]string{"kind: TCPRoute", "kind: TCPRout"},
			[]string{"TCPRout tcp-backend-aws", "unknown kind TCPRout.gateway.networking.k8s.io"}},
		{"unknown version", "lbconfig.yaml", [2]string{"gateway.k8s.aws/v1beta1", "gateway.k8s.aws/v2"},
			[]string{"LoadBalancerConfiguration internet-facing-config", "use gateway.k8s.aws/v1 or gateway.k8s.aws/v1beta1"}},
		{"unparseable YAML", "tgconfig.yaml", [2]string{"  targetReference:", "  targetReference: ["},
			[]string{"tgconfig.yaml document 1: not valid YAML"}},
		{"missing configuration", "gw-public-nlb.yaml", [2]string{"name: internet-facing-config", "name: no-such-config"},
			[]string{"rejected: Gateway default/aws-tcp-gateway", "no-such-config"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copySeed(t, dir, map[string][2]string{tt.file: tt.replace})
			code, out, errOut := runPlanCmd("-f", dir)
			if code != 1 {
				t.Errorf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestPlanSkipsWorkloads: Deployments and ServiceAccounts do not shape AWS resources; they are
// skipped with a note, not rejected.
func TestPlanSkipsWorkloads(t *testing.T) {
	dir := t.TempDir()
	copySeed(t, dir, nil)
	workload := "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: backend\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: backend\nspec: {}\n"
	if err := os.WriteFile(filepath.Join(dir, "quickstart.yaml"), []byte(workload), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runPlanCmd("-f", dir)
	if code != 0 || !strings.Contains(errOut, "skipped") || !strings.Contains(errOut, "Deployment backend") {
		t.Errorf("exit %d, stderr %q; want 0 and the Deployment skipped", code, errOut)
	}
}

// TestPlanAgainstAWS plans the seed against moto with --aws-endpoint: nothing exists yet, so
// the changes create the whole stack; the subnets are the VPC's.
func TestPlanAgainstAWS(t *testing.T) {
	ctx := context.Background()
	moto, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer moto.Stop()
	vpc, err := testenv.SeedVPC(ctx, moto.Endpoint, demoRegion, demoCluster)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testenv.TestAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testenv.TestSecretAccessKey)
	code, out, errOut := runPlanCmd("-f", seedDir(t), "--aws-endpoint", moto.Endpoint, "--region", demoRegion,
		"--vpc-id", vpc.VPCID, "--cluster-name", demoCluster)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"CHANGES TO AWS", "create LoadBalancer LoadBalancer", "create Listener 8080", "create TargetGroup", vpc.PublicSubnets[0]} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// copySeed copies the seed manifests into dir, replacing text in the named files; it fails when
// a replacement finds nothing to replace.
func copySeed(t *testing.T, dir string, replace map[string][2]string) {
	t.Helper()
	src := seedDir(t)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := replace[e.Name()]; ok {
			if !bytes.Contains(raw, []byte(r[0])) {
				t.Fatalf("%s has no %q", e.Name(), r[0])
			}
			raw = bytes.ReplaceAll(raw, []byte(r[0]), []byte(r[1]))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// albManyRules writes an ALB Gateway with HTTP listeners on ports 80 and 8080 and an
// HTTPRoute with n rules attached to both.
func albManyRules(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: alb}
spec: {controllerName: gateway.k8s.aws/alb}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: alb
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: alt, port: 8080, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: many, namespace: default}
spec:
  parentRefs: [{name: web}]
  rules:
`)
	for i := range n {
		fmt.Fprintf(&b, "  - matches: [{path: {type: Exact, value: /r%03d}}]\n    backendRefs: [{name: web, port: 80}]\n", i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "alb.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPlanRuleQuotaFlag: --alb-rules-per-load-balancer bounds the rules of the whole load
// balancer, across its listeners; rules beyond it make plan exit 3 (dropped, the rest is
// served), and a quota below 1 is a usage error (exit 2).
func TestPlanRuleQuotaFlag(t *testing.T) {
	dir := albManyRules(t, 8)
	count := func(wantCode int, args ...string) int {
		t.Helper()
		code, out, errOut := runPlanCmd(append([]string{"-f", dir, "-o", "yaml"}, args...)...)
		if code != wantCode {
			t.Fatalf("exit %d, want %d\n%s%s", code, wantCode, out, errOut)
		}
		if wantCode == 3 && !strings.Contains(errOut, "dropped: HTTPRoute default/many (Gateway default/web): PartiallyInvalid=True") {
			t.Errorf("stderr does not say which route lost rules:\n%s", errOut)
		}
		var doc struct {
			Gateways []gatewayPlan `json:"gateways"`
		}
		if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Gateways) != 1 || doc.Gateways[0].Stack == nil {
			t.Fatalf("want one Gateway's plan, got %s", out)
		}
		return doc.Gateways[0].Stack.RuleCount()
	}
	if n := count(0); n != 16 {
		t.Errorf("8 rules on two listeners planned %d rules, want 16", n)
	}
	if n := count(3, "--alb-rules-per-load-balancer", "10"); n != 10 {
		t.Errorf("with --alb-rules-per-load-balancer 10, %d rules, want 10 for the whole load balancer", n)
	}
	code, _, errOut := runPlanCmd("-f", dir, "--alb-rules-per-load-balancer", "0")
	if code != 2 || !strings.Contains(errOut, "--alb-rules-per-load-balancer 0: a quota is at least 1") {
		t.Errorf("quota 0: exit %d, stderr %q; want exit 2 naming the flag", code, errOut)
	}
}

// TestPlanServiceEndpoint: `--aws-endpoint aws` leaves every client on its service's own
// regional endpoint (an ELB URL would also be sent EC2 and ACM calls); a URL is every
// service's base URL, as an emulator serves them.
func TestPlanServiceEndpoint(t *testing.T) {
	for flag, want := range map[string]string{
		"aws":                   "",
		"http://127.0.0.1:5000": "http://127.0.0.1:5000",
	} {
		if got := serviceEndpoint(flag); got != want {
			t.Errorf("serviceEndpoint(%q) = %q, want %q", flag, got, want)
		}
	}
}
