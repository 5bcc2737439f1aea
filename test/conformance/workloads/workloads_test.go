package workloads

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

func TestMain(m *testing.M) {
	// internal/testenv finds the repository (CRDs, bin/) from the working directory.
	if err := os.Chdir(filepath.Join("..", "..", "..")); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// TestDeploymentBecomesReadyPods: a Deployment becomes Running, Ready Pods with IPs from the pod
// CIDR, its Service gets an EndpointSlice listing them as ready, and deleting the namespace
// removes them — what the conformance suite waits for before its first test.
func TestDeploymentBecomesReadyPods(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cluster, err := testenv.StartCluster(ctx, testenv.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	c, err := client.New(cluster.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	assets := os.Getenv(testenv.AssetsEnv)
	if assets == "" {
		root, err := testenv.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		assets = filepath.Join(root, "bin")
	}
	const podCIDR = "10.0.128.0/20"
	w, err := Start(ctx, c, Options{Assets: assets, Kubeconfig: cluster.KubeconfigPath, PodCIDR: podCIDR, NodeCIDR: "10.0.0.0/20", Nodes: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("workload processes:\n%s", w.Logs())
			var pods corev1.PodList
			_ = c.List(context.Background(), &pods)
			for _, p := range pods.Items {
				t.Logf("pod %s/%s node=%q phase=%s ip=%s conditions=%v", p.Namespace, p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP, p.Status.Conditions)
			}
			var rs appsv1.ReplicaSetList
			_ = c.List(context.Background(), &rs)
			for _, r := range rs.Items {
				t.Logf("replicaset %s/%s status=%+v", r.Namespace, r.Name, r.Status)
			}
		}
		w.Stop()
	})

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "echo"}}
	must(t, c.Create(ctx, ns))
	labels := map[string]string{"app": "echo"}
	must(t, c.Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "echo", Name: "echo"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "echo", Image: "registry.k8s.io/gateway-api/echo-basic:v1.6.3",
					Ports: []corev1.ContainerPort{{ContainerPort: 3000}},
					// As the suite's manifests give them.
					Env: []corev1.EnvVar{
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
					}}}},
			},
		},
	}))
	must(t, c.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "echo", Name: "echo"},
		Spec: corev1.ServiceSpec{Selector: labels,
			Ports: []corev1.ServicePort{{Port: 8080, TargetPort: intstr.FromInt32(3000)}}},
	}))

	// The stand-in processes run from the start: a Pod turns Ready only once its echo-basic
	// listens, so Ready below also says the processes answer.
	echoBasic := filepath.Join(assets, "echo-basic")
	echoes, err := StartEchoes(ctx, c, echoBasic, "echo")
	if err != nil {
		t.Fatal(err)
	}
	_, cidr, _ := net.ParseCIDR(podCIDR)
	var pods corev1.PodList
	waitFor(t, ctx, w, "3 Ready pods with IPs in "+podCIDR, func() bool {
		if err := c.List(ctx, &pods, client.InNamespace("echo")); err != nil || len(pods.Items) != 3 {
			return false
		}
		for _, p := range pods.Items {
			ip := net.ParseIP(p.Status.PodIP)
			if p.Status.Phase != corev1.PodRunning || ip == nil || !cidr.Contains(ip) || !podReady(&p) || p.Spec.NodeName == "" {
				return false
			}
		}
		return true
	})
	want := map[string]bool{}
	for _, p := range pods.Items {
		want[p.Status.PodIP] = true
	}
	waitFor(t, ctx, w, "an EndpointSlice with the 3 pods ready on port 3000", func() bool {
		var slices discoveryv1.EndpointSliceList
		if err := c.List(ctx, &slices, client.InNamespace("echo"), client.MatchingLabels{discoveryv1.LabelServiceName: "echo"}); err != nil {
			return false
		}
		got := map[string]bool{}
		for _, s := range slices.Items {
			if len(s.Ports) != 1 || ptr.Deref(s.Ports[0].Port, 0) != 3000 {
				return false
			}
			for _, e := range s.Endpoints {
				if ptr.Deref(e.Conditions.Ready, false) {
					got[e.Addresses[0]] = true
				}
			}
		}
		if len(got) != len(want) {
			return false
		}
		for ip := range want {
			if !got[ip] {
				return false
			}
		}
		return true
	})

	// Each Ready Pod's echo-basic answers as that Pod, at the address Lookup gives for its IP.
	for _, p := range pods.Items {
		var addr string
		waitFor(t, ctx, w, "echo-basic for "+p.Name, func() bool {
			a, ok := echoes.Lookup(p.Status.PodIP, 3000)
			addr = a
			return ok
		})
		var got struct{ Namespace, Pod, Path string }
		waitFor(t, ctx, w, "an answer from "+addr, func() bool {
			resp, err := http.Get("http://" + addr + "/hello")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			return json.NewDecoder(resp.Body).Decode(&got) == nil
		})
		if got.Namespace != "echo" || got.Pod != p.Name || got.Path != "/hello" {
			t.Errorf("%s answered %+v, want namespace echo, pod %s, path /hello", addr, got, p.Name)
		}
	}
	if _, ok := echoes.Lookup(pods.Items[0].Status.PodIP, 9999); ok {
		t.Error("Lookup found a port the pod does not serve")
	}
	if errs := echoes.Errors(); len(errs) > 0 {
		t.Errorf("echo-basic processes that did not start: %v", errs)
	}

	must(t, c.Delete(ctx, ns))
	waitFor(t, ctx, w, "the namespace and its pods gone", func() bool {
		err := c.Get(ctx, client.ObjectKey{Name: "echo"}, &corev1.Namespace{})
		return apierrors.IsNotFound(err)
	})
	waitFor(t, ctx, w, "the echo-basic processes stopped", func() bool {
		_, ok := echoes.Lookup(pods.Items[0].Status.PodIP, 3000)
		return !ok
	})
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func waitFor(t *testing.T, ctx context.Context, w *Workloads, what string, cond func() bool) {
	t.Helper()
	if err := w.waitFor(ctx, func() (bool, error) { return cond(), nil }); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
