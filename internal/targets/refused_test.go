package targets

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
)

// refusingCloud registers every target but the instances in refuse, which it answers the way
// aws.Cloud does: the others registered, the refused ones in an InvalidTargetsError.
type refusingCloud struct {
	refuse     map[string]bool
	registered []model.Target
	calls      int // RegisterTargets calls
}

func (c *refusingCloud) Targets(context.Context, string, string) ([]model.Target, error) {
	return slices.Clone(c.registered), nil
}

func (c *refusingCloud) RegisterTargets(_ context.Context, arn string, ts []model.Target) error {
	c.calls++
	var bad []model.Target
	for _, t := range ts {
		if c.refuse[t.ID] {
			bad = append(bad, t)
			continue
		}
		c.registered = append(c.registered, t)
	}
	if len(bad) > 0 {
		return &aws.InvalidTargetsError{TargetGroupARN: arn, Targets: bad,
			Message: "The following targets are not in a running state and cannot be registered: '" + bad[0].ID + "'"}
	}
	return nil
}

func (c *refusingCloud) DeregisterTargets(context.Context, string, []model.Target) error { return nil }

// TestRefusedTargetIsReported: one node whose instance AWS refuses does not keep the others
// out; the refused one is recorded for the Gateway's status, and forgotten once the node is
// registered.
func TestRefusedTargetIsReported(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	good := node("good", "aws:///us-east-1a/i-0000000000000000a", corev1.ConditionTrue, nil)
	stopped := node("stopped", "aws:///us-east-1b/i-0000000000000000b", corev1.ConditionTrue, nil)
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(&good, &stopped).Build()
	reg := NewRegistry()
	const arn = "arn:tg/instances"
	reg.Set("default/gw", []Binding{{TargetGroupARN: arn, TargetType: TargetTypeInstance,
		Backend: model.Backend{Namespace: "default", Service: "web", Port: 80, NodePort: 30080}}})
	sub := reg.SubscribeProblems()
	cloud := &refusingCloud{refuse: map[string]bool{"i-0000000000000000b": true}}
	r := &Reconciler{reader: reader, cloud: cloud, registry: reg, resync: 1e9, kick: func() {}}

	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: arn}}); err != nil {
		t.Fatalf("Reconcile = %v, want no error: the refused target is reported, not retried with backoff", err)
	}
	if got := cloud.registered; len(got) != 1 || got[0].ID != "i-0000000000000000a" {
		t.Errorf("registered %v, want the running node's instance", got)
	}
	if got := <-sub; got != "default/gw" {
		t.Errorf("announced %q, want default/gw", got)
	}
	ps := reg.Refused("default/gw")
	if len(ps) != 1 || ps[0].Reason != ReasonInvalidTarget || !strings.Contains(ps[0].Message, "i-0000000000000000b:30080") ||
		!strings.Contains(ps[0].Message, "not in a running state") {
		t.Fatalf("refused %+v, want one InvalidTarget naming i-0000000000000000b:30080 and AWS's reason", ps)
	}

	delete(cloud.refuse, "i-0000000000000000b")
	r.mapNode(ctx, &stopped) // the instance runs: its Node changes
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: arn}}); err != nil {
		t.Fatal(err)
	}
	if ps := reg.Refused("default/gw"); len(ps) != 0 {
		t.Errorf("refused %+v after the instance was registered, want none", ps)
	}
	if got := <-sub; got != "default/gw" {
		t.Errorf("clearing announced %q, want default/gw", got)
	}
}

// TestIPTargetsOfTheGroupsFamily: a dual-stack Service has IPv4 and IPv6 endpoints; AWS
// refuses the whole RegisterTargets call for a target of the other family than the target
// group's, so only the group's family is registered.
func TestIPTargetsOfTheGroupsFamily(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ports := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr[int32](8080)}}
	v4 := slice("web-v4", "web", ports, endpoint(ptr(true), true, "10.0.0.7"))
	v6 := slice("web-v6", "web", ports, endpoint(ptr(true), true, "2600:1f14::7"))
	v6.AddressType = discoveryv1.AddressTypeIPv6
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(&v4, &v6).Build()
	for _, tt := range []struct{ family, want string }{{"ipv4", "10.0.0.7"}, {"ipv6", "2600:1f14::7"}} {
		reg := NewRegistry()
		arn := "arn:tg/" + tt.family
		reg.Set("default/gw", []Binding{{TargetGroupARN: arn, TargetType: TargetTypeIP, IPAddressType: tt.family,
			Backend: model.Backend{Namespace: "default", Service: "web", Port: 80, PortName: "http"}}})
		cloud := &refusingCloud{}
		r := &Reconciler{reader: reader, cloud: cloud, registry: reg, resync: 1e9, kick: func() {}}
		if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: arn}}); err != nil {
			t.Fatal(err)
		}
		if got := cloud.registered; len(got) != 1 || got[0].ID != tt.want {
			t.Errorf("%s target group: registered %v, want only %s", tt.family, got, tt.want)
		}
	}
}
