package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// Truthful status and failure isolation, on a cluster of its own whose controller reaches AWS
// through a fault proxy (calls counted, refusals injected): a refused input costs no call, a
// refused change shows on its own object and stops nothing else, a held Gateway keeps its
// targets fed across a restart, deletion protection keeps the load balancer and says so, a load
// balancer deleted out of band comes back, and resyncs that read back a rule with transforms
// write nothing.
func TestFailuresStayOnTheirObjects(t *testing.T) {
	parallelWorld(t, true) // a world of its own (world_test.go)
	w := startFaultWorld(t)
	stop := w.startTruthfulController(t)
	t.Run("nonexistent subnet IDs are refused before any call", w.nonexistentSubnets)
	t.Run("refused inputs cost no call", w.refusals)
	t.Run("a refused HTTPS listener leaves the HTTP listener serving", w.refusedHTTPSListener)
	t.Run("a load balancer deleted out of band comes back", w.drift)
	t.Run("resyncs of a rewriting route modify no rule", w.rewriteConverges)
	t.Run("deletion protection keeps the load balancer and the finalizer", w.deletionProtection)
	t.Run("the shared backend group stays while any load balancer carries it", w.backendGroupInUse)
	t.Run("a route gets a status while AWS cannot be read", w.routeStatusWhileAWSFails)
	t.Run("a refused delete keeps the finalizer", w.refusedDelete)
	stop()
	t.Run("a held Gateway's targets follow its EndpointSlice after a restart", w.heldAfterRestart)
}

// startTruthfulController starts both controllers through the proxy, resyncing every few
// seconds (the drift repair period).
func (w *faultWorld) startTruthfulController(t *testing.T) (stop func()) {
	t.Helper()
	co := cloudOptions(w.name, w.vpc.VPCID, w.proxy.URL)
	co.AppliedTrust = time.Second // below the resync, as in production
	cloud, err := aws.New(context.Background(), co)
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(w.name, cloud)
	o.VPCID, o.Resync = w.vpc.VPCID, 3*time.Second
	// These tests check where failures show and that they heal; how seldom a refusal is
	// retried is TestFaultInjection's, at the default cap.
	o.RetryCap = 3 * time.Second
	stop, _ = startTestController(t, w.cluster.Config, o)
	return stop
}

func (w *faultWorld) nonexistentSubnets(t *testing.T) {
	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	w.proxy.ResetCounts()
	w.patch(t, &gwv1.Gateway{}, ns, "aws-tcp-gateway", `{"spec":{"infrastructure":{"parametersRef":{"group":"gateway.k8s.aws","kind":"LoadBalancerConfiguration","name":"bad-subnets"}}}}`)
	applyYAML(t, w.client, ns, `
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata:
  name: bad-subnets
spec:
  scheme: internet-facing
  loadBalancerSubnets:
  - identifier: subnet-0123456789abcdef0
`)
	c := w.waitGatewayCondition(t, ns, "aws-tcp-gateway", "Accepted", metav1.ConditionFalse, "InvalidParameters")
	if !strings.Contains(c.Message, "spec.loadBalancerSubnets[0].identifier") {
		t.Errorf("Accepted message %q does not name the field", c.Message)
	}
	time.Sleep(2 * time.Second) // a few more reconciles, to count what they cost
	if n := w.proxy.Counts()["CreateLoadBalancer"]; n != 0 {
		t.Errorf("%d CreateLoadBalancer calls for a Gateway refused in translation, want 0", n)
	}
	w.deleteGateway(t, ns, "aws-tcp-gateway", time.Minute)
}

