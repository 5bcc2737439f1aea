package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lookupsYAML needs three answers only AWS has: the certificate covering shop.example.com (the
// HTTPS listener names none), the ARN of the out-of-band target group legacy-tg, and the ID of
// the security group named web-sg.
const lookupsYAML = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: alb}
spec: {controllerName: gateway.k8s.aws/alb}
---
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata: {name: cfg, namespace: default}
spec:
  scheme: internet-facing
  securityGroups: [web-sg]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: alb
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: cfg}
  listeners:
  - {name: https, port: 443, protocol: HTTPS, hostname: shop.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: legacy, namespace: default}
spec:
  parentRefs: [{name: web}]
  rules:
  - backendRefs: [{group: "", kind: TargetGroupName, name: legacy-tg}]
`

// TestPlanOfflineLookups: offline, plan makes no AWS call, so it neither invents an answer nor
// reports one as missing: the certificate, target group and security group looked up by name
// are listed as resolved at apply time, no condition is negative, and plan exits 0. The same
// manifests read from standard input (-f -) give the same plan, also as JSON (-o json).
func TestPlanOfflineLookups(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(file, []byte(lookupsYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runPlanCmd("-f", file)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"RESOLVED AT APPLY TIME",
		"the issued ACM certificate that best covers shop.example.com (resolved at apply time)",
		"target group legacy-tg (ARN resolved at apply time)",
		"security group named web-sg (ID resolved at apply time)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	for _, lie := range []string{"not found in AWS", "no issued ACM certificate", "no security group in VPC"} {
		if strings.Contains(out+errOut, lie) {
			t.Errorf("plan claims an AWS answer it never asked for (%q):\n%s%s", lie, out, errOut)
		}
	}

	old := planStdin
	defer func() { planStdin = old }()
	planStdin = strings.NewReader(lookupsYAML)
	code, fromStdin, errOut := runPlanCmd("-f", "-")
	if code != 0 || fromStdin != out {
		t.Errorf("-f -: exit %d, stderr %s; output differs from the file's:\n%s", code, errOut, fromStdin)
	}

	planStdin = strings.NewReader(lookupsYAML)
	code, js, errOut := runPlanCmd("-f", "-", "-o", "json")
	if code != 0 {
		t.Fatalf("-o json: exit %d\n%s", code, errOut)
	}
	var doc struct {
		Gateways []gatewayPlan `json:"gateways"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, js)
	}
	if len(doc.Gateways) != 1 || len(doc.Gateways[0].ResolvedAtApplyTime) != 3 || doc.Gateways[0].Stack == nil {
		t.Fatalf("-o json: want one Gateway with 3 look-ups resolved at apply time, got %s", js)
	}
	certs := doc.Gateways[0].Stack.Listeners[0].Certificates
	if len(certs) != 1 || !strings.Contains(certs[0].External, pendingMark+"/shop.example.com") {
		t.Errorf("-o json: listener certificates %+v, want the placeholder for shop.example.com", certs)
	}
}

// TestPlanExitCodes: 2 for usage mistakes, 1 for a rejected manifest (an HTTPS listener
// without a hostname has nothing to discover a certificate by: a fault of the manifest, not of AWS).
func TestPlanExitCodes(t *testing.T) {
	for _, args := range [][]string{{}, {"-f", "x", "-o", "xml"}, {"-f", "-", "-f", "-"}, {"-f", "x", "stray"}, {"--no-such-flag"}} {
		if code, _, errOut := runPlanCmd(args...); code != 2 {
			t.Errorf("plan %v: exit %d, want 2 (usage)\n%s", args, code, errOut)
		}
	}
	noHost := strings.Replace(lookupsYAML, ", hostname: shop.example.com", "", 1)
	old := planStdin
	defer func() { planStdin = old }()
	planStdin = strings.NewReader(noHost)
	code, out, errOut := runPlanCmd("-f", "-")
	if code != 1 || !strings.Contains(errOut, "rejected: Gateway default/web (listener https): ResolvedRefs=False InvalidCertificateRef") {
		t.Errorf("HTTPS listener without hostname or certificate: exit %d, want 1 and the listener named\n%s%s", code, out, errOut)
	}
}
