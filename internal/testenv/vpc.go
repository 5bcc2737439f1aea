package testenv

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Subnet role tags that load balancer subnet discovery reads.
const (
	TagPublicELB   = "kubernetes.io/role/elb"
	TagInternalELB = "kubernetes.io/role/internal-elb"
)

// VPCCIDR is the address range of the VPC that SeedVPC creates.
const VPCCIDR = "10.0.0.0/16"

// seededZones is how many availability zones SeedVPC spreads subnets over.
const seededZones = 3

// VPC is what SeedVPC created. Zones are sorted; PublicSubnets[i] and PrivateSubnets[i] are in Zones[i].
type VPC struct {
	VPCID             string
	InternetGatewayID string
	Zones             []string
	PublicSubnets     []string
	PrivateSubnets    []string
}

// ClusterTag is the tag key that marks subnets usable by the named cluster.
func ClusterTag(clusterName string) string { return "kubernetes.io/cluster/" + clusterName }

// SeedVPC creates, at endpoint, a VPC (VPCCIDR) with an internet gateway and, in the first
// three availability zones of region, a public subnet tagged kubernetes.io/role/elb=1 (routed
// to the internet gateway) and a private subnet tagged kubernetes.io/role/internal-elb=1. All
// subnets carry kubernetes.io/cluster/<clusterName>=shared.
func SeedVPC(ctx context.Context, endpoint, region, clusterName string) (*VPC, error) {
	client := ec2.NewFromConfig(AWSConfig(endpoint, region))
	zones, err := firstZones(ctx, client, seededZones)
	if err != nil {
		return nil, err
	}
	vpcOut, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{
		CidrBlock:         aws.String(VPCCIDR),
		TagSpecifications: tagSpec(ec2types.ResourceTypeVpc, map[string]string{"Name": clusterName}),
	})
	if err != nil {
		return nil, fmt.Errorf("creating VPC: %w", err)
	}
	vpc := &VPC{VPCID: aws.ToString(vpcOut.Vpc.VpcId), Zones: zones}
	routeTable, err := internetRoute(ctx, client, vpc, clusterName)
	if err != nil {
		return nil, err
	}
	for i, zone := range zones {
		public, err := createSubnet(ctx, client, subnetSpec{
			vpc: vpc.VPCID, zone: zone, cidr: fmt.Sprintf("10.0.%d.0/20", 16*i),
			name: clusterName + "-public-" + zone, role: TagPublicELB, cluster: clusterName,
		})
		if err != nil {
			return nil, err
		}
		if _, err := client.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{
			RouteTableId: aws.String(routeTable), SubnetId: aws.String(public),
		}); err != nil {
			return nil, fmt.Errorf("routing subnet %s to the internet gateway: %w", public, err)
		}
		private, err := createSubnet(ctx, client, subnetSpec{
			vpc: vpc.VPCID, zone: zone, cidr: fmt.Sprintf("10.0.%d.0/20", 128+16*i),
			name: clusterName + "-private-" + zone, role: TagInternalELB, cluster: clusterName,
		})
		if err != nil {
			return nil, err
		}
		vpc.PublicSubnets = append(vpc.PublicSubnets, public)
		vpc.PrivateSubnets = append(vpc.PrivateSubnets, private)
	}
	return vpc, nil
}

// firstZones returns the n alphabetically first available zones of the client's region.
func firstZones(ctx context.Context, client *ec2.Client, n int) ([]string, error) {
	out, err := client.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		return nil, fmt.Errorf("listing availability zones: %w", err)
	}
	var zones []string
	for _, z := range out.AvailabilityZones {
		if z.State == ec2types.AvailabilityZoneStateAvailable || z.State == "" {
			zones = append(zones, aws.ToString(z.ZoneName))
		}
	}
	sort.Strings(zones)
	if len(zones) < n {
		return nil, fmt.Errorf("region has %d availability zones, need %d: choose another region", len(zones), n)
	}
	return zones[:n], nil
}

// internetRoute attaches an internet gateway to vpc and returns a route table that sends
// 0.0.0.0/0 to it.
func internetRoute(ctx context.Context, client *ec2.Client, vpc *VPC, clusterName string) (string, error) {
	igw, err := client.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{
		TagSpecifications: tagSpec(ec2types.ResourceTypeInternetGateway, map[string]string{"Name": clusterName}),
	})
	if err != nil {
		return "", fmt.Errorf("creating internet gateway: %w", err)
	}
	vpc.InternetGatewayID = aws.ToString(igw.InternetGateway.InternetGatewayId)
	if _, err := client.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: aws.String(vpc.InternetGatewayID), VpcId: aws.String(vpc.VPCID),
	}); err != nil {
		return "", fmt.Errorf("attaching internet gateway: %w", err)
	}
	rt, err := client.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{
		VpcId:             aws.String(vpc.VPCID),
		TagSpecifications: tagSpec(ec2types.ResourceTypeRouteTable, map[string]string{"Name": clusterName + "-public"}),
	})
	if err != nil {
		return "", fmt.Errorf("creating route table: %w", err)
	}
	id := aws.ToString(rt.RouteTable.RouteTableId)
	if _, err := client.CreateRoute(ctx, &ec2.CreateRouteInput{
		RouteTableId: aws.String(id), DestinationCidrBlock: aws.String("0.0.0.0/0"),
		GatewayId: aws.String(vpc.InternetGatewayID),
	}); err != nil {
		return "", fmt.Errorf("creating default route: %w", err)
	}
	return id, nil
}

type subnetSpec struct {
	vpc, zone, cidr, name, role, cluster string
}

func createSubnet(ctx context.Context, client *ec2.Client, s subnetSpec) (string, error) {
	out, err := client.CreateSubnet(ctx, &ec2.CreateSubnetInput{
		VpcId:            aws.String(s.vpc),
		AvailabilityZone: aws.String(s.zone),
		CidrBlock:        aws.String(s.cidr),
		TagSpecifications: tagSpec(ec2types.ResourceTypeSubnet, map[string]string{
			"Name":                s.name,
			s.role:                "1",
			ClusterTag(s.cluster): "shared",
		}),
	})
	if err != nil {
		return "", fmt.Errorf("creating subnet %s in %s: %w", s.cidr, s.zone, err)
	}
	return aws.ToString(out.Subnet.SubnetId), nil
}

func tagSpec(kind ec2types.ResourceType, tags map[string]string) []ec2types.TagSpecification {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	spec := ec2types.TagSpecification{ResourceType: kind}
	for _, k := range keys {
		spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return []ec2types.TagSpecification{spec}
}
