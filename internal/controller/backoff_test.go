package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

func TestBackoffDoublesToTheCapAndResetsOnNewInputs(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBackoff(0)
	b.now = func() time.Time { return now }
	var got []time.Duration
	for range 12 {
		d, _ := b.failed("ns/gw", "fp1", false)
		got = append(got, d)
	}
	for i, d := range got {
		want := min(time.Second<<i, backoffCap)
		if d > want || d < want*4/5 {
			t.Errorf("pause %d is %s, want %s less at most a fifth", i+1, d, want)
		}
	}
	if w := b.waiting("ns/gw", "fp1"); w <= 0 {
		t.Errorf("with unchanged inputs the Gateway may call AWS again at once (wait %s)", w)
	}
	if w := b.waiting("ns/gw", "fp2"); w > 0 {
		t.Errorf("changed inputs still wait %s", w)
	}
	if d, n := b.failed("ns/gw", "fp2", false); n != 1 || d > time.Second {
		t.Errorf("after the inputs changed the first failure waits %s (failure %d), want ≤ 1s (failure 1)", d, n)
	}
	b.succeeded("ns/gw")
	if w := b.waiting("ns/gw", "fp2"); w > 0 {
		t.Errorf("after a success the Gateway still waits %s", w)
	}
}

func TestBackoffPermanentWaitsTheCap(t *testing.T) {
	b := newBackoff(0)
	d, _ := b.failed("ns/gw", "fp", true)
	if d < backoffCap*4/5 || d > backoffCap {
		t.Errorf("a permanent failure waits %s, want about %s", d, backoffCap)
	}
}

func TestBackoffWarnsOncePerDistinctFailure(t *testing.T) {
	b := newBackoff(0)
	msg := func(id string) string {
		return "operation error Elastic Load Balancing v2: CreateLoadBalancer, https response error StatusCode: 400, RequestID: " + id + ", api error ValidationError: bad"
	}
	if !b.warn("ns/gw", "FailedApply", msg("a1")) {
		t.Error("the first failure gets no Warning")
	}
	if b.warn("ns/gw", "FailedApply", msg("b2")) {
		t.Error("the same failure with another request ID gets a second Warning")
	}
	if !b.warn("ns/gw", "FailedApply", "another failure") {
		t.Error("a different failure gets no Warning")
	}
	if !b.warn("ns/other", "FailedApply", msg("c3")) {
		t.Error("another Gateway's failure gets no Warning")
	}
	b.succeeded("ns/gw")
	if !b.warn("ns/gw", "FailedApply", msg("d4")) {
		t.Error("after a success the failure is not warned again")
	}
}

func TestFingerprintFollowsTheDesiredStack(t *testing.T) {
	a := &model.Stack{ID: "ns/gw", LoadBalancer: &model.LoadBalancer{Name: "a"}}
	b := &model.Stack{ID: "ns/gw", LoadBalancer: &model.LoadBalancer{Name: "a"}}
	if fingerprint(a) != fingerprint(b) || fingerprint(a) == "" {
		t.Error("equal stacks have different fingerprints")
	}
	b.LoadBalancer.Name = "b"
	if fingerprint(a) == fingerprint(b) {
		t.Error("different stacks have the same fingerprint")
	}
}

func TestSpecChangedIgnoresStatusWrites(t *testing.T) {
	p := specChanged()
	old := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "gw", Generation: 2, ResourceVersion: "1"}}
	statusOnly := old.DeepCopy()
	statusOnly.ResourceVersion = "2"
	statusOnly.Status.Conditions = []metav1.Condition{{Type: "Programmed", Status: metav1.ConditionFalse}}
	if p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: statusOnly}) {
		t.Error("a status write passes")
	}
	for name, edit := range map[string]func(*gwv1.Gateway){
		"generation": func(g *gwv1.Gateway) { g.Generation++ },
		"annotation": func(g *gwv1.Gateway) { g.Annotations = map[string]string{"a": "b"} },
		"label":      func(g *gwv1.Gateway) { g.Labels = map[string]string{"a": "b"} },
		"finalizer":  func(g *gwv1.Gateway) { g.Finalizers = []string{"f"} },
		"deletion":   func(g *gwv1.Gateway) { g.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)} },
	} {
		n := old.DeepCopy()
		edit(n)
		if !p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: n}) {
			t.Errorf("a change of %s is dropped", name)
		}
	}
	svcOld := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", ResourceVersion: "1"}}
	svcNew := svcOld.DeepCopy()
	svcNew.ResourceVersion = "2"
	if !p.Update(event.UpdateEvent{ObjectOld: svcOld, ObjectNew: svcNew}) {
		t.Error("an update of a kind without generation is dropped")
	}
}

// A Service's update reconciles only when what the cache keeps of it changed: its status, or a
// field the cache transform drops, arrives as identical cached objects.
func TestCachedObjectChanged(t *testing.T) {
	p := cachedObjectChanged()
	full := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", ResourceVersion: "1"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 80}}, SessionAffinity: corev1.ServiceAffinityNone}}
	slim := func(s *corev1.Service) *corev1.Service {
		o, err := slimService(s)
		if err != nil {
			t.Fatal(err)
		}
		return o.(*corev1.Service)
	}
	for name, edit := range map[string]func(*corev1.Service){
		"status":           func(s *corev1.Service) { s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}} },
		"session affinity": func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP },
	} {
		n := full.DeepCopy()
		n.ResourceVersion = "2"
		edit(n)
		if p.Update(event.UpdateEvent{ObjectOld: slim(full), ObjectNew: slim(n)}) {
			t.Errorf("a change of %s, which nothing reads, reconciles", name)
		}
	}
	for name, edit := range map[string]func(*corev1.Service){
		"port": func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 },
		"annotation": func(s *corev1.Service) {
			s.Annotations = map[string]string{"service.beta.kubernetes.io/aws-load-balancer-x": "y"}
		},
		"deletion": func(s *corev1.Service) { s.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)} },
	} {
		n := full.DeepCopy()
		n.ResourceVersion = "2"
		edit(n)
		if !p.Update(event.UpdateEvent{ObjectOld: slim(full), ObjectNew: slim(n)}) {
			t.Errorf("a change of %s is dropped", name)
		}
	}
}
