package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// Static addresses of a Network Load Balancer, from two places:
//
//   - LoadBalancerConfiguration spec.loadBalancerSubnets[].eipAllocation, privateIPv4Allocation and
//     ipv6Allocation (as the AWS Load Balancer Controller), checked in checkAllocations;
//   - Gateway spec.addresses of type IPAddress, placed in the subnet whose range holds them
//     (staticAddresses).
//
// AWS's rules (CreateLoadBalancer SubnetMappings): "[Application Load Balancers] ... You can't
// specify Elastic IP addresses for your subnets." "[Network Load Balancers] ... You can specify
// one Elastic IP address per subnet if you need static IP addresses for your internet-facing
// load balancer. For internal load balancers, you can specify one private IP address per subnet
// from the IPv4 range of the subnet. For internet-facing load balancer, you can specify one IPv6
// address per subnet." SetSubnets: "When you specify subnets for a Network Load Balancer, you must
// include all subnets that were enabled previously, with their existing configurations": the
// address of a subnet in use cannot change, so a change replaces the load balancer (plan).

// checkAllocations checks the configuration's per-subnet addresses: NLB only, every entry or none
// for each kind (as LBC), Elastic IPs on internet-facing and private IPv4 on internal load
// balancers, a private IPv4 inside its subnet's range, IPv6 only when dualstack.
func (t *translator) checkAllocations() *problem {
	subnets := t.cfg.spec.LoadBalancerSubnets
	var eips, privates, v6s int
	for _, sc := range subnets {
		if sc.EIPAllocation != nil {
			eips++
		}
		if sc.PrivateIPv4Allocation != nil {
			privates++
		}
		if sc.IPv6Allocation != nil {
			v6s++
		}
	}
	for _, k := range []struct {
		n     int
		field string
	}{{eips, "eipAllocation"}, {privates, "privateIPv4Allocation"}, {v6s, "ipv6Allocation"}} {
		if k.n == 0 {
			continue
		}
		if t.alb() {
			return &problem{invalidParameters, fmt.Sprintf(
				"LoadBalancerConfiguration spec.loadBalancerSubnets[].%s: an Application Load Balancer takes no static addresses; remove it, or use a Network Load Balancer class", k.field)}
		}
		if k.n != len(subnets) {
			return &problem{invalidParameters, fmt.Sprintf(
				"LoadBalancerConfiguration spec.loadBalancerSubnets[].%s: set on %d of %d subnets; set it on every subnet or on none", k.field, k.n, len(subnets))}
		}
	}
	scheme := t.scheme()
	if eips > 0 && scheme != "internet-facing" {
		return &problem{invalidParameters,
			"LoadBalancerConfiguration spec.loadBalancerSubnets[].eipAllocation: Elastic IPs are for internet-facing load balancers; set spec.scheme: internet-facing, or use privateIPv4Allocation"}
	}
	if privates > 0 && scheme != "internal" {
		return &problem{invalidParameters,
			"LoadBalancerConfiguration spec.loadBalancerSubnets[].privateIPv4Allocation: private addresses are for internal load balancers; set spec.scheme: internal, or use eipAllocation"}
	}
	if v6s > 0 && t.ipAddressType() == "ipv4" {
		return &problem{invalidParameters,
			"LoadBalancerConfiguration spec.loadBalancerSubnets[].ipv6Allocation: needs spec.ipAddressType: dualstack"}
	}
	for i, sc := range subnets {
		if sc.PrivateIPv4Allocation != nil {
			field := fmt.Sprintf("LoadBalancerConfiguration spec.loadBalancerSubnets[%d].privateIPv4Allocation", i)
			ip, err := netip.ParseAddr(*sc.PrivateIPv4Allocation)
			if err != nil || !ip.Is4() {
				return &problem{invalidParameters, fmt.Sprintf("%s: %q is not an IPv4 address", field, *sc.PrivateIPv4Allocation)}
			}
			if s := t.subnetByIdentifier(sc.Identifier); s != nil && !inCIDR(s.CIDR, ip) {
				return &problem{invalidParameters, fmt.Sprintf("%s: %s is outside subnet %s (%s); pick an address of that range", field, ip, s.ID, s.CIDR)}
			}
		}
		if sc.IPv6Allocation != nil {
			field := fmt.Sprintf("LoadBalancerConfiguration spec.loadBalancerSubnets[%d].ipv6Allocation", i)
			ip, err := netip.ParseAddr(*sc.IPv6Allocation)
			if err != nil || !ip.Is6() || ip.Is4In6() {
				return &problem{invalidParameters, fmt.Sprintf("%s: %q is not an IPv6 address", field, *sc.IPv6Allocation)}
			}
			if s := t.subnetByIdentifier(sc.Identifier); s != nil && !slices.ContainsFunc(s.IPv6CIDRs, func(c string) bool { return inCIDR(c, ip) }) {
				return &problem{invalidParameters, fmt.Sprintf("%s: %s is outside the IPv6 ranges %v of subnet %s; pick an address of one of them", field, ip, s.IPv6CIDRs, s.ID)}
			}
		}
	}
	return nil
}

