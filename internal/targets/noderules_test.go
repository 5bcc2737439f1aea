package targets

import (
	"reflect"
	"strings"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

func TestSelectSecurityGroup(t *testing.T) {
	owned := model.Tags{"kubernetes.io/cluster/c1": "owned"}
	sharedTeam := model.Tags{"kubernetes.io/cluster/c1": "shared", "team": "a"}
	cases := []struct {
		name     string
		groups   []model.ENISecurityGroup
		required map[string]string
		want     string
		wantErr  string
	}{
		{name: "one group, untagged", groups: []model.ENISecurityGroup{{ID: "sg-1"}}, want: "sg-1"},
		{name: "several, one cluster-tagged", groups: []model.ENISecurityGroup{{ID: "sg-1"}, {ID: "sg-2", Tags: owned}}, want: "sg-2"},
		{name: "other cluster's tag does not count", groups: []model.ENISecurityGroup{
			{ID: "sg-1", Tags: model.Tags{"kubernetes.io/cluster/c2": "owned"}}, {ID: "sg-2"}},
			wantErr: "none carries the tags kubernetes.io/cluster/c1=owned|shared"},
		{name: "unknown tag value does not count", groups: []model.ENISecurityGroup{
			{ID: "sg-1", Tags: model.Tags{"kubernetes.io/cluster/c1": "maybe"}}, {ID: "sg-2"}},
			wantErr: "none carries"},
		{name: "two cluster-tagged", groups: []model.ENISecurityGroup{{ID: "sg-1", Tags: owned}, {ID: "sg-2", Tags: sharedTeam}},
			wantErr: "sg-1, sg-2 all carry the tags"},
		{name: "required tags tell them apart", groups: []model.ENISecurityGroup{{ID: "sg-1", Tags: owned}, {ID: "sg-2", Tags: sharedTeam}},
			required: map[string]string{"team": "a"}, want: "sg-2"},
		{name: "required tags match none", groups: []model.ENISecurityGroup{{ID: "sg-1", Tags: owned}, {ID: "sg-2", Tags: sharedTeam}},
			required: map[string]string{"team": "b"}, wantErr: "kubernetes.io/cluster/c1=owned|shared, team=b"},
		{name: "no group", wantErr: "has no security group"},
	}
	for _, c := range cases {
		got, err := SelectSecurityGroup(model.ENI{ID: "eni-9", SecurityGroups: c.groups}, "c1", c.required)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "eni-9") {
				t.Errorf("%s: err %v, want one naming eni-9 and containing %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestPortRules(t *testing.T) {
	sg := func(p string, from, to int32) model.NodeRule {
		return model.NodeRule{Protocol: p, FromPort: from, ToPort: to, SourceGroupID: "sg-b"}
	}
	cases := []struct {
		name         string
		n            Network
		unrestricted bool
		want         []model.NodeRule
	}{
		{"tcp, traffic-port health check", Network{SourceGroupID: "sg-b", Protocol: "TCP", HealthCheckPort: "traffic-port"}, false,
			[]model.NodeRule{sg("tcp", 30080, 30080)}},
		{"tcp, other health-check port", Network{SourceGroupID: "sg-b", Protocol: "TCP", HealthCheckPort: "10256"}, false,
			[]model.NodeRule{sg("tcp", 30080, 30080), sg("tcp", 10256, 10256)}},
		{"tcp, same numeric health-check port", Network{SourceGroupID: "sg-b", Protocol: "TCP", HealthCheckPort: "30080"}, false,
			[]model.NodeRule{sg("tcp", 30080, 30080)}},
		{"udp: health check over tcp", Network{SourceGroupID: "sg-b", Protocol: "UDP", HealthCheckPort: "traffic-port"}, false,
			[]model.NodeRule{sg("udp", 30080, 30080), sg("tcp", 30080, 30080)}},
		{"tcp_udp", Network{SourceGroupID: "sg-b", Protocol: "TCP_UDP", HealthCheckPort: "traffic-port"}, false,
			[]model.NodeRule{sg("tcp", 30080, 30080), sg("udp", 30080, 30080)}},
		{"unrestricted", Network{SourceGroupID: "sg-b", Protocol: "TCP", HealthCheckPort: "10256"}, true,
			[]model.NodeRule{sg("tcp", 0, 65535), sg("tcp", 0, 65535)}},
		{"no security groups: clients and health checks by CIDR",
			Network{ClientCIDRs: []string{"0.0.0.0/0"}, HealthCheckCIDRs: []string{"10.0.0.0/20", "10.0.16.0/20"}, Protocol: "TCP", HealthCheckPort: "traffic-port"}, false,
			[]model.NodeRule{{Protocol: "tcp", FromPort: 30080, ToPort: 30080, CIDR: "0.0.0.0/0"},
				{Protocol: "tcp", FromPort: 30080, ToPort: 30080, CIDR: "10.0.0.0/20"},
				{Protocol: "tcp", FromPort: 30080, ToPort: 30080, CIDR: "10.0.16.0/20"}}},
	}
	for _, c := range cases {
		if got := PortRules(c.n, 30080, c.unrestricted); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

func TestAggregateSpansPortsPerGroupProtocolAndSource(t *testing.T) {
	r := func(g, p string, port int32, src string) GroupRule {
		return GroupRule{GroupID: g, NodeRule: model.NodeRule{Protocol: p, FromPort: port, ToPort: port, SourceGroupID: src}}
	}
	got := Aggregate([]GroupRule{
		r("sg-n1", "tcp", 30080, "sg-b"), r("sg-n1", "tcp", 30010, "sg-b"), r("sg-n1", "tcp", 30500, "sg-b"),
		r("sg-n1", "udp", 30053, "sg-b"),
		r("sg-n1", "tcp", 8080, "sg-f"),
		r("sg-n2", "tcp", 30080, "sg-b"),
	})
	want := map[string][]model.NodeRule{
		"sg-n1": {
			{Protocol: "tcp", FromPort: 8080, ToPort: 8080, SourceGroupID: "sg-f"},
			{Protocol: "tcp", FromPort: 30010, ToPort: 30500, SourceGroupID: "sg-b"},
			{Protocol: "udp", FromPort: 30053, ToPort: 30053, SourceGroupID: "sg-b"},
		},
		"sg-n2": {{Protocol: "tcp", FromPort: 30080, ToPort: 30080, SourceGroupID: "sg-b"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestDiffNodeRules(t *testing.T) {
	a := model.NodeRule{Protocol: "tcp", FromPort: 30080, ToPort: 30080, SourceGroupID: "sg-b"}
	b := model.NodeRule{Protocol: "tcp", FromPort: 30080, ToPort: 30090, SourceGroupID: "sg-b"}
	c := model.NodeRule{Protocol: "udp", FromPort: 53, ToPort: 53, CIDR: "0.0.0.0/0"}
	add, remove := DiffNodeRules([]model.NodeRule{b, c, c}, []model.NodeRule{a, c})
	if !reflect.DeepEqual(add, []model.NodeRule{b}) || !reflect.DeepEqual(remove, []model.NodeRule{a}) {
		t.Errorf("add %+v remove %+v; want a range change as add b, remove a", add, remove)
	}
	add, remove = DiffNodeRules([]model.NodeRule{a}, []model.NodeRule{a})
	if add != nil || remove != nil {
		t.Errorf("equal sets: add %+v remove %+v, want nothing", add, remove)
	}
}

func TestRegistryNetworkChangeIsAChange(t *testing.T) {
	r := NewRegistry()
	b := Binding{TargetGroupARN: "arn:tg/1", TargetType: TargetTypeIP, Backend: model.Backend{Namespace: "n", Service: "s"},
		Network: &Network{SourceGroupID: "sg-b", Protocol: "TCP", HealthCheckPort: "traffic-port"}}
	r.Set("n/gw", []Binding{b})
	<-r.Changes()
	if got := r.GatewayOf("arn:tg/1"); got != "n/gw" {
		t.Errorf("GatewayOf = %q, want n/gw", got)
	}
	b2 := b
	b2.Network = &Network{SourceGroupID: "sg-other", Protocol: "TCP", HealthCheckPort: "traffic-port"}
	r.Set("n/gw", []Binding{b2})
	select {
	case got := <-r.Changes():
		if len(got) != 1 || got[0] != "arn:tg/1" {
			t.Errorf("changes %v", got)
		}
	default:
		t.Error("a new source group is not announced as a change")
	}
	r.Set("n/gw", []Binding{b2})
	select {
	case got := <-r.Changes():
		t.Errorf("an equal binding announced %v", got)
	default:
	}
}
