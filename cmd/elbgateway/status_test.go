//go:build demo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

func runStatusCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(append([]string{"status"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestStatus reads a programmed Gateway's status from the cluster and its stack from AWS: the
// table shows the load balancer's DNS name, its listener and the target group's targets with
// their health; JSON parses to the same; a route the controller refused shows its reason and
// message; a missing Gateway is a clear error with a non-zero exit code.
func TestStatus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	moto, _, cluster, mgr := programmedSeed(ctx, t)
	flags := []string{"--kubeconfig", cluster.KubeconfigPath, "--cluster-name", demoCluster,
		"--region", demoRegion, "--aws-endpoint", moto.Endpoint}

	gw, err := waitProgrammed(ctx, mgr.GetAPIReader(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	dns := gw.Status.Addresses[0].Value
	// The targets loop registers the targets shortly after the Gateway is programmed.
	var out, errOut string
	var code int
	for i := 0; i < 50; i++ {
		code, out, errOut = runStatusCmd(append([]string{"aws-tcp-gateway", "-n", "default"}, flags...)...)
		if code != 0 || strings.Contains(out, "192.0.2.10:") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Gateway default/aws-tcp-gateway", "Programmed", dns, "active", "LISTENERS", "8080", "TCP",
		"TCPRoute default/tcp-backend-aws → tcp-app", "192.0.2.10:3000"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = runStatusCmd(append([]string{"-o", "json", "aws-tcp-gateway"}, flags...)...)
	if code != 0 {
		t.Fatalf("-o json: exit %d\n%s%s", code, out, errOut)
	}
	var parsed struct {
		Gateways []gatewayStatus `json:"gateways"`
	}
	if err := json.Unmarshal([]byte(out), &parsed); err != nil {
		t.Fatalf("-o json does not parse: %v\n%s", err, out)
	}
	if len(parsed.Gateways) != 1 || parsed.Gateways[0].AWS == nil || parsed.Gateways[0].AWS.LoadBalancer == nil ||
		parsed.Gateways[0].AWS.LoadBalancer.DNSName != dns || len(parsed.Gateways[0].AWS.TargetGroups) != 1 ||
		len(parsed.Gateways[0].AWS.TargetGroups[0].Targets) == 0 || parsed.Gateways[0].AWS.TargetGroups[0].Targets[0].State == "" {
		t.Errorf("-o json: want the load balancer %s and one target group with targets and their health, got:\n%s", dns, out)
	}

	// A route to a Service that does not exist is refused: its condition says why.
	route := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(route, []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: broken}
spec:
  parentRefs: [{name: aws-tcp-gateway, sectionName: tcp-app}]
  rules: [{backendRefs: [{name: missing, port: 3000}]}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := readManifests(route)
	if err != nil {
		t.Fatal(err)
	}
	if err := createAll(ctx, mgr.GetClient(), "default", objs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		code, out, errOut = runStatusCmd(append([]string{"aws-tcp-gateway", "--no-aws"}, flags[:2]...)...)
		if code != 0 || strings.Contains(out, "TCPRoute default/broken") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != 0 {
		t.Fatalf("--no-aws: exit %d\n%s%s", code, out, errOut)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "TCPRoute default/broken") && strings.Contains(l, "ResolvedRefs") {
			line = l
		}
	}
	if !strings.Contains(line, "False") || !strings.Contains(line, "BackendNotFound") || !strings.Contains(line, "missing") {
		t.Errorf("want the refused route's ResolvedRefs=False BackendNotFound naming Service missing, got:\n%s", out)
	}
	if strings.Contains(out, "LOAD BALANCER") {
		t.Errorf("--no-aws still shows AWS:\n%s", out)
	}

	code, _, errOut = runStatusCmd(append([]string{"nope"}, flags...)...)
	if code == 0 || !strings.Contains(errOut, "Gateway default/nope not found") {
		t.Errorf("missing Gateway: exit %d, stderr %q; want non-zero and a clear error", code, errOut)
	}
}

// TestStatusUsage: usage mistakes exit 2 before any cluster or AWS call, naming the fix.
func TestStatusUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"a", "b", "--no-aws"}, "one Gateway at most"},
		{[]string{"-o", "xml", "--no-aws"}, `-o "xml"`},
		{[]string{"gw", "--region", "us-east-1"}, "--cluster-name is required"},
		{[]string{"gw", "--cluster-name", "c", "--region", ""}, "--region is required"},
	} {
		code, _, errOut := runStatusCmd(tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("status %v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestStatusLegacyRouteVersions: on a cluster that serves TCPRoute, UDPRoute and TLSRoute at
// v1alpha2 only (Gateway API v1.2 to v1.4 CRDs), status lists the routes of those kinds too.
func TestStatusLegacyRouteVersions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cluster, err := testenv.StartCluster(ctx, testenv.ClusterOptions{LegacyL4Routes: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	c, err := testenv.Client(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	// Two routes at v1alpha2, each on a listener of its own.
	routes := []struct {
		kind, name, section string
		port                int
	}{
		{"TCPRoute", "legacy-tcp", "tcp", 3000},
		{"UDPRoute", "legacy-udp", "udp", 53},
	}
	text := `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: aws-nlb-gateway-class
  listeners: [{name: tcp, protocol: TCP, port: 80}, {name: udp, protocol: UDP, port: 53}]
`
	for _, r := range routes {
		text += fmt.Sprintf(`---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: %s
metadata: {name: %s}
spec:
  parentRefs: [{name: gw, sectionName: %s}]
  rules: [{backendRefs: [{name: backend, port: %d}]}]
`, r.kind, r.name, r.section, r.port)
	}
	manifest := filepath.Join(t.TempDir(), "legacy.yaml")
	if err := os.WriteFile(manifest, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := readManifests(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := createAll(ctx, c, "default", objs); err != nil {
		t.Fatal(err)
	}
	// The routes' status as a controller writes it: a parent entry for the Gateway.
	for i, o := range objs[1:] {
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
			t.Fatal(err)
		}
		o.Object["status"] = map[string]any{"parents": []any{map[string]any{
			"parentRef":      map[string]any{"name": "gw", "sectionName": routes[i].section},
			"controllerName": "gateway.k8s.aws/nlb",
			"conditions": []any{map[string]any{"type": "Accepted", "status": "True", "reason": "Accepted",
				"message": "", "lastTransitionTime": "2024-01-01T00:00:00Z"}},
		}}}
		if err := c.Status().Update(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runStatusCmd("gw", "--no-aws", "--kubeconfig", cluster.KubeconfigPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, r := range routes {
		if want := fmt.Sprintf("%s default/%s → %s", r.kind, r.name, r.section); !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}
