package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/shield"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestALBAddons: a LoadBalancerConfiguration's wafV2, shieldConfiguration and
// minimumLoadBalancerCapacity on an ALB Gateway, through the strict layer (WAFv2 and Shield in
// moto, capacity reservations in the layer) behind a fault proxy. Each is set, changed, repaired
// after an out-of-band change, and removed; each refusal shows on the Gateway naming the field
// and is not retried until the configuration changes.
func TestALBAddons(t *testing.T) {
	parallelWorld(t, true) // a world of its own (world_test.go)
	w := startFaultWorld(t)
	co := cloudOptions(w.name, w.vpc.VPCID, w.proxy.URL)
	co.AppliedTrust = time.Second
	cloud, err := aws.New(context.Background(), co)
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(w.name, cloud)
	// A resync every few seconds repairs drift; refusals wait the default cap.
	o.VPCID, o.Resync = w.vpc.VPCID, 3*time.Second
	startTestController(t, w.cluster.Config, o)

	ctx := context.Background()
	cfg := testenv.AWSConfig(env.moto.Endpoint, region)
	waf := wafv2.NewFromConfig(cfg)
	shieldc := shield.NewFromConfig(cfg)
	aclA, aclB := createWebACL(t, waf, "acl-a"), createWebACL(t, waf, "acl-b")

	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, "examples/seed-l4/backend-service.yaml")
	applyYAML(t, w.client, ns, albClass+"---"+addonsConfig(aclA, true, 100)+"---"+ipTargets+"---"+
		albGateway("gw", "  - {name: http, protocol: HTTP, port: 80}\n"))

	var lbARN string
	t.Run("without a Shield subscription the Gateway says so and the other addons are set", func(t *testing.T) {
		c := w.waitGatewayCondition(t, ns, "gw", "Programmed", metav1.ConditionFalse, string(gwv1.GatewayReasonInvalid))
		if !strings.Contains(c.Message, "shieldConfiguration") || !strings.Contains(c.Message, "ShieldSubscriptionInactive") {
			t.Errorf("Programmed message %q names neither shieldConfiguration nor the inactive subscription", c.Message)
		}
		lbARN = gatewayLoadBalancer(t, w, ns)
		waitWebACL(t, waf, lbARN, aclA)
		waitCapacity(t, lbARN, 100)
		if n := w.proxy.ServiceCounts()["shield:CreateProtection"]; n != 0 {
			t.Errorf("CreateProtection called %d times without a subscription", n)
		}
	})

	t.Run("a refusal is not retried until the configuration changes", func(t *testing.T) {
		before := w.proxy.ServiceCounts()["shield:GetSubscriptionState"]
		// Resyncs every 3s: none may ask Shield again within the backoff.
		time.Sleep(10 * time.Second)
		if n := w.proxy.ServiceCounts()["shield:GetSubscriptionState"] - before; n != 0 {
			t.Errorf("GetSubscriptionState asked %d more times while backing off", n)
		}
	})

	t.Run("with a subscription the load balancer is protected", func(t *testing.T) {
		if _, err := shieldc.CreateSubscription(ctx, &shield.CreateSubscriptionInput{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = shieldc.DeleteSubscription(ctx, &shield.DeleteSubscriptionInput{}) })
		// A changed configuration retries at once.
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", `{"spec":{"minimumLoadBalancerCapacity":{"capacityUnits":200}}}`)
		w.waitGatewayCondition(t, ns, "gw", "Programmed", metav1.ConditionTrue, string(gwv1.GatewayReasonProgrammed))
		waitCapacity(t, lbARN, 200)
		waitProtection(t, shieldc, lbARN, true)
	})

	t.Run("a changed web ACL replaces the association", func(t *testing.T) {
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", fmt.Sprintf(`{"spec":{"wafV2":{"webACL":%q}}}`, aclB))
		waitWebACL(t, waf, lbARN, aclB)
	})

	t.Run("an addon removed out of band comes back", func(t *testing.T) {
		if _, err := waf.DisassociateWebACL(ctx, &wafv2.DisassociateWebACLInput{ResourceArn: &lbARN}); err != nil {
			t.Fatal(err)
		}
		p, err := shieldc.DescribeProtection(ctx, &shield.DescribeProtectionInput{ResourceArn: &lbARN})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := shieldc.DeleteProtection(ctx, &shield.DeleteProtectionInput{ProtectionId: p.Protection.Id}); err != nil {
			t.Fatal(err)
		}
		waitWebACL(t, waf, lbARN, aclB)
		waitProtection(t, shieldc, lbARN, true)
	})

	t.Run("AccessDenied on WAFv2 shows on the Gateway and is not retried", func(t *testing.T) {
		w.proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Service: "wafv2", Action: "AssociateWebACL", Code: "AccessDeniedException"})
		defer w.proxy.SetFaults()
		before := w.proxy.ServiceCounts()["wafv2:AssociateWebACL"]
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", fmt.Sprintf(`{"spec":{"wafV2":{"webACL":%q}}}`, aclA))
		c := w.waitGatewayCondition(t, ns, "gw", "Programmed", metav1.ConditionFalse, string(gwv1.GatewayReasonInvalid))
		if !strings.Contains(c.Message, "wafV2.webACL") || !strings.Contains(c.Message, "AccessDeniedException") {
			t.Errorf("Programmed message %q names neither wafV2.webACL nor AccessDeniedException", c.Message)
		}
		time.Sleep(10 * time.Second)
		if n := w.proxy.ServiceCounts()["wafv2:AssociateWebACL"] - before; n != 1 {
			t.Errorf("AssociateWebACL called %d times after AccessDenied within the backoff, want 1", n)
		}
		waitWebACL(t, waf, lbARN, aclB)
	})

	t.Run("a web ACL of another scope is refused before any call", func(t *testing.T) {
		before := w.proxy.ServiceCounts()["wafv2:AssociateWebACL"]
		global := strings.Replace(aclA, ":regional/", ":global/", 1)
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", fmt.Sprintf(`{"spec":{"wafV2":{"webACL":%q}}}`, global))
		c := w.waitGatewayCondition(t, ns, "gw", "Accepted", metav1.ConditionFalse, "InvalidParameters")
		if !strings.Contains(c.Message, "wafV2.webACL") {
			t.Errorf("Accepted message %q does not name wafV2.webACL", c.Message)
		}
		if n := w.proxy.ServiceCounts()["wafv2:AssociateWebACL"] - before; n != 0 {
			t.Errorf("AssociateWebACL called %d times for a refused web ACL", n)
		}
	})

	t.Run("removed addons are removed", func(t *testing.T) {
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config",
			`{"spec":{"wafV2":null,"shieldConfiguration":null,"minimumLoadBalancerCapacity":null}}`)
		w.waitGatewayCondition(t, ns, "gw", "Programmed", metav1.ConditionTrue, string(gwv1.GatewayReasonProgrammed))
		waitWebACL(t, waf, lbARN, "")
		waitProtection(t, shieldc, lbARN, false)
		waitCapacity(t, lbARN, 0)
		eventually(t, time.Minute, "the addons tag gone", func() error {
			for k, v := range loadBalancerTags(t, lbARN) {
				if strings.Contains(k, "addons") {
					return fmt.Errorf("tag %s=%s", k, v)
				}
			}
			return nil
		})
		// A Gateway without addons reads none.
		w.proxy.ResetCounts()
		time.Sleep(7 * time.Second)
		counts := w.proxy.ServiceCounts()
		for _, op := range []string{"wafv2:GetWebACLForResource", "shield:DescribeProtection", "elasticloadbalancing:DescribeCapacityReservation"} {
			if counts[op] != 0 {
				t.Errorf("%s called %d times for a Gateway without addons", op, counts[op])
			}
		}
	})

	t.Run("a deleted Gateway's protection goes with its load balancer", func(t *testing.T) {
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", `{"spec":{"shieldConfiguration":{"enabled":true}}}`)
		waitProtection(t, shieldc, lbARN, true)
		w.deleteGateway(t, ns, "gw", 2*time.Minute)
		waitProtection(t, shieldc, lbARN, false)
	})

	// The account's Shield subscription, made above, stays (AWS has no way back from one, and
	// moto none either): the Shield tests that need it follow here, never before the case
	// without it.
	t.Run("a plan from the remembered stack deletes the protection", testALBShieldFromMemory)
}

