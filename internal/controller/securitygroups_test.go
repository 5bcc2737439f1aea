package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// sgCluster is the cluster name of the security-group test: a cluster of its own (own API
// server, own controller, own shared backend security group) so that its Gateway is the last
// one and its deletion releases the backend group.
const sgCluster = "sg-cluster"

const nodeRuleDescription = "elbgateway.k8s.aws/targets=shared"

// sgFixture is what the test creates in moto: a worker node with two security groups (one
// tagged for the cluster), a pod ENI with one, and a pod ENI with two cluster-tagged groups.
type sgFixture struct {
	nodeSG, extraSG, podSG, otherTaggedSG string
	instance                              string
	podIP, badIP, badENI                  string
}

func newSGFixture(t *testing.T) sgFixture {
	t.Helper()
	ctx := context.Background()
	tagged := map[string]string{testenv.ClusterTag(sgCluster): "owned"}
	// The seeded subnets serve this cluster too.
	if _, err := env.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: append(slices.Clone(env.vpc.PublicSubnets), env.vpc.PrivateSubnets...),
		Tags: []ec2types.Tag{{Key: awssdk.String(testenv.ClusterTag(sgCluster)), Value: awssdk.String("shared")}}}); err != nil {
		t.Fatal(err)
	}
	var f sgFixture
	f.nodeSG = testGroup(t, "sgt-nodes", tagged)
	f.extraSG = testGroup(t, "sgt-extra", nil)
	f.podSG = testGroup(t, "sgt-pods", nil)
	f.otherTaggedSG = testGroup(t, "sgt-nodes-2", map[string]string{testenv.ClusterTag(sgCluster): "shared"})
	run, err := env.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: awssdk.String("ami-12c6146b"),
		MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1), SubnetId: awssdk.String(env.vpc.PrivateSubnets[0]),
		SecurityGroupIds: []string{f.nodeSG, f.extraSG}})
	if err != nil {
		t.Fatal(err)
	}
	f.instance = awssdk.ToString(run.Instances[0].InstanceId)
	// The second private subnet is 10.0.144.0/20.
	f.podIP, f.badIP = "10.0.150.21", "10.0.150.22"
	if _, err := env.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: awssdk.String(env.vpc.PrivateSubnets[1]),
		Groups: []string{f.podSG}, PrivateIpAddress: awssdk.String(f.podIP)}); err != nil {
		t.Fatal(err)
	}
	bad, err := env.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: awssdk.String(env.vpc.PrivateSubnets[1]),
		Groups: []string{f.nodeSG, f.otherTaggedSG}, PrivateIpAddress: awssdk.String(f.badIP)})
	if err != nil {
		t.Fatal(err)
	}
	f.badENI = awssdk.ToString(bad.NetworkInterface.NetworkInterfaceId)
	return f
}

func testGroup(t *testing.T, name string, tags map[string]string) string {
	t.Helper()
	in := &ec2.CreateSecurityGroupInput{GroupName: awssdk.String(fmt.Sprintf("%s-%d", name, time.Now().UnixNano()%1000000)),
		Description: awssdk.String("test"), VpcId: awssdk.String(env.vpc.VPCID)}
	if len(tags) > 0 {
		var ts []ec2types.Tag
		for k, v := range tags {
			ts = append(ts, ec2types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
		}
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: ts}}
	}
	out, err := env.ec2.CreateSecurityGroup(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return awssdk.ToString(out.GroupId)
}

// groupRules lists a group's ingress as sorted "proto:from-to<source" strings; ours only
// (with the targetGroupBinding description) when ours is true.
func groupRules(t *testing.T, id string, ours bool) []string {
	t.Helper()
	var rules []string
	for _, r := range describedRules(t, id) {
		rule, desc, _ := strings.Cut(r, " #")
		if !ours || desc == nodeRuleDescription {
			rules = append(rules, rule)
		}
	}
	slices.Sort(rules)
	return rules
}

func groupExists(t *testing.T, id string) bool {
	t.Helper()
	out, err := env.ec2.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: awssdk.String("group-id"), Values: []string{id}}}})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.SecurityGroups) > 0
}

