package controller_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
)

// albScenario is an internet-facing ALB Gateway gw in ns with the given listeners, and the
// example backend Service with one ready endpoint and ip targets.
func albScenario(t *testing.T, ns, certARN, listenersYAML string) {
	t.Helper()
	applyFiles(t, env.client, ns, "examples/seed-l4/backend-service.yaml")
	applyYAML(t, env.client, ns, albClass+"---"+albConfig(certARN)+"---"+ipTargets+"---"+albGateway("gw", listenersYAML))
}

// pathRoute is an HTTPRoute on gw's http listener with one rule per path prefix, to backend:3000.
func pathRoute(name string, paths ...string) string {
	var rules strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&rules, "  - matches: [{path: {type: PathPrefix, value: %s}}]\n    backendRefs: [{name: backend, port: 3000}]\n", p)
	}
	return fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: %s
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
%s`, name, rules.String())
}

// waitRuleCount waits until a listener has n rules besides the default one and returns them.
func waitRuleCount(t *testing.T, listenerARN string, n int) []string {
	t.Helper()
	var out []string
	eventually(t, 30*timeoutScale, fmt.Sprintf("%d rules", n), func() error {
		rs := rules(t, listenerARN)
		if len(rs) != n {
			return fmt.Errorf("%d rules", len(rs))
		}
		out = out[:0]
		for _, r := range rs {
			out = append(out, awssdk.ToString(r.RuleArn)+" "+ruleText(r))
		}
		return nil
	})
	return out
}

// TestALBRouteChangesWriteOnlyTheirRules counts the AWS writes of route changes on a listener
// with 20 rules from four HTTPRoutes: a new route creates its rules and target group only, a
// changed path touches only that route's rules, and a resync without changes writes nothing.
func TestALBRouteChangesWriteOnlyTheirRules(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	albScenario(t, ns, "", "  - {name: http, protocol: HTTP, port: 80}\n")
	var routes []string
	for i := range 4 {
		var paths []string
		for j := range 5 {
			paths = append(paths, fmt.Sprintf("/r%d/p%d", i, j))
		}
		routes = append(routes, pathRoute(fmt.Sprintf("r%d", i), paths...))
	}
	applyYAML(t, env.client, ns, strings.Join(routes, "---"))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	listener := listenerByPort(t, lbARN, 80)
	waitRuleCount(t, listener, 20)

	t.Run("a new route creates only its rules", func(t *testing.T) {
		before := quiet(t)
		applyYAML(t, env.client, ns, pathRoute("r4", "/r4/a", "/r4/b", "/r4/c"))
		waitRuleCount(t, listener, 23)
		got := writeCalls(before, quiet(t))
		moves := got["elbv2:SetRulePriorities"]
		delete(got, "elbv2:SetRulePriorities")
		// AddTags records the applied stack on the load balancer (internal/controller/restart.go).
		if want := map[string]int{"elbv2:CreateRule": 3, "elbv2:CreateTargetGroup": 1, "elbv2:AddTags": 1}; !reflect.DeepEqual(got, want) || moves > 1 {
			t.Errorf("AWS writes %v and %d SetRulePriorities, want %v and at most one SetRulePriorities", got, moves, want)
		}
	})

	t.Run("a changed path touches only that route's rules", func(t *testing.T) {
		others := map[string]bool{}
		for _, r := range waitRuleCount(t, listener, 23) {
			if !strings.Contains(r, "/r1/") {
				others[r] = true
			}
		}
		before := quiet(t)
		var r1 gwv1.HTTPRoute
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "r1"}, &r1); err != nil {
			t.Fatal(err)
		}
		r1.Spec.Rules[2].Matches[0].Path.Value = awssdk.String("/r1/changed")
		if err := env.client.Update(ctx, &r1); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*timeoutScale, "the changed path", func() error {
			for _, r := range rules(t, listener) {
				if strings.Contains(ruleText(r), "/r1/changed") {
					return nil
				}
			}
			return fmt.Errorf("no rule for /r1/changed")
		})
		got := writeCalls(before, quiet(t))
		moves := got["elbv2:SetRulePriorities"]
		delete(got, "elbv2:SetRulePriorities")
		// AddTags records the applied stack on the load balancer (internal/controller/restart.go).
		if got["elbv2:AddTags"] != 1 {
			t.Errorf("AddTags called %d times, want once, for the applied-stack record", got["elbv2:AddTags"])
		}
		delete(got, "elbv2:AddTags")
		ruleWrites := got["elbv2:CreateRule"] + got["elbv2:ModifyRule"] + got["elbv2:DeleteRule"]
		for op := range got {
			if op != "elbv2:CreateRule" && op != "elbv2:ModifyRule" && op != "elbv2:DeleteRule" {
				t.Errorf("%s called %d times for a changed path", op, got[op])
			}
		}
		// The changed rule sorts first now; the rules of equal precedence behind its old place
		// each move down one priority (translate numbers ties consecutively), in at most two calls.
		if ruleWrites < 1 || ruleWrites > 2 || moves > 2 {
			t.Errorf("rule writes %v and %d SetRulePriorities, want one or two rule writes and at most two SetRulePriorities", got, moves)
		}
		after := waitRuleCount(t, listener, 23)
		var kept int
		for _, r := range after {
			if others[r] {
				kept++
			}
		}
		if kept != len(others) {
			t.Errorf("%d of the other routes' %d rules kept their ARN, conditions and actions", kept, len(others))
		}
	})

	t.Run("an unchanged resync writes nothing", func(t *testing.T) {
		before := quiet(t)
		reconciled := reconciles("gateway-alb")
		var gw gwv1.Gateway
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gw"}, &gw); err != nil {
			t.Fatal(err)
		}
		if gw.Annotations == nil {
			gw.Annotations = map[string]string{}
		}
		gw.Annotations["example.com/resync"] = time.Now().String()
		if err := env.client.Update(ctx, &gw); err != nil {
			t.Fatal(err)
		}
		// Within a few minutes of its last apply the stack is planned against that apply's result
		// (internal/aws/applied.go): wait for the reconcile, not for a read.
		eventually(t, 30*timeoutScale, "the Gateway reconciled again", func() error {
			if n := reconciles("gateway-alb"); n <= reconciled {
				return fmt.Errorf("%d reconciles", n)
			}
			return nil
		})
		if got := writeCalls(before, quiet(t)); len(got) != 0 {
			t.Errorf("AWS writes %v on a resync without changes, want none", got)
		}
	})
}

// TestGRPCRouteOnHTTPSListener: a GRPCRoute's target group speaks gRPC and is health-checked
// the gRPC way.
func TestGRPCRouteOnHTTPSListener(t *testing.T) {
	ns := newNamespace(t)
	albScenario(t, ns, importCertificate(t, "grpc.example.com"), "  - {name: https, protocol: HTTPS, port: 443}\n")
	applyYAML(t, env.client, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: echo
spec:
  parentRefs: [{name: gw, sectionName: https}]
  rules:
  - matches: [{method: {service: echo.Echo, method: Ping}}]
    backendRefs: [{name: backend, port: 3000}]
`)
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	waitRouteCondition(t, "GRPCRoute", ns, "echo", string(gwv1.RouteConditionAccepted), metav1.ConditionTrue, "")
	waitListeners(t, lbARN, "HTTPS:443")
	var tgARN string
	eventually(t, 30*timeoutScale, "a gRPC target group", func() error {
		tgs := stackTargetGroups(t, ns+"/gw")
		if len(tgs) != 1 {
			return fmt.Errorf("%d target groups", len(tgs))
		}
		tg := tgs[0]
		if awssdk.ToString(tg.ProtocolVersion) != "GRPC" || tg.Protocol != "HTTP" ||
			awssdk.ToString(tg.HealthCheckPath) != "/AWS.ALB/healthcheck" || tg.Matcher == nil || awssdk.ToString(tg.Matcher.GrpcCode) != "12" {
			return fmt.Errorf("target group %s: protocol %s version %s, health check path %s matcher %+v", awssdk.ToString(tg.TargetGroupName),
				tg.Protocol, awssdk.ToString(tg.ProtocolVersion), awssdk.ToString(tg.HealthCheckPath), tg.Matcher)
		}
		tgARN = awssdk.ToString(tg.TargetGroupArn)
		return nil
	})
	eventually(t, 30*timeoutScale, "a rule forwarding /echo.Echo/Ping to it", func() error {
		for _, r := range rules(t, listenerByPort(t, lbARN, 443)) {
			if text := ruleText(r); strings.Contains(text, "/echo.Echo/Ping") && strings.Contains(text, "forward:"+tgARN) {
				return nil
			}
		}
		return fmt.Errorf("no such rule")
	})
}

