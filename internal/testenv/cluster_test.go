package testenv

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	elbv1 "github.com/elbgateway/elbgateway/api/v1"
)

var configKinds = []string{"listenerruleconfigurations", "loadbalancerconfigurations", "targetgroupconfigurations"}

// One experimental-channel cluster (the default) serves several checks: start-up takes seconds.
func TestClusterExperimentalChannel(t *testing.T) {
	c := startCluster(t, ClusterOptions{})
	t.Run("serves our CRDs and the Gateway API", func(t *testing.T) { testServesExperimental(t, c) })
	t.Run("v1beta1 reads back as v1", func(t *testing.T) { testConvertsV1beta1ToV1(t, c) })
	t.Run("kubeconfig file", func(t *testing.T) { testKubeconfigFile(t, c) })

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.KubeconfigPath); !os.IsNotExist(err) {
		t.Errorf("kubeconfig %s left behind after Stop (stat err %v)", c.KubeconfigPath, err)
	}
}

func testServesExperimental(t *testing.T, c *Cluster) {
	disco := discovery.NewDiscoveryClientForConfigOrDie(c.Config)

	for _, gv := range []string{"gateway.k8s.aws/v1", "gateway.k8s.aws/v1beta1"} {
		assertServes(t, disco, gv, configKinds...)
	}
	assertServes(t, disco, "gateway.networking.k8s.io/v1",
		"gatewayclasses", "gateways", "grpcroutes", "httproutes", "tcproutes", "tlsroutes", "udproutes")
	assertServes(t, disco, "gateway.networking.x-k8s.io/v1alpha1", "xbackendtrafficpolicies")

	version, err := disco.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if want := "v" + kubernetesMinor(t) + "."; !strings.HasPrefix(version.GitVersion, want) {
		t.Errorf("kube-apiserver reports %s, want %s* (the release matching k8s.io/client-go)", version.GitVersion, want)
	}
}

func TestClusterLegacyL4RoutesOnStandardChannel(t *testing.T) {
	c := startCluster(t, ClusterOptions{GatewayAPIChannel: ChannelStandard, LegacyL4Routes: true})
	disco := discovery.NewDiscoveryClientForConfigOrDie(c.Config)

	assertServes(t, disco, "gateway.networking.k8s.io/v1alpha2", "tcproutes", "tlsroutes", "udproutes")
	v1 := servedResources(t, disco, "gateway.networking.k8s.io/v1")
	for _, r := range []string{"tcproutes", "tlsroutes", "udproutes"} {
		if v1[r] {
			t.Errorf("gateway.networking.k8s.io/v1 serves %s; a legacy cluster serves it as v1alpha2 only", r)
		}
	}
	if !v1["gateways"] || !v1["httproutes"] {
		t.Errorf("gateway.networking.k8s.io/v1 lacks gateways or httproutes: %v", sortedKeys(v1))
	}
	if _, err := disco.ServerResourcesForGroupVersion("gateway.networking.x-k8s.io/v1alpha1"); !apierrors.IsNotFound(err) {
		t.Errorf("standard channel serves experimental group gateway.networking.x-k8s.io (err %v)", err)
	}

	cl := newClient(t, c)
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := cl.Get(context.Background(), types.NamespacedName{Name: "tcproutes.gateway.networking.k8s.io"}, crd); err != nil {
		t.Fatal(err)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1alpha2" || !crd.Spec.Versions[0].Storage {
		t.Errorf("TCPRoute CRD versions = %+v, want v1alpha2 alone as the storage version", crd.Spec.Versions)
	}
}

