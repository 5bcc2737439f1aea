package controller_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// lbcName is the name the AWS Load Balancer Controller gives a load balancer, security group or
// target group: k8s-<namespace, 8 alphanumerics>-<name, 8 alphanumerics>-<10 hex digits of the
// SHA-256 of the parts written one after another>. Written here from LBC's documented behaviour,
// not from our translator, so that a drift of ours shows.
func lbcName(namespace, name string, parts ...string) string {
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "")))
	return fmt.Sprintf("k8s-%.8s-%.8s-%.10s", clean(namespace), clean(name), hex.EncodeToString(sum[:]))
}

// lbcStack is what the AWS Load Balancer Controller created for the seed's TCP Gateway.
type lbcStack struct {
	lbARN, dnsName, listenerARN, tgARN, sgID, backendSGID string
	// otherARN is a load balancer of the same cluster that belongs to an Ingress of LBC's.
	otherARN string
}

// createLBCStack creates, the way the AWS Load Balancer Controller v3.5 does for the seed's
// Gateway (internet-facing NLB, one TCP:8080 listener, an ip target group for the TCPRoute's
// backend), the stack of Gateway ns/aws-tcp-gateway with uid, tagged for cluster: names and
// tags as LBC writes them. It also creates an ALB of an LBC Ingress of the same cluster.
func createLBCStack(t *testing.T, cluster string, vpc *testenv.VPC, ns, uid string) lbcStack {
	t.Helper()
	ctx := context.Background()
	const gw, route = "aws-tcp-gateway", "tcp-backend-aws"
	stack := ns + "/" + gw
	tags := func(resource string) map[string]string {
		return map[string]string{"elbv2.k8s.aws/cluster": cluster, "gateway.k8s.aws.nlb/stack": stack,
			"gateway.k8s.aws.nlb/resource": resource}
	}
	var s lbcStack

	s.sgID, s.backendSGID = createLBCSecurityGroups(t, cluster, vpc, ns, gw, uid, tags("ManagedLBSecurityGroup"), 8080)

	lb, err := env.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: awssdk.String(lbcName(ns, gw, cluster, uid, "internet-facing")),
		Type: elbtypes.LoadBalancerTypeEnumNetwork, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing,
		Subnets: vpc.PublicSubnets, SecurityGroups: []string{s.sgID, s.backendSGID}, Tags: elbTags(tags("LoadBalancer")),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.lbARN, s.dnsName = awssdk.ToString(lb.LoadBalancers[0].LoadBalancerArn), awssdk.ToString(lb.LoadBalancers[0].DNSName)

	tgID := fmt.Sprintf("%s:%s-%s:TCPRoute-%s-backend:3000", stack, ns, route, ns)
	tg, err := env.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name:     awssdk.String(lbcName(ns, route, cluster, ns, gw, ns, route, "TCPRoute", ns, "backend", "3000", "ip", "TCP")),
		Protocol: elbtypes.ProtocolEnumTcp, Port: awssdk.Int32(3000), VpcId: awssdk.String(vpc.VPCID),
		TargetType: elbtypes.TargetTypeEnumIp, HealthCheckProtocol: elbtypes.ProtocolEnumTcp,
		HealthCheckPort: awssdk.String("traffic-port"), HealthCheckIntervalSeconds: awssdk.Int32(15),
		HealthCheckTimeoutSeconds: awssdk.Int32(5), HealthyThresholdCount: awssdk.Int32(3), UnhealthyThresholdCount: awssdk.Int32(3),
		Tags: elbTags(tags(tgID)),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.tgARN = awssdk.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := env.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &s.tgARN,
		Targets: []elbtypes.TargetDescription{{Id: awssdk.String("192.0.2.10"), Port: awssdk.Int32(3000), AvailabilityZone: awssdk.String("all")}}}); err != nil {
		t.Fatal(err)
	}
	l, err := env.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: &s.lbARN, Protocol: elbtypes.ProtocolEnumTcp, Port: awssdk.Int32(8080),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: &s.tgARN}},
		Tags:           elbTags(tags("8080")),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.listenerARN = awssdk.ToString(l.Listeners[0].ListenerArn)

	other, err := env.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: awssdk.String(lbcName(ns, "shop", cluster, ns+"/shop")), Type: elbtypes.LoadBalancerTypeEnumApplication,
		Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: vpc.PrivateSubnets,
		Tags: elbTags(map[string]string{"elbv2.k8s.aws/cluster": cluster, "ingress.k8s.aws/stack": ns + "/shop",
			"ingress.k8s.aws/resource": "LoadBalancer"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.otherARN = awssdk.ToString(other.LoadBalancers[0].LoadBalancerArn)
	return s
}

// createLBCSecurityGroups creates the security groups LBC gives a Gateway's load balancer: its
// managed one (tagged managedTags, open on the listener port) and the cluster's shared backend
// one.
func createLBCSecurityGroups(t *testing.T, cluster string, vpc *testenv.VPC, ns, gw, uid string, managedTags map[string]string, port int32) (managed, backend string) {
	t.Helper()
	ctx := context.Background()
	sg, err := env.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   awssdk.String(lbcName(ns, gw, cluster, gw, ns, uid)),
		Description: awssdk.String("[k8s] Managed SecurityGroup for LoadBalancer"),
		VpcId:       awssdk.String(vpc.VPCID),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags: ec2Tags(managedTags)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: awssdk.String("tcp"), FromPort: awssdk.Int32(port), ToPort: awssdk.Int32(port),
			IpRanges: []ec2types.IpRange{{CidrIp: awssdk.String("0.0.0.0/0")}}}},
	}); err != nil {
		t.Fatal(err)
	}
	// The cluster's shared backend security group, which LBC puts on every load balancer it
	// gives a managed security group: k8s-traffic-<cluster>-<hash of the cluster name>.
	sum := sha256.Sum256([]byte(cluster))
	b, err := env.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   awssdk.String(fmt.Sprintf("k8s-traffic-%s-%.10s", strings.ReplaceAll(cluster, "-", ""), hex.EncodeToString(sum[:]))),
		Description: awssdk.String("[k8s] Shared Backend SecurityGroup for LoadBalancer"),
		VpcId:       awssdk.String(vpc.VPCID),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags: ec2Tags(map[string]string{"elbv2.k8s.aws/cluster": cluster, "elbv2.k8s.aws/resource": "backend-sg"})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return awssdk.ToString(sg.GroupId), awssdk.ToString(b.GroupId)
}

