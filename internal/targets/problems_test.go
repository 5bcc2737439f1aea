package targets

import (
	"context"
	"reflect"
	"strings"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/elbgateway/elbgateway/internal/model"
)

func TestRegistryProblemsAnnounceChangesOnly(t *testing.T) {
	r := NewRegistry()
	sub := r.SubscribeProblems()
	ambiguous := Problem{Reason: ReasonAmbiguousSecurityGroup, Message: "b"}
	none := Problem{Reason: ReasonNoSecurityGroup, Message: "a"}
	r.SetProblems("ns/gw", []Problem{none, ambiguous, none})
	if got := <-sub; got != "ns/gw" {
		t.Errorf("announced %q, want ns/gw", got)
	}
	if got := r.Problems("ns/gw"); !reflect.DeepEqual(got, []Problem{ambiguous, none}) {
		t.Errorf("problems %+v, want sorted by reason and without duplicates", got)
	}
	r.SetProblems("ns/gw", []Problem{ambiguous, none})
	select {
	case got := <-sub:
		t.Errorf("an equal set announced %q", got)
	default:
	}
	if got := r.ProblemGateways(); !reflect.DeepEqual(got, []string{"ns/gw"}) {
		t.Errorf("ProblemGateways %v", got)
	}
	r.SetProblems("ns/gw", nil)
	if got := <-sub; got != "ns/gw" {
		t.Errorf("clearing announced %q, want ns/gw", got)
	}
	if got := r.ProblemGateways(); len(got) != 0 {
		t.Errorf("ProblemGateways after clearing %v", got)
	}
}

// fakeNetwork answers the security-group pass from fixed interfaces and records rules.
type fakeNetwork struct {
	byIP  map[string]model.ENI
	rules map[string][]model.NodeRule
}

func (f *fakeNetwork) InstanceENIs(context.Context, []string) (map[string]model.ENI, error) {
	return nil, nil
}

func (f *fakeNetwork) IPENIs(_ context.Context, ips []string) (map[string]model.ENI, error) {
	out := map[string]model.ENI{}
	for _, ip := range ips {
		if e, ok := f.byIP[ip]; ok {
			out[ip] = e
		}
	}
	return out, nil
}

func (f *fakeNetwork) NodeRules(_ context.Context, ids []string) (map[string]model.ObservedNodeRules, error) {
	out := map[string]model.ObservedNodeRules{}
	for _, id := range ids {
		out[id] = model.ObservedNodeRules{Ours: f.rules[id]}
	}
	return out, nil
}

func (f *fakeNetwork) RevokeLegacyNodeRules(context.Context, string, []model.NodeRule) error {
	return nil
}

func (f *fakeNetwork) AuthorizeNodeRules(_ context.Context, g string, rs []model.NodeRule) error {
	f.rules[g] = append(f.rules[g], rs...)
	return nil
}

func (f *fakeNetwork) RevokeNodeRules(_ context.Context, g string, rs []model.NodeRule) error {
	var keep []model.NodeRule
	for _, x := range f.rules[g] {
		if !contains(rs, x) {
			keep = append(keep, x)
		}
	}
	f.rules[g] = keep
	return nil
}