func addonsConfig(webACL string, shieldOn bool, units int) string {
	return fmt.Sprintf(`
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata:
  name: alb-config
spec:
  scheme: internet-facing
  wafV2: {webACL: %q}
  shieldConfiguration: {enabled: %t}
  minimumLoadBalancerCapacity: {capacityUnits: %d}
`, webACL, shieldOn, units)
}

func createWebACL(t *testing.T, c *wafv2.Client, name string) string {
	t.Helper()
	out, err := c.CreateWebACL(context.Background(), &wafv2.CreateWebACLInput{
		Name: awssdk.String(name + "-" + fmt.Sprint(time.Now().UnixNano())), Scope: waftypes.ScopeRegional,
		DefaultAction:    &waftypes.DefaultAction{Allow: &waftypes.AllowAction{}},
		VisibilityConfig: &waftypes.VisibilityConfig{CloudWatchMetricsEnabled: false, MetricName: awssdk.String(name), SampledRequestsEnabled: false},
	})
	if err != nil {
		t.Fatal(err)
	}
	return awssdk.ToString(out.Summary.ARN)
}

func gatewayLoadBalancer(t *testing.T, w *faultWorld, ns string) string {
	t.Helper()
	var arn string
	eventually(t, time.Minute, "the Gateway's load balancer", func() error {
		for _, a := range taggedELBResources(t, w.vpc.VPCID, "gateway.k8s.aws.alb/stack", ns+"/gw") {
			if strings.Contains(a, ":loadbalancer/") {
				arn = a
				return nil
			}
		}
		return fmt.Errorf("no load balancer tagged for %s/gw", ns)
	})
	return arn
}

