package helm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"helm.sh/helm/v4/pkg/strvals"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

const (
	awsRegion   = "eu-west-1"
	clusterName = "karpenter-demo"
)

// TestChartInstallRunsSeedWalkthrough installs the chart rendered with the walkthrough's values
// on a real API server (every object must be accepted), then runs `elbgateway` with the
// Deployment's container arguments, authenticated as the chart's ServiceAccount (so the chart's
// RBAC is all it has), against moto, and walks through the seed: the Gateway is programmed and
// AWS holds the internet-facing NLB, its TCP:8080 listener and the ip target group on 3000.
func TestChartInstallRunsSeedWalkthrough(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := startWorld(ctx, t)
	moto, vpc, admin := w.moto, w.vpc, w.admin

	// 1. helm install; 2. the controller, as the Deployment would run it.
	_, logs := installAndRun(ctx, t, w, seedValues(t, clusterName, awsRegion, vpc.VPCID), "AWS_EC2_METADATA_DISABLED=true")

	// 3. the walkthrough's manifests.
	if err := applySeed(ctx, admin); err != nil {
		t.Fatal(err)
	}
	gw, err := waitProgrammed(ctx, admin, "aws-tcp-gateway")
	if err != nil {
		t.Fatal(err)
	}
	if len(gw.Status.Addresses) == 0 || !strings.Contains(gw.Status.Addresses[0].Value, "k8s-default-awstcpga-") {
		t.Errorf("Gateway addresses %v, want the NLB's DNS name", gw.Status.Addresses)
	}

	// 4. what AWS holds.
	elb := elbv2.NewFromConfig(testenv.AWSConfig(moto.Endpoint, awsRegion))
	lbs, err := elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lbs.LoadBalancers) != 1 || lbs.LoadBalancers[0].Scheme != "internet-facing" || lbs.LoadBalancers[0].Type != "network" {
		t.Fatalf("load balancers %+v, want one internet-facing network load balancer", lbs.LoadBalancers)
	}
	lbARN := lbs.LoadBalancers[0].LoadBalancerArn
	ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbARN})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Listeners) != 1 || *ls.Listeners[0].Port != 8080 || ls.Listeners[0].Protocol != "TCP" {
		t.Errorf("listeners %+v, want TCP:8080", ls.Listeners)
	}
	tgs, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lbARN})
	if err != nil {
		t.Fatal(err)
	}
	if len(tgs.TargetGroups) != 1 || *tgs.TargetGroups[0].Port != 3000 || tgs.TargetGroups[0].TargetType != "ip" {
		t.Fatalf("target groups %+v, want one ip target group on 3000", tgs.TargetGroups)
	}
	if err := waitTarget(ctx, elb, *tgs.TargetGroups[0].TargetGroupArn, "192.0.2.10"); err != nil {
		t.Error(err)
	}

	// 5. what the ServiceAccount could write: the Lease, the finalizer, events.
	var lease coordinationv1.Lease
	if err := admin.Get(ctx, types.NamespacedName{Namespace: releaseNamespace, Name: "elbgateway-leader"}, &lease); err != nil {
		t.Errorf("leader election Lease: %v", err)
	}
	if len(gw.Finalizers) == 0 || gw.Finalizers[0] != "gateway.k8s.aws/nlb" {
		t.Errorf("Gateway finalizers %v, want gateway.k8s.aws/nlb", gw.Finalizers)
	}
	if err := waitEvent(ctx, admin, "CreatedLoadBalancer"); err != nil {
		t.Error(err)
	}
	if strings.Contains(logs.String(), "forbidden") {
		t.Errorf("the controller was refused something by RBAC:\n%s", grepLines(logs.String(), "forbidden"))
	}
}