func contains(rs []model.NodeRule, r model.NodeRule) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// TestSecurityGroupPassRecordsProblems: an ENI with two cluster-tagged groups is recorded as the
// Gateway's AmbiguousSecurityGroup problem naming the pod IP, the ENI, the tags found and the
// tag to keep; the good target still gets its rule; untagging one group clears the problem.
func TestSecurityGroupPassRecordsProblems(t *testing.T) {
	ctx := context.Background()
	tag := ClusterTagPrefix + "c1"
	bad := model.ENI{ID: "eni-bad", SecurityGroups: []model.ENISecurityGroup{
		{ID: "sg-1", Tags: model.Tags{tag: "owned", "Name": "nodes"}}, {ID: "sg-2", Tags: model.Tags{tag: "shared"}}}}
	net := &fakeNetwork{byIP: map[string]model.ENI{
		"127.0.0.10": {ID: "eni-good", SecurityGroups: []model.ENISecurityGroup{{ID: "sg-pods"}}},
		"127.0.0.11": bad,
	}, rules: map[string][]model.NodeRule{}}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ports := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr[int32](8080)}}
	es := slice("web-1", "web", ports, endpoint(ptr(true), true, "127.0.0.10", "127.0.0.11"))
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(&es).Build()
	reg := NewRegistry()
	reg.Set("default/gw", []Binding{{TargetGroupARN: "arn:tg/web", TargetType: TargetTypeIP,
		Backend: model.Backend{Namespace: "default", Service: "web", Port: 80, PortName: "http"},
		Network: &Network{SourceGroupID: "sg-lb", Protocol: "TCP", HealthCheckPort: "traffic-port"}}})
	sub := reg.SubscribeProblems()
	r := &Reconciler{reader: reader, registry: reg, nodeRules: NodeRuleOptions{Network: net, ClusterName: "c1"},
		sg: sgState{groups: map[string]bool{}, sources: map[string]bool{}}}

	if _, err := r.syncSecurityGroups(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-sub; got != "default/gw" {
		t.Errorf("announced %q", got)
	}
	ps := reg.Problems("default/gw")
	if len(ps) != 1 || ps[0].Reason != ReasonAmbiguousSecurityGroup {
		t.Fatalf("problems %+v, want one AmbiguousSecurityGroup", ps)
	}
	for _, want := range []string{"127.0.0.11 (pod IP)", "eni-bad", "sg-1 (" + tag + "=owned)", "sg-2 (" + tag + "=shared)", tag + "=owned|shared"} {
		if !strings.Contains(ps[0].Message, want) {
			t.Errorf("message %q does not contain %q", ps[0].Message, want)
		}
	}
	if got := net.rules["sg-pods"]; len(got) != 1 || got[0].FromPort != 8080 {
		t.Errorf("the good target's group has rules %+v, want the 8080 rule", got)
	}

	// The same state again records nothing new.
	if _, err := r.syncSecurityGroups(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sub:
		t.Errorf("an unchanged pass announced %q", got)
	default:
	}

	delete(bad.SecurityGroups[1].Tags, tag)
	if _, err := r.syncSecurityGroups(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-sub; got != "default/gw" {
		t.Errorf("announced %q", got)
	}
	if ps := reg.Problems("default/gw"); len(ps) != 0 {
		t.Errorf("problems %+v after the extra tag is gone, want none", ps)
	}
	if got := net.rules["sg-1"]; len(got) != 1 {
		t.Errorf("the now-chosen group has rules %+v, want one", got)
	}
}

func TestSelectionErrorReasons(t *testing.T) {
	tag := ClusterTagPrefix + "c1"
	for _, tt := range []struct {
		name   string
		groups []model.ENISecurityGroup
		reason string
		says   string
	}{
		{"no group", nil, ReasonNoSecurityGroup, "has no security group; attach one"},
		{"none tagged", []model.ENISecurityGroup{{ID: "sg-1"}, {ID: "sg-2", Tags: model.Tags{"team": "a"}}}, ReasonNoSecurityGroup,
			"sg-1 (none of the tags), sg-2 (team=a), and none carries the tags " + tag + "=owned|shared, team=b; add them to exactly one"},
		{"two tagged", []model.ENISecurityGroup{{ID: "sg-1", Tags: model.Tags{tag: "owned", "team": "b"}}, {ID: "sg-2", Tags: model.Tags{tag: "shared", "team": "b"}}},
			ReasonAmbiguousSecurityGroup, "and sg-1, sg-2 all carry the tags"},
	} {
		required := map[string]string{"team": "b"}
		if tt.groups == nil {
			required = nil
		}
		_, err := SelectSecurityGroup(model.ENI{ID: "eni-9", SecurityGroups: tt.groups}, "c1", required)
		se, ok := err.(*SelectionError)
		if !ok {
			t.Fatalf("%s: err %v, want a *SelectionError", tt.name, err)
		}
		if se.Reason != tt.reason || !strings.Contains(se.Error(), tt.says) || !strings.Contains(se.Error(), "eni-9") {
			t.Errorf("%s: %s %q, want %s containing %q", tt.name, se.Reason, se.Error(), tt.reason, tt.says)
		}
	}
}

// unbindingNetwork unbinds a Gateway while the pass reads the worker-node rules, as a Gateway
// deleted during a pass does.
type unbindingNetwork struct {
	*fakeNetwork
	unbind func()
}

func (u *unbindingNetwork) NodeRules(ctx context.Context, ids []string) (map[string]model.ObservedNodeRules, error) {
	u.unbind()
	return u.fakeNetwork.NodeRules(ctx, ids)
}

// TestRulesOfAnUnboundSourceAreNotAuthorized: a stack deleted during a pass has revoked its
// rules and is deleting its security group; the pass must not authorize a rule from it again.
func TestRulesOfAnUnboundSourceAreNotAuthorized(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ports := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr[int32](8080)}}
	es := slice("web-1", "web", ports, endpoint(ptr(true), true, "127.0.0.10"))
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(&es).Build()
	reg := NewRegistry()
	bind := func() {
		reg.Set("default/gw", []Binding{{TargetGroupARN: "arn:tg/web", TargetType: TargetTypeIP,
			Backend: model.Backend{Namespace: "default", Service: "web", Port: 80, PortName: "http"},
			Network: &Network{SourceGroupID: "sg-lb", Protocol: "TCP", HealthCheckPort: "traffic-port"}}})
	}
	bind()
	base := &fakeNetwork{byIP: map[string]model.ENI{"127.0.0.10": {ID: "eni-1", SecurityGroups: []model.ENISecurityGroup{{ID: "sg-pods"}}}},
		rules: map[string][]model.NodeRule{}}
	net := &unbindingNetwork{fakeNetwork: base, unbind: func() { reg.Set("default/gw", nil) }}
	r := &Reconciler{reader: reader, registry: reg, nodeRules: NodeRuleOptions{Network: net, ClusterName: "c1"},
		sg: sgState{groups: map[string]bool{}, sources: map[string]bool{}}}
	if _, err := r.syncSecurityGroups(ctx); err != nil {
		t.Fatal(err)
	}
	if got := base.rules["sg-pods"]; len(got) != 0 {
		t.Errorf("rules %+v authorized from a source no stack binds any more, want none", got)
	}
	// Bound, the same pass authorizes the rule.
	net.unbind = func() {}
	bind()
	if _, err := r.syncSecurityGroups(ctx); err != nil {
		t.Fatal(err)
	}
	if got := base.rules["sg-pods"]; len(got) != 1 || got[0].SourceGroupID != "sg-lb" {
		t.Errorf("rules %+v while bound, want the one rule from sg-lb", got)
	}
}