// TestRequestHeaderModifierRejectsOnlyItsRule: an ALB cannot modify headers per rule, so that
// rule is rejected (PartiallyInvalid) while the route's other rule and the other routes serve.
func TestRequestHeaderModifierRejectsOnlyItsRule(t *testing.T) {
	ns := newNamespace(t)
	albScenario(t, ns, "", "  - {name: http, protocol: HTTP, port: 80}\n")
	applyYAML(t, env.client, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: mixed
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /ok}}]
    backendRefs: [{name: backend, port: 3000}]
  - matches: [{path: {type: PathPrefix, value: /headers}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-env, value: test}]}
    backendRefs: [{name: backend, port: 3000}]
---`+pathRoute("plain", "/plain"))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	c := waitRouteCondition(t, "HTTPRoute", ns, "mixed", string(gwv1.RouteConditionPartiallyInvalid), metav1.ConditionTrue,
		string(gwv1.RouteReasonUnsupportedValue))
	if !strings.Contains(c.Message, "RequestHeaderModifier") || !strings.Contains(c.Message, "rules[1]") {
		t.Errorf("PartiallyInvalid message %q, want it to name rules[1] and RequestHeaderModifier", c.Message)
	}
	waitRouteCondition(t, "HTTPRoute", ns, "mixed", string(gwv1.RouteConditionAccepted), metav1.ConditionTrue, "")
	waitRouteCondition(t, "HTTPRoute", ns, "plain", string(gwv1.RouteConditionAccepted), metav1.ConditionTrue, "")
	var texts []string
	for _, r := range waitRuleCount(t, listenerByPort(t, lbARN, 80), 2) {
		texts = append(texts, r)
	}
	joined := strings.Join(texts, "\n")
	if !strings.Contains(joined, "/ok") || !strings.Contains(joined, "/plain") || strings.Contains(joined, "/headers") ||
		strings.Count(joined, "forward:") != 2 {
		t.Errorf("rules:\n%s\nwant /ok and /plain forwarding, and no /headers rule", joined)
	}
}

// TestOIDCListenerRuleConfiguration: a rule whose ListenerRuleConfiguration authenticates with
// OIDC gets the client from the Secret the configuration names; the configuration arriving
// after the route, a new client ID in the Secret, and a new client secret alone (which AWS
// never returns: the rule's fingerprint tag tells) all reach AWS.
func TestOIDCListenerRuleConfiguration(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	albScenario(t, ns, importCertificate(t, "auth.example.com"), "  - {name: https, protocol: HTTPS, port: 443}\n")
	applyYAML(t, env.client, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: private
spec:
  parentRefs: [{name: gw, sectionName: https}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /private}}]
    filters:
    - type: ExtensionRef
      extensionRef: {group: gateway.k8s.aws, kind: ListenerRuleConfiguration, name: oidc}
    backendRefs: [{name: backend, port: 3000}]
  - matches: [{path: {type: PathPrefix, value: /public}}]
    backendRefs: [{name: backend, port: 3000}]
`)
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	c := waitRouteCondition(t, "HTTPRoute", ns, "private", string(gwv1.RouteConditionPartiallyInvalid), metav1.ConditionTrue, "")
	if !strings.Contains(c.Message, "ListenerRuleConfiguration") {
		t.Errorf("PartiallyInvalid message %q, want it to name the missing ListenerRuleConfiguration", c.Message)
	}
	listener := listenerByPort(t, lbARN, 443)

	// The configuration comes first without its Secret: not accepted, and the rule stays out.
	applyYAML(t, env.client, ns, `
apiVersion: gateway.k8s.aws/v1
kind: ListenerRuleConfiguration
metadata:
  name: oidc
spec:
  actions:
  - type: authenticate-oidc
    authenticateOIDCConfig:
      issuer: https://idp.example.com
      authorizationEndpoint: https://idp.example.com/authorize
      tokenEndpoint: https://idp.example.com/token
      userInfoEndpoint: https://idp.example.com/userinfo
      secret: {name: oidc-client}
`)
	eventually(t, 30*timeoutScale, "the configuration not accepted", func() error {
		var lrc awsv1.ListenerRuleConfiguration
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "oidc"}, &lrc); err != nil {
			return err
		}
		if lrc.Status.Accepted == nil || *lrc.Status.Accepted || lrc.Status.Message == nil ||
			!strings.Contains(*lrc.Status.Message, "secret ["+ns+"/oidc-client] not found") {
			return fmt.Errorf("status %+v", lrc.Status)
		}
		return nil
	})
	eventually(t, 30*timeoutScale, "the route names the missing Secret", func() error {
		c, err := parentCondition(albController, "gateway.networking.k8s.io/v1", "HTTPRoute", ns, "private",
			string(gwv1.RouteConditionPartiallyInvalid))
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, ns+"/oidc-client") {
			return fmt.Errorf("PartiallyInvalid=%s %q", c.Status, c.Message)
		}
		return nil
	})
	if err := oidcRule(t, listener, ""); err == nil || !strings.Contains(err.Error(), "no /private rule") {
		t.Errorf("without its Secret: %v, want no /private rule", err)
	}

	secret := createSecret(t, ns, "oidc-client", map[string]string{"clientID": "client-1", "clientSecret": "very-secret"})
	eventually(t, 30*timeoutScale, "an authenticate-oidc rule with client-1", func() error {
		return oidcRule(t, listener, "client-1")
	})
	waitRouteCondition(t, "HTTPRoute", ns, "private", string(gwv1.RouteConditionAccepted), metav1.ConditionTrue, "")
	// The rule exists once apply ran; the route's status is written after it.
	eventually(t, 30*timeoutScale, "the route no longer PartiallyInvalid with its configuration and Secret in place", func() error {
		if _, err := parentCondition(albController, "gateway.networking.k8s.io/v1", "HTTPRoute", ns, "private",
			string(gwv1.RouteConditionPartiallyInvalid)); err == nil {
			return fmt.Errorf("still PartiallyInvalid")
		}
		return nil
	})

	secret.StringData = map[string]string{"clientID": "client-2"}
	if err := env.client.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*timeoutScale, "the rule follows the Secret to client-2", func() error {
		return oidcRule(t, listener, "client-2")
	})
	eventually(t, 60*timeoutScale, "the configuration accepted", func() error {
		var lrc awsv1.ListenerRuleConfiguration
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "oidc"}, &lrc); err != nil {
			return err
		}
		if lrc.Status.Accepted == nil || !*lrc.Status.Accepted {
			return fmt.Errorf("status %+v", lrc.Status)
		}
		return nil
	})

	// Only the client secret rotates: the same rule is modified, and its fingerprint tag follows.
	ruleARN := privateRuleARN(t, listener)
	eventually(t, 30*timeoutScale, "the rule tagged with the fingerprint of client-2's secret", func() error {
		return wantSecretTag(t, ruleARN, model.OIDCClientSecretFingerprint("client-2", model.NewSecret("very-secret")))
	})
	before := quiet(t)
	secret.StringData = map[string]string{"clientID": "client-2", "clientSecret": "rotated-secret"}
	if err := env.client.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	rotated := model.OIDCClientSecretFingerprint("client-2", model.NewSecret("rotated-secret"))
	eventually(t, 30*timeoutScale, "the rule's fingerprint tag follows the rotated secret", func() error {
		return wantSecretTag(t, ruleARN, rotated)
	})
	writes := writeCalls(before, quiet(t))
	if writes["elbv2:ModifyRule"] < 1 || writes["elbv2:CreateRule"] != 0 || writes["elbv2:DeleteRule"] != 0 {
		t.Errorf("AWS writes %v for a rotated client secret, want a ModifyRule and no rule created or deleted", writes)
	}
	if got := privateRuleARN(t, listener); got != ruleARN {
		t.Errorf("the /private rule is %s after the rotation, want the same rule %s", got, ruleARN)
	}

	var events corev1.EventList
	if err := env.client.List(ctx, &events, client.InNamespace(ns)); err == nil {
		for _, e := range events.Items {
			if strings.Contains(e.Message, "very-secret") || strings.Contains(e.Message, "rotated-secret") {
				t.Errorf("event %s/%s shows the client secret", e.Reason, e.Name)
			}
		}
	}
}