func (w *faultWorld) refusedHTTPSListener(t *testing.T) {
	ns := newNamespaceIn(t, w.client)
	w.proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Action: "CreateListener", BodyContains: "Protocol=HTTPS", Code: "CertificateNotFound"})
	defer w.proxy.SetFaults()
	applyFiles(t, w.client, ns, "examples/seed-l4/backend-service.yaml")
	applyYAML(t, w.client, ns, albClass+"---"+albConfig(importCertificate(t, "secure.example.com"))+"---"+ipTargets+"---"+
		albGateway("gw", "  - {name: http, protocol: HTTP, port: 80}\n  - {name: https, protocol: HTTPS, port: 443}\n")+"---"+
		pathRoute("web", "/web")+"---"+strings.Replace(pathRoute("secure", "/secure"), "sectionName: http}]", "sectionName: https}]", 1))
	w.waitListenerCondition(t, ns, "gw", "http", metav1.ConditionTrue, "Programmed")
	https := w.waitListenerCondition(t, ns, "gw", "https", metav1.ConditionFalse, "Invalid")
	if !strings.Contains(https.Message, "CertificateNotFound") {
		t.Errorf("https listener Programmed message %q does not carry the AWS error code", https.Message)
	}
	eventually(t, 30*time.Second, "the route on https says it is not programmed there", func() error {
		c, err := parentConditionOf(w.client, albController, routeRef{apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", ns: ns, name: "secure"}, "Accepted")
		if err != nil {
			return err
		}
		if !strings.Contains(c.Message, "not programmed on port 443") || !strings.Contains(c.Message, "CertificateNotFound") {
			return fmt.Errorf("Accepted %s %q", c.Status, c.Message)
		}
		return nil
	})
	eventually(t, 30*time.Second, "the route on http accepted without a failure note", func() error {
		web, err := parentConditionOf(w.client, albController, routeRef{apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", ns: ns, name: "web"}, "Accepted")
		if err != nil {
			return err
		}
		if web.Status != metav1.ConditionTrue || strings.Contains(web.Message, "not programmed") {
			return fmt.Errorf("Accepted %s %q", web.Status, web.Message)
		}
		return nil
	})
	lbARN := w.loadBalancerOf(t, "gateway.k8s.aws.alb/stack", ns+"/gw")
	if got := listenerSummary(listeners(t, lbARN)); got != "HTTP:80" {
		t.Errorf("listeners %q, want HTTP:80 only while HTTPS is refused", got)
	}
	// Every target group that exists is fed, the one behind the refused listener too.
	tgs := stackTargetGroups(t, ns+"/gw")
	if len(tgs) != 2 {
		t.Fatalf("%d target groups, want 2 (one per route)", len(tgs))
	}
	for _, tg := range tgs {
		waitTargets(t, "targets of "+awssdk.ToString(tg.TargetGroupName), awssdk.ToString(tg.TargetGroupArn), "192.0.2.10:3000")
	}
	if w.proxy.Injected() == 0 {
		t.Fatal("the proxy refused no CreateListener: the test does not exercise a refusal")
	}
	w.proxy.SetFaults()
	w.waitListenerCondition(t, ns, "gw", "https", metav1.ConditionTrue, "Programmed")
	w.deleteGateway(t, ns, "gw", time.Minute)
}

func (w *faultWorld) drift(t *testing.T) {
	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	first := w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	if _, err := env.elb.DeleteLoadBalancer(context.Background(), &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: &first}); err != nil {
		t.Fatal(err)
	}
	var second string
	eventually(t, time.Minute, "a new load balancer after the out-of-band delete", func() error {
		c, err := w.programmed(ns, "aws-tcp-gateway")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue || c.Message == first {
			return fmt.Errorf("Programmed %s %q", c.Status, c.Message)
		}
		second = c.Message
		return nil
	})
	waitListeners(t, second, "TCP:8080")
	w.deleteGateway(t, ns, "aws-tcp-gateway", time.Minute)
}

func (w *faultWorld) deletionProtection(t *testing.T) {
	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	lbARN := w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	setProtection := func(on string) {
		t.Helper()
		if _, err := env.elb.ModifyLoadBalancerAttributes(context.Background(), &elbv2.ModifyLoadBalancerAttributesInput{
			LoadBalancerArn: &lbARN, Attributes: []elbtypes.LoadBalancerAttribute{{Key: awssdk.String("deletion_protection.enabled"), Value: &on}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	setProtection("true")
	gw := &gwv1.Gateway{}
	gw.Namespace, gw.Name = ns, "aws-tcp-gateway"
	if err := w.client.Delete(context.Background(), gw); err != nil {
		t.Fatal(err)
	}
	c := w.waitGatewayCondition(t, ns, "aws-tcp-gateway", "Programmed", metav1.ConditionFalse, "DeletionProtected")
	if !strings.Contains(c.Message, "deletion_protection.enabled") {
		t.Errorf("Programmed message %q does not say how to let the Gateway go", c.Message)
	}
	if err := loadBalancerGone(lbARN); err == nil {
		t.Fatal("the protected load balancer was deleted")
	}
	setProtection("false")
	eventually(t, 2*time.Minute, "load balancer gone once protection is off", func() error {
		return loadBalancerGone(lbARN)
	})
	eventually(t, time.Minute, "Gateway gone with its load balancer", func() error {
		err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "aws-tcp-gateway"}, gw)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
}

func (w *faultWorld) heldAfterRestart(t *testing.T) {
	stop := w.startTruthfulController(t)
	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	lbARN := w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 {
		t.Fatalf("%d target groups, want 1", len(tgs))
	}
	tgARN := awssdk.ToString(tgs[0].TargetGroupArn)
	waitTargets(t, "the seed's endpoint", tgARN, "192.0.2.10:3000")
	stop()
	// While no controller runs, the Gateway becomes one translation rejects: it is held at
	// what it has in AWS.
	w.patch(t, &gwv1.Gateway{}, ns, "aws-tcp-gateway", `{"spec":{"addresses":[{"type":"Hostname","value":"lb.example.com"}]}}`)
	w.startTruthfulController(t)
	w.waitGatewayCondition(t, ns, "aws-tcp-gateway", "Accepted", metav1.ConditionFalse, "UnsupportedAddress")
	w.patch(t, &discoveryv1.EndpointSlice{}, ns, "backend-1", `{"endpoints":[{"addresses":["192.0.2.11"],"conditions":{"ready":true,"serving":true,"terminating":false}}]}`)
	waitTargets(t, "the held Gateway's target group after the pod moved", tgARN, "192.0.2.11:3000")
	if err := loadBalancerGone(lbARN); err == nil {
		t.Fatal("the held Gateway's load balancer was deleted")
	}
	w.deleteGateway(t, ns, "aws-tcp-gateway", time.Minute)
}

// patch merge-patches an object.
func (w *faultWorld) patch(t *testing.T, obj client.Object, ns, name, patch string) {
	t.Helper()
	if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatal(err)
	}
	if err := w.client.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatalf("patching %s/%s: %v", ns, name, err)
	}
}

func (w *faultWorld) waitGatewayCondition(t *testing.T, ns, name, typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	eventually(t, time.Minute, fmt.Sprintf("Gateway %s/%s %s=%s/%s", ns, name, typ, status, reason), func() error {
		var gw gwv1.Gateway
		if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
			return err
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, typ)
		if c == nil || c.Status != status || c.Reason != reason {
			return fmt.Errorf("conditions %s", conditionsText(gw.Status.Conditions))
		}
		got = *c
		return nil
	})
	return got
}

func (w *faultWorld) waitListenerCondition(t *testing.T, ns, name, listener string, status metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	eventually(t, time.Minute, fmt.Sprintf("listener %s of %s/%s Programmed=%s/%s", listener, ns, name, status, reason), func() error {
		var gw gwv1.Gateway
		if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
			return err
		}
		for _, l := range gw.Status.Listeners {
			if string(l.Name) != listener {
				continue
			}
			c := meta.FindStatusCondition(l.Conditions, "Programmed")
			if c == nil || c.Status != status || c.Reason != reason {
				return fmt.Errorf("listener conditions %s", conditionsText(l.Conditions))
			}
			got = *c
			return nil
		}
		return fmt.Errorf("no status for listener %s", listener)
	})
	return got
}

// loadBalancerOf returns the ARN of the one load balancer tagged with a stack.
func (w *faultWorld) loadBalancerOf(t *testing.T, tag, stack string) string {
	t.Helper()
	for _, arn := range taggedELBResources(t, w.vpc.VPCID, tag, stack) {
		if strings.Contains(arn, ":loadbalancer/") {
			return arn
		}
	}
	t.Fatalf("no load balancer tagged %s=%s", tag, stack)
	return ""
}

func (w *faultWorld) backendGroupInUse(t *testing.T) {
	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	groups := securityGroups(t, tagFilter("elbv2.k8s.aws/cluster", w.name), tagFilter("elbv2.k8s.aws/resource", "backend-sg"),
		ec2types.Filter{Name: awssdk.String("vpc-id"), Values: []string{w.vpc.VPCID}})
	if len(groups) != 1 {
		t.Fatalf("%d shared backend security groups, want 1", len(groups))
	}
	backend := awssdk.ToString(groups[0].GroupId)
	// A load balancer that is not ours carries the group too.
	foreign, err := env.elb.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{
		Name: awssdk.String(fmt.Sprintf("foreign-%d", time.Now().UnixNano()%100000)), Type: elbtypes.LoadBalancerTypeEnumNetwork,
		Subnets: w.vpc.PublicSubnets[:1], SecurityGroups: []string{backend},
	})
	if err != nil {
		t.Fatal(err)
	}
	foreignARN := awssdk.ToString(foreign.LoadBalancers[0].LoadBalancerArn)
	w.deleteGateway(t, ns, "aws-tcp-gateway", time.Minute)
	if !groupExists(t, backend) {
		t.Errorf("the cluster's last Gateway deleted the shared backend group %s while load balancer %s carries it", backend, foreignARN)
	}
	if _, err := env.elb.DeleteLoadBalancer(context.Background(), &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: &foreignARN}); err != nil {
		t.Fatal(err)
	}
	// The next Gateway to go, now the last user, releases it.
	ns = newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	w.deleteGateway(t, ns, "aws-tcp-gateway", time.Minute)
	if groupExists(t, backend) {
		t.Errorf("shared backend group %s left after the last user went", backend)
	}
}

