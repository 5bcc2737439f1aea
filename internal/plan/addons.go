package plan

import (
	"fmt"
	"strconv"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Logical IDs of the load balancer's addons: the LoadBalancerConfiguration fields they come from.
const (
	AddonWebACL   = "wafV2"
	AddonShield   = "shieldConfiguration"
	AddonCapacity = "minimumLoadBalancerCapacity"
)

// addons sets, changes or removes the load balancer's addons, one change each, after the load
// balancer itself is created or updated. A load balancer that goes away takes its web ACL
// association and capacity reservation with it; its Shield protection, which would outlive it,
// is deleted first.
func (d *differ) addons() {
	want, have := d.desired.lb, d.observed.lb
	var w, h model.Addons
	if want != nil {
		w = want.Addons
	}
	if have != nil && !d.lbRecreated {
		h = have.Addons
	}
	if have != nil && have.Addons.Shield && (want == nil || d.lbRecreated) {
		d.add(phaseEarlyDelete, sortKey{id: AddonShield}, Change{Op: OpDelete, Kind: KindAddon, ID: AddonShield,
			Reason: "its load balancer goes", Observed: Resource{LoadBalancer: have}})
	}
	if want == nil {
		return
	}
	change := func(id, from, to string) {
		op := OpUpdate
		if to == "" {
			op = OpDelete
		}
		d.add(phaseUpdate, sortKey{id: id}, Change{Op: op, Kind: KindAddon, ID: id,
			Reason:  fmt.Sprintf("%s → %s", orNone(from), orNone(to)),
			Desired: Resource{LoadBalancer: want}, Observed: Resource{LoadBalancer: have}})
	}
	if w.WebACL != h.WebACL {
		change(AddonWebACL, h.WebACL, w.WebACL)
	}
	if w.Shield != h.Shield {
		change(AddonShield, onOff(h.Shield), onOff(w.Shield))
	}
	if w.CapacityUnits != h.CapacityUnits {
		change(AddonCapacity, units(h.CapacityUnits), units(w.CapacityUnits))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return ""
}

func units(n int32) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(int(n)) + " capacity units"
}
