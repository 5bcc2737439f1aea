//go:build demo

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestPlanAgainstProgrammedALB applies the L7 example (docs/example-l7.md) to a running
// controller, waits until its ALB Gateway is programmed, and plans the same manifests against
// the same AWS: no change, though the generated load balancer and security group names hash
// the Gateway's UID, which the file lacks.
func TestPlanAgainstProgrammedALB(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	moto, vpc, _, mgr := programmedSeed(ctx, t)
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "example-l7.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	if !ok {
		t.Fatal("docs/example-l7.md has no yaml block")
	}
	manifests, _, _ := strings.Cut(rest, "```")
	file := filepath.Join(t.TempDir(), "example-l7.yaml")
	if err := os.WriteFile(file, []byte(manifests), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := readManifests(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := createAll(ctx, mgr.GetClient(), "default", objs); err != nil {
		t.Fatal(err)
	}
	var gw gwv1.Gateway
	for {
		err := mgr.GetAPIReader().Get(ctx, types.NamespacedName{Namespace: "example-ns", Name: "my-alb-gateway"}, &gw)
		if err == nil && meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("Gateway example-ns/my-alb-gateway not programmed: %s", conditionsText(gw.Status.Conditions))
		}
		time.Sleep(300 * time.Millisecond)
	}
	code, out, errOut := runPlanCmd("-f", file, "--aws-endpoint", moto.Endpoint, "--region", demoRegion,
		"--vpc-id", vpc.VPCID, "--cluster-name", demoCluster)
	if !strings.Contains(out, "none: AWS already matches the manifests") {
		t.Errorf("want no change, got:\n%s%s", out, errOut)
	}
	// The example's defaultCertificate is an ARN of the AWS documentation that this account
	// does not have: plan refuses that listener (exit 1) just as the controller did, and nothing
	// else.
	rejected := 0
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "rejected:") {
			rejected++
			if !strings.Contains(l, "listener https") || !strings.Contains(l, "InvalidCertificateRef") {
				t.Errorf("unexpected rejection: %s", l)
			}
		}
	}
	if code != 1 || rejected != 1 {
		t.Errorf("exit %d with %d rejections; want 1 and only the https listener's certificate:\n%s", code, rejected, errOut)
	}
}
