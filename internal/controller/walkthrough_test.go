package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestSeedWalkthrough applies the seed's L4 manifests unchanged and checks what AWS holds, then
// changes endpoints, deletes the route and deletes the Gateway.
func TestSeedWalkthrough(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, seedFiles...)
	gw, lbARN := programmedGateway(t, env.client, ns, "aws-tcp-gateway")
	if gw.Status.Addresses[0].Type == nil || *gw.Status.Addresses[0].Type != gwv1.HostnameAddressType {
		t.Errorf("address type: %v, want Hostname", gw.Status.Addresses[0].Type)
	}
	if !hasString(gw.Finalizers, "gateway.k8s.aws/nlb") {
		t.Errorf("finalizers %v, want gateway.k8s.aws/nlb", gw.Finalizers)
	}

	// The AWS CLI, an independent client, sees the seed's resources.
	var lbs struct {
		LoadBalancers []struct{ Type, Scheme, DNSName string }
	}
	cliJSON(t, &lbs, "elbv2", "describe-load-balancers", "--load-balancer-arns", lbARN)
	if len(lbs.LoadBalancers) != 1 || lbs.LoadBalancers[0].Type != "network" || lbs.LoadBalancers[0].Scheme != "internet-facing" {
		t.Fatalf("load balancer: %+v, want one internet-facing network load balancer", lbs.LoadBalancers)
	}
	if got := gw.Status.Addresses[0].Value; got != lbs.LoadBalancers[0].DNSName {
		t.Errorf("Gateway address %q, load balancer DNS name %q", got, lbs.LoadBalancers[0].DNSName)
	}
	var ls struct {
		Listeners []struct {
			Port           int32
			Protocol       string
			DefaultActions []struct {
				Type          string
				ForwardConfig struct {
					TargetGroups []struct{ TargetGroupArn string }
				}
			}
		}
	}
	eventually(t, 30*timeoutScale, "one TCP:8080 listener", func() error {
		cliJSON(t, &ls, "elbv2", "describe-listeners", "--load-balancer-arn", lbARN)
		if len(ls.Listeners) != 1 || ls.Listeners[0].Port != 8080 || ls.Listeners[0].Protocol != "TCP" {
			return fmt.Errorf("listeners %+v", ls.Listeners)
		}
		return nil
	})
	var tgs struct {
		TargetGroups []struct {
			TargetGroupArn, Protocol, TargetType string
			Port                                 int32
		}
	}
	cliJSON(t, &tgs, "elbv2", "describe-target-groups", "--load-balancer-arn", lbARN)
	if len(tgs.TargetGroups) != 1 {
		t.Fatalf("target groups %+v, want one", tgs.TargetGroups)
	}
	tg := tgs.TargetGroups[0]
	if tg.Protocol != "TCP" || tg.Port != 3000 || tg.TargetType != "ip" {
		t.Errorf("target group %+v, want TCP:3000 ip", tg)
	}
	actions := ls.Listeners[0].DefaultActions
	if len(actions) != 1 || actions[0].Type != "forward" || len(actions[0].ForwardConfig.TargetGroups) != 1 ||
		actions[0].ForwardConfig.TargetGroups[0].TargetGroupArn != tg.TargetGroupArn {
		t.Errorf("listener actions %+v, want forward to %s", actions, tg.TargetGroupArn)
	}
	eventually(t, 30*timeoutScale, "the endpoint registered", func() error {
		var th struct {
			TargetHealthDescriptions []struct {
				Target struct {
					Id   string
					Port int32
				}
			}
		}
		cliJSON(t, &th, "elbv2", "describe-target-health", "--target-group-arn", tg.TargetGroupArn)
		if len(th.TargetHealthDescriptions) != 1 || th.TargetHealthDescriptions[0].Target.Id != "192.0.2.10" ||
			th.TargetHealthDescriptions[0].Target.Port != 3000 {
			return fmt.Errorf("targets %+v", th.TargetHealthDescriptions)
		}
		return nil
	})
	cond, err := routeCondition(env.client, "gateway.networking.k8s.io/v1", "TCPRoute", ns, "tcp-backend-aws", "Accepted")
	if err != nil || cond.Status != "True" {
		t.Errorf("TCPRoute Accepted: %+v, %v", cond, err)
	}

	t.Run("endpoint change re-registers targets only", func(t *testing.T) {
		before := env.cloud.CallCounts()
		var slice discoveryv1.EndpointSlice
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "backend-1"}, &slice); err != nil {
			t.Fatal(err)
		}
		ready := true
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{"192.0.2.11"},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
		slice.Endpoints[0].Conditions.Ready = new(bool) // the first endpoint terminates
		if err := env.client.Update(ctx, &slice); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*timeoutScale, "targets follow the endpoints", func() error {
			if got := targetSummary(t, tg.TargetGroupArn); got != "192.0.2.11:3000" {
				return fmt.Errorf("targets %s", got)
			}
			return nil
		})
		after := env.cloud.CallCounts()
		for _, op := range []string{"elbv2:CreateLoadBalancer", "elbv2:CreateListener", "elbv2:ModifyListener",
			"elbv2:CreateTargetGroup", "elbv2:ModifyTargetGroup", "elbv2:SetSubnets", "elbv2:SetSecurityGroups"} {
			if after[op] != before[op] {
				t.Errorf("%s called %d times for an endpoint change", op, after[op]-before[op])
			}
		}
		if after["elbv2:RegisterTargets"] <= before["elbv2:RegisterTargets"] || after["elbv2:DeregisterTargets"] <= before["elbv2:DeregisterTargets"] {
			t.Errorf("RegisterTargets %d→%d, DeregisterTargets %d→%d: want both called",
				before["elbv2:RegisterTargets"], after["elbv2:RegisterTargets"], before["elbv2:DeregisterTargets"], after["elbv2:DeregisterTargets"])
		}
	})

	t.Run("deleting the route removes its listener and target group", func(t *testing.T) {
		route := &gwv1.TCPRoute{}
		route.Namespace, route.Name = ns, "tcp-backend-aws"
		if err := env.client.Delete(ctx, route); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*timeoutScale, "no listener and no target group", func() error {
			if l, g := listeners(t, lbARN), targetGroups(t, lbARN); len(l) != 0 || len(g) != 0 {
				return fmt.Errorf("listeners %s, %d target groups", listenerSummary(l), len(g))
			}
			for _, arn := range stackLeftovers(t, ns+"/aws-tcp-gateway") {
				if strings.Contains(arn, ":listener/") || strings.Contains(arn, ":targetgroup/") {
					return fmt.Errorf("still tagged with the stack: %s", arn)
				}
			}
			return nil
		})
	})

	t.Run("deleting the Gateway leaves nothing", func(t *testing.T) {
		if err := env.client.Delete(ctx, gw); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*timeoutScale, "Gateway gone", func() error {
			err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: gw.Name}, &gwv1.Gateway{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (%v)", err)
		})
		if left := stackLeftovers(t, ns+"/aws-tcp-gateway"); len(left) != 0 {
			t.Errorf("left in AWS: %v", left)
		}
	})
}

