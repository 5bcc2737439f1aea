package model

// Quotas are the per-load-balancer quotas AWS lets an account raise; a zero field takes
// AWS's default. They count per load balancer across all its listeners, not per listener.
type Quotas struct {
	// RulesPerLoadBalancer bounds the listener rules of an ALB, default rules excluded
	// (AWS default 100).
	RulesPerLoadBalancer int `json:"rulesPerLoadBalancer,omitempty"`
	// CertificatesPerLoadBalancer bounds the certificates of a load balancer's listeners,
	// each listener's default certificate excluded (AWS default 25, for ALB and NLB).
	CertificatesPerLoadBalancer int `json:"certificatesPerLoadBalancer,omitempty"`
}

// AWS's default quotas.
const (
	DefaultRulesPerLoadBalancer        = 100
	DefaultCertificatesPerLoadBalancer = 25
)

// WithDefaults fills the zero fields with AWS's defaults.
func (q Quotas) WithDefaults() Quotas {
	if q.RulesPerLoadBalancer <= 0 {
		q.RulesPerLoadBalancer = DefaultRulesPerLoadBalancer
	}
	if q.CertificatesPerLoadBalancer <= 0 {
		q.CertificatesPerLoadBalancer = DefaultCertificatesPerLoadBalancer
	}
	return q
}

// RuleCount is the number of rules of the stack's listeners (default actions are not rules).
func (s *Stack) RuleCount() int {
	n := 0
	for _, l := range s.Listeners {
		n += len(l.Rules)
	}
	return n
}

// CertificateCount is the number of certificates of the stack's listeners, each listener's
// default certificate excluded.
func (s *Stack) CertificateCount() int {
	n := 0
	for _, l := range s.Listeners {
		if len(l.Certificates) > 1 {
			n += len(l.Certificates) - 1
		}
	}
	return n
}
