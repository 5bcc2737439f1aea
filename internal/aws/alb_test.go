package aws

import (
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestALBRulesByPriority creates an ALB with two rules, then modifies one, deletes the other
// and adds a third.
func TestALBRulesByPriority(t *testing.T) {
	t.Parallel()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/web"
	const tgID = "default/web:default-shop:HTTPRoute-default-shop:8080"
	tags := func(id string) model.Tags {
		return model.Tags{"elbv2.k8s.aws/cluster": testCluster, "gateway.k8s.aws.alb/stack": stack, "gateway.k8s.aws.alb/resource": id}
	}
	rule := func(prio int32, path string) model.Rule {
		return model.Rule{Priority: prio, Tags: tags(ruleKey(80, prio)),
			Conditions: []model.Condition{{Field: "path-pattern", Values: []string{path}}},
			Actions:    []model.Action{forward(map[string]int32{tgID: 1})}}
	}
	desired := &model.Stack{ID: stack, Type: model.Application,
		SecurityGroups: []model.SecurityGroup{{ID: model.ManagedSecurityGroupID, Name: "k8s-sg-web", Description: "[k8s] Managed SecurityGroup for LoadBalancer",
			Ingress: []model.IngressRule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDR: "0.0.0.0/0"}}, Tags: tags(model.ManagedSecurityGroupID)}},
		TargetGroups: []model.TargetGroup{{ID: tgID, Name: "k8s-tg-web", TargetType: "ip", Protocol: "HTTP", ProtocolVersion: "HTTP1", Port: 8080,
			IPAddressType: "ipv4", VPCID: vpcID, Tags: tags(tgID),
			HealthCheck: model.HealthCheck{Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/", HTTPCode: "200-399",
				IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3}}},
		LoadBalancer: &model.LoadBalancer{Name: "k8s-lb-web", Scheme: "internal", IPAddressType: "ipv4",
			Subnets:        []model.SubnetMapping{{SubnetID: subnets[0]}, {SubnetID: subnets[1]}},
			SecurityGroups: []model.Ref{{ID: model.ManagedSecurityGroupID}}, Tags: tags(model.LoadBalancerID)},
		Listeners: []model.Listener{{Port: 80, Protocol: "HTTP", Tags: tags("80"),
			DefaultActions: []model.Action{{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{StatusCode: "404", ContentType: "text/plain"}}},
			Rules:          []model.Rule{rule(1, "/cart*"), rule(2, "/shop*")}}},
	}
	changes := converge(t, c, desired)
	wantOps(t, "create", changes, []string{"create SecurityGroup ManagedLBSecurityGroup", "create TargetGroup " + tgID,
		"create LoadBalancer LoadBalancer", "create Listener 80", "create Rule 80:1", "create Rule 80:2"})

	desired.Listeners[0].Rules = []model.Rule{rule(1, "/basket*"), rule(3, "/checkout*")}
	changes = converge(t, c, desired)
	wantOps(t, "rules", changes, []string{"delete Rule 80:2", "create Rule 80:3", "update Rule 80:1"})

	converge(t, c, &model.Stack{ID: stack, Type: model.Application})
}
