package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// lbcALBManifests are an ALB Gateway with one HTTPRoute: /api to Service api, the rest to web,
// both with ip targets.
const lbcALBManifests = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: lbc-alb
spec:
  controllerName: gateway.k8s.aws/alb
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
spec:
  gatewayClassName: lbc-alb
  listeners:
  - name: http
    protocol: HTTP
    port: 80
---
apiVersion: gateway.k8s.aws/v1beta1
kind: TargetGroupConfiguration
metadata:
  name: api
spec:
  targetReference:
    name: api
  defaultConfiguration:
    targetType: ip
---
apiVersion: gateway.k8s.aws/v1beta1
kind: TargetGroupConfiguration
metadata:
  name: web
spec:
  targetReference:
    name: web
  defaultConfiguration:
    targetType: ip
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetPort: 8081
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: api-1
  labels:
    kubernetes.io/service-name: api
addressType: IPv4
ports:
- port: 8080
  protocol: TCP
endpoints:
- addresses: [192.0.2.20]
  conditions: {ready: true}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
ports:
- port: 8081
  protocol: TCP
endpoints:
- addresses: [192.0.2.21]
  conditions: {ready: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: shop
spec:
  parentRefs:
  - name: web
  rules:
  - matches:
    - path: {type: PathPrefix, value: /api}
    backendRefs:
    - name: api
      port: 80
  - backendRefs:
    - name: web
      port: 80
`

// lbcALBStack is what LBC made for Gateway web: the ALB, its HTTP:80 listener, two rules and
// two target groups.
type lbcALBStack struct {
	lbARN, dnsName, listenerARN string
	ruleARNs                    [2]string // /api, then /*
	apiTG, webTG                string
}

// createLBCALBStack creates, as LBC v3.5 does for lbcALBManifests, the stack of Gateway ns/web
// with uid for cluster: an internal ALB in the private subnets with a managed and the shared
// backend security group; a listener whose default action is LBC's 404; one rule per route rule
// (priorities by LBC's precedence: the longer path first) forwarding to the route's target group.
func createLBCALBStack(t *testing.T, cluster string, vpc *testenv.VPC, ns, uid string) lbcALBStack {
	t.Helper()
	ctx := context.Background()
	stack := ns + "/web"
	tags := func(resource string) map[string]string {
		return map[string]string{"elbv2.k8s.aws/cluster": cluster, "gateway.k8s.aws.alb/stack": stack,
			"gateway.k8s.aws.alb/resource": resource}
	}
	sgID, backendID := createLBCSecurityGroups(t, cluster, vpc, ns, "web", uid, tags("ManagedLBSecurityGroup"), 80)
	lb, err := env.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: awssdk.String(lbcName(ns, "web", cluster, uid, "internal")),
		Type: elbtypes.LoadBalancerTypeEnumApplication, Scheme: elbtypes.LoadBalancerSchemeEnumInternal,
		Subnets: vpc.PrivateSubnets, SecurityGroups: []string{sgID, backendID},
		Tags: elbTags(tags("LoadBalancer")),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := lbcALBStack{lbARN: awssdk.ToString(lb.LoadBalancers[0].LoadBalancerArn), dnsName: awssdk.ToString(lb.LoadBalancers[0].DNSName)}
	targetGroup := func(svc, port, ip string) string {
		tg, err := env.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name:     awssdk.String(lbcName(ns, "shop", cluster, ns, "web", ns, "shop", "HTTPRoute", ns, svc, port, "ip", "HTTP", "HTTP1")),
			Protocol: elbtypes.ProtocolEnumHttp, ProtocolVersion: awssdk.String("HTTP1"), Port: awssdk.Int32(int32(atoi(t, port))),
			VpcId: awssdk.String(vpc.VPCID), TargetType: elbtypes.TargetTypeEnumIp,
			HealthCheckProtocol: elbtypes.ProtocolEnumHttp, HealthCheckPort: awssdk.String("traffic-port"),
			HealthCheckPath: awssdk.String("/"), Matcher: &elbtypes.Matcher{HttpCode: awssdk.String("200-399")},
			HealthCheckIntervalSeconds: awssdk.Int32(15), HealthCheckTimeoutSeconds: awssdk.Int32(5),
			HealthyThresholdCount: awssdk.Int32(3), UnhealthyThresholdCount: awssdk.Int32(3),
			Tags: elbTags(tags(fmt.Sprintf("%s:%s-shop:HTTPRoute-%s-%s:%s", stack, ns, ns, svc, port))),
		})
		if err != nil {
			t.Fatal(err)
		}
		arn := awssdk.ToString(tg.TargetGroups[0].TargetGroupArn)
		if _, err := env.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &arn, Targets: []elbtypes.TargetDescription{
			{Id: awssdk.String(ip), Port: awssdk.Int32(int32(atoi(t, port))), AvailabilityZone: awssdk.String("all")}}}); err != nil {
			t.Fatal(err)
		}
		return arn
	}
	s.apiTG, s.webTG = targetGroup("api", "8080", "192.0.2.20"), targetGroup("web", "8081", "192.0.2.21")
	l, err := env.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: &s.lbARN, Protocol: elbtypes.ProtocolEnumHttp, Port: awssdk.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: awssdk.String("404"), ContentType: awssdk.String("text/plain")}}},
		Tags: elbTags(tags("80")),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.listenerARN = awssdk.ToString(l.Listeners[0].ListenerArn)
	for i, r := range []struct {
		paths []string
		tg    string
	}{{[]string{"/api", "/api/*"}, s.apiTG}, {[]string{"/*"}, s.webTG}} {
		rule, err := env.elb.CreateRule(ctx, &elbv2.CreateRuleInput{
			ListenerArn: &s.listenerARN, Priority: awssdk.Int32(int32(i + 1)),
			Conditions: []elbtypes.RuleCondition{{Field: awssdk.String("path-pattern"),
				PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: r.paths}}},
			Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
				TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: awssdk.String(r.tg), Weight: awssdk.Int32(1)}}}}},
			Tags: elbTags(tags(fmt.Sprintf("80:%d", i+1))),
		})
		if err != nil {
			t.Fatal(err)
		}
		s.ruleARNs[i] = awssdk.ToString(rule.Rules[0].RuleArn)
	}
	return s
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrateFromLBCALB: an ALB LBC made for an HTTPRoute is taken over with its listener, its
// rules (same ARNs, same priorities) and its target groups; the Gateway waits while LBC's
// binding (labelled for the ALB controller) exists.
func TestMigrateFromLBCALB(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	const cluster = "lbc-alb-migration"
	ctx := context.Background()
	kube := startTestCluster(t, testenv.ClusterOptions{})
	vpc, err := testenv.SeedVPC(ctx, env.moto.Endpoint, region, cluster)
	if err != nil {
		t.Fatal(err)
	}
	w := &migrationWorld{cluster: cluster, cfg: kube, vpc: vpc}
	w.client = newDirectClient(t, kube)
	w.ns = newNamespaceIn(t, w.client)
	applyYAML(t, w.client, w.ns, lbcALBManifests)
	var gw gwv1.Gateway
	if err := w.client.Get(ctx, types.NamespacedName{Namespace: w.ns, Name: "web"}, &gw); err != nil {
		t.Fatal(err)
	}
	w.installLBCBindings(t)
	lbc := createLBCALBStack(t, cluster, vpc, w.ns, string(gw.UID))
	binding := w.createLBCBinding(t, lbc.apiTG)
	binding.SetLabels(map[string]string{"gateway.k8s.aws.alb/stack-namespace": w.ns, "gateway.k8s.aws.alb/stack-name": "web"})
	if err := w.client.Update(ctx, binding); err != nil {
		t.Fatal(err)
	}

	cloud := w.startElbgatewayGates(t, cluster, controller.Gates{ALB: true})
	eventually(t, 60*timeoutScale, "the ALB Gateway left to LBC's binding", func() error {
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: w.ns, Name: "web"}, &gw); err != nil {
			return err
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "LBCTargetGroupBindings" || !strings.Contains(c.Message, "ALBGatewayAPI") {
			return fmt.Errorf("conditions %s", conditionsText(gw.Status.Conditions))
		}
		return nil
	})
	if err := w.client.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	got, lbARN := programmedGateway(t, w.client, w.ns, "web")
	if lbARN != lbc.lbARN || !strings.EqualFold(got.Status.Addresses[0].Value, lbc.dnsName) {
		t.Fatalf("programmed on %s at %s, want LBC's %s at %s", lbARN, got.Status.Addresses[0].Value, lbc.lbARN, lbc.dnsName)
	}
	// elbgateway numbers rules by precedence bands, not 1, 2, 3… as LBC does: LBC's rules are
	// kept and moved, in the same order, to the priorities elbgateway wants.
	eventually(t, 30*timeoutScale, "the listener's rules are LBC's, at the desired priorities", func() error {
		ls := listeners(t, lbARN)
		if len(ls) != 1 || awssdk.ToString(ls[0].ListenerArn) != lbc.listenerARN {
			return fmt.Errorf("listeners %s, want LBC's %s only", listenerSummary(ls), lbc.listenerARN)
		}
		out, err := env.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: &lbc.listenerARN})
		if err != nil {
			return err
		}
		byARN := map[string]int{}
		var have []string
		for _, r := range out.Rules {
			if !awssdk.ToBool(r.IsDefault) {
				byARN[awssdk.ToString(r.RuleArn)] = atoi(t, awssdk.ToString(r.Priority))
				have = append(have, awssdk.ToString(r.Priority)+" "+awssdk.ToString(r.RuleArn))
			}
		}
		api, rest := byARN[lbc.ruleARNs[0]], byARN[lbc.ruleARNs[1]]
		if len(byARN) != 2 || api == 0 || rest == 0 || api >= rest {
			return fmt.Errorf("rules %v, want LBC's /api rule %s before its /* rule %s, and no other", have, lbc.ruleARNs[0], lbc.ruleARNs[1])
		}
		if api == 1 && rest == 2 {
			return fmt.Errorf("rules %v still at LBC's priorities", have)
		}
		return nil
	})
	tgs := targetGroups(t, lbARN)
	var tgARNs []string
	for _, tg := range tgs {
		tgARNs = append(tgARNs, awssdk.ToString(tg.TargetGroupArn))
	}
	if len(tgARNs) != 2 || !strings.Contains(strings.Join(tgARNs, " "), lbc.apiTG) || !strings.Contains(strings.Join(tgARNs, " "), lbc.webTG) {
		t.Errorf("target groups %v, want LBC's %s and %s", tgNames(tgs), lbc.apiTG, lbc.webTG)
	}
	time.Sleep(2 * time.Second)
	writes := writeCalls(nil, cloud.CallCounts())
	t.Logf("AWS writes while adopting: %v", writes)
	for op, n := range writes {
		name := op[strings.Index(op, ":")+1:]
		if strings.HasPrefix(name, "Create") && name != "CreateTags" || strings.HasPrefix(name, "Delete") && name != "DeleteTags" ||
			name == "ModifyRule" || name == "SetRulePriorities" && n > 1 {
			t.Errorf("elbgateway called %s %d times while adopting LBC's ALB", op, n)
		}
	}
}
