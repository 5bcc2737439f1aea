package controller_test

import (
	"context"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// dualStackBackend is the seed's backend as a dual-stack Service with an EndpointSlice of each
// family, as the EndpointSlice controller writes them for a dual-stack pod.
const dualStackBackend = `
apiVersion: v1
kind: Service
metadata: {name: backend}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  ports: [{name: http, port: 3000, targetPort: 3000}]
  selector: {app: backend}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-v4
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: 3000, protocol: TCP}]
endpoints: [{addresses: [192.0.2.10], conditions: {ready: true, serving: true, terminating: false}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-v6
  labels: {kubernetes.io/service-name: backend}
addressType: IPv6
ports: [{name: http, port: 3000, protocol: TCP}]
endpoints: [{addresses: ["2001:db8::10"], conditions: {ready: true, serving: true, terminating: false}}]
`

// TestDualStackGatewayUsesIPv6Subnets: a dual-stack Gateway's NLB is created in the public
// subnets that have an IPv6 CIDR block only (its VPC, being moved to IPv6, has one such), not in
// every tagged public subnet, which CreateLoadBalancer refuses; its dual-stack backend gets an
// ipv6 target group, which takes the IPv6 EndpointSlice's address only. The cluster has an IPv6
// service range, as a dual-stack cluster has.
func TestDualStackGatewayUsesIPv6Subnets(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	const cluster = "dualstack"
	ctx := context.Background()
	kube := startTestCluster(t, testenv.ClusterOptions{DualStackServices: true})
	vpc, err := testenv.SeedVPC(ctx, env.moto.Endpoint, region, cluster)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.AddIPv6(ctx, env.moto.Endpoint, region, vpc.VPCID, vpc.PublicSubnets[0]); err != nil {
		t.Fatal(err)
	}
	cloud, err := aws.New(ctx, cloudOptions(cluster, vpc.VPCID, env.moto.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(cluster, cloud)
	o.VPCID = vpc.VPCID
	_, c := startTestController(t, kube.Config, o)

	ns := newNamespaceIn(t, c)
	applyFiles(t, c, ns, "examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/gw-public-nlb.yaml", "examples/seed-l4/tcproute.yaml")
	applyYAML(t, c, ns, seedLBC+"  ipAddressType: dualstack\n---\n"+seedTGC+"---\n"+dualStackBackend)
	_, lbARN := programmedGateway(t, c, ns, "aws-tcp-gateway")

	out, err := env.elb.DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	if err != nil {
		t.Fatal(err)
	}
	lb := out.LoadBalancers[0]
	if lb.IpAddressType != "dualstack" {
		t.Errorf("load balancer IP address type %s, want dualstack", lb.IpAddressType)
	}
	var subnets []string
	for _, z := range lb.AvailabilityZones {
		subnets = append(subnets, awssdk.ToString(z.SubnetId))
	}
	if len(subnets) != 1 || subnets[0] != vpc.PublicSubnets[0] {
		t.Errorf("dual-stack load balancer subnets %v, want only %s, the public subnet with an IPv6 block", subnets, vpc.PublicSubnets[0])
	}

	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 || tgs[0].IpAddressType != "ipv6" {
		t.Fatalf("target groups %+v, want one ipv6 target group for the dual-stack Service", tgs)
	}
	waitTargets(t, "ipv6 target group", awssdk.ToString(tgs[0].TargetGroupArn), "2001:db8::10:3000")
}