// privateRuleARN is the ARN of the listener's /private rule.
func privateRuleARN(t *testing.T, listenerARN string) string {
	t.Helper()
	for _, r := range rules(t, listenerARN) {
		if strings.Contains(ruleText(r), "/private") {
			return awssdk.ToString(r.RuleArn)
		}
	}
	t.Fatal("no /private rule")
	return ""
}

// wantSecretTag is nil when the rule's OIDC client secret fingerprint tag, read from AWS, is want.
func wantSecretTag(t *testing.T, ruleARN, want string) error {
	t.Helper()
	const key = "gateway.k8s.aws.alb/oidc-secret-hash"
	out, err := env.elb.DescribeTags(context.Background(), &elbv2.DescribeTagsInput{ResourceArns: []string{ruleARN}})
	if err != nil {
		return err
	}
	for _, d := range out.TagDescriptions {
		for _, tag := range d.Tags {
			if awssdk.ToString(tag.Key) == key {
				if v := awssdk.ToString(tag.Value); v != want {
					return fmt.Errorf("tag %s is %q, want %q", key, v, want)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("the rule has no tag %s", key)
}

// oidcRule is nil when the listener has a /private rule that authenticates with the client ID
// and then forwards.
func oidcRule(t *testing.T, listenerARN, clientID string) error {
	for _, r := range rules(t, listenerARN) {
		text := ruleText(r)
		if strings.Contains(text, "/private") {
			if strings.Contains(text, "authenticate-oidc:"+clientID+" forward:") {
				return nil
			}
			return fmt.Errorf("the /private rule is %s", text)
		}
	}
	return fmt.Errorf("no /private rule")
}