// loadBalancerTags reads the tags of the load balancer arn from AWS, by key.
func loadBalancerTags(t *testing.T, arn string) map[string]string {
	t.Helper()
	out, err := env.elb.DescribeTags(context.Background(), &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, d := range out.TagDescriptions {
		for _, tag := range d.Tags {
			tags[awssdk.ToString(tag.Key)] = awssdk.ToString(tag.Value)
		}
	}
	return tags
}

func waitWebACL(t *testing.T, c *wafv2.Client, lbARN, want string) {
	t.Helper()
	eventually(t, time.Minute, "web ACL "+want, func() error {
		out, err := c.GetWebACLForResource(context.Background(), &wafv2.GetWebACLForResourceInput{ResourceArn: &lbARN})
		if err != nil {
			return err
		}
		var got string
		if out.WebACL != nil {
			got = awssdk.ToString(out.WebACL.ARN)
		}
		if got != want {
			return fmt.Errorf("web ACL %q", got)
		}
		return nil
	})
}

func waitProtection(t *testing.T, c *shield.Client, lbARN string, want bool) {
	t.Helper()
	eventually(t, time.Minute, fmt.Sprintf("Shield protection %t", want), func() error {
		_, err := c.DescribeProtection(context.Background(), &shield.DescribeProtectionInput{ResourceArn: &lbARN})
		got := err == nil
		if err != nil && aws.ErrorCode(err) != "ResourceNotFoundException" {
			return err
		}
		if got != want {
			return fmt.Errorf("protected %t", got)
		}
		return nil
	})
}

func waitCapacity(t *testing.T, lbARN string, want int32) {
	t.Helper()
	eventually(t, time.Minute, fmt.Sprintf("%d capacity units", want), func() error {
		out, err := env.elb.DescribeCapacityReservation(context.Background(), &elbv2.DescribeCapacityReservationInput{LoadBalancerArn: &lbARN})
		if err != nil {
			return err
		}
		var got int32
		if out.MinimumLoadBalancerCapacity != nil {
			got = awssdk.ToInt32(out.MinimumLoadBalancerCapacity.CapacityUnits)
		}
		if got != want {
			return fmt.Errorf("%d capacity units", got)
		}
		return nil
	})
}

// testALBShieldFromMemory: a plan run against the stack remembered from the last apply (no
// read of AWS in between, the default trust) still deletes the Shield protection that apply
// created, both when the addon is removed and when the Gateway goes. Part of TestALBAddons,
// after its case without a subscription.
func testALBShieldFromMemory(t *testing.T) {
	w := startFaultWorld(t)
	cloud, err := aws.New(context.Background(), cloudOptions(w.name, w.vpc.VPCID, w.proxy.URL))
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(w.name, cloud)
	o.VPCID = w.vpc.VPCID
	startTestController(t, w.cluster.Config, o)

	ctx := context.Background()
	shieldc := shield.NewFromConfig(testenv.AWSConfig(env.moto.Endpoint, region))
	// The subscription TestALBAddons made before this case stays; making it again may be refused.
	if _, err := shieldc.CreateSubscription(ctx, &shield.CreateSubscriptionInput{}); err != nil && !strings.Contains(err.Error(), "ResourceAlreadyExists") {
		t.Fatal(err)
	}

	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, "examples/seed-l4/backend-service.yaml")
	applyYAML(t, w.client, ns, albClass+"---"+shieldConfig(false)+"---"+ipTargets+"---"+
		albGateway("gw", "  - {name: http, protocol: HTTP, port: 80}\n"))
	w.waitGatewayCondition(t, ns, "gw", "Programmed", metav1.ConditionTrue, string(gwv1.GatewayReasonProgrammed))
	lbARN := gatewayLoadBalancer(t, w, ns)
	// The stack settles (an active load balancer, observed once) before the addon changes.
	eventually(t, time.Minute, "the applied-stack tag", func() error {
		for k := range loadBalancerTags(t, lbARN) {
			if strings.HasSuffix(k, "/applied-stack") {
				return nil
			}
		}
		return fmt.Errorf("no applied-stack tag on %s", lbARN)
	})

	t.Run("a Shield addon added then removed leaves no protection", func(t *testing.T) {
		reads := w.proxy.ServiceCounts()["elasticloadbalancing:DescribeLoadBalancers"]
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", `{"spec":{"shieldConfiguration":{"enabled":true}}}`)
		waitProtection(t, shieldc, lbARN, true)
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", `{"spec":{"shieldConfiguration":null}}`)
		waitProtection(t, shieldc, lbARN, false)
		if n := w.proxy.ServiceCounts()["elasticloadbalancing:DescribeLoadBalancers"] - reads; n != 0 {
			t.Errorf("the plans read the load balancer %d times: they did not run from memory", n)
		}
	})

	t.Run("a protection an earlier attempt made is found by the load balancer and deleted", func(t *testing.T) {
		// A CreateProtection whose answer was lost: the protection exists, named as ours, and the
		// controller's own CreateProtection finds the load balancer protected already.
		if _, err := shieldc.CreateProtection(ctx, &shield.CreateProtectionInput{
			Name: awssdk.String("managed by elbgateway"), ResourceArn: &lbARN}); err != nil {
			t.Fatal(err)
		}
		before := w.proxy.ServiceCounts()["shield:CreateProtection"]
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", `{"spec":{"shieldConfiguration":{"enabled":true}}}`)
		eventually(t, time.Minute, "CreateProtection asked", func() error {
			if w.proxy.ServiceCounts()["shield:CreateProtection"] == before {
				return fmt.Errorf("not yet")
			}
			return nil
		})
		w.waitGatewayCondition(t, ns, "gw", "Programmed", metav1.ConditionTrue, string(gwv1.GatewayReasonProgrammed))
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", `{"spec":{"shieldConfiguration":null}}`)
		waitProtection(t, shieldc, lbARN, false)
	})

	t.Run("a deleted Gateway's protection goes", func(t *testing.T) {
		w.patch(t, &awsv1.LoadBalancerConfiguration{}, ns, "alb-config", `{"spec":{"shieldConfiguration":{"enabled":true}}}`)
		waitProtection(t, shieldc, lbARN, true)
		w.deleteGateway(t, ns, "gw", 2*time.Minute)
		waitProtection(t, shieldc, lbARN, false)
	})
}

func shieldConfig(on bool) string {
	return fmt.Sprintf(`
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata:
  name: alb-config
spec:
  scheme: internet-facing
  shieldConfiguration: {enabled: %t}
`, on)
}
