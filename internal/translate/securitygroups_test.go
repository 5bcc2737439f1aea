package translate

import (
	"path/filepath"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
)

func TestSecurityGroupNamesAndBackendNeed(t *testing.T) {
	cases := []struct {
		dir   string
		names []string
		needs bool
	}{
		{"SecurityGroupsByNameTagWithBackendRules", []string{"web-frontend"}, true},
		{"SecurityGroupNameUnknown", []string{"missing-group"}, false},
		{"BackendSecurityGroupWithManagedFrontend", nil, true},
		{"BackendSecurityGroupNotOnNLBWithoutSecurityGroups", nil, false},
	}
	for _, c := range cases {
		s := loadSnapshot(t, filepath.Join("testdata", c.dir))
		if got := SecurityGroupNames(s); !reflect.DeepEqual(got, c.names) {
			t.Errorf("%s: SecurityGroupNames = %v, want %v", c.dir, got, c.names)
		}
		if got := NeedsBackendSecurityGroup(s); got != c.needs {
			t.Errorf("%s: NeedsBackendSecurityGroup = %v, want %v", c.dir, got, c.needs)
		}
		s.Gateway.DeletionTimestamp = &metav1.Time{}
		if NeedsBackendSecurityGroup(s) {
			t.Errorf("%s: a Gateway being deleted needs no backend security group", c.dir)
		}
	}
}

func TestNodeIngress(t *testing.T) {
	cases := []struct {
		dir  string
		want model.NodeIngress
	}{
		{"SecurityGroupsByNameTagWithBackendRules", model.NodeIngress{SourceGroup: &model.Ref{External: "sg-0backend"}}},
		{"BackendSecurityGroupWithManagedFrontend", model.NodeIngress{SourceGroup: &model.Ref{External: "sg-0backend"}}},
		// Explicit groups without manageBackendSecurityGroupRules: the user opens the nodes.
		{"ExplicitSecurityGroupsAndLoadBalancerName", model.NodeIngress{}},
	}
	for _, c := range cases {
		s := loadSnapshot(t, filepath.Join("testdata", c.dir))
		stack, _ := Gateway(s)
		if got := NodeIngress(s, stack); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: NodeIngress = %+v, want %+v", c.dir, got, c.want)
		}
	}

	// Without a backend group, the managed frontend group is the source.
	s := loadSnapshot(t, filepath.Join("testdata", "BackendSecurityGroupWithManagedFrontend"))
	s.AWS.BackendSecurityGroupID = ""
	stack, _ := Gateway(s)
	want := model.NodeIngress{SourceGroup: &model.Ref{ID: model.ManagedSecurityGroupID}}
	if got := NodeIngress(s, stack); !reflect.DeepEqual(got, want) {
		t.Errorf("frontend only: NodeIngress = %+v, want %+v", got, want)
	}

	// An NLB without security groups: clients by CIDR, health checks from its subnets.
	s = loadSnapshot(t, filepath.Join("testdata", "BackendSecurityGroupNotOnNLBWithoutSecurityGroups"))
	for i := range s.AWS.Subnets {
		s.AWS.Subnets[i].CIDR = []string{"10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"}[i]
	}
	if !NeedsVPCCIDRs(s) {
		t.Errorf("an internal NLB without security groups or sourceRanges does not ask for the VPC's CIDR blocks")
	}
	s.AWS.VPCCIDRs = []string{"10.0.0.0/16", "100.64.0.0/16", "2600:1f18:aaaa:bb00::/56"}
	stack, _ = Gateway(s)
	got := NodeIngress(s, stack)
	if !reflect.DeepEqual(got.ClientCIDRs, []string{"10.0.0.0/16", "100.64.0.0/16"}) || got.SourceGroup != nil {
		t.Errorf("no security groups, internal: NodeIngress = %+v, want clients from the VPC's IPv4 blocks, never 0.0.0.0/0", got)
	}
	if !reflect.DeepEqual(got.SubnetCIDRs, got.HealthCheckCIDRs) {
		t.Errorf("subnet CIDRs %v, want the load balancer's subnets %v", got.SubnetCIDRs, got.HealthCheckCIDRs)
	}
	var wantHC []string
	for _, m := range stack.LoadBalancer.Subnets {
		for _, sn := range s.AWS.Subnets {
			if sn.ID == m.SubnetID {
				wantHC = append(wantHC, sn.CIDR)
			}
		}
	}
	if len(wantHC) == 0 || !reflect.DeepEqual(got.HealthCheckCIDRs, wantHC) {
		t.Errorf("health-check CIDRs = %v, want the load balancer's subnets %v", got.HealthCheckCIDRs, wantHC)
	}
	s.LoadBalancerConfigurations[0].Spec.SourceRanges = []string{"192.168.1.7/16"}
	stack, _ = Gateway(s)
	if got := NodeIngress(s, stack); !reflect.DeepEqual(got.ClientCIDRs, []string{"192.168.0.0/16"}) {
		t.Errorf("with sourceRanges: clients %v, want [192.168.0.0/16]", got.ClientCIDRs)
	}
	if NeedsVPCCIDRs(s) {
		t.Errorf("with sourceRanges the VPC's CIDR blocks are asked for")
	}

	// Without the VPC's blocks (not read), the load balancer's subnets, never the Internet.
	s.LoadBalancerConfigurations[0].Spec.SourceRanges = nil
	s.AWS.VPCCIDRs = nil
	stack, _ = Gateway(s)
	if got := NodeIngress(s, stack); !reflect.DeepEqual(got.ClientCIDRs, wantHC) {
		t.Errorf("internal, VPC blocks unknown: clients %v, want the subnets %v", got.ClientCIDRs, wantHC)
	}

	// Internet-facing: clients from anywhere.
	scheme := awsv1.LoadBalancerSchemeInternetFacing
	s.LoadBalancerConfigurations[0].Spec.Scheme = &scheme
	s.AWS.VPCCIDRs = []string{"10.0.0.0/16"}
	if NeedsVPCCIDRs(s) {
		t.Errorf("an internet-facing NLB asks for the VPC's CIDR blocks")
	}
	stack, _ = Gateway(s)
	if got := NodeIngress(s, stack); !reflect.DeepEqual(got.ClientCIDRs, []string{"0.0.0.0/0"}) {
		t.Errorf("internet-facing: clients %v, want [0.0.0.0/0]", got.ClientCIDRs)
	}
}
