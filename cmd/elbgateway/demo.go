//go:build demo

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
	"github.com/elbgateway/elbgateway/internal/testenv/elb"
)

// demoBuilt reports whether this binary has the demo.
const demoBuilt = true

const (
	demoGateway = "aws-tcp-gateway"
	// demoEndpoint is the address of the seed's pod in examples/seed-l4/backend-service.yaml, and
	// demoPort the seed listener's port.
	demoEndpoint = "192.0.2.10"
	demoPort     = 8080
	// demoHealthScale runs the data plane's health checks ten times faster than AWS's.
	demoHealthScale = 0.1
)

// demoFiles are the seed walkthrough's manifests, in the order the walkthrough applies them.
var demoFiles = []string{"lbconfig.yaml", "tgconfig.yaml", "gwc-nlb.yaml", "gw-public-nlb.yaml", "backend-service.yaml", "tcproute.yaml"}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// SIGINT and SIGTERM already cancel ctx; a closed terminal (SIGHUP) and a parent that
	// goes away or is told to stop end the demo the same way (see demoparent.go).
	ctx, stopHUP := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer stopHUP()
	ctx, stopWatch := watchParent(ctx)
	defer stopWatch()
	err := demo(ctx, args, stdout, stderr)
	if ctx.Err() != nil {
		// Every process and directory the demo started is gone by now: demo's defers ran.
		fmt.Fprintf(stdout, "==> stopped: %v\n", context.Cause(ctx))
		return nil
	}
	return err
}

func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("elbgateway demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	exitAfterReady := fs.Bool("exit-after-ready", false, "stop everything once the Gateway is programmed and printed")
	level := fs.String("log-level", "error", "controller log level: debug, info, warn or error")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for the Gateway to be programmed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := logLevel(*level); err != nil {
		return err
	}
	setLogger(*level, stderr)

	step := func(format string, a ...any) { fmt.Fprintf(stdout, "==> "+format+"\n", a...) }
	step("starting moto (AWS emulator)")
	moto, err := testenv.StartMoto(ctx)
	if err != nil {
		return err
	}
	defer moto.Stop()
	vpc, err := testenv.SeedVPC(ctx, moto.Endpoint, demoRegion, demoCluster)
	if err != nil {
		return err
	}
	step("seeded %s with public subnets %s", vpc.VPCID, strings.Join(vpc.PublicSubnets, ", "))
	step("starting kube-apiserver and etcd")
	cluster, err := testenv.StartCluster(ctx, testenv.ClusterOptions{})
	if err != nil {
		return err
	}
	defer func() { _ = cluster.Stop() }()

	cloud, err := aws.New(ctx, aws.Options{
		Region: demoRegion, VPCID: vpc.VPCID, ClusterName: demoCluster, Endpoint: moto.Endpoint, Registerer: metrics.Registry,
		Credentials: credentials.NewStaticCredentialsProvider(testenv.TestAccessKeyID, testenv.TestSecretAccessKey, ""),
	})
	if err != nil {
		return err
	}
	metricsPort, err := testenv.FreePort()
	if err != nil {
		return err
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", metricsPort)
	flags := controllerFlags{clusterName: demoCluster, region: demoRegion, vpcID: vpc.VPCID, targetType: "instance",
		scheme: "internal", metricsAddr: metricsAddr, probeAddr: "0"}
	flags.gates.gates = controller.Gates{NLB: true, ALB: true}
	mgr, err := newManager(cluster.Config, managerOptions{flags: flags, cloud: cloud, inProcess: true})
	if err != nil {
		return err
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(mgrCtx) }()
	defer func() { stopMgr(); <-mgrDone }()
	step("controller started; its metrics: http://%s/metrics", metricsAddr)

	step("applying examples/seed-l4")
	if err := applySeed(ctx, mgr.GetClient(), stdout); err != nil {
		return err
	}
	step("waiting for Gateway %s to be programmed", demoGateway)
	gw, err := waitProgrammed(ctx, mgr.GetAPIReader(), *timeout)
	if err != nil {
		return err
	}
	printGateway(stdout, gw)

	// The seed's pod, where the data plane sends its endpoint's traffic, and the data plane.
	backendAddr, _ := elb.DefaultTargetAddr(demoEndpoint, 3000)
	stopBackend, err := startDemoBackend(backendAddr)
	if err != nil {
		return err
	}
	defer stopBackend()
	dp, err := elb.Start(ctx, elb.Options{Endpoint: moto.Endpoint, Region: demoRegion,
		AccessKeyID: testenv.TestAccessKeyID, SecretAccessKey: testenv.TestSecretAccessKey,
		HealthReportURL: moto.Strict.URL + testenv.TargetHealthPath, HealthTimeScale: demoHealthScale,
		PrivateKey: elb.KeyFromURL(moto.Strict.URL+testenv.CertificateKeyPath, demoRegion),
		DNSAddr:    "127.0.0.1:0", Logf: func(string, ...any) {}})
	if err != nil {
		return err
	}
	defer dp.Close()
	step("local ELB data plane started: load balancers on 127.254.0.0/16, DNS for their names on %s", dp.DNSAddr())

	if err := printAWS(ctx, stdout, moto.Endpoint, gw); err != nil {
		return err
	}
	dnsName := gw.Status.Addresses[0].Value
	resolve, err := waitResolvable(ctx, dp, dnsName, demoPort)
	if err != nil {
		return err
	}
	url := fmt.Sprintf("http://%s:%d/", dnsName, demoPort)
	curlCmd := fmt.Sprintf("curl --resolve %s %s", resolve, url)
	fmt.Fprintf(stdout, "\n$ %s\n", curlCmd)
	answer, err := curlOnce(ctx, resolve, url)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, answer)
	fmt.Fprintf(stdout, `
While the demo runs, point your tools at the API server and the AWS emulator:

  export KUBECONFIG=%s
  kubectl get gateway,tcproute -A
  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s
  aws --endpoint-url %s elbv2 describe-load-balancers
  curl -s http://%s/metrics | grep ^elbgateway_
  %s

`, cluster.KubeconfigPath, testenv.TestAccessKeyID, testenv.TestSecretAccessKey, demoRegion, moto.Endpoint, metricsAddr, curlCmd)
	if *exitAfterReady {
		step("done (--exit-after-ready)")
		return nil
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop everything.")
	select {
	case <-ctx.Done():
	case err := <-mgrDone:
		mgrDone <- err
		if err != nil {
			return fmt.Errorf("the controller stopped: %w", err)
		}
	}
	step("stopping")
	return nil
}

func applySeed(ctx context.Context, c client.Client, stdout io.Writer) error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	for _, f := range demoFiles {
		objs, err := readManifests(filepath.Join(root, "examples", "seed-l4", f))
		if err != nil {
			return err
		}
		if err := createAll(ctx, c, "default", objs); err != nil {
			return err
		}
		for _, o := range objs {
			fmt.Fprintf(stdout, "%s/%s created\n", strings.ToLower(o.GetKind()), o.GetName())
		}
	}
	return nil
}

