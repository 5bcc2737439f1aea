package testenv

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Prefix delegation. AssignPrivateIpAddresses takes Ipv4Prefixes: "One or more IPv4 prefixes
// assigned to the network interface. You can't use this option if you use the Ipv4PrefixCount
// option." DescribeNetworkInterfaces then lists them in Ipv4Prefixes: "The IPv4 prefixes that
// are assigned to the network interface." moto takes the parameter and forgets it, so the layer
// remembers the prefixes it assigned and adds them to the interfaces DescribeNetworkInterfaces
// answers. Ipv4PrefixCount (prefixes AWS picks) is left to moto, which ignores it.

// recordIPv4Prefixes remembers the prefixes an AssignPrivateIpAddresses request assigns, after
// moto accepted the request, and refuses what AWS refuses: both Ipv4Prefixes and
// Ipv4PrefixCount, and a prefix that is not an IPv4 /28 (EC2 User Guide, "Assign prefixes to
// Amazon EC2 network interfaces": IPv4 prefixes are /28 blocks of the subnet).
func recordIPv4Prefixes(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	prefixes := queryStrings(r.form, "Ipv4Prefix")
	if len(prefixes) == 0 {
		return false, nil
	}
	if r.form.Get("Ipv4PrefixCount") != "" {
		return false, refuse("InvalidParameterCombination", "You can't use Ipv4Prefixes with Ipv4PrefixCount")
	}
	for _, p := range prefixes {
		pf, err := netip.ParsePrefix(p)
		if err != nil || !pf.Addr().Is4() || pf.Bits() != 28 || pf.Masked() != pf {
			return false, refuse("InvalidParameterValue", "Invalid IPv4 prefix: %s; an IPv4 prefix is a /28", p)
		}
	}
	eni := r.form.Get("NetworkInterfaceId")
	ok := false
	s.forwardRewritten(w, r, func(body string) string {
		ok = true
		return body
	})
	if ok {
		s.mu.Lock()
		for _, p := range prefixes {
			if !slices.Contains(s.ipv4Prefixes[eni], p) {
				s.ipv4Prefixes[eni] = append(s.ipv4Prefixes[eni], p)
			}
		}
		s.mu.Unlock()
	}
	return true, nil
}

// addIPv4Prefixes adds the remembered prefixes to the interfaces moto describes.
func addIPv4Prefixes(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	s.mu.Lock()
	held := map[string][]string{}
	for eni, p := range s.ipv4Prefixes {
		held[eni] = slices.Clone(p)
	}
	s.mu.Unlock()
	if len(held) == 0 {
		return false, nil
	}
	s.forwardRewritten(w, r, func(body string) string {
		for eni, prefixes := range held {
			tag := "<networkInterfaceId>" + eni + "</networkInterfaceId>"
			var set strings.Builder
			set.WriteString("<ipv4PrefixSet>")
			for _, p := range prefixes {
				fmt.Fprintf(&set, "<item><ipv4Prefix>%s</ipv4Prefix></item>", p)
			}
			set.WriteString("</ipv4PrefixSet>")
			body = strings.Replace(body, tag, tag+set.String(), 1)
		}
		return body
	})
	return true, nil
}