func (w *faultWorld) routeStatusWhileAWSFails(t *testing.T) {
	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	// Every ELB call refused from now on: gathering the facts or observing the stack fails.
	w.proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Service: "elasticloadbalancing", Code: "AccessDenied", Status: 403})
	applyYAML(t, w.client, ns, strings.Replace(readFile(t, env.root+"/examples/seed-l4/tcproute.yaml"), "name: tcp-backend-aws", "name: late", 1))
	eventually(t, 30*time.Second, "the route created during the failure has a status entry", func() error {
		_, err := parentConditionOf(w.client, "gateway.k8s.aws/nlb", routeRef{apiVersion: "gateway.networking.k8s.io/v1", kind: "TCPRoute", ns: ns, name: "late"}, "Accepted")
		return err
	})
	// The routes are written first, then the Gateway.
	eventually(t, 30*time.Second, "the Gateway Programmed=False with the AWS error", func() error {
		c, err := w.programmed(ns, "aws-tcp-gateway")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "AccessDenied") {
			return fmt.Errorf("Programmed %s %q", c.Status, c.Message)
		}
		return nil
	})
	w.proxy.SetFaults()
	w.deleteGateway(t, ns, "aws-tcp-gateway", time.Minute)
}

func (w *faultWorld) refusedDelete(t *testing.T) {
	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, seedFiles...)
	lbARN := w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	w.proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Action: "DeleteTargetGroup", Code: "AccessDenied", Status: 403})
	defer w.proxy.SetFaults()
	gw := &gwv1.Gateway{}
	gw.Namespace, gw.Name = ns, "aws-tcp-gateway"
	if err := w.client.Delete(context.Background(), gw); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the load balancer deleted", func() error { return loadBalancerGone(lbARN) })
	eventually(t, 30*time.Second, "a refused DeleteTargetGroup", func() error {
		if w.proxy.Injected() == 0 {
			return fmt.Errorf("no DeleteTargetGroup yet")
		}
		return nil
	})
	time.Sleep(time.Second)
	if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: gw.Name}, gw); err != nil {
		t.Fatalf("the Gateway went while its target group could not be deleted: %v", err)
	}
	w.proxy.SetFaults()
	eventually(t, 2*time.Minute, "the Gateway gone once the delete is let through", func() error {
		err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: gw.Name}, gw)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	if left := stackLeftovers(t, ns+"/aws-tcp-gateway"); len(left) != 0 {
		t.Errorf("after the Gateway went, AWS still holds %v", left)
	}
}
