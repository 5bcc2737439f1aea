package controller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

var seedFiles = []string{
	"examples/seed-l4/lbconfig.yaml", "examples/seed-l4/tgconfig.yaml", "examples/seed-l4/gwc-nlb.yaml",
	"examples/seed-l4/gw-public-nlb.yaml", "examples/seed-l4/backend-service.yaml", "examples/seed-l4/tcproute.yaml",
}

// programmedGateway waits until the Gateway is Programmed=True with an address and returns it
// and its load balancer ARN (the Programmed message).
func programmedGateway(t *testing.T, c client.Client, ns, name string) (*gwv1.Gateway, string) {
	t.Helper()
	var gw gwv1.Gateway
	eventually(t, 60*timeoutScale, "Gateway "+ns+"/"+name+" programmed", func() error {
		if err := c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
			return err
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
		if c == nil || c.Status != metav1.ConditionTrue || len(gw.Status.Addresses) == 0 {
			return fmt.Errorf("conditions %s, addresses %v", conditionsText(gw.Status.Conditions), gw.Status.Addresses)
		}
		return nil
	})
	return &gw, meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)).Message
}

func conditionsText(cs []metav1.Condition) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s=%s/%s %q", c.Type, c.Status, c.Reason, c.Message))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// routeCondition returns a condition of our status.parents entry of a route (any served version).
func routeCondition(c client.Client, apiVersion, kind, ns, name, condType string) (*metav1.Condition, error) {
	return parentConditionOf(c, "gateway.k8s.aws/nlb", routeRef{apiVersion: apiVersion, kind: kind, ns: ns, name: name}, condType)
}

// routeRef names a route of one served version.
type routeRef struct {
	apiVersion, kind, ns, name string
}

// parentConditionOf returns a condition of a controller's status.parents entry of a route,
// read through c.
func parentConditionOf(c client.Client, controllerName string, r routeRef, condType string) (*metav1.Condition, error) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(r.apiVersion)
	u.SetKind(r.kind)
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: r.ns, Name: r.name}, u); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(u.Object["status"])
	var st gwv1.RouteStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, err
	}
	for _, p := range st.Parents {
		if string(p.ControllerName) == controllerName {
			if cond := meta.FindStatusCondition(p.Conditions, condType); cond != nil {
				return cond, nil
			}
		}
	}
	return nil, fmt.Errorf("%s %s/%s has no %s condition of %s: %s", r.kind, r.ns, r.name, condType, controllerName, raw)
}

func listeners(t *testing.T, lbARN string) []elbtypes.Listener {
	t.Helper()
	out, err := env.elb.DescribeListeners(context.Background(), &elbv2.DescribeListenersInput{LoadBalancerArn: &lbARN})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out.Listeners, func(i, j int) bool { return *out.Listeners[i].Port < *out.Listeners[j].Port })
	return out.Listeners
}

// listenerSummary prints listeners as PROTOCOL:PORT, sorted.
func listenerSummary(ls []elbtypes.Listener) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%s:%d", l.Protocol, awssdk.ToInt32(l.Port)))
	}
	return strings.Join(parts, ",")
}

func targetGroups(t *testing.T, lbARN string) []elbtypes.TargetGroup {
	t.Helper()
	out, err := env.elb.DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: &lbARN})
	var notFound *elbtypes.TargetGroupNotFoundException
	if errors.As(err, &notFound) {
		return nil // moto answers so for a load balancer without target groups
	}
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out.TargetGroups, func(i, j int) bool {
		return *out.TargetGroups[i].TargetGroupName < *out.TargetGroups[j].TargetGroupName
	})
	return out.TargetGroups
}

// targetSummary prints a target group's registered targets as ID:PORT, sorted.
func targetSummary(t *testing.T, tgARN string) string {
	t.Helper()
	out, err := env.elb.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: &tgARN})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, d := range out.TargetHealthDescriptions {
		parts = append(parts, fmt.Sprintf("%s:%d", awssdk.ToString(d.Target.Id), awssdk.ToInt32(d.Target.Port)))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// waitTargets waits until the target group's registered targets, as targetSummary prints
// them, are want.
func waitTargets(t *testing.T, what, tgARN, want string) {
	t.Helper()
	eventually(t, 30*timeoutScale, what, func() error {
		if got := targetSummary(t, tgARN); got != want {
			return fmt.Errorf("targets %q", got)
		}
		return nil
	})
}

// stackLeftovers lists what moto still holds that is tagged with a Gateway's stack.
func stackLeftovers(t *testing.T, stack string) []string {
	t.Helper()
	left := taggedELBResources(t, "", "gateway.k8s.aws.nlb/stack", stack)
	left = append(left, securityGroupsOf(t, stack)...)
	sort.Strings(left)
	return left
}

const timeoutScale = time.Second

func securityGroupsOf(t *testing.T, stack string) []string {
	t.Helper()
	var ids []string
	for _, g := range securityGroups(t, tagFilter("gateway.k8s.aws.nlb/stack", stack)) {
		ids = append(ids, awssdk.ToString(g.GroupId))
	}
	return ids
}
