package translate

import (
	"fmt"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// certificates returns the certificates of a TLS or HTTPS listener port, the default first and
// the others sorted. Each Gateway listener on the port contributes its own: the Secrets its
// tls.certificateRefs name (imported into ACM), else the LoadBalancerConfiguration's ARNs,
// else the issued ACM certificate that best covers each of its hostnames. A listener whose
// certificates cannot be found gets its own ResolvedRefs condition; the port only fails (the
// returned problem) when no listener on it has a certificate.
func (t *translator) certificates(lc *awsv1.ListenerConfiguration, port int32, listeners []*listenerState) ([]model.Ref, *problem) {
	var all []model.Ref
	var failed *problem
	for _, l := range listeners {
		refs, p := t.listenerCertificates(l, lc, port)
		if p != nil {
			l.unresolved = cmpFirst(l.unresolved, p)
			failed = cmpFirst(failed, p)
		}
		for _, r := range refs {
			if !slices.Contains(all, r) {
				all = append(all, r)
			}
		}
	}
	if len(all) == 0 {
		return nil, failed
	}
	rest := all[1:]
	slices.SortFunc(rest, compareCertRefs)
	return all, nil
}

func compareCertRefs(a, b model.Ref) int {
	return strings.Compare(a.ID+"\x00"+a.External, b.ID+"\x00"+b.External)
}

// listenerCertificates are one Gateway listener's certificates, its preferred default first.
func (t *translator) listenerCertificates(l *listenerState, lc *awsv1.ListenerConfiguration, port int32) ([]model.Ref, *problem) {
	if l.certificatesChecked {
		return l.certificates, l.certificateProblem
	}
	if l.spec.TLS != nil && len(l.spec.TLS.CertificateRefs) > 0 {
		return t.certificateRefs(l)
	}
	if arns := explicitCertificates(lc); len(arns) > 0 {
		if p := t.checkConfiguredCertificates(l, lc); p != nil {
			return nil, p
		}
		out := make([]model.Ref, 0, len(arns))
		for _, a := range arns {
			out = append(out, model.Ref{External: a})
		}
		return out, nil
	}
	return t.discoverCertificates(l, port)
}

// explicitCertificates are the configured ARNs, the default certificate first.
func explicitCertificates(lc *awsv1.ListenerConfiguration) []string {
	if lc == nil {
		return nil
	}
	var out []string
	if lc.DefaultCertificate != nil && *lc.DefaultCertificate != "" {
		out = append(out, *lc.DefaultCertificate)
	}
	for _, c := range lc.Certificates {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// checkConfiguredCertificates refuses the listener when an ACM certificate the
// LoadBalancerConfiguration names does not exist or is not ISSUED, as gathered in
// AWSFacts.CertificateStatuses: ELB would refuse the listener. ARNs that were not checked are
// left to AWS.
func (t *translator) checkConfiguredCertificates(l *listenerState, lc *awsv1.ListenerConfiguration) *problem {
	base := fmt.Sprintf("LoadBalancerConfiguration spec.listenerConfigurations[%s]", lc.ProtocolPort)
	check := func(field, arn string) *problem {
		status, ok := t.s.AWS.CertificateStatuses[arn]
		if !ok || status == "ISSUED" {
			return nil
		}
		why := "does not exist in ACM in this account and region"
		if status != snapshot.CertificateNotFound {
			why = "is " + status + " in ACM, not ISSUED"
		}
		return &problem{string(gwv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf(
			"%s: %s: certificate %s %s; name an issued ACM certificate of this region there, or remove it",
			l.field(""), field, arn, why)}
	}
	if lc.DefaultCertificate != nil && *lc.DefaultCertificate != "" {
		if p := check(base+".defaultCertificate", *lc.DefaultCertificate); p != nil {
			return p
		}
	}
	for i, arn := range lc.Certificates {
		if p := check(fmt.Sprintf("%s.certificates[%d]", base, i), arn); p != nil {
			return p
		}
	}
	return nil
}

// discoverCertificates picks, for each hostname of the listener and of the routes attached to
// it, the issued ACM certificate that covers it best; the listener's own hostname comes first.
func (t *translator) discoverCertificates(l *listenerState, port int32) ([]model.Ref, *problem) {
	var hosts []string
	if l.spec.Hostname != nil && *l.spec.Hostname != "" {
		hosts = append(hosts, strings.ToLower(string(*l.spec.Hostname)))
	}
	others := slices.Clone(l.hostnames)
	slices.Sort(others)
	for _, h := range others {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	protocol := "TLS"
	if l.effective == "HTTPS" {
		protocol = "HTTPS"
	}
	field := fmt.Sprintf("LoadBalancerConfiguration spec.listenerConfigurations[%s:%d].defaultCertificate", protocol, port)
	if len(hosts) == 0 {
		return nil, &problem{string(gwv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf(
			"%s: no tls.certificateRefs, %s not set, and no hostname to discover an ACM certificate for; set %s, or %s, or the listener's hostname (or a route's)",
			l.field(""), field, l.field("tls.certificateRefs"), field)}
	}
	var out []model.Ref
	for _, h := range hosts {
		arn, ok := t.bestCertificate(h)
		if !ok {
			return nil, &problem{string(gwv1.ListenerReasonInvalidCertificateRef), fmt.Sprintf(
				"%s: no issued ACM certificate covers host %s; request or import one, or set %s, or %s",
				l.field("hostname"), h, l.field("tls.certificateRefs"), field)}
		}
		if r := (model.Ref{External: arn}); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// bestCertificate is the issued certificate that covers host best: a name equal to the host
// beats a wildcard, then the smallest ARN.
func (t *translator) bestCertificate(host string) (string, bool) {
	best, bestExact := "", false
	for _, c := range t.s.AWS.Certificates {
		if c.Status != "" && c.Status != "ISSUED" {
			continue
		}
		exact, covers := false, false
		for _, d := range c.DomainNames {
			if certificateCovers(d, host) {
				covers = true
				exact = exact || strings.EqualFold(d, host)
			}
		}
		if !covers {
			continue
		}
		if best == "" || exact && !bestExact || exact == bestExact && c.ARN < best {
			best, bestExact = c.ARN, exact
		}
	}
	return best, best != ""
}
