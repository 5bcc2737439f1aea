package conformance

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientset "k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/gateway-api/conformance"
	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

const region = "us-east-1"

// repoRoot is the controller module's root: this module lives in test/conformance under it.
var repoRoot string

func TestMain(m *testing.M) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	// internal/testenv finds the repository (CRDs, bin/) from the working directory.
	if err := os.Chdir(repoRoot); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	os.Exit(m.Run())
}

// TestStatusConformance runs the upstream conformance tests that check status only (statusOnly)
// against the controller: one run per class, each on its own kube-apiserver, with moto as AWS.
// A test the class's features cover either passes or is skipped with the reason classes give.
func TestStatusConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance run takes minutes; it runs without -short")
	}
	ctx := context.Background()
	moto, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(moto.Stop)
	bin, err := testenv.BuildController(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range classes {
		t.Run(c.name, func(t *testing.T) {
			runClass(t, c, moto, bin)
		})
	}
}

// runClass runs the status-only tests of one class against a cluster of its own.
func runClass(t *testing.T, c class, moto *testenv.Moto, bin string) {
	ctx, _, k8s, opts := startClass(t, c, moto, bin, false)
	go readyPods(ctx, t, k8s)
	// The table says which tests pass; each of those must have run, not been skipped.
	var mu sync.Mutex
	ran := map[string]bool{}
	opts.Hook = func(st *testing.T, test suite.ConformanceTest, _ *suite.ConformanceTestSuite) {
		mu.Lock()
		defer mu.Unlock()
		ran[test.ShortName] = !st.Skipped()
	}
	cSuite, err := suite.NewConformanceTestSuite(opts)
	if err != nil {
		t.Fatal(err)
	}
	run := selectTests(tests.ConformanceTests, statusOnly)
	cSuite.Setup(t, run)
	if err := cSuite.Run(t, run); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // after the parallel tests
		mu.Lock()
		defer mu.Unlock()
		for _, ct := range run {
			if c.outcome(ct) == "passes" && !ran[ct.ShortName] {
				t.Errorf("%s was skipped, but the conformance table says it passes in the %s class", ct.ShortName, c.name)
			}
		}
	})
}

// startClass gives a class a cluster of its own (kube-apiserver with the standard channel's
// CRDs, a VPC in moto, the controller, the GatewayClass) and the suite's options for it. Its
// context ends with the test, after the suite's parallel tests: they run after the caller
// returns, before the cleanups. With traffic set the controller's output goes to a file whose
// path is logged (a full run's output is too long for the test log).
func startClass(t *testing.T, c class, moto *testenv.Moto, bin string, traffic bool) (context.Context, *testenv.Cluster, client.Client, suite.ConformanceOptions) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clusterName := "conformance-" + c.name
	vpc, err := testenv.SeedVPC(ctx, moto.Endpoint, region, clusterName)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := testenv.StartCluster(ctx, testenv.ClusterOptions{GatewayAPIChannel: testenv.ChannelStandard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	ctl, err := testenv.StartController(testenv.ControllerOptions{
		Binary: bin, Kubeconfig: cluster.KubeconfigPath, AWSEndpoint: moto.Endpoint,
		Region: region, ClusterName: clusterName, VPCID: vpc.VPCID,
		// No kubelets: ip targets need no nodes.
		Args: []string{"--default-target-type=ip", "--log-level=error"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctl.Stop()
		switch {
		case traffic:
			path := filepath.Join(os.TempDir(), "elbgateway-conformance-"+c.name+"-controller.log")
			if err := os.WriteFile(path, []byte(ctl.Logs()), 0o600); err == nil {
				t.Logf("controller output: %s", path)
			}
		case t.Failed():
			t.Logf("controller output:\n%s", ctl.Logs())
		}
	})

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, gwv1.Install, gwv1beta1.Install} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	// The suite makes a new client per test from ClientOptions.
	clientOptions := client.Options{Scheme: scheme}
	k8s, err := client.New(cluster.Config, clientOptions)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := clientset.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	class := &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: c.gatewayClass},
		Spec: gwv1.GatewayClassSpec{ControllerName: gwv1.GatewayController(c.controller)}}
	if err := k8s.Create(ctx, class); err != nil {
		t.Fatal(err)
	}

	var skip []string
	for name := range c.skip {
		skip = append(skip, name)
	}
	opts := suite.ConformanceOptions{
		ConfigurableOptions: suite.ConfigurableOptions{
			GatewayClassName:     c.gatewayClass,
			CleanupBaseResources: false, // the cluster goes with the run
			CleanupTestResources: true,
			SupportedFeatures:    c.features,
			ConformanceProfiles:  c.profiles,
			SkipTests:            skip,
			TimeoutConfig:        config.DefaultTimeoutConfig(),
			Mode:                 "default",
		},
		Client:        k8s,
		ClientOptions: clientOptions,
		Clientset:     cs,
		RestConfig:    cluster.Config,
		ManifestFS:    []fs.FS{&conformance.Manifests},
		BaseManifests: "base/manifests.yaml",
	}
	if c.baseManifests != nil {
		raw, err := fs.ReadFile(&conformance.Manifests, opts.BaseManifests)
		if err != nil {
			t.Fatal(err)
		}
		base, err := c.baseManifests(raw)
		if err != nil {
			t.Fatal(err)
		}
		// The suite reads a path from every file system it has and joins what it finds, so the
		// rewritten base gets a path of its own.
		opts.BaseManifests = "elbgateway/" + c.name + "-base.yaml"
		opts.ManifestFS = append(opts.ManifestFS, fstest.MapFS{opts.BaseManifests: &fstest.MapFile{Data: base}})
	}
	return ctx, cluster, k8s, opts
}

// selectTests keeps the tests named in names, in the suite's order.
func selectTests(all []suite.ConformanceTest, names []string) []suite.ConformanceTest {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []suite.ConformanceTest
	for _, ct := range all {
		if want[ct.ShortName] {
			out = append(out, ct)
		}
	}
	return out
}

// readyPods stands in for kubelets until ctx ends: every namespace the suite creates
// (gateway-conformance-*) gets one Pod whose status says Ready, because the suite waits for
// each of its namespaces to hold at least one Pod and every Pod to be Ready. Nothing runs in
// them: the tests here send no traffic.
func readyPods(ctx context.Context, t *testing.T, c client.Client) {
	done := map[string]bool{}
	for ctx.Err() == nil {
		var nss corev1.NamespaceList
		if err := c.List(ctx, &nss); err == nil {
			for _, ns := range nss.Items {
				if done[ns.Name] || !strings.HasPrefix(ns.Name, "gateway-conformance-") || ns.DeletionTimestamp != nil {
					continue
				}
				if err := readyPod(ctx, c, ns.Name); err != nil {
					if ctx.Err() == nil {
						t.Logf("making a Ready Pod in %s: %v", ns.Name, err)
					}
					continue
				}
				done[ns.Name] = true
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func readyPod(ctx context.Context, c client.Client, namespace string) error {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "stand-in"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "none", Image: "none"}}}}
	if err := c.Create(ctx, pod); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	now := metav1.Now()
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "198.18.0.10", Conditions: []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}}
	return c.Status().Update(ctx, pod)
}
