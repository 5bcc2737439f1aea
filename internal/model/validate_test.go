package model

import (
	"strings"
	"testing"
)

func validStack() *Stack {
	return &Stack{
		ID:   "default/gw",
		Type: Network,
		LoadBalancer: &LoadBalancer{Name: "k8s-default-gw-0123456789", Scheme: "internal", IPAddressType: "ipv4",
			Subnets: []SubnetMapping{{SubnetID: "subnet-b"}, {SubnetID: "subnet-a"}}, SecurityGroups: []Ref{{ID: ManagedSecurityGroupID}}},
		SecurityGroups: []SecurityGroup{{ID: ManagedSecurityGroupID, Name: "k8s-default-gw-sg",
			Ingress: []IngressRule{{Protocol: "udp", FromPort: 53, ToPort: 53, CIDR: "0.0.0.0/0"}, {Protocol: "tcp", FromPort: 53, ToPort: 53, CIDR: "0.0.0.0/0"}}}},
		Listeners: []Listener{
			{Port: 53, Protocol: "TCP_UDP", DefaultActions: []Action{{Type: ActionForward, Forward: &ForwardAction{
				TargetGroups: []WeightedTargetGroup{{TargetGroup: Ref{ID: "tg-b"}, Weight: 1}, {TargetGroup: Ref{External: "arn:tg"}, Weight: 0}}}}}},
			{Port: 443, Protocol: "TLS", Certificates: []Ref{{External: "arn:z"}, {External: "arn:a"}}, SSLPolicy: "p", DefaultActions: []Action{{Type: ActionForward,
				Forward: &ForwardAction{TargetGroups: []WeightedTargetGroup{{TargetGroup: Ref{ID: "tg-a"}, Weight: 999}}}}}},
		},
		TargetGroups: []TargetGroup{
			{ID: "tg-b", Name: "k8s-b", TargetType: "instance", Protocol: "TCP_UDP", Port: 30053, IPAddressType: "ipv4"},
			{ID: "tg-a", Name: "k8s-a", TargetType: "ip", Protocol: "TLS", Port: 8443, IPAddressType: "ipv4"},
		},
	}
}

