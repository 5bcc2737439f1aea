package plan

import (
	"sort"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
)

// loadBalancer creates, replaces, updates or deletes the load balancer. A change of name, scheme
// or type replaces it; the old one goes first, since its target groups can serve one load
// balancer only, and every listener is created again on the new one.
func (d *differ) loadBalancer() {
	want, have := d.desired.lb, d.observed.lb
	k := sortKey{id: model.LoadBalancerID}
	switch {
	case want == nil && have == nil:
	case want == nil:
		d.lbDeleted = true
		d.add(phaseDelete, k, Change{Op: OpDelete, Kind: KindLoadBalancer, ID: model.LoadBalancerID, Reason: "no longer desired", Observed: Resource{LoadBalancer: have}})
	case have == nil:
		d.lbRecreated = true
		d.add(phaseCreate, k, Change{Op: OpCreate, Kind: KindLoadBalancer, ID: model.LoadBalancerID, Reason: "not found", Desired: Resource{LoadBalancer: want}})
	default:
		if why := d.loadBalancerImmutableDiff(want, have); why != "" {
			d.lbRecreated = true
			reason := replacePrefix + why
			d.add(phaseEarlyDelete, k, Change{Op: OpDelete, Kind: KindLoadBalancer, ID: model.LoadBalancerID, Reason: reason, Observed: Resource{LoadBalancer: have}})
			d.add(phaseCreate, k, Change{Op: OpCreate, Kind: KindLoadBalancer, ID: model.LoadBalancerID, Reason: reason, Desired: Resource{LoadBalancer: want}})
			return
		}
		if u, why := loadBalancerUpdate(d.stackType, want, have); u != nil {
			d.add(phaseUpdate, k, Change{Op: OpUpdate, Kind: KindLoadBalancer, ID: model.LoadBalancerID, Reason: why, Update: u,
				Desired: Resource{LoadBalancer: want}, Observed: Resource{LoadBalancer: have}})
		}
	}
}

func (d *differ) loadBalancerImmutableDiff(want, have *model.LoadBalancer) string {
	var why reasons
	why.field("name", want.Name, have.Name)
	why.field("scheme", want.Scheme, have.Scheme)
	if d.observed.typ != "" {
		why.field("type", string(d.desired.typ), string(d.observed.typ))
	}
	// SetSecurityGroups reference: "You can't perform this operation on a Network Load
	// Balancer unless you specified a security group for the load balancer when you created
	// it" (one created with disableSecurityGroup): only a new load balancer can have them.
	if d.stackType == model.Network && len(have.SecurityGroups) == 0 && len(want.SecurityGroups) > 0 {
		why.add("securityGroups: an NLB created without security groups (disableSecurityGroup) cannot be given any")
	}
	// SetSubnets: "When you specify subnets for a Network Load Balancer, you must include all
	// subnets that were enabled previously, with their existing configurations": a subnet keeps
	// the static address it has; another one takes a new load balancer. An address no longer
	// asked for stays until then.
	for _, w := range want.Subnets {
		for _, h := range have.Subnets {
			if w.SubnetID == h.SubnetID {
				why.addressChange(w.SubnetID+" allocationID", w.AllocationID, h.AllocationID)
				why.addressChange(w.SubnetID+" privateIPv4Address", w.PrivateIPv4Address, h.PrivateIPv4Address)
				why.addressChange(w.SubnetID+" ipv6Address", w.IPv6Address, h.IPv6Address)
			}
		}
	}
	return why.String()
}

// addressChange notes a static address of a subnet asked for that differs from the one it has.
func (r *reasons) addressChange(what, want, have string) {
	if want != "" && want != have {
		r.add("subnet " + what + " " + orDefault(have, "(none)") + " → " + want)
	}
}

func loadBalancerUpdate(t model.LoadBalancerType, want, have *model.LoadBalancer) (*Update, string) {
	u := &Update{}
	var why reasons
	if w, h := subnetIDs(want.Subnets), subnetIDs(have.Subnets); w != h {
		u.Fields = append(u.Fields, FieldSubnets)
		why.add("subnets [" + h + "] → [" + w + "]")
	}
	if w, h := refList(want.SecurityGroups), refList(have.SecurityGroups); w != h {
		u.Fields = append(u.Fields, FieldSecurityGroups)
		why.add("securityGroups [" + h + "] → [" + w + "]")
	}
	if w, h := orDefault(want.IPAddressType, "ipv4"), orDefault(have.IPAddressType, "ipv4"); w != h {
		u.Fields = append(u.Fields, FieldIPAddressType)
		why.add("ipAddressType " + h + " → " + w)
	}
	u.attributes(want.Attributes, have.Attributes, loadBalancerDefaults(t), &why)
	u.tags(want.Tags, have.Tags, &why)
	return u.done(), why.String()
}

func subnetIDs(m []model.SubnetMapping) string {
	ids := make([]string, 0, len(m))
	for _, s := range m {
		ids = append(ids, s.SubnetID)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func refList(refs []model.Ref) string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, describeRef(r))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
