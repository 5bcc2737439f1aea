package translate

import (
	"fmt"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

// certificates returns the certificate ARNs of a TLS listener, default first: the configured
// ones, else the issued ACM certificates covering the hostnames of the port's listeners and
// of the TLSRoutes attached to them.
func (t *translator) certificates(lc *awsv1.ListenerConfiguration, port int32, listeners []*listenerState) ([]string, *problem) {
	if lc != nil && (lc.DefaultCertificate != nil && *lc.DefaultCertificate != "" || len(lc.Certificates) > 0) {
		var out []string
		if lc.DefaultCertificate != nil && *lc.DefaultCertificate != "" {
			out = append(out, *lc.DefaultCertificate)
		}
		for _, c := range lc.Certificates {
			if c != "" && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	var hosts []string
	for _, l := range listeners {
		if l.spec.Hostname != nil && *l.spec.Hostname != "" {
			hosts = append(hosts, strings.ToLower(string(*l.spec.Hostname)))
		}
		hosts = append(hosts, l.hostnames...)
	}
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	protocol := "TLS"
	if len(listeners) > 0 && listeners[0].effective == "HTTPS" {
		protocol = "HTTPS"
	}
	field := fmt.Sprintf("LoadBalancerConfiguration spec.listenerConfigurations[%s:%d].defaultCertificate", protocol, port)
	if len(hosts) == 0 {
		return nil, &problem{string(gwv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf(
			"%s: not set, and no hostname to discover an ACM certificate for; set it, or set the listener's hostname (or a route's)", field)}
	}
	var arns []string
	for _, h := range hosts {
		found := false
		for _, c := range t.s.AWS.Certificates {
			if slices.ContainsFunc(c.DomainNames, func(d string) bool { return certificateCovers(d, h) }) {
				found = true
				if !slices.Contains(arns, c.ARN) {
					arns = append(arns, c.ARN)
				}
			}
		}
		if !found {
			return nil, &problem{string(gwv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf(
				"%s: not set, and no issued ACM certificate covers host %s; request or import one, or set %s", field, h, field)}
		}
	}
	slices.Sort(arns)
	return arns, nil
}