func TestValidateAcceptsAValidStack(t *testing.T) {
	if err := validStack().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (&Stack{ID: "default/gw", Type: Network}).Validate(); err != nil {
		t.Fatalf("an empty stack (own nothing) must validate: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	cases := map[string]struct {
		mutate func(s *Stack)
		want   string
	}{
		"long LB name":          {func(s *Stack) { s.LoadBalancer.Name = strings.Repeat("a", 33) }, "1 to 32"},
		"LB name hyphen end":    {func(s *Stack) { s.LoadBalancer.Name = "abc-" }, "hyphen"},
		"TG name underscore":    {func(s *Stack) { s.TargetGroups[0].Name = "a_b" }, "letters, digits"},
		"no subnets":            {func(s *Stack) { s.LoadBalancer.Subnets = nil }, "at least one subnet"},
		"duplicate port":        {func(s *Stack) { s.Listeners[1].Port = 53 }, "used by two listeners"},
		"HTTP on NLB":           {func(s *Stack) { s.Listeners[0].Protocol = "HTTP" }, "not allowed"},
		"TLS without cert":      {func(s *Stack) { s.Listeners[1].Certificates = nil }, "needs a certificate"},
		"weight over 999":       {func(s *Stack) { s.Listeners[1].DefaultActions[0].Forward.TargetGroups[0].Weight = 1000 }, "weight 1000"},
		"dangling TG ref":       {func(s *Stack) { s.Listeners[1].DefaultActions[0].Forward.TargetGroups[0].TargetGroup.ID = "nope" }, "nope is not in the stack"},
		"dangling SG ref":       {func(s *Stack) { s.LoadBalancer.SecurityGroups[0].ID = "nope" }, "nope is not in the stack"},
		"duplicate TG name":     {func(s *Stack) { s.TargetGroups[1].Name = "k8s-b" }, "used by two target groups"},
		"TG port 0":             {func(s *Stack) { s.TargetGroups[0].Port = 0 }, "outside 1-65535"},
		"listeners without LB":  {func(s *Stack) { s.LoadBalancer = nil }, "no load balancer"},
		"empty forward":         {func(s *Stack) { s.Listeners[0].DefaultActions[0].Forward.TargetGroups = nil }, "must be 1-5"},
		"rule on NLB":           {func(s *Stack) { s.Listeners[0].Rules = []Rule{{Priority: 1, Actions: s.Listeners[0].DefaultActions}} }, "only allowed on application"},
		"ingress without cidr":  {func(s *Stack) { s.SecurityGroups[0].Ingress[0].CIDR = "" }, "exactly one of cidr"},
		"too many listeners":    {func(s *Stack) { s.Listeners = append(s.Listeners, make([]Listener, 50)...) }, "at most 50"},
		"dangling cert ref":     {func(s *Stack) { s.Listeners[1].Certificates[0] = Ref{ID: CertificateID("ns", "tls")} }, "Certificate/ns/tls is not in the stack"},
		"ref with both":         {func(s *Stack) { s.LoadBalancer.SecurityGroups[0].External = "sg-1" }, "exactly one of id and external"},
		"internal- name prefix": {func(s *Stack) { s.LoadBalancer.Name = "internal-x" }, "internal-"},
		"61 IPv4 inbound rules": {func(s *Stack) {
			for port := range int32(60) {
				s.SecurityGroups[0].Ingress = append(s.SecurityGroups[0].Ingress, IngressRule{Protocol: "tcp", FromPort: 1000 + port, ToPort: 1000 + port, CIDR: "10.0.0.0/8"})
			}
		}, "62 IPv4 and 0 IPv6 inbound rules, at most 60 of each"},
		"six security groups": {func(s *Stack) {
			for _, id := range []string{"sg-1", "sg-2", "sg-3", "sg-4", "sg-5"} {
				s.LoadBalancer.SecurityGroups = append(s.LoadBalancer.SecurityGroups, Ref{External: id})
			}
		}, "6 security groups, at most 5"},
	}
	for name, c := range cases {
		s := validStack()
		c.mutate(s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", name, err, c.want)
		}
	}
}

func TestSortKeepsDefaultCertificateFirst(t *testing.T) {
	s := validStack()
	s.Sort()
	if s.LoadBalancer.Subnets[0].SubnetID != "subnet-a" || s.TargetGroups[0].ID != "tg-a" {
		t.Errorf("subnets and target groups not sorted: %+v %+v", s.LoadBalancer.Subnets, s.TargetGroups)
	}
	if s.Listeners[0].Port != 53 || s.SecurityGroups[0].Ingress[0].Protocol != "tcp" {
		t.Errorf("listeners or ingress not sorted")
	}
	if fw := s.Listeners[0].DefaultActions[0].Forward.TargetGroups; fw[0].TargetGroup.External != "arn:tg" {
		t.Errorf("forward target groups not sorted: %+v", fw)
	}
	if s.Listeners[1].Certificates[0].External != "arn:z" {
		t.Errorf("Sort moved the default certificate: %v", s.Listeners[1].Certificates)
	}
}

// TestValidateQuotasPerLoadBalancer: rules and certificates count across all listeners of the
// load balancer (defaults excluded), against the account's quotas.
func TestValidateQuotasPerLoadBalancer(t *testing.T) {
	s := validStack()
	s.Listeners = append(s.Listeners, Listener{Port: 8443, Protocol: "TLS", SSLPolicy: "p",
		Certificates:   []Ref{{External: "arn:default"}, {External: "arn:b"}, {External: "arn:c"}},
		DefaultActions: s.Listeners[1].DefaultActions})
	// 1 + 2 certificates besides the defaults.
	if err := s.ValidateQuotas(Quotas{CertificatesPerLoadBalancer: 3}); err != nil {
		t.Errorf("3 extra certificates within a quota of 3: %v", err)
	}
	if err := s.ValidateQuotas(Quotas{CertificatesPerLoadBalancer: 2}); err == nil || !strings.Contains(err.Error(), "3 certificates, at most 2") {
		t.Errorf("3 extra certificates over two listeners with a quota of 2: Validate = %v, want the load balancer's certificate quota", err)
	}

	alb := &Stack{ID: "default/gw", Type: Application, LoadBalancer: &LoadBalancer{Name: "k8s-alb", Scheme: "internal", IPAddressType: "ipv4",
		Subnets: []SubnetMapping{{SubnetID: "subnet-a"}, {SubnetID: "subnet-b"}}}}
	fixed := []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponseAction{StatusCode: "404"}}}
	for _, port := range []int32{80, 8080} {
		l := Listener{Port: port, Protocol: "HTTP", DefaultActions: fixed}
		for p := range int32(60) {
			l.Rules = append(l.Rules, Rule{Priority: p + 1, Actions: fixed,
				Conditions: []Condition{{Field: "path-pattern", Values: []string{"/x"}}}})
		}
		alb.Listeners = append(alb.Listeners, l)
	}
	if err := alb.Validate(); err == nil || !strings.Contains(err.Error(), "120 rules, at most 100") {
		t.Errorf("60 rules on each of two listeners: Validate = %v, want the 100-rule quota of the load balancer", err)
	}
	if err := alb.ValidateQuotas(Quotas{RulesPerLoadBalancer: 120}); err != nil {
		t.Errorf("120 rules with a raised quota of 120: %v", err)
	}
}

// TestValidateConditionLimits: the per-condition limits of an ALB rule.
func TestValidateConditionLimits(t *testing.T) {
	fixed := []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponseAction{StatusCode: "404"}}}
	stack := func(c Condition) *Stack {
		return &Stack{ID: "default/gw", Type: Application, LoadBalancer: &LoadBalancer{Name: "k8s-alb", Scheme: "internal", IPAddressType: "ipv4",
			Subnets: []SubnetMapping{{SubnetID: "subnet-a"}, {SubnetID: "subnet-b"}}},
			Listeners: []Listener{{Port: 80, Protocol: "HTTP", DefaultActions: fixed,
				Rules: []Rule{{Priority: 1, Actions: fixed, Conditions: []Condition{c}}}}}}
	}
	for _, tt := range []struct {
		c    Condition
		want string
	}{
		{Condition{Field: "http-header", HeaderName: "x-a", Values: []string{"1", "2", "3", "4"}}, "4 values, an ALB takes at most 3"},
		{Condition{Field: "http-header", HeaderName: strings.Repeat("h", 41), Values: []string{"1"}}, "41 characters long, an ALB takes at most 40"},
		{Condition{Field: "http-header", HeaderName: "Host", Values: []string{"a.example.com"}}, "cannot match the Host header"},
		{Condition{Field: "path-pattern", Values: []string{"/" + strings.Repeat("p", 128)}}, "129 characters long"},
		{Condition{Field: "query-string", QueryValues: []KeyValue{{Key: "k", Value: strings.Repeat("v", 129)}}}, "129 characters long"},
	} {
		if err := stack(tt.c).Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("condition %+v: Validate = %v, want %q", tt.c, err, tt.want)
		}
	}
	ok := Condition{Field: "http-header", HeaderName: strings.Repeat("h", 40), Values: []string{"1", "2", strings.Repeat("v", 128)}}
	if err := stack(ok).Validate(); err != nil {
		t.Errorf("a condition at every limit: %v", err)
	}
}