// TestChartInstallWithSeedCommandFindsRegionAndVPC installs the chart with exactly the --set
// values of the walkthrough's `helm install` command, as docs/install.md gives it (clusterName and
// the ServiceAccount, no region, no VPC), and runs the controller from it with an IMDSv2-only
// instance metadata stand-in instead of flags: it finds the region and the instance's VPC there,
// and the walkthrough's Gateway gets its NLB in that VPC.
func TestChartInstallWithSeedCommandFindsRegionAndVPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w := startWorld(ctx, t)
	imds, err := testenv.StartIMDS(testenv.Instance{Region: awsRegion, AvailabilityZone: awsRegion + "a",
		InstanceID: "i-0a1b2c3d4e5f60718", MAC: "02:4f:1a:2b:3c:4d", VPCID: w.vpc.VPCID, SubnetID: w.vpc.PrivateSubnets[0]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(imds.Stop)

	values := seedCommandValues(t)
	objs, logs := installAndRun(ctx, t, w, values, "AWS_EC2_METADATA_SERVICE_ENDPOINT="+imds.URL)
	for _, a := range containerArgs(t, objs) {
		if strings.HasPrefix(a, "--aws-region") || strings.HasPrefix(a, "--aws-vpc-id") {
			t.Errorf("container argument %q without region or vpcId values", a)
		}
	}

	if err := applySeed(ctx, w.admin); err != nil {
		t.Fatal(err)
	}
	if _, err := waitProgrammed(ctx, w.admin, "aws-tcp-gateway"); err != nil {
		t.Fatal(err)
	}
	elb := elbv2.NewFromConfig(testenv.AWSConfig(w.moto.Endpoint, awsRegion))
	lbs, err := elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lbs.LoadBalancers) != 1 || lbs.LoadBalancers[0].VpcId == nil || *lbs.LoadBalancers[0].VpcId != w.vpc.VPCID {
		t.Errorf("load balancers %+v, want one in %s, the instance's VPC", lbs.LoadBalancers, w.vpc.VPCID)
	}
	if imds.TokenRequests() == 0 || imds.Refused() != 0 {
		t.Errorf("metadata token requests %d, tokenless reads %d: want IMDSv2 only", imds.TokenRequests(), imds.Refused())
	}
	found := grepLines(logs.String(), "found the placement in the instance metadata service")
	if !strings.Contains(found, awsRegion) || !strings.Contains(found, w.vpc.VPCID) {
		t.Errorf("the log does not say where the region and VPC came from: %q", found)
	}
}

// seedCommandValues are the values of the chart's `helm install` command in docs/install.md,
// the walkthrough's own command with only the chart reference changed: its --set flags, parsed
// as Helm parses them.
func seedCommandValues(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docs", "install.md"))
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "helm install aws-load-balancer-controller ./charts/elbgateway -n kube-system "
	var cmd string
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, prefix) {
			cmd = l
		}
	}
	if cmd == "" {
		t.Fatalf("docs/install.md has no line starting %q", prefix)
	}
	values := map[string]any{}
	fields := strings.Fields(strings.TrimPrefix(cmd, prefix))
	for i := 0; i < len(fields); i++ {
		if fields[i] != "--set" || i+1 == len(fields) {
			t.Fatalf("docs/install.md: %q: only --set flags are expected after the namespace", cmd)
		}
		i++
		if err := strvals.ParseInto(fields[i], values); err != nil {
			t.Fatal(err)
		}
	}
	if values["clusterName"] != clusterName {
		t.Fatalf("docs/install.md: %q sets clusterName %v, want the walkthrough's %s", cmd, values["clusterName"], clusterName)
	}
	return values
}

// installAndRun is `helm install` with values (the CRDs, then every rendered object, each of
// which the API server must accept), then the controller binary run with the Deployment's
// container arguments, authenticated as the chart's ServiceAccount (so the chart's RBAC is all it
// has), against moto, with env added to its environment.
func installAndRun(ctx context.Context, t *testing.T, w *world, values map[string]any, env ...string) ([]*unstructured.Unstructured, *testenv.LockedBuffer) {
	t.Helper()
	objs, err := render(values)
	if err != nil {
		t.Fatal(err)
	}
	crds, err := chartCRDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range append(crds, objs...) {
		if err := createOrUpdate(ctx, w.admin, o); err != nil {
			t.Fatalf("the API server refused %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	bin := buildController(t)
	kubeconfig := serviceAccountKubeconfig(ctx, t, w.cluster.Config)
	args := append(containerArgs(t, objs),
		"--kubeconfig="+kubeconfig,
		// The pod's ports are the container's own; a test binds loopback ports that are free.
		"--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0")
	return objs, runController(ctx, t, bin, args, w.moto.Endpoint, env...)
}

// world is what the controller runs against: moto with a seeded VPC, and an API server with the
// CRDs, reached with an admin client. It stops when the test ends.
type world struct {
	moto    *testenv.Moto
	vpc     *testenv.VPC
	cluster *testenv.Cluster
	admin   client.Client
}

func startWorld(ctx context.Context, t *testing.T) *world {
	t.Helper()
	moto, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	vpc, err := testenv.SeedVPC(ctx, moto.Endpoint, awsRegion, clusterName)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := testenv.StartCluster(ctx, testenv.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := gwv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &world{moto: moto, vpc: vpc, cluster: cluster, admin: admin}
}

// runController runs the controller binary with args, calling AWS at awsEndpoint, until the
// test ends (interrupted then); its output is logged when the test failed.
func runController(ctx context.Context, t *testing.T, bin string, args []string, awsEndpoint string, env ...string) *testenv.LockedBuffer {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	// The machine's own AWS settings (a region, profiles) stay out: the chart's are all it gets.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"POD_NAMESPACE="+releaseNamespace,
		"AWS_ENDPOINT_URL="+awsEndpoint,
		"AWS_ACCESS_KEY_ID="+testenv.TestAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+testenv.TestSecretAccessKey,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
	)
	cmd.Env = append(cmd.Env, env...)
	logs := &testenv.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("controller output:\n%s", logs.String())
		}
	})
	return logs
}

