package controller_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
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

// TestChainingRegistrationLimit: an Application Load Balancer is the target of up to two
// Network Load Balancers. A third NLB Gateway chained to it gets its listener Programmed=False
// with AWS's refusal (TooManyRegistrationsForTargetId), also once its target group of type alb
// exists and the listener is created beside it; its other listeners work, the first two NLBs
// stay programmed, and the refusal is not retried until its pause is over. A chaining route
// that goes away takes its target group, and the ALB's registration in it, along.
func TestChainingRegistrationLimit(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, "examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/backend-service.yaml")
	applyYAML(t, env.client, ns, albClass+"---"+albConfig("")+"---"+ipTargets+"---"+
		albGateway("alb", "  - {name: http, protocol: HTTP, port: 80}\n")+"---"+strings.Replace(pathRoute("web", "/"), "name: gw,", "name: alb,", 1))
	_, albARN := programmedGateway(t, env.client, ns, "alb")

	nlbARNs := map[string]string{}
	for _, nlb := range []string{"nlb1", "nlb2"} {
		applyYAML(t, env.client, ns, namedChainingNLB(nlb)+"---"+namedChainedRoute(nlb))
		waitListenerProgrammed(t, ns, nlb, "tcp", metav1.ConditionTrue, "Programmed", "")
		_, nlbARNs[nlb] = programmedGateway(t, env.client, ns, nlb)
	}
	// holding are the target groups the ALB is registered in (one deleted meanwhile holds none).
	holding := func() []string {
		t.Helper()
		var out []string
		for _, tg := range allALBTargetGroups(t) {
			h, err := env.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
			var notFound *elbtypes.TargetGroupNotFoundException
			if errors.As(err, &notFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range h.TargetHealthDescriptions {
				if awssdk.ToString(d.Target.Id) == albARN {
					out = append(out, awssdk.ToString(tg.TargetGroupArn))
				}
			}
		}
		return out
	}
	eventually(t, time.Minute, "the ALB registered in the alb target groups of two NLBs", func() error {
		if h := holding(); len(h) != 2 {
			return fmt.Errorf("the ALB is the target of %v", h)
		}
		return nil
	})

	applyYAML(t, env.client, ns, namedChainingNLB("nlb3")+"---"+namedChainedRoute("nlb3"))
	// Its listener waits for the target group, whose registration AWS refused.
	waitListenerProgrammed(t, ns, "nlb3", "tcp", metav1.ConditionFalse, "", "TooManyRegistrationsForTargetId")

	// A second listener changes what nlb3 asks of AWS, so it is applied at once: its target
	// group of type alb exists now and its listener on port 80 is created; the registration is
	// refused again and the listener still says so.
	applyYAML(t, env.client, ns, strings.Replace(route("TCPRoute", "app", "tcp-app", "", "backend", 3000), "name: gw,", "name: nlb3,", 1))
	eventually(t, 30*timeoutScale, "nlb3 gets a tcp-app listener", func() error {
		var gw gwv1.Gateway
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "nlb3"}, &gw); err != nil {
			return err
		}
		gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{Name: "tcp-app", Protocol: gwv1.TCPProtocolType, Port: 8080})
		return env.client.Update(ctx, &gw)
	})
	waitListenerProgrammed(t, ns, "nlb3", "tcp-app", metav1.ConditionTrue, "Programmed", "")
	_, nlb3ARN := programmedGateway(t, env.client, ns, "nlb3")
	// The same status write as tcp-app's carries tcp's condition of this generation.
	if c, err := listenerCondition(ns, "nlb3", "tcp", "Programmed"); err != nil {
		t.Error(err)
	} else if c.Status != metav1.ConditionFalse || c.Reason != "Invalid" || !strings.Contains(c.Message, "TooManyRegistrationsForTargetId") {
		t.Errorf("nlb3 tcp once its target group exists: Programmed=%s/%s %q, want False/Invalid naming TooManyRegistrationsForTargetId", c.Status, c.Reason, c.Message)
	}
	eventually(t, 30*timeoutScale, "the chaining route names the refused target group", func() error {
		c, err := parentCondition("gateway.k8s.aws/nlb", "gateway.networking.k8s.io/v1", "TCPRoute", ns, "chain-nlb3", "Accepted")
		if err != nil {
			return err
		}
		if !strings.Contains(c.Message, "target group") || !strings.Contains(c.Message, "TooManyRegistrationsForTargetId") {
			return fmt.Errorf("Accepted=%s %q", c.Status, c.Message)
		}
		return nil
	})
	var appTG string
	for _, tg := range targetGroups(t, nlb3ARN) {
		switch {
		case tg.TargetType == "alb":
			if got := targetSummary(t, awssdk.ToString(tg.TargetGroupArn)); got != "" {
				t.Errorf("nlb3's alb target group holds %q; AWS refused the registration", got)
			}
		case awssdk.ToInt32(tg.Port) == 3000:
			appTG = awssdk.ToString(tg.TargetGroupArn)
		}
	}
	if appTG == "" {
		t.Fatalf("nlb3 has no target group for its tcp-app listener: listeners %s", listenerSummary(listeners(t, nlb3ARN)))
	}
	waitTargets(t, "nlb3's tcp-app target", appTG, "192.0.2.10:3000")

	// The refusal waits out its pause: no registration is tried again meanwhile.
	before := quiet(t)
	time.Sleep(20 * time.Second)
	after := env.cloud.CallCounts()
	if n := after["elasticloadbalancing:RegisterTargets"] - before["elasticloadbalancing:RegisterTargets"]; n > 1 {
		t.Errorf("%d RegisterTargets calls in 20s while the registration is refused, want at most 1 (writes %v)", n, writeCalls(before, after))
	}
	for _, nlb := range []string{"nlb1", "nlb2"} {
		if c, err := listenerCondition(ns, nlb, "tcp", "Programmed"); err != nil || c.Status != metav1.ConditionTrue {
			t.Errorf("%s tcp: %+v (%v), want Programmed=True", nlb, c, err)
		}
	}

	// Without its chaining route, nlb1 deletes its target group of type alb; nothing else
	// refers to the ALB than nlb2's group.
	var nlb1TGs []string
	for _, tg := range targetGroups(t, nlbARNs["nlb1"]) {
		if tg.TargetType == "alb" {
			nlb1TGs = append(nlb1TGs, awssdk.ToString(tg.TargetGroupArn))
		}
	}
	if len(nlb1TGs) != 1 {
		t.Fatalf("nlb1 has alb target groups %v, want one", nlb1TGs)
	}
	if err := env.client.Delete(ctx, &gwv1.TCPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "chain-nlb1"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "nlb1's alb target group deleted", func() error {
		for _, tg := range allALBTargetGroups(t) {
			if awssdk.ToString(tg.TargetGroupArn) == nlb1TGs[0] {
				return fmt.Errorf("%s is still there", nlb1TGs[0])
			}
		}
		return nil
	})
	if h := holding(); len(h) != 1 || h[0] == nlb1TGs[0] {
		t.Errorf("the ALB is the target of %v, want nlb2's group only", h)
	}
	quiet(t)
}

