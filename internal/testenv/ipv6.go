package testenv

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// AddIPv6 makes vpc dual-stack, as an Amazon-provided /56 does, and gives each of subnets a /64
// of it (the i-th subnet the i-th /64), so that dual-stack load balancers may use them. Subnets
// left out keep IPv4 only.
func AddIPv6(ctx context.Context, endpoint, region, vpc string, subnets ...string) error {
	client := ec2.NewFromConfig(AWSConfig(endpoint, region))
	out, err := client.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{
		VpcId: aws.String(vpc), AmazonProvidedIpv6CidrBlock: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("associating an IPv6 block with %s: %w", vpc, err)
	}
	block := out.Ipv6CidrBlockAssociation
	if block == nil || block.Ipv6CidrBlock == nil {
		return fmt.Errorf("%s got no IPv6 block", vpc)
	}
	p, err := netip.ParsePrefix(aws.ToString(block.Ipv6CidrBlock))
	if err != nil {
		return fmt.Errorf("IPv6 block of %s: %w", vpc, err)
	}
	for i, s := range subnets {
		b := p.Masked().Addr().As16()
		b[7] = byte(i)
		sub := netip.PrefixFrom(netip.AddrFrom16(b), 64).String()
		if _, err := client.AssociateSubnetCidrBlock(ctx, &ec2.AssociateSubnetCidrBlockInput{
			SubnetId: aws.String(s), Ipv6CidrBlock: aws.String(sub),
		}); err != nil {
			return fmt.Errorf("associating %s with subnet %s: %w", sub, s, err)
		}
	}
	return nil
}