// buildController builds cmd/elbgateway, as the Dockerfile does.
func buildController(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "elbgateway")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/elbgateway")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/elbgateway: %v\n%s", err, out)
	}
	return bin
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates with a token of the chart's
// ServiceAccount, as the pod would be.
func serviceAccountKubeconfig(ctx context.Context, t *testing.T, admin *rest.Config) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	expiry := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(releaseNamespace).CreateToken(ctx, serviceAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a token for ServiceAccount %s/%s: %v", releaseNamespace, serviceAccount, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData}
	cfg.AuthInfos["controller"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["controller"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "controller", Namespace: releaseNamespace}
	cfg.CurrentContext = "controller"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func createOrUpdate(ctx context.Context, c client.Client, o *unstructured.Unstructured) error {
	err := c.Create(ctx, o.DeepCopy())
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	existing := &unstructured.Unstructured{}
	existing.SetGroupVersionKind(o.GroupVersionKind())
	if err := c.Get(ctx, client.ObjectKeyFromObject(o), existing); err != nil {
		return err
	}
	next := o.DeepCopy()
	next.SetResourceVersion(existing.GetResourceVersion())
	return c.Update(ctx, next)
}

// applySeed creates the walkthrough's manifests in the default namespace, in its order.
func applySeed(ctx context.Context, c client.Client) error {
	for _, f := range []string{"lbconfig.yaml", "tgconfig.yaml", "gwc-nlb.yaml", "gw-public-nlb.yaml", "backend-service.yaml", "tcproute.yaml"} {
		raw, err := os.ReadFile(filepath.Join(repoRoot, "examples", "seed-l4", f))
		if err != nil {
			return err
		}
		objs, err := decodeAll(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			if o.GetKind() != "GatewayClass" {
				o.SetNamespace("default")
			}
			if err := c.Create(ctx, o); err != nil {
				return fmt.Errorf("creating %s %s: %w", o.GetKind(), o.GetName(), err)
			}
		}
	}
	return nil
}

func waitProgrammed(ctx context.Context, c client.Client, name string) (*gwv1.Gateway, error) {
	var gw gwv1.Gateway
	err := poll(ctx, 2*time.Minute, func() (bool, error) {
		if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: name}, &gw); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("Gateway %s not programmed: %w; conditions %+v", name, err, gw.Status.Conditions)
	}
	return &gw, nil
}

func waitTarget(ctx context.Context, elb *elbv2.Client, arn, ip string) error {
	var seen []string
	err := poll(ctx, time.Minute, func() (bool, error) {
		out, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: &arn})
		if err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, d := range out.TargetHealthDescriptions {
			seen = append(seen, *d.Target.Id)
		}
		return len(seen) == 1 && seen[0] == ip, nil
	})
	if err != nil {
		return fmt.Errorf("targets %v, want %s: %w", seen, ip, err)
	}
	return nil
}

func waitEvent(ctx context.Context, c client.Client, reason string) error {
	var reasons []string
	err := poll(ctx, 30*time.Second, func() (bool, error) {
		var list eventsv1.EventList
		if err := c.List(ctx, &list, client.InNamespace("default")); err != nil {
			return false, err
		}
		reasons = reasons[:0]
		for _, e := range list.Items {
			reasons = append(reasons, e.Reason)
			if e.Reason == reason && e.Regarding.Kind == "Gateway" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("no %s event on the Gateway (events: %v): %w", reason, reasons, err)
	}
	return nil
}

func poll(ctx context.Context, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still not done after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
