package workloads

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestEchoesPodIPReuse: kwok gives a deleted Pod's IP to the next Pod, and the stand-ins see the
// old Pod gone and the new one Running in the same pass when both happen between two passes (a
// test's cleanup deletes its Deployments and the next test creates its own at once). Lookup of
// that IP must then lead to the new Pod's stand-in, not to nothing: stopping the old one must not
// remove the address the new one was just given.
func TestEchoesPodIPReuse(t *testing.T) {
	e := &Echoes{running: map[string]*echoProc{}, addrs: map[string]podPortAddr{}, unsupported: map[string]string{}, errors: map[string]string{}}
	t.Cleanup(e.stopAll)
	// A cancelled context: markReady, which would patch the Pods' status, returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pod := func(name, uid string) corev1.Pod {
		return corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "gateway-conformance-infra", Name: name, UID: types.UID(uid)},
			// The CoreDNS image: its stand-in runs in this process.
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "coredns", Image: "registry.k8s.io/coredns/coredns:v1.12.0"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.128.24"},
		}
	}

	e.sync(ctx, []corev1.Pod{pod("old", "uid-old")}, "gateway-conformance-")
	oldAddr, ok := e.Lookup("10.0.128.24", 53)
	if !ok {
		t.Fatal("no stand-in for the first Pod")
	}
	// One pass later the old Pod is gone and a new Pod holds its IP.
	e.sync(ctx, []corev1.Pod{pod("new", "uid-new")}, "gateway-conformance-")
	newAddr, ok := e.Lookup("10.0.128.24", 53)
	if !ok {
		t.Fatal("Lookup of the reused IP finds nothing: stopping the old Pod's stand-in removed the new Pod's address")
	}
	if newAddr == oldAddr {
		t.Fatalf("Lookup still leads to the old Pod's stand-in at %s", oldAddr)
	}
	if _, running := e.running["uid-old"]; running {
		t.Error("the old Pod's stand-in is still running")
	}
	// The address answers: it is the new Pod's stand-in, the old one's is closed.
	q := new(dns.Msg)
	q.SetQuestion("foo.bar.com.", dns.TypeA)
	c := &dns.Client{Timeout: 2 * time.Second}
	if _, _, err := c.Exchange(q, newAddr); err != nil {
		t.Errorf("the new Pod's stand-in at %s does not answer: %v", newAddr, err)
	}
	if _, _, err := c.Exchange(q, oldAddr); err == nil {
		t.Errorf("the old Pod's stand-in at %s still answers", oldAddr)
	}

	// The new Pod deleted: its address goes too.
	e.sync(ctx, nil, "gateway-conformance-")
	if a, ok := e.Lookup("10.0.128.24", 53); ok {
		t.Errorf("Lookup finds %s after every Pod is gone", a)
	}
}
