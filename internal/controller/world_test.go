package controller_test

import (
	"context"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// Tests with a world of their own run in parallel (parallelWorld), after the tests of the shared
// cluster: each has its own API server and controller, and a cluster name and VPC no other
// parallel test uses (the fault worlds too: startFaultWorld numbers their cluster names;
// TestSecurityGroupsOfAnNLBGateway is the only one in the shared VPC), and where it counts AWS
// calls, its own fault proxy or aws.Cloud. What they share is account-wide in AWS (ACM, WAF, Shield), where each uses
// names of its own. A test that reads the shared cluster, the package's controller, a
// process-wide registry or the shared VPC's worker-node groups stays sequential.

// ownWorld is an API server and a VPC of one test's own, for what must not meet the shared
// cluster (its own cluster name, its own shared backend group, its own controller flags).
type ownWorld struct {
	cluster string
	kube    *testenv.Cluster
	vpc     *testenv.VPC
	client  client.Client
	ns      string
	// nodeSG, podSG, instance and podIP are set by addNodeAndPod.
	nodeSG, podSG, instance, podIP string
}

func newOwnWorld(t *testing.T, cluster string) *ownWorld {
	t.Helper()
	w := &ownWorld{cluster: cluster, kube: startTestCluster(t, testenv.ClusterOptions{})}
	vpc, err := testenv.SeedVPC(context.Background(), env.moto.Endpoint, region, cluster)
	if err != nil {
		t.Fatal(err)
	}
	w.vpc = vpc
	w.client = newDirectClient(t, w.kube)
	w.ns = newNamespaceIn(t, w.client)
	return w
}

// addNodeAndPod makes a worker node (an instance with one security group) and a pod's network
// interface (one group) holding podIP, which must be in the second private subnet,
// 10.0.144.0/20.
func (w *ownWorld) addNodeAndPod(t *testing.T, podIP string) {
	t.Helper()
	ctx := context.Background()
	group := func(name string) string {
		out, err := env.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: awssdk.String(w.cluster + "-" + name),
			Description: awssdk.String("test"), VpcId: awssdk.String(w.vpc.VPCID)})
		if err != nil {
			t.Fatal(err)
		}
		return awssdk.ToString(out.GroupId)
	}
	w.nodeSG, w.podSG, w.podIP = group("nodes"), group("pods"), podIP
	run, err := env.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: awssdk.String("ami-12c6146b"),
		MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1), SubnetId: awssdk.String(w.vpc.PrivateSubnets[0]),
		SecurityGroupIds: []string{w.nodeSG}})
	if err != nil {
		t.Fatal(err)
	}
	w.instance = awssdk.ToString(run.Instances[0].InstanceId)
	if _, err := env.ec2.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: awssdk.String(w.vpc.PrivateSubnets[1]),
		Groups: []string{w.podSG}, PrivateIpAddress: awssdk.String(podIP)}); err != nil {
		t.Fatal(err)
	}
}

// startController starts elbgateway for the world's cluster and VPC; tune, if not nil,
// changes its AWS options first.
func (w *ownWorld) startController(t *testing.T, tune func(*aws.Options)) {
	t.Helper()
	o := cloudOptions(w.cluster, w.vpc.VPCID, env.moto.Endpoint)
	if tune != nil {
		tune(&o)
	}
	cloud, err := aws.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	co := controllerOptions(w.cluster, cloud)
	co.VPCID = w.vpc.VPCID
	startTestController(t, w.kube.Config, co)
}

// ownControllerOptions seeds a VPC tagged for cluster and returns the options of a controller
// for that cluster name in it, reaching moto directly: for a test whose API server is of its
// own making (webhooks, other CRDs).
func ownControllerOptions(t *testing.T, cluster string) controller.Options {
	t.Helper()
	ctx := context.Background()
	vpc, err := testenv.SeedVPC(ctx, env.moto.Endpoint, region, cluster)
	if err != nil {
		t.Fatal(err)
	}
	cloud, err := aws.New(ctx, cloudOptions(cluster, vpc.VPCID, env.moto.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(cluster, cloud)
	o.VPCID = vpc.VPCID
	return o
}