func testConvertsV1beta1ToV1(t *testing.T, c *Cluster) {
	cl := newClient(t, c)
	ctx := testContext(t, time.Minute)

	beta := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.k8s.aws/v1beta1",
		"kind":       "LoadBalancerConfiguration",
		"metadata":   map[string]any{"name": "internet", "namespace": "default"},
		"spec":       map[string]any{"scheme": "internet-facing", "loadBalancerName": "demo-nlb"},
	}}
	if err := cl.Create(ctx, beta); err != nil {
		t.Fatalf("creating v1beta1 LoadBalancerConfiguration: %v", err)
	}
	var got elbv1.LoadBalancerConfiguration
	if err := cl.Get(ctx, types.NamespacedName{Namespace: "default", Name: "internet"}, &got); err != nil {
		t.Fatalf("reading it back as v1: %v", err)
	}
	if got.Spec.Scheme == nil || *got.Spec.Scheme != "internet-facing" ||
		got.Spec.LoadBalancerName == nil || *got.Spec.LoadBalancerName != "demo-nlb" {
		t.Errorf("v1 spec = %+v, want scheme internet-facing and loadBalancerName demo-nlb", got.Spec)
	}
	if got.Spec.MergingMode == nil || *got.Spec.MergingMode != "prefer-gateway-class" {
		t.Errorf("mergingMode = %v, want the CRD default prefer-gateway-class", got.Spec.MergingMode)
	}
}

func testKubeconfigFile(t *testing.T, c *Cluster) {
	raw, err := os.ReadFile(c.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		t.Fatalf("kubeconfig file does not parse: %v", err)
	}
	if strings.TrimSuffix(cfg.Host, "/") != strings.TrimSuffix(c.Config.Host, "/") {
		t.Errorf("kubeconfig server %s, want %s", cfg.Host, c.Config.Host)
	}
	assertServes(t, discovery.NewDiscoveryClientForConfigOrDie(cfg), "gateway.k8s.aws/v1", configKinds...)
}

func TestStartClusterWithoutBinariesSaysHowToBuildThem(t *testing.T) {
	t.Setenv(AssetsEnv, t.TempDir())
	_, err := StartCluster(context.Background(), ClusterOptions{})
	if err == nil || !strings.Contains(err.Error(), "make bin/kube-apiserver bin/etcd") {
		t.Fatalf("StartCluster without binaries: err = %v, want one that says to run make bin/kube-apiserver bin/etcd", err)
	}
}

func TestGatewayAPICRDsRejectsUnknownChannel(t *testing.T) {
	_, err := GatewayAPICRDs(ClusterOptions{GatewayAPIChannel: "beta"})
	if err == nil || !strings.Contains(err.Error(), "GatewayAPIChannel") {
		t.Fatalf("err = %v, want one naming GatewayAPIChannel", err)
	}
}

func TestGatewayAPICRDsLegacyKeepsOnlyV1alpha2(t *testing.T) {
	for _, channel := range []string{ChannelExperimental, ChannelStandard} {
		crds, err := GatewayAPICRDs(ClusterOptions{GatewayAPIChannel: channel, LegacyL4Routes: true})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, crd := range crds {
			if !legacyL4Kinds[crd.Spec.Names.Kind] {
				continue
			}
			seen[crd.Spec.Names.Kind] = true
			if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1alpha2" ||
				!crd.Spec.Versions[0].Served || !crd.Spec.Versions[0].Storage {
				t.Errorf("%s %s: versions %+v, want v1alpha2 served and stored alone", channel, crd.Name, crd.Spec.Versions)
			}
		}
		if len(seen) != len(legacyL4Kinds) {
			t.Errorf("%s: legacy L4 kinds installed %v, want TCPRoute, TLSRoute, UDPRoute", channel, sortedKeys(seen))
		}
		if !sort.SliceIsSorted(crds, func(i, j int) bool { return crds[i].Name < crds[j].Name }) {
			t.Errorf("%s: CRDs not sorted by name", channel)
		}
	}
}

func newClient(t *testing.T, c *Cluster) client.Client {
	t.Helper()
	cl, err := Client(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func assertServes(t *testing.T, disco discovery.DiscoveryInterface, groupVersion string, resources ...string) {
	t.Helper()
	served := servedResources(t, disco, groupVersion)
	for _, r := range resources {
		if !served[r] {
			t.Errorf("%s does not serve %s; it serves %v", groupVersion, r, sortedKeys(served))
		}
	}
}

func servedResources(t *testing.T, disco discovery.DiscoveryInterface, groupVersion string) map[string]bool {
	t.Helper()
	list, err := disco.ServerResourcesForGroupVersion(groupVersion)
	if err != nil {
		t.Fatalf("discovery of %s: %v", groupVersion, err)
	}
	out := map[string]bool{}
	for _, r := range list.APIResources {
		out[r.Name] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
