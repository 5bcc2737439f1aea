package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// chainedRoute is a TCPRoute on the NLB Gateway nlb's tcp listener forwarding to the ALB
// Gateway alb (in albNS when set) on port.
func chainedRoute(name, albNS string, port int) string {
	ns := ""
	if albNS != "" {
		ns = ", namespace: " + albNS
	}
	return fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata:
  name: %s
spec:
  parentRefs: [{name: nlb, sectionName: tcp}]
  rules:
  - backendRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: alb%s, port: %d}]
`, name, ns, port)
}

const chainingNLB = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: nlb
spec:
  gatewayClassName: aws-nlb-gateway-class
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: alb-config}
  listeners:
  - {name: tcp, protocol: TCP, port: 80}
`

// TestNLBToALBChaining: a TCPRoute whose backendRef is an ALB Gateway makes a target group of
// type alb on the NLB with the ALB as its one target, once the ALB exists; a port the ALB does
// not listen on, and a Gateway in another namespace without a ReferenceGrant, are refused on
// the route.
func TestNLBToALBChaining(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, "examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/backend-service.yaml")
	// The route and the NLB first: the ALB Gateway comes after, and the route follows it.
	applyYAML(t, env.client, ns, albClass+"---"+albConfig("")+"---"+chainingNLB+"---"+chainedRoute("chain", "", 80))
	waitNLBRouteCondition(t, "TCPRoute", ns, "chain", "ResolvedRefs", metav1.ConditionFalse, "BackendNotFound")
	applyYAML(t, env.client, ns, ipTargets+"---"+albGateway("alb", "  - {name: http, protocol: HTTP, port: 80}\n")+"---"+strings.Replace(pathRoute("web", "/"), "name: gw,", "name: alb,", 1))
	_, albARN := programmedGateway(t, env.client, ns, "alb")
	waitNLBRouteCondition(t, "TCPRoute", ns, "chain", "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
	_, nlbARN := programmedGateway(t, env.client, ns, "nlb")

	eventually(t, time.Minute, "an alb target group on the NLB with the ALB registered", func() error {
		for _, tg := range targetGroups(t, nlbARN) {
			if tg.TargetType != "alb" {
				continue
			}
			if string(tg.Protocol) != "TCP" || awssdk.ToInt32(tg.Port) != 80 {
				return fmt.Errorf("alb target group %s %d", tg.Protocol, awssdk.ToInt32(tg.Port))
			}
			h, err := env.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
			if err != nil {
				return err
			}
			if len(h.TargetHealthDescriptions) != 1 || awssdk.ToString(h.TargetHealthDescriptions[0].Target.Id) != albARN {
				return fmt.Errorf("%d targets", len(h.TargetHealthDescriptions))
			}
			return nil
		}
		var gw gwv1.Gateway
		_ = env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "nlb"}, &gw)
		return fmt.Errorf("no target group of type alb; NLB Gateway %s; ALB listeners %s", conditionsText(gw.Status.Conditions), listenerSummary(listeners(t, albARN)))
	})

	t.Run("a port the ALB does not listen on is refused on the route", func(t *testing.T) {
		applyYAML(t, env.client, ns, chainedRoute("chain-port", "", 81))
		c := waitNLBRouteCondition(t, "TCPRoute", ns, "chain-port", "ResolvedRefs", metav1.ConditionFalse, "BackendNotFound")
		if !strings.Contains(c.Message, "port") || !strings.Contains(c.Message, "81") {
			t.Errorf("ResolvedRefs message %q does not name the port", c.Message)
		}
	})

	t.Run("a Gateway of another class is refused on the route", func(t *testing.T) {
		// The NLB Gateway itself: a Gateway of this project's NLB class, not an ALB.
		applyYAML(t, env.client, ns, strings.Replace(chainedRoute("chain-nlb", "", 80), "name: alb,", "name: nlb,", 1))
		c := waitNLBRouteCondition(t, "TCPRoute", ns, "chain-nlb", "ResolvedRefs", metav1.ConditionFalse, "BackendNotFound")
		if !strings.Contains(c.Message, "gateway.k8s.aws/nlb") {
			t.Errorf("ResolvedRefs message %q does not name the Gateway's controller", c.Message)
		}
		// A Gateway of a class another controller owns.
		foreign := "foreign-" + ns
		applyYAML(t, env.client, ns, fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: %s
spec:
  controllerName: example.com/another-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: foreign
spec:
  gatewayClassName: %s
  listeners:
  - {name: http, protocol: HTTP, port: 80}
---
`, foreign, foreign)+strings.Replace(chainedRoute("chain-foreign", "", 80), "name: alb,", "name: foreign,", 1))
		c = waitNLBRouteCondition(t, "TCPRoute", ns, "chain-foreign", "ResolvedRefs", metav1.ConditionFalse, "BackendNotFound")
		if !strings.Contains(c.Message, "example.com/another-controller") {
			t.Errorf("ResolvedRefs message %q does not name the other controller", c.Message)
		}
	})

	t.Run("an ALB Gateway in another namespace needs a ReferenceGrant", func(t *testing.T) {
		other := newNamespace(t)
		applyYAML(t, env.client, ns, chainedRoute("chain-grant", other, 80))
		waitNLBRouteCondition(t, "TCPRoute", ns, "chain-grant", "ResolvedRefs", metav1.ConditionFalse, "RefNotPermitted")
	})
}

// waitNLBRouteCondition is waitRouteCondition for the NLB controller's status entries.
func waitNLBRouteCondition(t *testing.T, kind, ns, name, condType string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	var got *metav1.Condition
	eventually(t, 60*timeoutScale, fmt.Sprintf("%s %s/%s %s=%s/%s", kind, ns, name, condType, status, reason), func() error {
		c, err := parentCondition("gateway.k8s.aws/nlb", "gateway.networking.k8s.io/v1", kind, ns, name, condType)
		if err != nil {
			return err
		}
		if c.Status != status || reason != "" && c.Reason != reason {
			return fmt.Errorf("%s=%s/%s %q", condType, c.Status, c.Reason, c.Message)
		}
		got = c
		return nil
	})
	return got
}
