//go:build demo

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// TestPlanAgainstProgrammedGateway runs the controller on the seed's manifests until the
// Gateway is programmed, then plans the same manifest files against the same AWS: the files
// carry no Gateway UID (which the generated names hash), yet the plan finds the stack by its
// ownership tags and shows no change. A new listener in the files (with the route attached to it too) shows as that listener, not
// as a replacement of the load balancer.
func TestPlanAgainstProgrammedGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	moto, vpc, _, _ := programmedSeed(ctx, t)
	t.Setenv("AWS_ACCESS_KEY_ID", testenv.TestAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testenv.TestSecretAccessKey)
	planArgs := func(dir string) []string {
		return []string{"-f", dir, "--aws-endpoint", moto.Endpoint, "--region", demoRegion,
			"--vpc-id", vpc.VPCID, "--cluster-name", demoCluster}
	}
	code, out, errOut := runPlanCmd(planArgs(seedDir(t))...)
	if code != 0 {
		t.Fatalf("unchanged manifests: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "none: AWS already matches the manifests") {
		t.Errorf("unchanged manifests: want no change, got:\n%s", out)
	}

	dir := t.TempDir()
	copySeed(t, dir, map[string][2]string{"gw-public-nlb.yaml": {"  listeners:\n", `  listeners:
  - name: tcp-extra
    protocol: TCP
    port: 9090
    allowedRoutes:
      namespaces:
        from: Same
`}, "tcproute.yaml": {"    sectionName: tcp-app", "    # attached to every listener"}})
	code, out, errOut = runPlanCmd(planArgs(dir)...)
	if code != 0 {
		t.Fatalf("new listener: exit %d\n%s%s", code, out, errOut)
	}
	changes := out[strings.Index(out, "CHANGES TO AWS"):]
	changes = changes[:strings.Index(changes, "LOAD BALANCER")]
	if !strings.Contains(changes, "create Listener 9090") {
		t.Errorf("new listener: want the listener created, got:\n%s", out)
	}
	for _, bad := range []string{"LoadBalancer LoadBalancer", "replace", "delete", "Listener 8080"} {
		if strings.Contains(changes, bad) {
			t.Errorf("new listener: changes hold %q, want only the new listener and its ingress:\n%s", bad, changes)
		}
	}
}

// programmedSeed runs the controller on the seed's manifests against moto and an API server
// until the Gateway is programmed; everything stops when the test ends.
func programmedSeed(ctx context.Context, t *testing.T) (*testenv.Moto, *testenv.VPC, *testenv.Cluster, ctrl.Manager) {
	t.Helper()
	setLogger("error", &bytes.Buffer{})
	moto, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	vpc, err := testenv.SeedVPC(ctx, moto.Endpoint, demoRegion, demoCluster)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := testenv.StartCluster(ctx, testenv.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	cloud, err := aws.New(ctx, aws.Options{
		Region: demoRegion, VPCID: vpc.VPCID, ClusterName: demoCluster, Endpoint: moto.Endpoint, Registerer: metrics.Registry,
		Credentials: credentials.NewStaticCredentialsProvider(testenv.TestAccessKeyID, testenv.TestSecretAccessKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	flags := controllerFlags{clusterName: demoCluster, region: demoRegion, vpcID: vpc.VPCID, targetType: "instance",
		scheme: "internal", metricsAddr: "0", probeAddr: "0"}
	flags.gates.gates = controller.Gates{NLB: true, ALB: true}
	mgr, err := newManager(cluster.Config, managerOptions{flags: flags, cloud: cloud, inProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { stop(); <-done })
	if err := applySeed(ctx, mgr.GetClient(), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := waitProgrammed(ctx, mgr.GetAPIReader(), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testenv.TestAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testenv.TestSecretAccessKey)
	return moto, vpc, cluster, mgr
}
