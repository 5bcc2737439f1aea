package plan_test

import (
	"fmt"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// The diff benchmarks compare a 1000-rule ALB stack (20 HTTP listeners × 50 rules, one target
// group per route of two rules) with what AWS reports of it: ARNs, DNS name and group IDs
// filled in, as Observe returns it.

const (
	benchStack     = "bench/alb"
	benchListeners = 20
	benchRoutes    = 25 // per listener; two rules each
)

func BenchmarkDiffUnchanged(b *testing.B) {
	desired, observed := scaleStack(false), scaleStack(true)
	if n := ruleCount(desired); n != 1000 {
		b.Fatalf("the generated stack has %d rules, want 1000", n)
	}
	var changes []plan.Change
	for b.Loop() {
		changes = plan.Diff(desired, observed)
	}
	if len(changes) != 0 {
		b.Fatalf("an unchanged 1000-rule stack plans %d changes, want 0; first: %s", len(changes), changes[0])
	}
	b.ReportMetric(float64(len(changes)), "changes/op")
	b.ReportMetric(float64(ruleCount(desired)), "rules/op")
}

func BenchmarkDiffOneRouteAdded(b *testing.B) {
	desired, observed := scaleStack(false), scaleStack(true)
	addRoute(desired, 7)
	var changes []plan.Change
	for b.Loop() {
		changes = plan.Diff(desired, observed)
	}
	got := map[string]int{}
	for _, c := range changes {
		got[string(c.Op)+" "+string(c.Kind)]++
	}
	if want := "map[create Rule:2 create TargetGroup:1]"; fmt.Sprint(got) != want {
		b.Fatalf("adding one route of two rules planned %v, want %s", got, want)
	}
	b.ReportMetric(float64(len(changes)), "changes/op")
	b.ReportMetric(float64(ruleCount(desired)), "rules/op")
}

func ruleCount(s *model.Stack) int {
	n := 0
	for _, l := range s.Listeners {
		n += len(l.Rules)
	}
	return n
}

// addRoute gives the listener at index li a new route: a target group and two rules on a
// hostname of their own, at free priorities.
func addRoute(s *model.Stack, li int) {
	l := &s.Listeners[li]
	tg := scaleTargetGroup(l.Port, benchRoutes, false)
	s.TargetGroups = append(s.TargetGroups, tg)
	for j := range 2 {
		l.Rules = append(l.Rules, scaleRule(l.Port, benchRoutes, j, tg.ID, false))
	}
	s.Sort()
}

// scaleStack builds the benchmark stack as translation would (observed false) or as Observe
// reads it back from AWS (observed true).
func scaleStack(observed bool) *model.Stack {
	s := &model.Stack{ID: benchStack, Type: model.Application}
	s.SecurityGroups = []model.SecurityGroup{{
		ID: model.ManagedSecurityGroupID, Name: "k8s-bench-alb-0123456789", Description: "[k8s] Managed SecurityGroup for LoadBalancer",
		Tags: ownTags(model.ManagedSecurityGroupID),
	}}
	lb := &model.LoadBalancer{
		Name: "k8s-bench-alb-0123456789", Scheme: "internal", IPAddressType: "ipv4",
		Subnets:        []model.SubnetMapping{{SubnetID: "subnet-0a1"}, {SubnetID: "subnet-0b2"}, {SubnetID: "subnet-0c3"}},
		SecurityGroups: []model.Ref{{ID: model.ManagedSecurityGroupID}},
		Tags:           ownTags(model.LoadBalancerID),
	}
	for i := range benchListeners {
		port := int32(8000 + i)
		s.SecurityGroups[0].Ingress = append(s.SecurityGroups[0].Ingress,
			model.IngressRule{Protocol: "tcp", FromPort: port, ToPort: port, CIDR: "0.0.0.0/0"})
		l := model.Listener{
			Port: port, Protocol: "HTTP", Tags: ownTags(fmt.Sprint(port)),
			DefaultActions: []model.Action{{Type: model.ActionFixedResponse,
				FixedResponse: &model.FixedResponseAction{StatusCode: "404", ContentType: "text/plain"}}},
		}
		for r := range benchRoutes {
			tg := scaleTargetGroup(port, r, observed)
			s.TargetGroups = append(s.TargetGroups, tg)
			for j := range 2 {
				l.Rules = append(l.Rules, scaleRule(port, r, j, tg.ID, observed))
			}
		}
		if observed {
			l.ARN = fmt.Sprintf("%s/%016x", listenerPrefix, port)
		}
		s.Listeners = append(s.Listeners, l)
	}
	if observed {
		s.SecurityGroups[0].GroupID = "sg-0123456789abcdef0"
		lb.ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/k8s-bench-alb-0123456789/50dc6c495c0c9188"
		lb.DNSName = "k8s-bench-alb-0123456789-50dc6c495c0c9188.elb.us-east-1.amazonaws.com"
		lb.State = "active"
	}
	s.LoadBalancer = lb
	s.Sort()
	return s
}

const listenerPrefix = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/k8s-bench-alb-0123456789/50dc6c495c0c9188"

func scaleTargetGroup(port int32, route int, observed bool) model.TargetGroup {
	id := fmt.Sprintf("%s:bench-route-%d-%d:HTTPRoute-bench-svc:8080", benchStack, port, route)
	tg := model.TargetGroup{
		ID: id, Name: fmt.Sprintf("k8s-bench-%d-%03d", port, route), TargetType: "instance",
		Protocol: "HTTP", ProtocolVersion: "HTTP1", Port: 8080, IPAddressType: "ipv4", VPCID: "vpc-0123456789abcdef0",
		HealthCheck: model.HealthCheck{Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/", HTTPCode: "200-399",
			IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3},
		Tags: ownTags(id),
	}
	if observed {
		tg.ARN = fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/%s/%016x", tg.Name, int(port)*1000+route)
	}
	return tg
}

// scaleRule is rule j of a route: a hostname of the route's own, a path, and a header on the
// second rule. Priorities leave gaps between routes, as translation's natural priorities do.
func scaleRule(port int32, route, j int, tgID string, observed bool) model.Rule {
	priority := int32(route*100 + j + 1)
	conds := []model.Condition{
		{Field: "host-header", Values: []string{fmt.Sprintf("app%d-%d.example.com", port, route)}},
		{Field: "path-pattern", Values: []string{fmt.Sprintf("/part%d*", j)}},
	}
	if j == 1 {
		conds = append(conds, model.Condition{Field: "http-header", HeaderName: "x-tenant", Values: []string{"blue"}})
	}
	r := model.Rule{
		Priority: priority, Conditions: conds,
		Actions: []model.Action{{Type: model.ActionForward, Forward: &model.ForwardAction{
			TargetGroups: []model.WeightedTargetGroup{{TargetGroup: model.Ref{ID: tgID}, Weight: 1}}}}},
		Tags: ownTags(fmt.Sprintf("%d:%d", port, priority)),
	}
	if observed {
		r.ARN = fmt.Sprintf("%s/%016x/%016x", listenerPrefix, port, int(port)*100000+int(priority))
	}
	return r
}

func ownTags(resource string) model.Tags {
	return model.Tags{"elbv2.k8s.aws/cluster": "bench", "gateway.k8s.aws.alb/stack": benchStack, "gateway.k8s.aws.alb/resource": resource}
}
