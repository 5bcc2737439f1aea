package translate

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// routeMessages returns the messages of the route's PartiallyInvalid or ResolvedRefs
// conditions, joined.
func routeMessages(t *testing.T, s *snapshot.Snapshot, name string) string {
	t.Helper()
	_, set := Gateway(s)
	var out []string
	for _, r := range set.Routes {
		if r.Name != name {
			continue
		}
		for _, p := range r.Parents {
			for _, c := range p.Conditions {
				out = append(out, c.Type+": "+c.Message)
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestRuleQuotaPerLoadBalancer: the rule quota is the load balancer's, shared by all its
// listeners. A route with 102 rules on two ports gives 204 rule units; 100 are programmed
// (precedence order, the port breaking ties), the stack validates, and the route says which
// rules were left out and which flag raises the quota. A raised quota programs more.
func TestRuleQuotaPerLoadBalancer(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "HundredRulesPerListener"))
	s.Gateway.Spec.Listeners = append(s.Gateway.Spec.Listeners, gwv1.Listener{Name: "http-8080", Port: 8080, Protocol: gwv1.HTTPProtocolType})
	stack, _ := Gateway(s)
	if err := stack.Validate(); err != nil {
		t.Fatalf("stack does not validate: %v", err)
	}
	if len(stack.Listeners) != 2 {
		t.Fatalf("%d listeners, want 2", len(stack.Listeners))
	}
	if n := stack.RuleCount(); n != model.DefaultRulesPerLoadBalancer {
		t.Errorf("%d rules over two listeners, want %d: the quota is per load balancer", n, model.DefaultRulesPerLoadBalancer)
	}
	// Equal precedence on both ports: the lower port wins each tie, so rules alternate.
	if a, b := len(stack.Listeners[0].Rules), len(stack.Listeners[1].Rules); a != 50 || b != 50 {
		t.Errorf("rules per listener %d and %d, want 50 and 50 (precedence order across the listeners)", a, b)
	}
	msg := routeMessages(t, s, "many-rules")
	for _, want := range []string{"spec.rules[50]: not programmed on port 80", "spec.rules[50]: not programmed on port 8080", "--alb-rules-per-load-balancer"} {
		if !strings.Contains(msg, want) {
			t.Errorf("route conditions do not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "spec.rules[49]:") {
		t.Errorf("route reports a rule that was programmed:\n%s", msg)
	}

	s.Settings.Quotas.ALBRulesPerLoadBalancer = 150
	stack, _ = Gateway(s)
	if n := stack.RuleCount(); n != 150 {
		t.Errorf("with a quota of 150, %d rules, want 150", n)
	}
	if err := stack.ValidateQuotas(Quotas(s.Settings, stack.Type)); err != nil {
		t.Errorf("stack does not validate against the raised quota: %v", err)
	}
}

// TestCertificateQuotaPerLoadBalancer: certificates besides each listener's default count
// across listeners in port order; a listener whose certificates do not all fit keeps its
// default, and its Gateway listener says which flag raises the quota.
func TestCertificateQuotaPerLoadBalancer(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "GatewayALBHTTPAndHTTPSSamePortConflict"))
	s.Gateway.Spec.Listeners = []gwv1.Listener{
		{Name: "https-443", Port: 443, Protocol: gwv1.HTTPSProtocolType},
		{Name: "https-8443", Port: 8443, Protocol: gwv1.HTTPSProtocolType},
	}
	arns := func(port, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("arn:aws:acm:eu-west-1:111122223333:certificate/%d-%02d", port, i))
		}
		return out
	}
	s.LoadBalancerConfigurations[0].Spec.ListenerConfigurations = []awsv1.ListenerConfiguration{
		{ProtocolPort: "HTTPS:443", DefaultCertificate: ptr("arn:aws:acm:eu-west-1:111122223333:certificate/443-default"), Certificates: arns(443, 20)},
		{ProtocolPort: "HTTPS:8443", DefaultCertificate: ptr("arn:aws:acm:eu-west-1:111122223333:certificate/8443-default"), Certificates: arns(8443, 10)},
	}
	s.HTTPRoutes[0].Spec.ParentRefs[0].SectionName = nil
	stack, set := Gateway(s)
	if len(stack.Listeners) != 2 {
		t.Fatalf("%d listeners, want 2", len(stack.Listeners))
	}
	if err := stack.Validate(); err != nil {
		t.Fatalf("stack does not validate: %v", err)
	}
	if a, b := len(stack.Listeners[0].Certificates), len(stack.Listeners[1].Certificates); a != 21 || b != 6 {
		t.Errorf("certificates per listener %d and %d, want 21 and 6 (20 + 5 besides the defaults)", a, b)
	}
	if got := stack.Listeners[1].Certificates[0].External; !strings.HasSuffix(got, "8443-default") {
		t.Errorf("port 8443 lost its default certificate: first is %s", got)
	}
	l := set.Gateway.Listeners[1]
	if c := l.Conditions[2]; c.Status != "False" || !strings.Contains(c.Message, "5 certificates of port 8443 are not attached") ||
		!strings.Contains(c.Message, "--alb-certificates-per-load-balancer") {
		t.Errorf("listener https-8443 ResolvedRefs = %s %q, want False naming the 5 certificates and the flag", c.Status, c.Message)
	}
	if c := set.Gateway.Listeners[0].Conditions[2]; c.Status != "True" {
		t.Errorf("listener https-443 ResolvedRefs = %s %q, want True: its certificates fit", c.Status, c.Message)
	}

	s.Settings.Quotas.ALBCertificatesPerLoadBalancer = 30
	stack, _ = Gateway(s)
	if n := stack.CertificateCount(); n != 30 {
		t.Errorf("with a quota of 30, %d certificates besides the defaults, want 30", n)
	}
}
