package elb

import (
	"hash/fnv"
	"net/netip"
	"strconv"
)

// LoadBalancerAddr is the loopback address a load balancer listens on: 127.254.x.y, with x.y
// from a hash of its ARN (never .0 or .255 in the last octet).
func LoadBalancerAddr(arn string) netip.Addr {
	h := fnv.New32a()
	_, _ = h.Write([]byte(arn))
	v := h.Sum32()
	return netip.AddrFrom4([4]byte{127, 254, byte(v >> 8), byte(1 + v%254)})
}

// lbAddr is the address of a load balancer: its DNS name when that is a loopback IPv4 address,
// else LoadBalancerAddr.
func lbAddr(arn, dnsName string) netip.Addr {
	if a, err := netip.ParseAddr(dnsName); err == nil && a.Is4() && a.IsLoopback() {
		return a
	}
	return LoadBalancerAddr(arn)
}

// DefaultTargetAddr maps a target's IPv4 address and port to the loopback address a backend
// standing in for it listens on: a.b.c.d → 127.b.c.d. IPv6 targets have no mapping.
func DefaultTargetAddr(ip string, port int32) (string, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return "", false
	}
	b := a.As4()
	b[0] = 127
	return netip.AddrPortFrom(netip.AddrFrom4(b), uint16(port)).String(), true
}

func hostPort(a netip.Addr, port int32) string {
	return netip.AddrPortFrom(a, uint16(port)).String()
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