// cliJSON runs the AWS CLI against moto and decodes its output.
func cliJSON(t *testing.T, into any, args ...string) {
	t.Helper()
	out, err := testenv.AWSCLI(context.Background(), env.moto.Endpoint, region, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, into); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

func hasString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestSeedWalkthroughInstanceTargets is the seed walkthrough with targetType: instance (the
// AWS Load Balancer Controller's default), its Service a NodePort: the node's EC2 instance
// is registered on the node port, without an availability zone (AWS refuses one for instance
// target groups), and a stopped node's instance does not keep it out: it is reported on the
// Gateway instead.
func TestSeedWalkthroughInstanceTargets(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	var files []string
	for _, f := range seedFiles {
		if !strings.HasSuffix(f, "tgconfig.yaml") && !strings.HasSuffix(f, "backend-service.yaml") {
			files = append(files, f)
		}
	}
	applyFiles(t, env.client, ns, files...)
	applyYAML(t, env.client, ns, strings.Replace(readFile(t, env.root+"/examples/seed-l4/tgconfig.yaml"), "targetType: ip", "targetType: instance", 1))
	applyYAML(t, env.client, ns, strings.Replace(readFile(t, env.root+"/examples/seed-l4/backend-service.yaml"), "spec:\n  ports:", "spec:\n  type: NodePort\n  ports:", 1))

	instance := runTestInstance(t, env.vpc.PrivateSubnets[0])
	nodeName := ns + "-node"
	applyYAML(t, env.client, "", fmt.Sprintf("apiVersion: v1\nkind: Node\nmetadata: {name: %s}\nspec: {providerID: 'aws:///%s/%s'}\n",
		nodeName, env.vpc.Zones[0], instance))
	markNodeReady(t, nodeName)

	_, lbARN := programmedGateway(t, env.client, ns, "aws-tcp-gateway")
	waitListeners(t, lbARN, "TCP:8080")
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 || tgs[0].TargetType != "instance" {
		t.Fatalf("target groups %+v, want one instance target group", tgs)
	}
	tgARN := awssdk.ToString(tgs[0].TargetGroupArn)
	var svc corev1.Service
	if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "backend"}, &svc); err != nil {
		t.Fatal(err)
	}
	nodePort := svc.Spec.Ports[0].NodePort
	if awssdk.ToInt32(tgs[0].Port) != nodePort {
		t.Errorf("target group port %d, want the node port %d", awssdk.ToInt32(tgs[0].Port), nodePort)
	}
	eventually(t, 30*timeoutScale, "the node's instance registered", func() error {
		if got := targetSummary(t, tgARN); !strings.Contains(got, fmt.Sprintf("%s:%d", instance, nodePort)) {
			return fmt.Errorf("targets %q", got)
		}
		return nil
	})

	t.Run("a stopped node is reported, the others stay registered", func(t *testing.T) {
		stopped := runTestInstance(t, env.vpc.PrivateSubnets[1])
		if _, err := env.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}}); err != nil {
			t.Fatal(err)
		}
		second := runTestInstance(t, env.vpc.PrivateSubnets[2])
		for i, id := range []string{stopped, second} {
			name := fmt.Sprintf("%s-node-%d", ns, i)
			applyYAML(t, env.client, "", fmt.Sprintf("apiVersion: v1\nkind: Node\nmetadata: {name: %s}\nspec: {providerID: 'aws:///%s/%s'}\n",
				name, env.vpc.Zones[i+1], id))
			markNodeReady(t, name)
			t.Cleanup(func() {
				_ = env.client.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
			})
		}
		eventually(t, 30*timeoutScale, "the running nodes registered", func() error {
			got := targetSummary(t, tgARN)
			if !strings.Contains(got, fmt.Sprintf("%s:%d", second, nodePort)) || !strings.Contains(got, fmt.Sprintf("%s:%d", instance, nodePort)) {
				return fmt.Errorf("targets %q", got)
			}
			if strings.Contains(got, stopped) {
				return fmt.Errorf("the stopped instance is registered: %q", got)
			}
			return nil
		})
		eventually(t, 30*timeoutScale, "the Gateway names the stopped instance", func() error {
			var gw gwv1.Gateway
			if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "aws-tcp-gateway"}, &gw); err != nil {
				return err
			}
			c := meta.FindStatusCondition(gw.Status.Conditions, controller.ConditionTargetsRegistered)
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "InvalidTarget" || !strings.Contains(c.Message, stopped) {
				return fmt.Errorf("condition %+v", c)
			}
			return nil
		})
	})

	t.Run("deleting the Gateway leaves nothing", func(t *testing.T) {
		gw := &gwv1.Gateway{}
		gw.Namespace, gw.Name = ns, "aws-tcp-gateway"
		if err := env.client.Delete(ctx, gw); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*timeoutScale, "Gateway gone", func() error {
			err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: gw.Name}, &gwv1.Gateway{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (%v)", err)
		})
		if left := stackLeftovers(t, ns+"/aws-tcp-gateway"); len(left) != 0 {
			t.Errorf("left in AWS: %v", left)
		}
		_ = env.client.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}})
	})
}

// runTestInstance starts an EC2 instance in a subnet of the test VPC and returns its ID.
func runTestInstance(t *testing.T, subnet string) string {
	t.Helper()
	run, err := env.ec2.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: awssdk.String("ami-12c6146b"),
		MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1), SubnetId: awssdk.String(subnet)})
	if err != nil {
		t.Fatal(err)
	}
	return awssdk.ToString(run.Instances[0].InstanceId)
}