func elbTags(m map[string]string) []elbtypes.Tag {
	var out []elbtypes.Tag
	for k, v := range m {
		out = append(out, elbtypes.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
	}
	return out
}

func ec2Tags(m map[string]string) []ec2types.Tag {
	var out []ec2types.Tag
	for k, v := range m {
		out = append(out, ec2types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
	}
	return out
}

// migrationWorld is a cluster of its own, in a VPC of its own, whose seed Gateway the AWS Load
// Balancer Controller programmed before elbgateway starts.
type migrationWorld struct {
	cluster string
	client  client.Client
	cfg     *testenv.Cluster
	vpc     *testenv.VPC
	ns      string
	gw      *gwv1.Gateway
}

func startMigrationWorld(t *testing.T, cluster string) *migrationWorld {
	t.Helper()
	ctx := context.Background()
	kube := startTestCluster(t, testenv.ClusterOptions{})
	vpc, err := testenv.SeedVPC(ctx, env.moto.Endpoint, region, cluster)
	if err != nil {
		t.Fatal(err)
	}
	c := newDirectClient(t, kube)
	w := &migrationWorld{cluster: cluster, client: c, cfg: kube, vpc: vpc}
	w.ns = newNamespaceIn(t, c)
	applyFiles(t, c, w.ns, seedFiles...)
	w.gw = &gwv1.Gateway{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: w.ns, Name: "aws-tcp-gateway"}, w.gw); err != nil {
		t.Fatal(err)
	}
	return w
}

// newDirectClient is an uncached client of the cluster.
func newDirectClient(t testing.TB, kube *testenv.Cluster) client.Client {
	t.Helper()
	c, err := testenv.Client(kube.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startElbgateway starts elbgateway for cluster (its --cluster-name) in the world's VPC with the
// NLB gate on and returns its AWS client, whose call counts the test reads.
func (w *migrationWorld) startElbgateway(t *testing.T, cluster string) *aws.Cloud {
	t.Helper()
	return w.startElbgatewayGates(t, cluster, controller.Gates{NLB: true})
}

// startElbgatewayGates is startElbgateway with the given gates.
func (w *migrationWorld) startElbgatewayGates(t *testing.T, cluster string, gates controller.Gates) *aws.Cloud {
	t.Helper()
	cloud, err := aws.New(context.Background(), cloudOptions(cluster, w.vpc.VPCID, env.moto.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(cluster, cloud)
	o.VPCID, o.Gates = w.vpc.VPCID, gates
	startTestController(t, w.cfg.Config, o)
	return cloud
}

// TestMigrateFromLBC: elbgateway takes over the load balancer the AWS Load Balancer Controller
// made for the same Gateway, in place: same ARN and DNS name, same listener and target group,
// no AWS resource created or deleted, and LBC's other load balancers left alone.
func TestMigrateFromLBC(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	const cluster = "lbc-migration"
	w := startMigrationWorld(t, cluster)
	lbc := createLBCStack(t, cluster, w.vpc, w.ns, string(w.gw.UID))

	cloud := w.startElbgateway(t, cluster)
	gw, lbARN := programmedGateway(t, w.client, w.ns, "aws-tcp-gateway")
	if lbARN != lbc.lbARN {
		t.Fatalf("the Gateway is programmed on %s, want LBC's load balancer %s kept", lbARN, lbc.lbARN)
	}
	if got := gw.Status.Addresses[0].Value; !strings.EqualFold(got, lbc.dnsName) {
		t.Errorf("Gateway address %s, want LBC's DNS name %s", got, lbc.dnsName)
	}
	ls := listeners(t, lbARN)
	if len(ls) != 1 || awssdk.ToString(ls[0].ListenerArn) != lbc.listenerARN {
		t.Fatalf("listeners %s (%d), want LBC's listener %s kept", listenerSummary(ls), len(ls), lbc.listenerARN)
	}
	if a := ls[0].DefaultActions; len(a) != 1 || a[0].Type != elbtypes.ActionTypeEnumForward || forwardARN(a[0]) != lbc.tgARN {
		t.Errorf("listener default actions %+v, want a forward to LBC's target group %s", a, lbc.tgARN)
	}
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 || awssdk.ToString(tgs[0].TargetGroupArn) != lbc.tgARN {
		t.Errorf("target groups %v, want LBC's %s only", tgNames(tgs), lbc.tgARN)
	}
	waitTargets(t, "the endpoint still registered", lbc.tgARN, "192.0.2.10:3000")

	// Settle, then count: adoption created and deleted nothing.
	time.Sleep(2 * time.Second)
	counts := cloud.CallCounts()
	t.Logf("AWS writes while adopting: %v", writeCalls(nil, counts))
	for op, n := range counts {
		name := op[strings.Index(op, ":")+1:]
		if n > 0 && (strings.HasPrefix(name, "Create") && name != "CreateTags" || strings.HasPrefix(name, "Delete") && name != "DeleteTags") {
			t.Errorf("elbgateway called %s %d times while adopting LBC's stack", op, n)
		}
	}
	if _, err := env.elb.DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{
		LoadBalancerArns: []string{lbc.otherARN}}); err != nil {
		t.Errorf("LBC's Ingress load balancer: %v", err)
	}
	if _, err := env.ec2.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		GroupIds: []string{lbc.sgID, lbc.backendSGID}}); err != nil {
		t.Errorf("LBC's security groups: %v", err)
	}
}

func forwardARN(a elbtypes.Action) string {
	if a.TargetGroupArn != nil {
		return *a.TargetGroupArn
	}
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) == 1 {
		return awssdk.ToString(a.ForwardConfig.TargetGroups[0].TargetGroupArn)
	}
	return ""
}

func tgNames(tgs []elbtypes.TargetGroup) []string {
	var out []string
	for _, tg := range tgs {
		out = append(out, awssdk.ToString(tg.TargetGroupName))
	}
	return out
}

// lbcBindingCRD is the AWS Load Balancer Controller's TargetGroupBinding CRD, reduced to what a
// test needs: the kind, served, with any spec.
const lbcBindingCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: targetgroupbindings.elbv2.k8s.aws
spec:
  group: elbv2.k8s.aws
  names: {kind: TargetGroupBinding, listKind: TargetGroupBindingList, plural: targetgroupbindings, singular: targetgroupbinding}
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

// installLBCBindings installs the TargetGroupBinding CRD and waits until it is served.
func (w *migrationWorld) installLBCBindings(t *testing.T) {
	t.Helper()
	applyYAML(t, w.client, "", lbcBindingCRD)
	eventually(t, 30*timeoutScale, "TargetGroupBindings served", func() error {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion("elbv2.k8s.aws/v1beta1")
		list.SetKind("TargetGroupBindingList")
		return w.client.List(context.Background(), list)
	})
}

// createLBCBinding creates the TargetGroupBinding LBC makes for the stack's target group: named
// after the target group, in the Service's namespace, labelled with the Gateway.
func (w *migrationWorld) createLBCBinding(t *testing.T, tgARN string) *unstructured.Unstructured {
	t.Helper()
	b := &unstructured.Unstructured{}
	b.SetAPIVersion("elbv2.k8s.aws/v1beta1")
	b.SetKind("TargetGroupBinding")
	b.SetNamespace(w.ns)
	b.SetName(tgARN[strings.LastIndex(tgARN[:strings.LastIndex(tgARN, "/")], "/")+1 : strings.LastIndex(tgARN, "/")])
	b.SetLabels(map[string]string{"gateway.k8s.aws.nlb/stack-namespace": w.ns, "gateway.k8s.aws.nlb/stack-name": "aws-tcp-gateway"})
	b.Object["spec"] = map[string]any{"targetGroupARN": tgARN, "targetType": "ip",
		"serviceRef": map[string]any{"name": "backend", "port": int64(3000)}}
	if err := w.client.Create(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMigrateFromLBCWaitsForItsBindings: while a TargetGroupBinding of LBC's feeds the Gateway's
// target group, elbgateway leaves the stack alone (not one AWS write), says so on the Gateway
// and in an event; once the binding is gone it takes the load balancer over in place.
func TestMigrateFromLBCWaitsForItsBindings(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	const cluster = "lbc-handover"
	ctx := context.Background()
	w := startMigrationWorld(t, cluster)
	w.installLBCBindings(t)
	lbc := createLBCStack(t, cluster, w.vpc, w.ns, string(w.gw.UID))
	binding := w.createLBCBinding(t, lbc.tgARN)

	cloud := w.startElbgateway(t, cluster)
	eventually(t, 60*timeoutScale, "the Gateway left to LBC's binding", func() error {
		var gw gwv1.Gateway
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: w.ns, Name: "aws-tcp-gateway"}, &gw); err != nil {
			return err
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "LBCTargetGroupBindings" ||
			!strings.Contains(c.Message, w.ns+"/"+binding.GetName()) || !strings.Contains(c.Message, "NLBGatewayAPI") {
			return fmt.Errorf("conditions %s, want Programmed=False LBCTargetGroupBindings naming %s and the NLBGatewayAPI gate",
				conditionsText(gw.Status.Conditions), binding.GetName())
		}
		return nil
	})
	eventually(t, 30*timeoutScale, "a NotAdopted event on the Gateway", func() error {
		var events corev1.EventList
		if err := w.client.List(ctx, &events, client.InNamespace(w.ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Reason == "NotAdopted" && e.Type == corev1.EventTypeWarning && e.InvolvedObject.Name == "aws-tcp-gateway" {
				return nil
			}
		}
		return fmt.Errorf("%d events, none NotAdopted", len(events.Items))
	})
	time.Sleep(time.Second)
	if writes := writeCalls(nil, cloud.CallCounts()); len(writes) != 0 {
		t.Errorf("AWS writes %v on a stack LBC's bindings still feed, want none", writes)
	}
	if n := len(cloud.CallCounts()); n != 0 {
		t.Errorf("AWS calls %v for a Gateway left to LBC, want none", cloud.CallCounts())
	}

	// The hand-over: the binding goes (this cluster runs no LBC to deregister its targets; on a
	// real cluster its finalizer is removed first, see docs/migrate-from-lbc.md).
	if err := w.client.Delete(ctx, binding); err != nil {
		t.Fatal(err)
	}
	_, lbARN := programmedGateway(t, w.client, w.ns, "aws-tcp-gateway")
	if lbARN != lbc.lbARN {
		t.Fatalf("the Gateway is programmed on %s after the hand-over, want LBC's load balancer %s", lbARN, lbc.lbARN)
	}
	if tgs := targetGroups(t, lbARN); len(tgs) != 1 || awssdk.ToString(tgs[0].TargetGroupArn) != lbc.tgARN {
		t.Errorf("target groups %v, want LBC's %s only", tgNames(tgs), lbc.tgARN)
	}
	waitTargets(t, "the endpoint still registered", lbc.tgARN, "192.0.2.10:3000")

	// LBC's Gateway controller switched on again makes its bindings again: elbgateway steps back.
	w.createLBCBinding(t, lbc.tgARN)
	before := cloud.CallCounts()
	eventually(t, 30*timeoutScale, "the Gateway left to LBC again", func() error {
		var gw gwv1.Gateway
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: w.ns, Name: "aws-tcp-gateway"}, &gw); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)); c == nil || c.Reason != "LBCTargetGroupBindings" {
			return fmt.Errorf("conditions %s", conditionsText(gw.Status.Conditions))
		}
		return nil
	})
	if writes := writeCalls(before, cloud.CallCounts()); len(writes) != 0 {
		t.Errorf("AWS writes %v after LBC's binding came back, want none", writes)
	}
}