func backendGroupOf(t *testing.T, cluster string) string {
	t.Helper()
	out, err := env.ec2.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: awssdk.String("tag:elbv2.k8s.aws/cluster"), Values: []string{cluster}},
		{Name: awssdk.String("tag:elbv2.k8s.aws/resource"), Values: []string{"backend-sg"}},
		{Name: awssdk.String("vpc-id"), Values: []string{env.vpc.VPCID}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 {
		return ""
	}
	g := out.SecurityGroups[0]
	if awssdk.ToString(g.GroupName) != aws.BackendSecurityGroupName(cluster) ||
		awssdk.ToString(g.Description) != "[k8s] Shared Backend SecurityGroup for LoadBalancer" {
		t.Errorf("backend group %s: name %q description %q", awssdk.ToString(g.GroupId), awssdk.ToString(g.GroupName), awssdk.ToString(g.Description))
	}
	return awssdk.ToString(g.GroupId)
}

// startSGCluster starts a cluster and a controller for sgCluster.
func startSGCluster(t *testing.T) client.Client {
	t.Helper()
	cluster := startTestCluster(t, testenv.ClusterOptions{})
	o := cloudOptions(sgCluster, env.vpc.VPCID, env.moto.Endpoint)
	// Tag changes of the worker-node groups are seen at the next pass.
	o.NetworkCacheTTL = time.Second
	cloud, err := aws.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, c := startTestController(t, cluster.Config, controllerOptions(sgCluster, cloud))
	return c
}

const sgGateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  gatewayClassName: aws-nlb-gateway-class
  listeners:
  - {name: nodes, protocol: TCP, port: %d}
  - {name: pods, protocol: TCP, port: 9001}
---
apiVersion: v1
kind: Service
metadata:
  name: nodeport
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 3000, nodePort: 30901}]
  selector: {app: backend}
---
apiVersion: v1
kind: Service
metadata:
  name: pods
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
  selector: {app: pods}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: pods-1
  labels: {kubernetes.io/service-name: pods}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- addresses: [%s]
  conditions: {ready: true}
---
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata:
  name: pods-ip
spec:
  targetReference: {name: pods}
  defaultConfiguration: {targetType: ip}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata:
  name: nodes
