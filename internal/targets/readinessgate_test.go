package targets

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
)

// healthCloud is refusingCloud that also answers DescribeTargetHealth: with fail while it is
// set, else state for every registered target; it counts the reads.
type healthCloud struct {
	refusingCloud
	state string
	fail  error
	reads int
}

func (c *healthCloud) TargetHealth(context.Context, string) ([]aws.TargetHealth, error) {
	c.reads++
	if c.fail != nil {
		return nil, c.fail
	}
	out := make([]aws.TargetHealth, 0, len(c.registered))
	for _, t := range c.registered {
		out = append(out, aws.TargetHealth{ID: t.ID, Port: t.Port, State: c.state, Reason: "Elb.RegistrationInProgress"})
	}
	return out, nil
}

const gateARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/k8s-default-web-0123456789/abcdef"

// gateFixture is a target group whose Service's one endpoint is a pod that carries its gate,
// with ready containers but not Ready itself (its endpoint not ready).
func gateFixture(t *testing.T) (*Reconciler, *healthCloud, client.Client, *time.Time) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	gate := GateConditionType(gateARN)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-1"},
		Spec: corev1.PodSpec{ReadinessGates: []corev1.PodReadinessGate{{ConditionType: gate}}},
		Status: corev1.PodStatus{PodIP: "10.0.0.7", Conditions: []corev1.PodCondition{
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionFalse}}}}
	ports := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr[int32](8080)}}
	s := slice("web-1", "web", ports, endpoint(ptr(false), true, "10.0.0.7"))
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(pod, &s).WithStatusSubresource(&corev1.Pod{}).
		WithIndex(&corev1.Pod{}, indexPodGates, indexGates).Build()
	reg := NewRegistry()
	reg.Set("default/gw", []Binding{{TargetGroupARN: gateARN, TargetType: TargetTypeIP,
		Backend: model.Backend{Namespace: "default", Service: "web", Port: 80, PortName: "http"}}})
	cloud := &healthCloud{state: "initial"}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Reconciler{reader: c, writer: c, cloud: cloud, health: cloud, registry: reg, resync: 10 * time.Minute, kick: func() {},
		gates: newGateBudget(10*time.Second, time.Minute), now: func() time.Time { return now }}
	return r, cloud, c, &now
}

func gateOf(t *testing.T, c client.Client) (corev1.PodCondition, bool) {
	t.Helper()
	var p corev1.Pod
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: "web-1"}, &p); err != nil {
		t.Fatal(err)
	}
	return podCondition(&p, GateConditionType(gateARN))
}

// TestGateFollowsTargetHealth: the not-ready pod whose gate is pending is registered, its gate
// is False while the target is initial and True once healthy; then the health is not read again.
func TestGateFollowsTargetHealth(t *testing.T) {
	r, cloud, c, now := gateFixture(t)
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: gateARN}}
	res, err := r.Reconcile(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(cloud.registered) != 1 || cloud.registered[0] != (model.Target{ID: "10.0.0.7", Port: 8080}) {
		t.Fatalf("registered %v, want the gated pod's 10.0.0.7:8080", cloud.registered)
	}
	if cond, ok := gateOf(t, c); !ok || cond.Status != corev1.ConditionFalse || cond.Reason != "Elb.RegistrationInProgress" {
		t.Fatalf("gate %+v, want False/Elb.RegistrationInProgress", cond)
	}
	if res.RequeueAfter != 10*time.Second {
		t.Errorf("requeue after %s while the gate is pending, want the poll, 10s", res.RequeueAfter)
	}
	cloud.state = "healthy"
	*now = now.Add(res.RequeueAfter)
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if cond, ok := gateOf(t, c); !ok || cond.Status != corev1.ConditionTrue || cond.Reason != ReasonTargetHealthy {
		t.Fatalf("gate %+v, want True/%s", cond, ReasonTargetHealthy)
	}
	// The cache would now show the pod's gate True; the fake client reads back the patch.
	reads := cloud.reads
	for range 5 {
		*now = now.Add(time.Minute)
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if cloud.reads != reads {
		t.Errorf("%d target health reads after every gate was True, want none", cloud.reads-reads)
	}
}

// TestGateHealthReadsAreBounded: while a gate is pending, events that reconcile the target group
// again and again read its health at most once per poll; a throttled read is retried after a
// pause that doubles up to the cap, never at once.
func TestGateHealthReadsAreBounded(t *testing.T) {
	r, cloud, _, now := gateFixture(t)
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: gateARN}}
	ctx := context.Background()
	// A burst of 1,000 events within one poll: one read.
	for range 1000 {
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if cloud.reads != 1 {
		t.Fatalf("%d target health reads for 1,000 reconciles within a poll, want 1", cloud.reads)
	}
	// An event every second for ten minutes while the gate stays pending: one read per 10s poll.
	cloud.reads = 0
	for range 600 {
		*now = now.Add(time.Second)
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if cloud.reads > 60 {
		t.Errorf("%d target health reads in ten minutes of events with a 10s poll, want at most 60", cloud.reads)
	}
	// Throttled: every read fails. Pauses 10s, 20s, 40s, then the 1m cap.
	cloud.fail = errors.New("Throttling: Rate exceeded")
	cloud.reads = 0
	var pauses []time.Duration
	for range 600 {
		*now = now.Add(time.Second)
		before := cloud.reads
		res, err := r.Reconcile(ctx, req)
		if err != nil {
			t.Fatalf("Reconcile = %v: a failed health read must wait its pause, not return an error (the queue would retry at once)", err)
		}
		if cloud.reads > before {
			pauses = append(pauses, res.RequeueAfter)
		}
	}
	if cloud.reads > 13 {
		t.Errorf("%d target health reads in ten minutes of throttling, want at most 13 (pauses %v)", cloud.reads, pauses)
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if i >= len(pauses) || pauses[i] != w {
			t.Fatalf("pauses after failed reads %v, want them to start %v", pauses, want)
		}
	}
}

func TestTargetGroupName(t *testing.T) {
	if got := TargetGroupName(gateARN); got != "k8s-default-web-0123456789" {
		t.Errorf("TargetGroupName = %q", got)
	}
	if got := TargetGroupName("not-an-arn"); got != "" {
		t.Errorf("TargetGroupName of a non-ARN = %q, want empty", got)
	}
}

// TestGateReleasedWhenTargetGroupGoesAway: a pod still waiting for the gate of a target group
// that leaves every Gateway gets the gate True, or it would never become Ready.
func TestGateReleasedWhenTargetGroupGoesAway(t *testing.T) {
	r, _, c, _ := gateFixture(t)
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: gateARN}}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if cond, _ := gateOf(t, c); cond.Status != corev1.ConditionFalse {
		t.Fatalf("gate %+v before the removal, want False", cond)
	}
	r.registry.Set("default/gw", nil)
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if cond, ok := gateOf(t, c); !ok || cond.Status != corev1.ConditionTrue || cond.Reason != ReasonTargetGroupRemoved {
		t.Fatalf("gate %+v after the target group left the registry, want True/%s", cond, ReasonTargetGroupRemoved)
	}
}

