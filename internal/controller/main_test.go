package controller_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

const (
	region      = "us-east-1"
	clusterName = "it-cluster"
)

// env is the one cluster, moto and controller every test of the package shares.
var env struct {
	moto   *testenv.Moto
	vpc    *testenv.VPC
	cloud  *aws.Cloud
	client client.Client
	elb    *elbv2.Client
	ec2    *ec2.Client
	root   string
	// cfg reaches the shared cluster.
	cfg *rest.Config
}

func TestMain(m *testing.M) {
	flag.Parse()
	raiseParallel()
	code, err := runTests(m)
	removeControllerBuild()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration test set-up:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// parallelWorlds is how many tests with a world of their own (world_test.go) run at once
// unless -test.parallel says otherwise. They spend their time waiting on resync periods,
// back-offs and the AWS stand-in rather than on the CPU, so more of them than the machine's
// cores fit side by side.
const parallelWorlds = 4

// worldSlots holds one token per world test running (parallelWorld); raiseParallel sizes it.
var worldSlots chan struct{}

// raiseParallel sizes worldSlots: -test.parallel when the command line sets it, else
// parallelWorlds or GOMAXPROCS, whichever is more. In the latter case it lifts -test.parallel
// itself, so that worldSlots, which lets the longest tests in first, is what bounds them.
func raiseParallel() {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	n := max(parallelWorlds, runtime.GOMAXPROCS(0))
	if p := flag.Lookup("test.parallel"); p != nil {
		if given {
			n, _ = strconv.Atoi(p.Value.String())
		} else {
			_ = p.Value.Set("1000")
		}
	}
	worldSlots = make(chan struct{}, max(n, 1))
}

// parallelWorld runs a test with a world of its own beside the others of its kind, after the
// tests of the shared cluster, holding one of worldSlots until it ends. The longest ones
// (first) take their slots at once; the others a moment later, so that a long test never
// starts last and stretches the package's wall time.
func parallelWorld(t *testing.T, first bool) {
	t.Helper()
	t.Parallel()
	if !first {
		time.Sleep(2 * time.Second)
	}
	worldSlots <- struct{}{}
	t.Cleanup(func() { <-worldSlots })
}

func runTests(m *testing.M) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel), zap.WriteTo(os.Stderr)))
	var err error
	if env.root, err = testenv.RepoRoot(); err != nil {
		return 0, err
	}
	if env.moto, err = testenv.StartMoto(ctx); err != nil {
		return 0, err
	}
	defer env.moto.Stop()
	if env.vpc, err = testenv.SeedVPC(ctx, env.moto.Endpoint, region, clusterName); err != nil {
		return 0, err
	}
	cluster, err := testenv.StartCluster(ctx, testenv.ClusterOptions{})
	if err != nil {
		return 0, err
	}
	defer func() { _ = cluster.Stop() }()
	env.cfg = cluster.Config
	if env.cloud, err = newCloud(ctx); err != nil {
		return 0, err
	}
	env.elb = elbv2.NewFromConfig(testenv.AWSConfig(env.moto.Endpoint, region))
	env.ec2 = ec2.NewFromConfig(testenv.AWSConfig(env.moto.Endpoint, region))
	o := controllerOptions(clusterName, env.cloud)
	o.CertificateRecheck = sharedCertificateRecheck
	stop, c, err := startManager(ctx, cluster.Config, o)
	if err != nil {
		return 0, err
	}
	defer stop()
	env.client = c
	return m.Run(), nil
}

// sharedCertificateRecheck is how soon the package's controller reads ACM again for a listener
// that discovered no certificate, and how long it reuses the certificate list: a certificate a
// test imports just after another test's Gateway read the list is found within seconds, not
// after the production minute of each.
const sharedCertificateRecheck = 5 * time.Second

func newCloud(ctx context.Context) (*aws.Cloud, error) {
	o := cloudOptions(clusterName, env.vpc.VPCID, env.moto.Endpoint)
	o.CertificateListTTL = sharedCertificateRecheck
	return aws.New(ctx, o)
}