// TestMigrateFromLBCOtherCluster: a stack LBC made for the same Gateway under another cluster
// name is not taken over: a Warning event names it and the cluster name that would take it
// over, elbgateway makes its own load balancer, and LBC's is left exactly as it was.
func TestMigrateFromLBCOtherCluster(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	const cluster, lbcCluster = "lbc-renamed", "lbc-original"
	ctx := context.Background()
	w := startMigrationWorld(t, cluster)
	lbc := createLBCStack(t, lbcCluster, w.vpc, w.ns, string(w.gw.UID))
	tagsBefore := describeTagsOf(t, lbc.lbARN, lbc.listenerARN, lbc.tgARN)

	w.startElbgateway(t, cluster)
	_, lbARN := programmedGateway(t, w.client, w.ns, "aws-tcp-gateway")
	if lbARN == lbc.lbARN {
		t.Fatalf("the Gateway is programmed on %s, the load balancer tagged for cluster %s", lbARN, lbcCluster)
	}
	eventually(t, 30*timeoutScale, "a NotAdopted event naming LBC's load balancer", func() error {
		var events corev1.EventList
		if err := w.client.List(ctx, &events, client.InNamespace(w.ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Reason == "NotAdopted" && e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, lbc.lbARN) &&
				strings.Contains(e.Message, "--cluster-name "+lbcCluster) {
				return nil
			}
		}
		return fmt.Errorf("%d events, none NotAdopted naming %s and --cluster-name %s", len(events.Items), lbc.lbARN, lbcCluster)
	})
	if ls := listeners(t, lbc.lbARN); len(ls) != 1 || awssdk.ToString(ls[0].ListenerArn) != lbc.listenerARN {
		t.Errorf("LBC's load balancer has listeners %s, want its own listener %s untouched", listenerSummary(ls), lbc.listenerARN)
	}
	if tgs := targetGroups(t, lbc.lbARN); len(tgs) != 1 || awssdk.ToString(tgs[0].TargetGroupArn) != lbc.tgARN {
		t.Errorf("LBC's load balancer has target groups %v, want its own %s", tgNames(tgs), lbc.tgARN)
	}
	if after := describeTagsOf(t, lbc.lbARN, lbc.listenerARN, lbc.tgARN); after != tagsBefore {
		t.Errorf("tags of LBC's resources changed:\nbefore %s\nafter  %s", tagsBefore, after)
	}
}

// describeTagsOf prints the tags of ELB resources, sorted, for comparison.
func describeTagsOf(t *testing.T, arns ...string) string {
	t.Helper()
	out, err := env.elb.DescribeTags(context.Background(), &elbv2.DescribeTagsInput{ResourceArns: arns})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, d := range out.TagDescriptions {
		for _, tag := range d.Tags {
			parts = append(parts, awssdk.ToString(d.ResourceArn)+" "+awssdk.ToString(tag.Key)+"="+awssdk.ToString(tag.Value))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n")
}
