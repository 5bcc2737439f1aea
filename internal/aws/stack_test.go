package aws

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

const tg1 = "default/aws-tcp-gateway:default-tcp-backend-aws:TCPRoute-default-backend:3000"
const tg2 = "default/aws-tcp-gateway:default-tcp-backend-aws:TCPRoute-default-canary:3000"

func ownTags(stack, resource string) model.Tags {
	return model.Tags{"elbv2.k8s.aws/cluster": testCluster, "gateway.k8s.aws.nlb/stack": stack, "gateway.k8s.aws.nlb/resource": resource}
}

// nlbStack is the seed walkthrough's stack: an internet-facing NLB with a managed security group,
// one TCP:3000 ip target group and a TCP:8080 listener forwarding to it.
func nlbStack(stack, suffix, vpcID string, subnets []string) *model.Stack {
	s := &model.Stack{ID: stack, Type: model.Network}
	s.SecurityGroups = []model.SecurityGroup{{
		ID: model.ManagedSecurityGroupID, Name: "k8s-sg-" + suffix, Description: "[k8s] Managed SecurityGroup for LoadBalancer",
		Ingress: []model.IngressRule{{Protocol: "tcp", FromPort: 8080, ToPort: 8080, CIDR: "0.0.0.0/0"}},
		Tags:    ownTags(stack, model.ManagedSecurityGroupID),
	}}
	s.TargetGroups = []model.TargetGroup{targetGroup(stack, tg1, "k8s-tg1-"+suffix, "ip", 3000, vpcID)}
	lb := &model.LoadBalancer{Name: "k8s-lb-" + suffix, Scheme: "internet-facing", IPAddressType: "ipv4",
		SecurityGroups: []model.Ref{{ID: model.ManagedSecurityGroupID}}, Tags: ownTags(stack, model.LoadBalancerID)}
	for _, id := range subnets {
		lb.Subnets = append(lb.Subnets, model.SubnetMapping{SubnetID: id})
	}
	s.LoadBalancer = lb
	s.Listeners = []model.Listener{{Port: 8080, Protocol: "TCP", Tags: ownTags(stack, "8080"),
		DefaultActions: []model.Action{forward(map[string]int32{tg1: 1})}}}
	return s
}

func targetGroup(stack, id, name, targetType string, port int32, vpcID string) model.TargetGroup {
	return model.TargetGroup{ID: id, Name: name, TargetType: targetType, Protocol: "TCP", Port: port, IPAddressType: "ipv4", VPCID: vpcID,
		HealthCheck: model.HealthCheck{Enabled: true, Protocol: "TCP", Port: "traffic-port", IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3},
		Tags:        ownTags(stack, id)}
}

func forward(weights map[string]int32) model.Action {
	f := &model.ForwardAction{}
	for _, id := range sortedKeys(weights) {
		f.TargetGroups = append(f.TargetGroups, model.WeightedTargetGroup{TargetGroup: model.Ref{ID: id}, Weight: weights[id]})
	}
	return model.Action{Type: model.ActionForward, Forward: f}
}

// converge plans desired against what exists, applies, and checks that AWS then matches
// desired: a second plan is empty. It returns the first plan.
func converge(t *testing.T, c *Cloud, desired *model.Stack) []plan.Change {
	t.Helper()
	ctx := context.Background()
	observed, err := c.Observe(ctx, desired.ID, desired.Type)
	if err != nil {
		t.Fatal(err)
	}
	changes := plan.Diff(desired, observed)
	result, err := c.Apply(ctx, desired, observed, changes)
	if err != nil {
		t.Fatalf("apply:\n%s\nerror: %v", lines(changes), err)
	}
	if desired.LoadBalancer != nil && (result.LoadBalancer == nil || result.LoadBalancer.ARN == "" || result.LoadBalancer.DNSName == "") {
		t.Errorf("apply result lacks the load balancer's ARN and DNS name: %+v", result.LoadBalancer)
	}
	again, err := c.Observe(ctx, desired.ID, desired.Type)
	if err != nil {
		t.Fatal(err)
	}
	if rest := plan.Diff(desired, again); len(rest) != 0 {
		t.Fatalf("after applying\n%s\nthe plan is not empty:\n%s", lines(changes), lines(rest))
	}
	return changes
}

func lines(changes []plan.Change) string {
	var b strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&b, "  %s\n", c)
	}
	return b.String()
}

func ops(changes []plan.Change) []string {
	var out []string
	for _, c := range changes {
		out = append(out, string(c.Op)+" "+string(c.Kind)+" "+c.ID)
	}
	return out
}

func TestNLBStackLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/aws-tcp-gateway"
	desired := nlbStack(stack, "life", vpcID, subnets)

	empty, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if empty.LoadBalancer != nil || len(empty.TargetGroups)+len(empty.SecurityGroups)+len(empty.Listeners) != 0 {
		t.Fatalf("before anything is created, Observe found %+v", empty)
	}

	created := converge(t, c, desired)
	wantOps(t, "create", created, []string{
		"create SecurityGroup ManagedLBSecurityGroup", "create TargetGroup " + tg1, "create LoadBalancer LoadBalancer", "create Listener 8080",
	})

	t.Run("steady state reads no tags", func(t *testing.T) {
		before := c.CallCounts()
		observed, err := c.Observe(ctx, stack, model.Network)
		if err != nil {
			t.Fatal(err)
		}
		after := c.CallCounts()
		if d := after["elbv2:DescribeTags"] - before["elbv2:DescribeTags"]; d != 0 {
			t.Errorf("steady-state Observe made %d DescribeTags calls, want 0 (tag cache)", d)
		}
		if observed.LoadBalancer.State == "" || observed.Listeners[0].ARN == "" || observed.SecurityGroups[0].GroupID == "" {
			t.Errorf("observed stack lacks AWS identifiers: %+v", observed)
		}
		if got := observed.Listeners[0].DefaultActions[0].Forward.TargetGroups[0].TargetGroup; got != (model.Ref{ID: tg1}) {
			t.Errorf("forward target observed as %+v, want the logical ID %q", got, tg1)
		}
	})

	t.Run("weights change modifies the listener", func(t *testing.T) {
		desired.TargetGroups = append(desired.TargetGroups, targetGroup(stack, tg2, "k8s-tg2-life", "ip", 3000, vpcID))
		desired.Listeners[0].DefaultActions = []model.Action{forward(map[string]int32{tg1: 80, tg2: 20})}
		changes := converge(t, c, desired)
		wantOps(t, "weights", changes, []string{"create TargetGroup " + tg2, "update Listener 8080"})
		observed, err := c.Observe(ctx, stack, model.Network)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range observed.Listeners[0].DefaultActions[0].Forward.TargetGroups {
			got = append(got, fmt.Sprintf("%s=%d", w.TargetGroup.ID, w.Weight))
		}
		if want := []string{tg1 + "=80", tg2 + "=20"}; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("weights in AWS: got %v, want %v", got, want)
		}
	})

	t.Run("targetType change replaces the target group", func(t *testing.T) {
		desired.TargetGroups[0].TargetType = "instance"
		desired.TargetGroups[0].Name = "k8s-tg1i-life"
		desired.TargetGroups[0].Port = 31000
		changes := converge(t, c, desired)
		wantOps(t, "replace", changes, []string{"create TargetGroup " + tg1, "update Listener 8080", "delete TargetGroup " + tg1})
	})

	t.Run("deleting the stack leaves nothing tagged", func(t *testing.T) {
		changes := converge(t, c, &model.Stack{ID: stack, Type: model.Network})
		wantOps(t, "delete", changes, []string{
			"delete LoadBalancer LoadBalancer", "delete TargetGroup " + tg1, "delete TargetGroup " + tg2, "delete SecurityGroup ManagedLBSecurityGroup",
		})
		assertNothingTagged(t, stack)
	})
}

func wantOps(t *testing.T, what string, changes []plan.Change, want []string) {
	t.Helper()
	if got := ops(changes); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s plan:\n got %q\nwant %q", what, got, want)
	}
}

// assertNothingTagged lists load balancers, listeners, target groups and security groups with
// an independent client and fails on any that carries the NLB stack's tag.
func assertNothingTagged(t *testing.T, stack string) {
	t.Helper()
	assertNothingTaggedFor(t, "gateway.k8s.aws.nlb/stack", stack)
}

// assertNothingTaggedFor lists load balancers, listeners, rules, target groups and security
// groups with an independent client and fails on any whose tag key has the value stack.
func assertNothingTaggedFor(t *testing.T, key, stack string) {
	t.Helper()
	ctx := context.Background()
	e, elb := rawClients(t)
	// Tests run in parallel against one moto: a resource another test deletes between the
	// listing and the describe answers NotFound, so the whole listing is taken again.
	var leftovers []string
	for attempt := 0; ; attempt++ {
		var err error
		leftovers, err = elbResourcesTagged(ctx, elb, key, stack)
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "NotFound") || attempt == 4 {
			t.Fatal(err)
		}
	}
	for _, arn := range leftovers {
		t.Errorf("%s still exists with the stack's tags", arn)
	}
	sgs, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + key), Values: []string{stack}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range sgs.SecurityGroups {
		t.Errorf("security group %s still exists with the stack's tags", aws.ToString(g.GroupId))
	}
}

// elbResourcesTagged lists every load balancer, listener, non-default rule and target group
// and returns the ARNs of those whose tag key has the value stack.
func elbResourcesTagged(ctx context.Context, elb *elbv2.Client, key, stack string) ([]string, error) {
	lbs, err := elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		return nil, err
	}
	tgs, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, lb := range lbs.LoadBalancers {
		arns = append(arns, aws.ToString(lb.LoadBalancerArn))
		ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
		if err != nil {
			return nil, err
		}
		for _, l := range ls.Listeners {
			arns = append(arns, aws.ToString(l.ListenerArn))
			rules, err := elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
			if err != nil {
				return nil, err
			}
			for _, r := range rules.Rules {
				if !aws.ToBool(r.IsDefault) {
					arns = append(arns, aws.ToString(r.RuleArn))
				}
			}
		}
	}
	for _, tg := range tgs.TargetGroups {
		arns = append(arns, aws.ToString(tg.TargetGroupArn))
	}
	var tagged []string
	for i := 0; i < len(arns); i += 20 {
		resp, err := elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns[i:min(i+20, len(arns))]})
		if err != nil {
			return nil, err
		}
		for _, d := range resp.TagDescriptions {
			if fromELBTags(d.Tags)[key] == stack {
				tagged = append(tagged, aws.ToString(d.ResourceArn))
			}
		}
	}
	return tagged, nil
}
