package translate

import (
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// intersectHostnames returns the hostnames a route and a listener have in common, each the
// more specific of the pair, and whether they have any. A route without hostnames takes the
// listener's; a listener without a hostname takes the route's.
func intersectHostnames(listener *gwv1.Hostname, route []gwv1.Hostname) ([]string, bool) {
	if len(route) == 0 {
		if listener == nil || *listener == "" {
			return nil, true
		}
		return []string{strings.ToLower(string(*listener))}, true
	}
	var out []string
	for _, h := range route {
		r := strings.ToLower(string(h))
		if listener == nil || *listener == "" {
			out = append(out, r)
			continue
		}
		l := strings.ToLower(string(*listener))
		switch {
		case r == l:
			out = append(out, r)
		case wildcardCovers(l, r):
			out = append(out, r)
		case wildcardCovers(r, l):
			out = append(out, l)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return out, len(out) > 0
}

// wildcardCovers says whether the wildcard pattern (*.example.com) covers host, which has at
// least one more label in front of the suffix.
func wildcardCovers(pattern, host string) bool {
	suffix, ok := strings.CutPrefix(pattern, "*")
	if !ok || !strings.HasPrefix(suffix, ".") {
		return false
	}
	return strings.HasSuffix(host, suffix) && len(host) > len(suffix) && !strings.HasPrefix(host, "*"+suffix)
}

// certificateCovers says whether an ACM certificate domain covers a host: exactly, or as a
// wildcard for exactly one label.
func certificateCovers(domain, host string) bool {
	domain, host = strings.ToLower(domain), strings.ToLower(host)
	if domain == host {
		return true
	}
	suffix, ok := strings.CutPrefix(domain, "*")
	if !ok || !strings.HasPrefix(suffix, ".") || !strings.HasSuffix(host, suffix) {
		return false
	}
	first := strings.TrimSuffix(host, suffix)
	return first != "" && !strings.Contains(first, ".")
}
