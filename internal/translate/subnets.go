package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

const (
	clusterTagPrefix = "kubernetes.io/cluster/"
	roleELB          = "kubernetes.io/role/elb"
	roleInternalELB  = "kubernetes.io/role/internal-elb"
	minFreeIPs       = 8
)

// subnets picks the load balancer's subnets: the configured ones, else those the selector
// matches, else the existing load balancer's when the scheme is unchanged, else discovery by
// role tag. A nil result comes with the problem.
func (t *translator) subnets(scheme string) ([]model.SubnetMapping, *problem) {
	spec := t.cfg.spec
	if len(spec.LoadBalancerSubnets) > 0 {
		return t.explicitSubnets()
	}
	if len(spec.LoadBalancerSubnetsSelector) > 0 {
		var matched []snapshot.Subnet
		withoutIPv6 := 0
		for _, s := range t.s.AWS.Subnets {
			if s.ID != "" && selectorMatches(spec.LoadBalancerSubnetsSelector, s.Tags) {
				if !t.subnetFitsFamily(s) {
					withoutIPv6++
					continue
				}
				matched = append(matched, s)
			}
		}
		chosen := t.onePerZone(matched)
		if len(chosen) == 0 && withoutIPv6 > 0 {
			return nil, &problem{invalidReason, fmt.Sprintf(
				"LoadBalancerConfiguration spec.loadBalancerSubnetsSelector: the %d subnets of VPC %s that match %v have no IPv6 CIDR block, which a %s load balancer needs; associate IPv6 CIDR blocks with them, or set ipAddressType: ipv4",
				withoutIPv6, t.s.Settings.VPCID, spec.LoadBalancerSubnetsSelector, t.ipAddressType())}
		}
		if len(chosen) == 0 {
			return nil, &problem{invalidReason, fmt.Sprintf(
				"LoadBalancerConfiguration spec.loadBalancerSubnetsSelector: no subnet of VPC %s matches %v; fix the selector or tag the subnets",
				t.s.Settings.VPCID, spec.LoadBalancerSubnetsSelector)}
		}
		return mappings(chosen), nil
	}
	if e := t.s.AWS.ExistingLoadBalancer; e != nil && e.Scheme == scheme {
		var out []model.SubnetMapping
		for _, id := range slices.Compact(slices.Sorted(slices.Values(e.Subnets))) {
			if id != "" {
				out = append(out, model.SubnetMapping{SubnetID: id})
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	role := roleInternalELB
	if scheme == "internet-facing" {
		role = roleELB
	}
	var candidates []snapshot.Subnet
	withoutIPv6 := 0
	for _, s := range t.s.AWS.Subnets {
		if s.ID == "" {
			continue
		}
		v, ok := s.Tags[role]
		if !ok || (v != "" && v != "1") {
			continue
		}
		if !t.clusterTagOK(s) || (s.AvailableIPs > 0 && s.AvailableIPs < minFreeIPs) {
			continue
		}
		if !t.subnetFitsFamily(s) {
			withoutIPv6++
			continue
		}
		candidates = append(candidates, s)
	}
	byRoute := false
	if !slices.ContainsFunc(t.s.AWS.Subnets, func(s snapshot.Subnet) bool { _, ok := s.Tags[role]; return ok }) {
		// No subnet carries the role tag: as the AWS Load Balancer Controller, subnets are
		// chosen by reachability, public (a route to an internet gateway) for internet-facing
		// load balancers and private for internal ones.
		candidates, byRoute = t.reachable(scheme == "internet-facing"), true
	}
	chosen := t.onePerZone(candidates)
	if len(chosen) == 0 && withoutIPv6 > 0 {
		return nil, &problem{invalidReason, fmt.Sprintf(
			"spec.loadBalancerSubnets: none of the %d subnets tagged %s=1 in VPC %s has an IPv6 CIDR block, which a %s load balancer needs; associate IPv6 CIDR blocks with them, list dual-stack subnets in the LoadBalancerConfiguration's spec.loadBalancerSubnets, or set ipAddressType: ipv4",
			withoutIPv6, role, t.s.Settings.VPCID, t.ipAddressType())}
	}
	if byRoute && len(chosen) > 0 {
		kind := "private (no route to an internet gateway)"
		if scheme == "internet-facing" {
			kind = "public (routed to an internet gateway)"
		}
		var ids []string
		for _, s := range chosen {
			ids = append(ids, s.ID)
		}
		t.subnetChoice = fmt.Sprintf("no subnet of VPC %s is tagged %s, so the %s subnets %s were chosen by their route tables, one per availability zone; tag subnets with %s=1 or list them in spec.loadBalancerSubnets to choose",
			t.s.Settings.VPCID, role, kind, strings.Join(ids, ", "), role)
	}
	if len(chosen) == 0 {
		return nil, &problem{invalidReason, fmt.Sprintf(
			"spec.loadBalancerSubnets: no subnet found for the %s load balancer in VPC %s; tag subnets with %s=1 (and %s%s=shared), or list them in the LoadBalancerConfiguration's spec.loadBalancerSubnets",
			scheme, t.s.Settings.VPCID, role, clusterTagPrefix, t.s.Settings.ClusterName)}
	}
	return mappings(chosen), nil
}

func (t *translator) explicitSubnets() ([]model.SubnetMapping, *problem) {
	var out []model.SubnetMapping
	zones := map[string]string{}
	for i, sc := range t.cfg.spec.LoadBalancerSubnets {
		field := fmt.Sprintf("LoadBalancerConfiguration spec.loadBalancerSubnets[%d].identifier", i)
		var found *snapshot.Subnet
		for j := range t.s.AWS.Subnets {
			s := &t.s.AWS.Subnets[j]
			if s.ID != "" && (s.ID == sc.Identifier || s.Tags["Name"] == sc.Identifier) {
				if found != nil && found.ID != s.ID {
					return nil, &problem{string(invalidParameters), fmt.Sprintf(
						"%s: Name tag %q matches subnets %s and %s; use a subnet ID", field, sc.Identifier, found.ID, s.ID)}
				}
				found = s
			}
		}
		m := model.SubnetMapping{SubnetID: sc.Identifier}
		switch {
		case found != nil && !t.subnetFitsFamily(*found):
			return nil, &problem{string(invalidParameters), fmt.Sprintf(
				"%s: subnet %s has no IPv6 CIDR block, which a %s load balancer needs; associate one with it, choose a dual-stack subnet, or set ipAddressType: ipv4",
				field, found.ID, t.ipAddressType())}
		case found != nil:
			m.SubnetID = found.ID
			if other, dup := zones[found.AvailabilityZone]; dup && found.AvailabilityZone != "" && other != found.ID {
				return nil, &problem{string(invalidParameters), fmt.Sprintf(
					"%s: subnets %s and %s are both in %s; a load balancer takes one subnet per availability zone",
					field, other, found.ID, found.AvailabilityZone)}
			}
			zones[found.AvailabilityZone] = found.ID
		default:
			// Every subnet of the VPC is gathered, so an ID that is not among them does not exist
			// there: CreateLoadBalancer would answer SubnetNotFound.
			return nil, &problem{string(invalidParameters), fmt.Sprintf(
				"%s: no subnet of VPC %s has ID or Name tag %q; fix the identifier", field, t.s.Settings.VPCID, sc.Identifier)}
		}
		if sc.EIPAllocation != nil {
			m.AllocationID = *sc.EIPAllocation
		}
		if sc.PrivateIPv4Allocation != nil {
			m.PrivateIPv4Address = *sc.PrivateIPv4Allocation
		}
		if sc.IPv6Allocation != nil {
			m.IPv6Address = *sc.IPv6Allocation
		}
		if slices.ContainsFunc(out, func(x model.SubnetMapping) bool { return x.SubnetID == m.SubnetID }) {
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// subnetFitsFamily: a dual-stack load balancer's subnets need an associated IPv6 CIDR block
// (CreateLoadBalancer and SetSubnets refuse others); any subnet takes an ipv4 one.
func (t *translator) subnetFitsFamily(s snapshot.Subnet) bool {
	return t.ipAddressType() == string(awsv1.LoadBalancerIPAddressTypeIPv4) || len(s.IPv6CIDRs) > 0
}

func selectorMatches(selector map[string][]string, tags map[string]string) bool {
	for k, values := range selector {
		v, ok := tags[k]
		if !ok {
			return false
		}
		if len(values) > 0 && !slices.Contains(values, v) {
			return false
		}
	}
	return true
}

// clusterTagOK drops subnets that belong to another cluster only.
func (t *translator) clusterTagOK(s snapshot.Subnet) bool {
	ours := false
	other := false
	for k := range s.Tags {
		c, ok := strings.CutPrefix(k, clusterTagPrefix)
		if !ok {
			continue
		}
		if c == t.s.Settings.ClusterName {
			ours = true
		} else {
			other = true
		}
	}
	return ours || !other
}

// onePerZone keeps one subnet per availability zone, preferring subnets tagged for our cluster,
// then the lowest ID, and returns them sorted by ID.
func (t *translator) onePerZone(subnets []snapshot.Subnet) []snapshot.Subnet {
	ourTag := clusterTagPrefix + t.s.Settings.ClusterName
	best := map[string]snapshot.Subnet{}
	for _, s := range subnets {
		cur, ok := best[s.AvailabilityZone]
		if !ok {
			best[s.AvailabilityZone] = s
			continue
		}
		_, sTagged := s.Tags[ourTag]
		_, curTagged := cur.Tags[ourTag]
		if sTagged && !curTagged || sTagged == curTagged && s.ID < cur.ID {
			best[s.AvailabilityZone] = s
		}
	}
	var out []snapshot.Subnet
	for _, s := range best {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b snapshot.Subnet) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func mappings(subnets []snapshot.Subnet) []model.SubnetMapping {
	var out []model.SubnetMapping
	for _, s := range subnets {
		out = append(out, model.SubnetMapping{SubnetID: s.ID})
	}
	return out
}

// reachable lists the subnets that discovery by reachability may take: public or private by
// their route table, with the same cluster-tag and free-address filters as the role tags.
func (t *translator) reachable(public bool) []snapshot.Subnet {
	var out []snapshot.Subnet
	for _, s := range t.s.AWS.Subnets {
		if s.ID == "" || s.Public == nil || *s.Public != public {
			continue
		}
		if !t.clusterTagOK(s) || (s.AvailableIPs > 0 && s.AvailableIPs < minFreeIPs) || !t.subnetFitsFamily(s) {
			continue
		}
		out = append(out, s)
	}
	return out
}
