package model

import (
	"errors"
	"fmt"
	"strings"
)

// AWS limits a stack must respect (default quotas where AWS lets an account raise them).
const (
	MaxNameLength                    = 32
	MaxSecurityGroupNameLength       = 255
	MaxListenersPerLoadBalancer      = 50
	MaxTargetGroupsPerForward        = 5
	MaxWeight                        = 999
	MaxConditionValuesPerRule        = 5
	MaxRulePriority                  = 50000
	MaxTargetGroupsPerLoadBalancer   = 100
	MaxSecurityGroupsPerLoadBalancer = 5
	MaxIngressRulesPerFamily         = 60
)

var listenerProtocols = map[LoadBalancerType]map[string]bool{
	Network:     {"TCP": true, "UDP": true, "TCP_UDP": true, "TLS": true, "QUIC": true, "TCP_QUIC": true},
	Application: {"HTTP": true, "HTTPS": true},
}

var targetGroupProtocols = map[string]bool{
	"TCP": true, "UDP": true, "TCP_UDP": true, "TLS": true, "QUIC": true, "TCP_QUIC": true,
	"HTTP": true, "HTTPS": true,
}

// Validate reports every way the stack breaks an AWS limit (with AWS's default quotas) or
// refers to something that is not there. A valid stack can be applied without AWS rejecting
// it for its shape.
func (s *Stack) Validate() error { return s.ValidateQuotas(Quotas{}) }

// ValidateQuotas is Validate with the account's quotas (zero fields take AWS's defaults).
func (s *Stack) ValidateQuotas(q Quotas) error {
	if s == nil {
		return errors.New("stack is nil")
	}
	v := &validator{stack: s, targetGroups: map[string]bool{}, securityGroups: map[string]bool{}}
	v.loadBalancer()
	v.securityGroupList()
	v.targetGroupList()
	v.listeners()
	v.quotas(q.WithDefaults())
	return errors.Join(v.errs...)
}

// quotas checks the per-load-balancer quotas: "Rules per Application Load Balancer (excluding
// default rules)" and "Certificates per load balancer (excluding default certificates)"
// count across all listeners (Elastic Load Balancing quotas pages).
func (v *validator) quotas(q Quotas) {
	if n := v.stack.RuleCount(); n > q.RulesPerLoadBalancer {
		v.fail("load balancer: %d rules, at most %d (default rules excluded)", n, q.RulesPerLoadBalancer)
	}
	if n := v.stack.CertificateCount(); n > q.CertificatesPerLoadBalancer {
		v.fail("load balancer: %d certificates, at most %d (default certificates excluded)", n, q.CertificatesPerLoadBalancer)
	}
}

type validator struct {
	stack          *Stack
	targetGroups   map[string]bool
	securityGroups map[string]bool
	errs           []error
}