// cloudOptions is what a test's aws.Cloud for one cluster name, VPC and AWS endpoint starts from.
func cloudOptions(cluster, vpcID, endpoint string) aws.Options {
	return aws.Options{
		Region: region, VPCID: vpcID, ClusterName: cluster, Endpoint: endpoint,
		Credentials:         credentials.NewStaticCredentialsProvider(testenv.TestAccessKeyID, testenv.TestSecretAccessKey, ""),
		DeleteRetryInterval: 200 * time.Millisecond,
	}
}

// controllerOptions is what a test's controller for one cluster name starts from: both gates
// open, in the shared VPC. Worker-node rules another controller holds are looked at again
// within seconds rather than the production half minute, which TestBesideLBC would wait out.
func controllerOptions(cluster string, cloud controller.Cloud) controller.Options {
	return controller.Options{
		ClusterName: cluster, VPCID: env.vpc.VPCID, Region: region,
		Gates: controller.Gates{NLB: true, ALB: true}, Cloud: cloud,
		PendingRequeue: time.Second, BorrowedRuleRecheck: 3 * time.Second,
	}
}

// startManager runs a manager with the controllers of o against cfg and returns a direct
// (uncached) client for the tests.
func startManager(ctx context.Context, cfg *rest.Config, o controller.Options) (stop func(), c client.Client, err error) {
	stop, c, _, err = startManagerWithCache(ctx, cfg, o, controller.CacheOptions())
	return stop, c, err
}

// startManagerWithCache is startManager with the given cache options; it also returns the
// manager's cache. more change the manager's options (a webhook server, for one).
func startManagerWithCache(ctx context.Context, cfg *rest.Config, o controller.Options, cacheOptions cache.Options, more ...func(*ctrl.Options)) (stop func(), c client.Client, ca cache.Cache, err error) {
	scheme, err := controller.NewScheme()
	if err != nil {
		return nil, nil, nil, err
	}
	skip := true
	mo := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Client:                 controller.ClientOptions(),
		Cache:                  cacheOptions,
		Controller:             ctrlconfig.Controller{SkipNameValidation: &skip},
	}
	for _, f := range more {
		f(&mo)
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := controller.Setup(mgr, o); err != nil {
		return nil, nil, nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	if c, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return func() { cancel(); <-done }, c, mgr.GetCache(), nil
}

// startTestController runs a manager with the controllers of o against cfg until the test ends
// or stop is called, and returns a direct client.
func startTestController(t testing.TB, cfg *rest.Config, o controller.Options) (stop func(), c client.Client) {
	t.Helper()
	stopManager, c, err := startManager(context.Background(), cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(stopManager) }
	t.Cleanup(stop)
	return stop, c
}

// startTestCluster starts an API server of the test's own, stopped when the test ends.
func startTestCluster(t testing.TB, o testenv.ClusterOptions) *testenv.Cluster {
	t.Helper()
	cluster, err := testenv.StartCluster(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	return cluster
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	return newNamespaceIn(t, env.client)
}

// newNamespaceIn creates a namespace for one test in the cluster c reaches.
func newNamespaceIn(t testing.TB, c client.Client) string {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 40 {
		name = name[:40]
	}
	name = strings.TrimRight(name, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%100000)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return name
}

// applyFiles creates the objects of example manifests (paths relative to the repository) in a
// namespace. Cluster-scoped objects that exist already are left as they are.
func applyFiles(t testing.TB, c client.Client, namespace string, files ...string) {
	t.Helper()
	for _, f := range files {
		applyYAML(t, c, namespace, readFile(t, filepath.Join(env.root, f)))
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// applyYAML creates the objects of a multi-document YAML text in a namespace.
func applyYAML(t testing.TB, c client.Client, namespace, text string) {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			t.Fatal(err)
		}
		if len(u.Object) == 0 {
			continue
		}
		namespaced, err := c.IsObjectNamespaced(u)
		if err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
		if namespaced {
			u.SetNamespace(namespace)
		}
		if err := c.Create(context.Background(), u); err != nil {
			if !namespaced && apierrors.IsAlreadyExists(err) {
				continue
			}
			t.Fatalf("creating %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// eventually polls check every 200ms until it returns nil, and fails the test with its last
// error after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
