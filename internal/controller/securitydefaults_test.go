package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

const noSecurityGroupsGateway = `
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata:
  name: no-sgs
spec:
  disableSecurityGroup: true
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  gatewayClassName: aws-nlb-gateway-class
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: no-sgs}
  listeners:
  - {name: nodes, protocol: TCP, port: 9000}
  - {name: pods, protocol: TCP, port: 9001}
`

// TestInternalNLBWithoutSecurityGroupsOpensNodesToTheVPC: the worker nodes behind an internal
// NLB without security groups and without sourceRanges are opened to the VPC's CIDR block, not
// to 0.0.0.0/0 (instance targets, which see the client's address); pods behind an ip target
// group, which does not preserve the client's address, only to the load balancer's subnets.
func TestInternalNLBWithoutSecurityGroupsOpensNodesToTheVPC(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	ctx := context.Background()
	w := newOwnWorld(t, "sec-defaults")
	w.addNodeAndPod(t, "10.0.150.41")
	c, ns, vpc, nodeSG, podSG := w.client, w.ns, w.vpc, w.nodeSG, w.podSG
	w.startController(t, nil)

	applyFiles(t, c, ns, "examples/seed-l4/gwc-nlb.yaml")
	// The Gateway and routes of the security-group test, with a configuration that takes the
	// load balancer's security groups away.
	rest := fmt.Sprintf(sgGateway, 9000, w.podIP)
	rest = rest[strings.Index(rest, "---")+len("---"):]
	applyYAML(t, c, ns, noSecurityGroupsGateway+"---"+rest)
	node := ns + "-node"
	applyYAML(t, c, "", fmt.Sprintf("apiVersion: v1\nkind: Node\nmetadata: {name: %s}\nspec: {providerID: 'aws:///%s/%s'}\n",
		node, vpc.Zones[0], w.instance))
	markNodeReadyIn(t, c, node)
	_, lbARN := programmedGateway(t, c, ns, "gw")
	lb := describeLB(t, lbARN)
	if len(lb.SecurityGroups) != 0 || lb.Scheme != "internal" {
		t.Fatalf("load balancer: groups %v, scheme %s; want an internal NLB without security groups", lb.SecurityGroups, lb.Scheme)
	}
	var subnetIDs []string
	for _, az := range lb.AvailabilityZones {
		subnetIDs = append(subnetIDs, awssdk.ToString(az.SubnetId))
	}
	subnets, err := env.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnetIDs})
	if err != nil {
		t.Fatal(err)
	}
	var lbSubnets []string
	for _, s := range subnets.Subnets {
		lbSubnets = append(lbSubnets, awssdk.ToString(s.CidrBlock))
	}
	slices.Sort(lbSubnets)

	var wantPods []string
	for _, cidr := range lbSubnets {
		wantPods = append(wantPods, "tcp:8080-8080<"+cidr)
	}
	wantNodes := append([]string{"tcp:30901-30901<" + testenv.VPCCIDR}, strings.ReplaceAll(strings.Join(wantPods, "\n"), "8080-8080", "30901-30901"))
	wantNodes = strings.Split(strings.Join(wantNodes, "\n"), "\n")
	slices.Sort(wantNodes)
	eventually(t, 30*timeoutScale, "worker-node and pod rules", func() error {
		if got := groupRules(t, nodeSG, true); !slices.Equal(got, wantNodes) {
			return fmt.Errorf("node group rules %v, want traffic from the VPC %s and health checks from the load balancer's subnets: %v",
				got, testenv.VPCCIDR, wantNodes)
		}
		if got := groupRules(t, podSG, true); !slices.Equal(got, wantPods) {
			return fmt.Errorf("pod group rules %v, want the load balancer's subnets only (ip targets see its addresses): %v", got, wantPods)
		}
		return nil
	})
}