// TestGateOfAPodThatIsNoTargetCostsNoHealthRead: a gated pod whose containers are not ready is
// no target; its gate says so, and nothing reads the target group's health for it.
func TestGateOfAPodThatIsNoTargetCostsNoHealthRead(t *testing.T) {
	r, cloud, c, now := gateFixture(t)
	var p corev1.Pod
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: "web-1"}, &p); err != nil {
		t.Fatal(err)
	}
	p.Status.Conditions[0].Status = corev1.ConditionFalse // ContainersReady
	if err := c.Status().Update(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: gateARN}}
	for range 10 {
		*now = now.Add(time.Minute)
		res, err := r.Reconcile(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if res.RequeueAfter < time.Minute {
			t.Fatalf("requeue after %s with no target to wait for, want the resync", res.RequeueAfter)
		}
	}
	if len(cloud.registered) != 0 || cloud.reads != 0 {
		t.Errorf("registered %v, %d health reads; want none of either", cloud.registered, cloud.reads)
	}
	if cond, ok := gateOf(t, c); !ok || cond.Status != corev1.ConditionFalse || cond.Reason != ReasonTargetNotRegistered {
		t.Errorf("gate %+v, want False/%s", cond, ReasonTargetNotRegistered)
	}
}

// TestGateOfARefusedTargetCostsNoCallsUntilTheResync: AWS refuses the gated pod's target. The
// gate says so; the passes that follow while nothing changes (events, the gate's poll) neither
// send the refused target again nor read the health; the resync tries it once more, and an
// endpoint change at once.
func TestGateOfARefusedTargetCostsNoCallsUntilTheResync(t *testing.T) {
	r, cloud, c, now := gateFixture(t)
	cloud.refuse = map[string]bool{"10.0.0.7": true}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: gateARN}}
	for range 10 {
		res, err := r.Reconcile(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if res.RequeueAfter < r.resync {
			t.Fatalf("requeue after %s with only a refused target to wait for, want the resync", res.RequeueAfter)
		}
		*now = now.Add(time.Minute)
	}
	if cloud.calls != 1 || cloud.reads != 0 {
		t.Errorf("%d RegisterTargets and %d health reads in 10 passes over 10 minutes less a minute, want 1 and 0", cloud.calls, cloud.reads)
	}
	if cond, ok := gateOf(t, c); !ok || cond.Status != corev1.ConditionFalse || cond.Reason != ReasonTargetRefused ||
		!strings.Contains(cond.Message, "10.0.0.7:8080") {
		t.Errorf("gate %+v, want False/%s naming 10.0.0.7:8080", cond, ReasonTargetRefused)
	}
	if ps := r.registry.Refused("default/gw"); len(ps) != 1 {
		t.Errorf("refused %+v, want the one target still reported on the Gateway", ps)
	}

	// The resync: tried once more.
	*now = now.Add(r.resync)
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if cloud.calls != 2 {
		t.Errorf("%d RegisterTargets after the resync, want 2", cloud.calls)
	}

	// AWS takes it now and the endpoints change (a second pod): both sent at once.
	delete(cloud.refuse, "10.0.0.7")
	ports := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr[int32](8080)}}
	s := slice("web-2", "web", ports, endpoint(ptr(true), true, "10.0.0.8"))
	if err := c.Create(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if got := r.mapEndpointSlice(context.Background(), &s); len(got) != 1 || got[0] != req {
		t.Fatalf("the EndpointSlice maps to %v, want %v", got, req)
	}
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if cloud.calls != 3 || len(cloud.registered) != 2 {
		t.Errorf("%d RegisterTargets, registered %v; want 3 calls and both pods' targets", cloud.calls, cloud.registered)
	}
	if ps := r.registry.Refused("default/gw"); len(ps) != 0 {
		t.Errorf("refused %+v once registered, want none", ps)
	}
}
