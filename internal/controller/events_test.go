package controller

import (
	"errors"
	"reflect"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

func TestChangeEvents(t *testing.T) {
	changes := []plan.Change{
		{Op: plan.OpCreate, Kind: plan.KindTargetGroup, ID: "default/gw:tcp-app:3000"},
		{Op: plan.OpCreate, Kind: plan.KindLoadBalancer, ID: "LoadBalancer"},
		{Op: plan.OpUpdate, Kind: plan.KindListener, ID: "8080", Reason: "default actions"},
		{Op: plan.OpDelete, Kind: plan.KindTargetGroup, ID: "default/gw:old:80"},
	}
	reasons := func(es []changeEvent) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.eventType+"/"+e.reason)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		err  error
		want []string
	}{
		{"all applied", nil, []string{"Normal/CreatedTargetGroup", "Normal/CreatedLoadBalancer", "Normal/UpdatedListener", "Normal/DeletedTargetGroup"}},
		{"third failed", errors.New("update Listener 8080: ValidationError: bad port"), []string{"Normal/CreatedTargetGroup", "Normal/CreatedLoadBalancer", "Warning/FailedUpdateListener"}},
		{"first failed", errors.New("create TargetGroup default/gw:tcp-app:3000: throttled"), []string{"Warning/FailedCreateTargetGroup"}},
		{"unknown change", errors.New("adding finalizer: conflict"), nil},
	} {
		got := changeEvents(changes, tt.err)
		if !reflect.DeepEqual(reasons(got), tt.want) {
			t.Errorf("%s: events %v, want %v", tt.name, reasons(got), tt.want)
		}
	}
	got := changeEvents(changes[2:3], nil)
	if got[0].note != "update Listener 8080: default actions" || got[0].action != "Update" {
		t.Errorf("event note %q action %q", got[0].note, got[0].action)
	}
}

// TestLoadBalancerReplacementIsAWarning: replacing a load balancer (for instance an NLB created
// without security groups that now wants some) changes its DNS name: the deletion of the old
// one is a Warning naming why.
func TestLoadBalancerReplacementIsAWarning(t *testing.T) {
	why := "replace: securityGroups: an NLB created without security groups (disableSecurityGroup) cannot be given any"
	got := changeEvents([]plan.Change{
		{Op: plan.OpDelete, Kind: plan.KindLoadBalancer, ID: "LoadBalancer", Reason: why},
		{Op: plan.OpCreate, Kind: plan.KindLoadBalancer, ID: "LoadBalancer", Reason: why},
		{Op: plan.OpDelete, Kind: plan.KindLoadBalancer, ID: "LoadBalancer", Reason: "no longer desired"},
	}, nil)
	if len(got) != 3 || got[0].eventType != "Warning" || got[0].reason != "DeletedLoadBalancer" || got[0].note != "delete LoadBalancer LoadBalancer: "+why {
		t.Errorf("replacement events %+v, want a Warning DeletedLoadBalancer naming disableSecurityGroup", got)
	}
	if got[1].eventType != "Normal" || got[2].eventType != "Normal" {
		t.Errorf("the new load balancer and a plain deletion are %s and %s, want Normal", got[1].eventType, got[2].eventType)
	}
}

// TestChangeEventsNameAWSResources: event notes name the AWS resource (its ARN once it exists,
// its AWS name before, the security group's ID), not the model's logical ID.
func TestChangeEventsNameAWSResources(t *testing.T) {
	lbARN := "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/net/k8s-default-gw-0123456789/50dc6c495c0c9188"
	changes := []plan.Change{
		{Op: plan.OpCreate, Kind: plan.KindTargetGroup, ID: "default/gw:tcp-app:3000",
			Desired: plan.Resource{TargetGroup: &model.TargetGroup{ID: "default/gw:tcp-app:3000", Name: "k8s-default-tcpapp-3f2a1b0c9d"}}},
		{Op: plan.OpUpdate, Kind: plan.KindLoadBalancer, ID: "LoadBalancer", Reason: "attributes",
			Observed: plan.Resource{LoadBalancer: &model.LoadBalancer{Name: "k8s-default-gw-0123456789", ARN: lbARN}},
			Desired:  plan.Resource{LoadBalancer: &model.LoadBalancer{Name: "k8s-default-gw-0123456789"}}},
		{Op: plan.OpDelete, Kind: plan.KindSecurityGroup, ID: "frontend",
			Observed: plan.Resource{SecurityGroup: &model.SecurityGroup{ID: "frontend", Name: "k8s-default-gw-5d1c", GroupID: "sg-0123456789abcdef0"}}},
	}
	got := changeEvents(changes, nil)
	want := []string{
		"create TargetGroup k8s-default-tcpapp-3f2a1b0c9d",
		"update LoadBalancer " + lbARN + ": attributes",
		"delete SecurityGroup sg-0123456789abcdef0 (k8s-default-gw-5d1c)",
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].note != want[i] {
			t.Errorf("event %d note %q, want %q", i, got[i].note, want[i])
		}
	}
}
