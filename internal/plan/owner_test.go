package plan

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestOwnerIsNotCompared: the route that owns a target group or rule is bookkeeping that AWS
// never holds, so a desired stack whose resources name their routes plans nothing against an
// observed stack without owners, or with other owners.
func TestOwnerIsNotCompared(t *testing.T) {
	dir := filepath.Join("testdata", "unchanged-alb-every-feature")
	for _, observedOwner := range []string{"", "HTTPRoute/elsewhere/other"} {
		desired := loadStack(t, filepath.Join(dir, "desired.yaml"))
		observed := loadStack(t, filepath.Join(dir, "observed.yaml"))
		owned := setOwners(desired, func(i int) string { return fmt.Sprintf("HTTPRoute/default/route-%d", i) })
		setOwners(observed, func(int) string { return observedOwner })
		if owned.rules == 0 || owned.targetGroups == 0 {
			t.Fatalf("the case has %d rules and %d target groups; the test needs both", owned.rules, owned.targetGroups)
		}
		if changes := Diff(desired, observed); len(changes) != 0 {
			t.Errorf("observed owner %q: an owner-only difference plans\n%s", observedOwner, render(changes))
		}
	}
}

type ownedCount struct{ rules, targetGroups int }

func setOwners(s *model.Stack, owner func(int) string) ownedCount {
	var n ownedCount
	for i := range s.TargetGroups {
		s.TargetGroups[i].Route = owner(n.targetGroups)
		n.targetGroups++
	}
	for i := range s.Listeners {
		for j := range s.Listeners[i].Rules {
			s.Listeners[i].Rules[j].Route = owner(n.rules)
			n.rules++
		}
	}
	return n
}

// TestSubnetAddressChangeReplaces: SetSubnets keeps a Network Load Balancer's subnets "with their
// existing configurations", so another static address for a subnet in use replaces the load
// balancer; a new subnet with an address is a SetSubnets; an address no longer asked for, or one
// AWS assigned itself, changes nothing.
func TestSubnetAddressChangeReplaces(t *testing.T) {
	dir := filepath.Join("testdata", "unchanged-nlb")
	withSubnets := func(file string, subnets ...model.SubnetMapping) *model.Stack {
		s := loadStack(t, filepath.Join(dir, file))
		s.LoadBalancer.Subnets = subnets
		return s
	}
	a, b := model.SubnetMapping{SubnetID: "subnet-a"}, model.SubnetMapping{SubnetID: "subnet-b"}
	aPinned, aOther := a, a
	aPinned.PrivateIPv4Address, aOther.PrivateIPv4Address = "10.0.1.7", "10.0.1.8"
	for _, c := range []struct {
		name           string
		desired, have  []model.SubnetMapping
		replace, other bool
	}{
		{"another address", []model.SubnetMapping{aOther, b}, []model.SubnetMapping{aPinned, b}, true, false},
		{"address asked for a subnet without one", []model.SubnetMapping{aPinned, b}, []model.SubnetMapping{a, b}, true, false},
		{"address no longer asked for", []model.SubnetMapping{a, b}, []model.SubnetMapping{aPinned, b}, false, false},
		{"new subnet with an address", []model.SubnetMapping{aPinned, b}, []model.SubnetMapping{b}, false, true},
	} {
		changes := Diff(withSubnets("desired.yaml", c.desired...), withSubnets("observed.yaml", c.have...))
		var replaced, updated bool
		for _, ch := range changes {
			if ch.Kind == KindLoadBalancer && ch.Op == OpDelete {
				replaced = true
			}
			if ch.Kind == KindLoadBalancer && ch.Op == OpUpdate && ch.Update.Has(FieldSubnets) {
				updated = true
			}
		}
		if replaced != c.replace || updated != c.other {
			t.Errorf("%s: replaced %v, SetSubnets %v; want %v, %v\n%s", c.name, replaced, updated, c.replace, c.other, render(changes))
		}
	}
}
