package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestSubnetsByRouteTable: in a VPC where no subnet carries the kubernetes.io/role/elb tag (the
// private ones carry role/internal-elb), an internet-facing Gateway's load balancer goes to the
// subnets whose route table (their own, not the VPC's main one) sends traffic to an internet
// gateway, one per zone, and an event on the Gateway names them.
func TestSubnetsByRouteTable(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	ctx := context.Background()
	vpc, err := env.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: awssdk.String("10.77.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := awssdk.ToString(vpc.Vpc.VpcId)
	igw, err := env.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: awssdk.String(vpcID)}); err != nil {
		t.Fatal(err)
	}
	rt, err := env.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: awssdk.String(vpcID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.ec2.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId,
		DestinationCidrBlock: awssdk.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		t.Fatal(err)
	}
	var public []string
	for i, zone := range env.vpc.Zones[:2] {
		for _, kind := range []string{"public", "private"} {
			cidr := fmt.Sprintf("10.77.%d.0/24", 10*i)
			if kind == "private" {
				cidr = fmt.Sprintf("10.77.%d.0/24", 10*i+1)
			}
			s, err := env.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: awssdk.String(vpcID), AvailabilityZone: awssdk.String(zone), CidrBlock: awssdk.String(cidr)})
			if err != nil {
				t.Fatal(err)
			}
			if kind == "private" {
				if _, err := env.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{awssdk.ToString(s.Subnet.SubnetId)},
					Tags: []ec2types.Tag{{Key: awssdk.String("kubernetes.io/role/internal-elb"), Value: awssdk.String("1")}}}); err != nil {
					t.Fatal(err)
				}
			}
			if kind == "public" {
				public = append(public, awssdk.ToString(s.Subnet.SubnetId))
				if _, err := env.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: s.Subnet.SubnetId}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	slices.Sort(public)

	cluster := startTestCluster(t, testenv.ClusterOptions{})
	cloud, err := aws.New(ctx, cloudOptions(clusterName, vpcID, env.moto.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(clusterName, cloud)
	o.VPCID = vpcID
	_, c := startTestController(t, cluster.Config, o)
	ns := newNamespaceIn(t, c)
	applyFiles(t, c, ns, seedFiles...)
	_, lbARN := programmedGateway(t, c, ns, "aws-tcp-gateway")
	out, err := env.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, az := range out.LoadBalancers[0].AvailabilityZones {
		got = append(got, awssdk.ToString(az.SubnetId))
	}
	slices.Sort(got)
	if !slices.Equal(got, public) {
		t.Errorf("load balancer subnets %v, want the public ones %v", got, public)
	}
	eventually(t, 30*timeoutScale, "an event naming the chosen subnets", func() error {
		var list eventsv1.EventList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == "SubnetsByRouteTable" && e.Regarding.Name == "aws-tcp-gateway" && strings.Contains(e.Note, strings.Join(public, ", ")) {
				return nil
			}
		}
		return fmt.Errorf("no SubnetsByRouteTable event naming %v among %d events", public, len(list.Items))
	})
}