func (v *validator) fail(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

func (v *validator) loadBalancer() {
	s := v.stack
	lb := s.LoadBalancer
	if lb == nil {
		if len(s.Listeners) > 0 || len(s.TargetGroups) > 0 || len(s.SecurityGroups) > 0 {
			v.fail("stack %s has no load balancer but has listeners, target groups or security groups", s.ID)
		}
		return
	}
	if _, ok := listenerProtocols[s.Type]; !ok {
		v.fail("stack %s: unknown load balancer type %q", s.ID, s.Type)
	}
	if err := CheckName(lb.Name); err != nil {
		v.fail("load balancer name %q: %v", lb.Name, err)
	}
	if strings.HasPrefix(lb.Name, "internal-") {
		v.fail("load balancer name %q: must not start with internal-", lb.Name)
	}
	if lb.Scheme != "internal" && lb.Scheme != "internet-facing" {
		v.fail("load balancer scheme %q: must be internal or internet-facing", lb.Scheme)
	}
	switch lb.IPAddressType {
	case "ipv4", "dualstack", "dualstack-without-public-ipv4":
	default:
		v.fail("load balancer ipAddressType %q: must be ipv4, dualstack or dualstack-without-public-ipv4", lb.IPAddressType)
	}
	if err := CheckAddons(s.Type, lb.Addons); err != nil {
		v.fail("load balancer %s: %v", lb.Name, err)
	}
	// CreateLoadBalancer / SetSecurityGroups: at most 5 security groups per load balancer
	// (Elastic Load Balancing quotas: "Security groups per load balancer: 5").
	if len(lb.SecurityGroups) > MaxSecurityGroupsPerLoadBalancer {
		v.fail("load balancer %s: %d security groups, at most %d", lb.Name, len(lb.SecurityGroups), MaxSecurityGroupsPerLoadBalancer)
	}
	if len(lb.Subnets) == 0 {
		v.fail("load balancer %s: needs at least one subnet", lb.Name)
	}
	seen := map[string]bool{}
	for _, m := range lb.Subnets {
		if m.SubnetID == "" {
			v.fail("load balancer %s: subnet mapping without subnet ID", lb.Name)
		}
		if seen[m.SubnetID] {
			v.fail("load balancer %s: subnet %s listed twice", lb.Name, m.SubnetID)
		}
		seen[m.SubnetID] = true
	}
	if len(s.TargetGroups) > MaxTargetGroupsPerLoadBalancer {
		v.fail("stack %s: %d target groups, at most %d per load balancer", s.ID, len(s.TargetGroups), MaxTargetGroupsPerLoadBalancer)
	}
}

func (v *validator) securityGroupList() {
	names := map[string]bool{}
	for _, sg := range v.stack.SecurityGroups {
		if sg.ID == "" {
			v.fail("security group %q has no logical ID", sg.Name)
		}
		if v.securityGroups[sg.ID] {
			v.fail("security group ID %s used twice", sg.ID)
		}
		v.securityGroups[sg.ID] = true
		if sg.Name == "" || len(sg.Name) > MaxSecurityGroupNameLength || strings.HasPrefix(strings.ToLower(sg.Name), "sg-") {
			v.fail("security group name %q: 1 to %d characters, not starting with sg-", sg.Name, MaxSecurityGroupNameLength)
		}
		if names[sg.Name] {
			v.fail("security group name %s used twice", sg.Name)
		}
		names[sg.Name] = true
		for _, r := range sg.Ingress {
			v.ingress(sg.ID, r)
		}
		if v4, v6 := IngressRuleCounts(sg.Ingress); v4 > MaxIngressRulesPerFamily || v6 > MaxIngressRulesPerFamily {
			v.fail("security group %s: %d IPv4 and %d IPv6 inbound rules, at most %d of each", sg.ID, v4, v6, MaxIngressRulesPerFamily)
		}
	}
	if lb := v.stack.LoadBalancer; lb != nil {
		for _, ref := range lb.SecurityGroups {
			v.ref("load balancer security group", ref, v.securityGroups)
		}
	}
}

func (v *validator) ingress(sg string, r IngressRule) {
	if (r.CIDR == "") == (r.PrefixListID == "") {
		v.fail("security group %s: ingress rule needs exactly one of cidr and prefixListID", sg)
	}
	switch r.Protocol {
	case "tcp", "udp":
		if r.FromPort < 1 || r.ToPort > 65535 || r.FromPort > r.ToPort {
			v.fail("security group %s: ingress port range %d-%d invalid", sg, r.FromPort, r.ToPort)
		}
	case "icmp", "icmpv6":
	default:
		v.fail("security group %s: ingress protocol %q unknown", sg, r.Protocol)
	}
}

func (v *validator) targetGroupList() {
	names := map[string]bool{}
	for _, tg := range v.stack.TargetGroups {
		if tg.ID == "" {
			v.fail("target group %q has no logical ID", tg.Name)
		}
		if v.targetGroups[tg.ID] {
			v.fail("target group ID %s used twice", tg.ID)
		}
		v.targetGroups[tg.ID] = true
		if err := CheckName(tg.Name); err != nil {
			v.fail("target group %s name %q: %v", tg.ID, tg.Name, err)
		}
		if names[tg.Name] {
			v.fail("target group name %s used by two target groups", tg.Name)
		}
		names[tg.Name] = true
		switch tg.TargetType {
		case "instance", "ip", "alb":
		default:
			v.fail("target group %s: target type %q unknown", tg.ID, tg.TargetType)
		}
		if !targetGroupProtocols[tg.Protocol] {
			v.fail("target group %s: protocol %q unknown", tg.ID, tg.Protocol)
		}
		if tg.Port < 1 || tg.Port > 65535 {
			v.fail("target group %s: port %d outside 1-65535", tg.ID, tg.Port)
		}
		if tg.IPAddressType != "ipv4" && tg.IPAddressType != "ipv6" {
			v.fail("target group %s: ipAddressType %q must be ipv4 or ipv6", tg.ID, tg.IPAddressType)
		}
	}
}

func (v *validator) listeners() {
	s := v.stack
	if len(s.Listeners) > MaxListenersPerLoadBalancer {
		v.fail("stack %s: %d listeners, at most %d", s.ID, len(s.Listeners), MaxListenersPerLoadBalancer)
	}
	ports := map[int32]bool{}
	for _, l := range s.Listeners {
		name := fmt.Sprintf("listener %d", l.Port)
		if l.Port < 1 || l.Port > 65535 {
			v.fail("%s: port outside 1-65535", name)
		}
		if ports[l.Port] {
			v.fail("%s: port used by two listeners", name)
		}
		ports[l.Port] = true
		if !listenerProtocols[s.Type][l.Protocol] {
			v.fail("%s: protocol %q not allowed on a %s load balancer", name, l.Protocol, s.Type)
		}
		secure := l.Protocol == "TLS" || l.Protocol == "HTTPS"
		if secure && len(l.Certificates) == 0 {
			v.fail("%s: %s needs a certificate", name, l.Protocol)
		}
		if !secure && (len(l.Certificates) > 0 || l.SSLPolicy != "") {
			v.fail("%s: certificates and SSL policy only apply to TLS and HTTPS", name)
		}
		for _, c := range l.Certificates {
			v.ref(name+" certificate", c, v.certificates())
		}
		if len(l.DefaultActions) == 0 {
			v.fail("%s: needs a default action", name)
		}
		for _, a := range l.DefaultActions {
			v.action(name, a)
			if s.Type == Network && a.Forward != nil && a.Forward.Stickiness != nil {
				v.fail("%s: an NLB forward action takes no target group stickiness; set the target groups' stickiness attributes", name)
			}
		}
		v.rules(name, l)
	}
}

func (v *validator) rules(name string, l Listener) {
	if len(l.Rules) > 0 && v.stack.Type != Application {
		v.fail("%s: rules are only allowed on application load balancers", name)
	}
	priorities := map[int32]bool{}
	for _, r := range l.Rules {
		if r.Priority < 1 || r.Priority > MaxRulePriority {
			v.fail("%s: rule priority %d outside 1-%d", name, r.Priority, MaxRulePriority)
		}
		if priorities[r.Priority] {
			v.fail("%s: rule priority %d used twice", name, r.Priority)
		}
		priorities[r.Priority] = true
		values := 0
		for _, c := range r.Conditions {
			values += c.ValueCount()
			if p := c.Check(); p != "" {
				v.fail("%s: rule %d: %s", name, r.Priority, p)
			}
		}
		if values > MaxConditionValuesPerRule {
			v.fail("%s: rule %d has %d condition values, at most %d", name, r.Priority, values, MaxConditionValuesPerRule)
		}
		where := fmt.Sprintf("%s rule %d", name, r.Priority)
		v.actionOrder(where, l.Protocol, r.Actions)
		for _, a := range r.Actions {
			v.action(where, a)
		}
		seen := map[string]bool{}
		for _, t := range r.Transforms {
			if t.Type != "host-header-rewrite" && t.Type != "url-rewrite" {
				v.fail("%s: transform type %q unknown", where, t.Type)
			}
			if seen[t.Type] {
				v.fail("%s: two %s transforms, at most one of each type", where, t.Type)
			}
			seen[t.Type] = true
		}
	}
}

// actionOrder checks a rule's actions: pre-routing actions (HTTPS listeners only), then exactly
// one routing action, last.
func (v *validator) actionOrder(where, protocol string, actions []Action) {
	if len(actions) == 0 {
		v.fail("%s: needs an action", where)
		return
	}
	for i, a := range actions {
		last := i == len(actions)-1
		switch {
		case a.PreRouting() && last:
			v.fail("%s: %s must be followed by a routing action", where, a.Type)
		case a.PreRouting() && protocol != "HTTPS":
			v.fail("%s: %s is only allowed on HTTPS listeners", where, a.Type)
		case !a.PreRouting() && !last:
			v.fail("%s: routing action %s must be the last action", where, a.Type)
		}
	}
}

func (v *validator) action(where string, a Action) {
	switch a.Type {
	case ActionForward:
		if a.Forward == nil {
			v.fail("%s: forward action without forward config", where)
			return
		}
		n := len(a.Forward.TargetGroups)
		if n == 0 || n > MaxTargetGroupsPerForward {
			v.fail("%s: forward to %d target groups, must be 1-%d", where, n, MaxTargetGroupsPerForward)
		}
		seen := map[Ref]bool{}
		for _, w := range a.Forward.TargetGroups {
			v.ref(where+" target group", w.TargetGroup, v.targetGroups)
			if seen[w.TargetGroup] {
				v.fail("%s: target group %v listed twice", where, w.TargetGroup)
			}
			seen[w.TargetGroup] = true
			if w.Weight < 0 || w.Weight > MaxWeight {
				v.fail("%s: weight %d outside 0-%d", where, w.Weight, MaxWeight)
			}
		}
	case ActionFixedResponse:
		if a.FixedResponse == nil || !fixedResponseCode(a.FixedResponse.StatusCode) {
			v.fail("%s: fixed-response action needs a 2XX, 4XX or 5XX status code", where)
		}
	case ActionRedirect:
		if a.Redirect == nil || a.Redirect.StatusCode != "HTTP_301" && a.Redirect.StatusCode != "HTTP_302" {
			v.fail("%s: redirect action needs status code HTTP_301 or HTTP_302", where)
		}
	case ActionAuthenticateOIDC:
		if o := a.AuthenticateOIDC; o == nil || o.Issuer == "" || o.ClientID == "" || o.AuthorizationEndpoint == "" ||
			o.TokenEndpoint == "" || o.UserInfoEndpoint == "" {
			v.fail("%s: authenticate-oidc action needs issuer, endpoints and client ID", where)
		}
	case ActionAuthenticateCognito:
		if c := a.AuthenticateCognito; c == nil || c.UserPoolARN == "" || c.UserPoolClientID == "" || c.UserPoolDomain == "" {
			v.fail("%s: authenticate-cognito action needs user pool ARN, client ID and domain", where)
		}
	case ActionJWTValidation:
		if j := a.JWTValidation; j == nil || j.Issuer == "" || j.JWKSEndpoint == "" {
			v.fail("%s: jwt-validation action needs issuer and JWKS endpoint", where)
		}
	default:
		v.fail("%s: action type %q unknown", where, a.Type)
	}
}

// certificates are the logical IDs of the stack's imported certificates.
func (v *validator) certificates() map[string]bool {
	known := map[string]bool{}
	for _, c := range v.stack.Certificates {
		known[c.ID] = true
	}
	return known
}

func (v *validator) ref(what string, r Ref, known map[string]bool) {
	switch {
	case (r.ID == "") == (r.External == ""):
		v.fail("%s: reference needs exactly one of id and external", what)
	case r.ID != "" && !known[r.ID]:
		v.fail("%s: %s is not in the stack", what, r.ID)
	}
}

func fixedResponseCode(code string) bool {
	if len(code) != 3 || code[0] != '2' && code[0] != '4' && code[0] != '5' {
		return false
	}
	return code[1] >= '0' && code[1] <= '9' && code[2] >= '0' && code[2] <= '9'
}

// CheckName reports why name cannot be a load balancer or target group name, or nil.
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLength {
		return fmt.Errorf("must be 1 to %d characters", MaxNameLength)
	}
	if strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return errors.New("must not start or end with a hyphen")
	}
	for _, r := range name {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return errors.New("only letters, digits and hyphens are allowed")
		}
	}
	return nil
}

// IngressRuleCounts counts inbound rules per address family as the VPC quota "Inbound or
// outbound rules per security group: 60" does, IPv4 and IPv6 apart; a prefix list counts in
// both (at least once: its max entries are AWS's to know).
func IngressRuleCounts(rules []IngressRule) (v4, v6 int) {
	for _, r := range rules {
		switch {
		case strings.Contains(r.CIDR, ":"):
			v6++
		case r.CIDR != "":
			v4++
		default:
			v4++
			v6++
		}
	}
	return v4, v6
}