// TestChainingRoutelessALBListener: an ALB Gateway listener without a route is programmed yet
// has no AWS listener, so an NLB cannot forward to it: the chaining route is refused naming the
// port, without a target group, until a route gives the ALB that listener.
func TestChainingRoutelessALBListener(t *testing.T) {
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, "examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/backend-service.yaml")
	applyYAML(t, env.client, ns, albClass+"---"+albConfig("")+"---"+ipTargets+"---"+
		albGateway("alb", "  - {name: http, protocol: HTTP, port: 80}\n")+"---"+chainingNLB+"---"+chainedRoute("chain", "", 80))
	_, albARN := programmedGateway(t, env.client, ns, "alb")
	waitListenerProgrammed(t, ns, "alb", "http", metav1.ConditionTrue, "Programmed", "no listener on port 80")
	eventually(t, 30*timeoutScale, "the chaining route refused: port 80 has no AWS listener", func() error {
		c, err := parentCondition("gateway.k8s.aws/nlb", "gateway.networking.k8s.io/v1", "TCPRoute", ns, "chain", "ResolvedRefs")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != "BackendNotFound" || !strings.Contains(c.Message, "port: 80 ") ||
			!strings.Contains(c.Message, "no AWS listener") {
			return fmt.Errorf("ResolvedRefs=%s/%s %q", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	_, nlbARN := programmedGateway(t, env.client, ns, "nlb")
	for _, tg := range targetGroups(t, nlbARN) {
		if tg.TargetType == elbtypes.TargetTypeEnumAlb {
			t.Errorf("the NLB has target group %s of type alb for an ALB port without a listener", awssdk.ToString(tg.TargetGroupName))
		}
	}

	applyYAML(t, env.client, ns, strings.Replace(pathRoute("web", "/"), "name: gw,", "name: alb,", 1))
	waitNLBRouteCondition(t, "TCPRoute", ns, "chain", "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs")
	waitListenerProgrammed(t, ns, "nlb", "tcp", metav1.ConditionTrue, "Programmed", "")
	eventually(t, time.Minute, "the ALB registered in the NLB's target group of type alb", func() error {
		for _, tg := range targetGroups(t, nlbARN) {
			if tg.TargetType == elbtypes.TargetTypeEnumAlb {
				if got := targetSummary(t, awssdk.ToString(tg.TargetGroupArn)); got != albARN+":80" {
					return fmt.Errorf("targets %q", got)
				}
				return nil
			}
		}
		return fmt.Errorf("no target group of type alb")
	})
}

// namedChainingNLB is chainingNLB named name.
func namedChainingNLB(name string) string {
	return strings.Replace(chainingNLB, "name: nlb\n", "name: "+name+"\n", 1)
}

// namedChainedRoute is chainedRoute chain-<nlb> on the NLB Gateway nlb, to the ALB alb on port 80.
func namedChainedRoute(nlb string) string {
	return strings.Replace(chainedRoute("chain-"+nlb, "", 80), "parentRefs: [{name: nlb,", "parentRefs: [{name: "+nlb+",", 1)
}

// allALBTargetGroups are the target groups of type alb in the account.
func allALBTargetGroups(t *testing.T) []elbtypes.TargetGroup {
	t.Helper()
	var out []elbtypes.TargetGroup
	p := elbv2.NewDescribeTargetGroupsPaginator(env.elb, &elbv2.DescribeTargetGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range page.TargetGroups {
			if tg.TargetType == elbtypes.TargetTypeEnumAlb {
				out = append(out, tg)
			}
		}
	}
	return out
}

// waitListenerProgrammed waits for a listener's Programmed condition of the Gateway ns/name
// (of any reason when reason is ""), its message containing contains.
func waitListenerProgrammed(t *testing.T, ns, name, listener string, status metav1.ConditionStatus, reason, contains string) {
	t.Helper()
	eventually(t, 60*timeoutScale, fmt.Sprintf("Gateway %s/%s listener %s Programmed=%s/%s %q", ns, name, listener, status, reason, contains), func() error {
		c, err := listenerCondition(ns, name, listener, "Programmed")
		if err != nil {
			return err
		}
		if c.Status != status || reason != "" && c.Reason != reason || !strings.Contains(c.Message, contains) {
			return fmt.Errorf("listener %s Programmed=%s/%s %q", listener, c.Status, c.Reason, c.Message)
		}
		return nil
	})
}