// checkAddressTypes refuses the Gateway spec.addresses a load balancer cannot take at all: any on
// an ALB, and types other than IPAddress.
func (t *translator) checkAddressTypes() *problem {
	for i, a := range t.gw.Spec.Addresses {
		field := fmt.Sprintf("spec.addresses[%d]", i)
		if t.alb() {
			return &problem{string(gwv1.GatewayReasonUnsupportedAddress), field +
				": an Application Load Balancer has no static addresses (its address is its DNS name, in status.addresses); remove spec.addresses"}
		}
		if a.Type != nil && *a.Type != gwv1.IPAddressType {
			return &problem{string(gwv1.GatewayReasonUnsupportedAddress), fmt.Sprintf(
				"%s.type: %s is not supported; a Network Load Balancer takes addresses of type IPAddress only", field, *a.Type)}
		}
	}
	return nil
}

// staticAddresses places the Gateway's IPAddress entries in the subnet mappings: an IPv4 address
// as the private address of the subnet whose range holds it (internal load balancers), an IPv6
// address as the subnet's IPv6 address (dualstack). An entry without a value asks for an address
// AWS assigns anyway. An address that cannot be used is a problem for Programmed
// (AddressNotUsable); nothing is asked of AWS for it.
func (t *translator) staticAddresses(subnets []model.SubnetMapping) ([]model.SubnetMapping, *problem) {
	if len(t.gw.Spec.Addresses) == 0 {
		return subnets, nil
	}
	out := append([]model.SubnetMapping(nil), subnets...)
	unusable := func(i int, format string, args ...any) *problem {
		return &problem{string(gwv1.GatewayReasonAddressNotUsable), fmt.Sprintf("spec.addresses[%d].value: ", i) + fmt.Sprintf(format, args...)}
	}
	for i, a := range t.gw.Spec.Addresses {
		if a.Value == "" {
			continue
		}
		ip, err := netip.ParseAddr(a.Value)
		if err != nil {
			return nil, unusable(i, "%q is not an IP address", a.Value)
		}
		if ip.Is6() && !ip.Is4In6() {
			if t.ipAddressType() == "ipv4" {
				return nil, unusable(i, "%s is an IPv6 address; set the LoadBalancerConfiguration's spec.ipAddressType: dualstack", ip)
			}
			j := t.mappingHolding(out, ip, func(s *snapshot.Subnet) []string { return s.IPv6CIDRs })
			if j < 0 {
				return nil, unusable(i, "%s is in none of the IPv6 ranges of the load balancer's subnets; use an address of one of them", ip)
			}
			if have := out[j].IPv6Address; have != "" && have != ip.String() {
				return nil, unusable(i, "subnet %s has IPv6 address %s already; a subnet takes one", out[j].SubnetID, have)
			}
			out[j].IPv6Address = ip.String()
			continue
		}
		ip = ip.Unmap()
		if t.scheme() != "internal" {
			return nil, unusable(i, "%s: an internet-facing Network Load Balancer takes its public IPv4 addresses from Elastic IPs; set LoadBalancerConfiguration spec.loadBalancerSubnets[].eipAllocation instead", ip)
		}
		j := t.mappingHolding(out, ip, func(s *snapshot.Subnet) []string { return []string{s.CIDR} })
		if j < 0 {
			return nil, unusable(i, "%s is in none of the load balancer's subnets (%s); use an address of one of them", ip, t.subnetRanges(out))
		}
		if have := out[j].PrivateIPv4Address; have != "" && have != ip.String() {
			return nil, unusable(i, "subnet %s has private address %s already; a subnet takes one", out[j].SubnetID, have)
		}
		out[j].PrivateIPv4Address = ip.String()
	}
	return out, nil
}

// mappingHolding is the index of the mapping whose subnet's ranges hold ip, or -1.
func (t *translator) mappingHolding(out []model.SubnetMapping, ip netip.Addr, ranges func(*snapshot.Subnet) []string) int {
	for k, m := range out {
		if s := t.subnetByIdentifier(m.SubnetID); s != nil && slices.ContainsFunc(ranges(s), func(c string) bool { return inCIDR(c, ip) }) {
			return k
		}
	}
	return -1
}

// subnetRanges names the mappings' subnets with their IPv4 ranges, for messages.
func (t *translator) subnetRanges(out []model.SubnetMapping) string {
	var parts []string
	for _, m := range out {
		if s := t.subnetByIdentifier(m.SubnetID); s != nil {
			parts = append(parts, s.ID+" "+s.CIDR)
		}
	}
	return strings.Join(parts, ", ")
}

func (t *translator) subnetByIdentifier(id string) *snapshot.Subnet {
	for i := range t.s.AWS.Subnets {
		s := &t.s.AWS.Subnets[i]
		if s.ID != "" && (s.ID == id || s.Tags["Name"] == id) {
			return s
		}
	}
	return nil
}

func inCIDR(cidr string, ip netip.Addr) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Contains(ip)
}