spec:
  parentRefs: [{name: gw, sectionName: nodes}]
  rules: [{backendRefs: [{name: nodeport, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata:
  name: pods
spec:
  parentRefs: [{name: gw, sectionName: pods}]
  rules: [{backendRefs: [{name: pods, port: 80}]}]
`

func TestSecurityGroupsOfAnNLBGateway(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	ctx := context.Background()
	f := newSGFixture(t)
	c := startSGCluster(t)
	ns := newNamespaceIn(t, c)
	applyFiles(t, c, ns, "examples/seed-l4/gwc-nlb.yaml")
	applyYAML(t, c, ns, fmt.Sprintf(sgGateway, 9000, f.podIP))
	node := ns + "-node"
	applyYAML(t, c, "", fmt.Sprintf("apiVersion: v1\nkind: Node\nmetadata: {name: %s}\nspec: {providerID: 'aws:///%s/%s'}\n",
		node, env.vpc.Zones[0], f.instance))
	markNodeReadyIn(t, c, node)

	gw, lbARN := programmedGateway(t, c, ns, "gw")
	backend := backendGroupOf(t, sgCluster)
	if backend == "" {
		t.Fatal("no shared backend security group for the cluster")
	}
	lb := describeLB(t, lbARN)
	frontend := ""
	for _, g := range lb.SecurityGroups {
		if g != backend {
			frontend = g
		}
	}
	if len(lb.SecurityGroups) != 2 || !slices.Contains(lb.SecurityGroups, backend) {
		t.Fatalf("load balancer security groups %v, want the managed frontend group and the backend group %s", lb.SecurityGroups, backend)
	}

	t.Run("frontend, backend and worker-node rules", func(t *testing.T) {
		eventually(t, 30*timeoutScale, "frontend rules", func() error {
			if got := groupRules(t, frontend, false); !slices.Equal(got, []string{"tcp:9000-9000<0.0.0.0/0", "tcp:9001-9001<0.0.0.0/0"}) {
				return fmt.Errorf("frontend rules %v", got)
			}
			return nil
		})
		eventually(t, 30*timeoutScale, "worker-node rules", func() error {
			if got := groupRules(t, f.nodeSG, true); !slices.Equal(got, []string{"tcp:30901-30901<" + backend}) {
				return fmt.Errorf("node group rules %v", got)
			}
			if got := groupRules(t, f.podSG, true); !slices.Equal(got, []string{"tcp:8080-8080<" + backend}) {
				return fmt.Errorf("pod group rules %v", got)
			}
			return nil
		})
		if got := groupRules(t, f.extraSG, false); len(got) != 0 {
			t.Errorf("the node's untagged second group got rules %v; only the cluster-tagged group should", got)
		}
		if got := groupRules(t, backend, false); len(got) != 0 {
			t.Errorf("the backend group has ingress %v, want none", got)
		}
	})

	t.Run("listener and endpoint port changes", func(t *testing.T) {
		var g gwv1.Gateway
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gw"}, &g); err != nil {
			t.Fatal(err)
		}
		g.Spec.Listeners[0].Port = 9100
		if err := c.Update(ctx, &g); err != nil {
			t.Fatal(err)
		}
		var slice discoveryv1.EndpointSlice
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pods-1"}, &slice); err != nil {
			t.Fatal(err)
		}
		slice.Ports[0].Port = awssdk.Int32(8081)
		if err := c.Update(ctx, &slice); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*timeoutScale, "frontend follows the listener", func() error {
			if got := groupRules(t, frontend, false); !slices.Equal(got, []string{"tcp:9001-9001<0.0.0.0/0", "tcp:9100-9100<0.0.0.0/0"}) {
				return fmt.Errorf("frontend rules %v", got)
			}
			return nil
		})
		eventually(t, 30*timeoutScale, "pod group follows the endpoint port", func() error {
			if got := groupRules(t, f.podSG, true); !slices.Equal(got, []string{"tcp:8081-8081<" + backend}) {
				return fmt.Errorf("pod group rules %v", got)
			}
			return nil
		})
	})

	t.Run("an ENI with two cluster-tagged groups is a Gateway condition until one is untagged", func(t *testing.T) {
		waitNodeSGCondition(t, c, ns, metav1.ConditionTrue, controller.ReasonResolved)
		var slice discoveryv1.EndpointSlice
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pods-1"}, &slice); err != nil {
			t.Fatal(err)
		}
		ready := true
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{f.badIP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
		if err := c.Update(ctx, &slice); err != nil {
			t.Fatal(err)
		}
		cond := waitNodeSGCondition(t, c, ns, metav1.ConditionFalse, "AmbiguousSecurityGroup")
		for _, want := range []string{f.badIP, f.badENI, f.nodeSG, f.otherTaggedSG, testenv.ClusterTag(sgCluster) + "=owned|shared"} {
			if !strings.Contains(cond.Message, want) {
				t.Errorf("condition message %q does not name %s", cond.Message, want)
			}
		}
		eventually(t, 30*timeoutScale, "an AmbiguousSecurityGroup event on the Gateway", func() error {
			var list eventsv1.EventList
			if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
				return err
			}
			for _, e := range list.Items {
				if e.Regarding.Name == "gw" && e.Reason == "AmbiguousSecurityGroup" && e.Type == "Warning" && strings.Contains(e.Note, f.badENI) {
					return nil
				}
			}
			return fmt.Errorf("%d events, none about %s", len(list.Items), f.badENI)
		})
		// The good targets keep their rules.
		if got := groupRules(t, f.podSG, true); !slices.Equal(got, []string{"tcp:8081-8081<" + backend}) {
			t.Errorf("pod group rules %v", got)
		}
		if _, lb := programmedGateway(t, c, ns, "gw"); lb != lbARN {
			t.Errorf("the Gateway's load balancer changed")
		}

		// Untag the second group: the ENI's rules go into the first, and the condition clears.
		if _, err := env.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{f.otherTaggedSG},
			Tags: []ec2types.Tag{{Key: awssdk.String(testenv.ClusterTag(sgCluster))}}}); err != nil {
			t.Fatal(err)
		}
		bump := 0
		eventually(t, 30*timeoutScale, "the condition resolved", func() error {
			got, err := nodeSGCondition(c, ns)
			if err == nil && got.Status == metav1.ConditionTrue && got.Reason == controller.ReasonResolved {
				return nil
			}
			// Nothing in the cluster changed: touch the slice so the targets loop looks again.
			bump++
			if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pods-1"}, &slice); err != nil {
				return err
			}
			slice.Annotations = map[string]string{"test/bump": fmt.Sprint(bump)}
			if err := c.Update(ctx, &slice); err != nil {
				return err
			}
			return fmt.Errorf("condition %+v (%v)", got, err)
		})
		eventually(t, 30*timeoutScale, "the ENI's rule in the cluster-tagged group", func() error {
			if got := groupRules(t, f.nodeSG, true); !slices.Equal(got, []string{"tcp:8081-30901<" + backend}) {
				return fmt.Errorf("node group rules %v", got)
			}
			return nil
		})
		if got := groupRules(t, f.otherTaggedSG, false); len(got) != 0 {
			t.Errorf("the untagged group got rules %v", got)
		}
	})

	t.Run("deleting the Gateway removes every rule and the backend group", func(t *testing.T) {
		if err := c.Delete(ctx, gw); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*timeoutScale, "the Gateway is gone", func() error {
			err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gw"}, &gwv1.Gateway{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (%v)", err)
		})
		if groupExists(t, frontend) {
			t.Errorf("frontend group %s left", frontend)
		}
		if groupExists(t, backend) {
			t.Errorf("backend group %s left after the cluster's last Gateway", backend)
		}
		eventually(t, 30*timeoutScale, "worker-node rules revoked", func() error {
			if got := append(groupRules(t, f.nodeSG, false), groupRules(t, f.podSG, false)...); len(got) != 0 {
				return fmt.Errorf("rules left %v", got)
			}
			return nil
		})
	})
}

// nodeSGCondition reads the Gateway gw's worker-node security group condition.
func nodeSGCondition(c client.Client, ns string) (*metav1.Condition, error) {
	var gw gwv1.Gateway
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "gw"}, &gw); err != nil {
		return nil, err
	}
	cond := meta.FindStatusCondition(gw.Status.Conditions, controller.ConditionWorkerNodeSecurityGroups)
	if cond == nil {
		return nil, fmt.Errorf("no %s condition: %s", controller.ConditionWorkerNodeSecurityGroups, conditionsText(gw.Status.Conditions))
	}
	return cond, nil
}

// waitNodeSGCondition waits for the worker-node security group condition of gw.
func waitNodeSGCondition(t *testing.T, c client.Client, ns string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	var got *metav1.Condition
	eventually(t, 30*timeoutScale, fmt.Sprintf("%s %s/%s", controller.ConditionWorkerNodeSecurityGroups, status, reason), func() error {
		var err error
		if got, err = nodeSGCondition(c, ns); err != nil {
			return err
		}
		if got.Status != status || got.Reason != reason {
			return fmt.Errorf("%s/%s %q", got.Status, got.Reason, got.Message)
		}
		return nil
	})
	return got
}

func describeLB(t *testing.T, arn string) elbtypes.LoadBalancer {
	t.Helper()
	out, err := env.elb.DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if err != nil || len(out.LoadBalancers) != 1 {
		t.Fatalf("describing %s: %v", arn, err)
	}
	return out.LoadBalancers[0]
}

func markNodeReadyIn(t *testing.T, c client.Client, name string) {
	t.Helper()
	eventually(t, 10*timeoutScale, "node "+name+" ready", func() error {
		var n corev1.Node
		if err := c.Get(context.Background(), types.NamespacedName{Name: name}, &n); err != nil {
			return err
		}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		return c.Status().Update(context.Background(), &n)
	})
}

// TestOutOfBandTargetGroup is seed 000's out-of-band TCPRoute: the route forwards to a target
// group made outside the controller, which the controller never modifies, registers into or
// deletes.
func TestOutOfBandTargetGroup(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	name := fmt.Sprintf("test-gw-import%d", time.Now().UnixNano()%100000)
	created, err := env.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: awssdk.String(name),
		Protocol: elbtypes.ProtocolEnumTcp, Port: awssdk.Int32(80), VpcId: awssdk.String(env.vpc.VPCID), TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := awssdk.ToString(created.TargetGroups[0].TargetGroupArn)
	if _, err := env.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: awssdk.String(tgARN),
		Targets: []elbtypes.TargetDescription{{Id: awssdk.String("10.0.0.5"), Port: awssdk.Int32(80)}}}); err != nil {
		t.Fatal(err)
	}
	before := outOfBandState(t, tgARN)

	applyFiles(t, env.client, ns, "examples/seed-l4/gwc-nlb.yaml")
	route := strings.NewReplacer("  namespace: example-ns\n", "", "test-gw-import123", name).Replace(`apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata:
  name: tcproute
  namespace: example-ns
spec:
  parentRefs:
  - group: gateway.networking.k8s.io
    kind: Gateway
    name: nlb-gw
    sectionName: tls
  rules:
  - backendRefs:
    - group: ""
      kind: TargetGroupName
      name: test-gw-import123
      weight: 1
`)
	applyYAML(t, env.client, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: nlb-gw
spec:
  gatewayClassName: aws-nlb-gateway-class
  listeners:
  - {name: tls, protocol: TCP, port: 443}
  - {name: missing, protocol: TCP, port: 444}
---
`+route+`---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata:
  name: missing
spec:
  parentRefs: [{name: nlb-gw, sectionName: missing}]
  rules: [{backendRefs: [{group: "", kind: TargetGroupName, name: no-such-target-group}]}]
`)
	gw, lbARN := programmedGateway(t, env.client, ns, "nlb-gw")
	eventually(t, 30*timeoutScale, "the listener forwards to the existing target group", func() error {
		ls := listeners(t, lbARN)
		if len(ls) != 1 || awssdk.ToInt32(ls[0].Port) != 443 || len(ls[0].DefaultActions) != 1 ||
			awssdk.ToString(ls[0].DefaultActions[0].TargetGroupArn) != tgARN && !forwardsTo(ls[0].DefaultActions[0], tgARN) {
			return fmt.Errorf("listeners %s", listenerSummary(ls))
		}
		return nil
	})
	eventually(t, 30*timeoutScale, "BackendNotFound for an unknown name", func() error {
		c, err := routeCondition(env.client, "gateway.networking.k8s.io/v1", "TCPRoute", ns, "missing", "ResolvedRefs")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != string(gwv1.RouteReasonBackendNotFound) || !strings.Contains(c.Message, "no-such-target-group") {
			return fmt.Errorf("ResolvedRefs %s/%s %q", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	if c, err := routeCondition(env.client, "gateway.networking.k8s.io/v1", "TCPRoute", ns, "tcproute", "ResolvedRefs"); err != nil || c.Status != metav1.ConditionTrue {
		t.Errorf("the out-of-band route: ResolvedRefs %+v, %v", c, err)
	}
	// Give the targets loop a chance to (wrongly) touch it, then compare.
	time.Sleep(2 * time.Second)
	if after := outOfBandState(t, tgARN); after != before {
		t.Errorf("the target group changed while in use:\nbefore %s\nafter  %s", before, after)
	}

	if err := env.client.Delete(ctx, gw); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*timeoutScale, "the Gateway is gone", func() error {
		err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "nlb-gw"}, &gwv1.Gateway{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
	if after := outOfBandState(t, tgARN); after != before {
		t.Errorf("the target group changed with the Gateway's deletion:\nbefore %s\nafter  %s", before, after)
	}
}

func forwardsTo(a elbtypes.Action, arn string) bool {
	if a.ForwardConfig == nil {
		return false
	}
	for _, tg := range a.ForwardConfig.TargetGroups {
		if awssdk.ToString(tg.TargetGroupArn) == arn {
			return true
		}
	}
	return false
}

// outOfBandState prints a target group's settings, attributes, tags and targets.
func outOfBandState(t *testing.T, arn string) string {
	t.Helper()
	ctx := context.Background()
	tgs, err := env.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
	if err != nil || len(tgs.TargetGroups) != 1 {
		t.Fatalf("the out-of-band target group is gone: %v", err)
	}
	tg := tgs.TargetGroups[0]
	attrs, err := env.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: awssdk.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := env.elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	parts = append(parts, fmt.Sprintf("%s %s:%d hc=%s:%s/%d/%d/%d", awssdk.ToString(tg.TargetGroupName), tg.Protocol, awssdk.ToInt32(tg.Port),
		tg.HealthCheckProtocol, awssdk.ToString(tg.HealthCheckPort), awssdk.ToInt32(tg.HealthCheckIntervalSeconds),
		awssdk.ToInt32(tg.HealthyThresholdCount), awssdk.ToInt32(tg.UnhealthyThresholdCount)))
	for _, a := range attrs.Attributes {
		parts = append(parts, "attr "+awssdk.ToString(a.Key)+"="+awssdk.ToString(a.Value))
	}
	for _, d := range tags.TagDescriptions {
		for _, tag := range d.Tags {
			parts = append(parts, "tag "+awssdk.ToString(tag.Key)+"="+awssdk.ToString(tag.Value))
		}
	}
	parts = append(parts, "targets "+targetSummary(t, arn))
	slices.Sort(parts[1:])
	return strings.Join(parts, "; ")
}