func waitProgrammed(ctx context.Context, r client.Reader, timeout time.Duration) (*gwv1.Gateway, error) {
	deadline := time.Now().Add(timeout)
	var gw gwv1.Gateway
	for {
		err := r.Get(ctx, types.NamespacedName{Namespace: "default", Name: demoGateway}, &gw)
		if err == nil && meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)) && len(gw.Status.Addresses) > 0 {
			return &gw, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("Gateway %s not programmed after %s; its conditions: %s", demoGateway, timeout, conditionsText(gw.Status.Conditions))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// printGateway prints the Gateway the way kubectl get gateway does.
func printGateway(w io.Writer, gw *gwv1.Gateway) {
	fmt.Fprintln(w, "\n$ kubectl get gateway "+gw.Name)
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCLASS\tADDRESS\tPROGRAMMED\tAGE")
	addr := ""
	if len(gw.Status.Addresses) > 0 {
		addr = gw.Status.Addresses[0].Value
	}
	prog := "Unknown"
	if c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)); c != nil {
		prog = string(c.Status)
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", gw.Name, gw.Spec.GatewayClassName, addr, prog,
		time.Since(gw.CreationTimestamp.Time).Round(time.Second))
	_ = tw.Flush()
}

// printAWS shows the load balancer, its listeners, target groups and target health as the AWS
// CLI reads them back from the emulator.
func printAWS(ctx context.Context, w io.Writer, endpoint string, gw *gwv1.Gateway) error {
	c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
	lbARN := c.Message
	cli := func(args ...string) ([]byte, error) {
		fmt.Fprintf(w, "\n$ aws elbv2 %s\n", strings.Join(args, " "))
		out, err := testenv.AWSCLI(ctx, endpoint, demoRegion, append([]string{"elbv2"}, args...)...)
		if err != nil {
			return nil, err
		}
		fmt.Fprint(w, string(out))
		return out, nil
	}
	if _, err := cli("describe-load-balancers", "--load-balancer-arns", lbARN); err != nil {
		return err
	}
	if _, err := cli("describe-listeners", "--load-balancer-arn", lbARN); err != nil {
		return err
	}
	out, err := cli("describe-target-groups", "--load-balancer-arn", lbARN)
	if err != nil {
		return err
	}
	var tgs struct {
		TargetGroups []struct{ TargetGroupArn string }
	}
	if err := json.Unmarshal(out, &tgs); err != nil {
		return err
	}
	if len(tgs.TargetGroups) == 0 {
		return errors.New("the load balancer has no target groups")
	}
	for _, tg := range tgs.TargetGroups {
		if err := waitTargets(ctx, endpoint, tg.TargetGroupArn); err != nil {
			return err
		}
		if _, err := cli("describe-target-health", "--target-group-arn", tg.TargetGroupArn); err != nil {
			return err
		}
	}
	return nil
}

// waitTargets waits (briefly) for the targets loop to register the target group's targets.
func waitTargets(ctx context.Context, endpoint, arn string) error {
	for i := 0; i < 50; i++ {
		out, err := testenv.AWSCLI(ctx, endpoint, demoRegion, "elbv2", "describe-target-health", "--target-group-arn", arn)
		if err != nil {
			return err
		}
		if strings.Contains(string(out), `"Id"`) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("no targets registered in %s", arn)
}

func conditionsText(cs []metav1.Condition) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
