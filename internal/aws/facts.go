package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// FactsRequest names what translation of one Gateway needs to know.
type FactsRequest struct {
	// StackID is the Gateway's namespace/name.
	StackID string
	Type    model.LoadBalancerType
	// LoadBalancerName, if known, finds the existing load balancer with one call.
	LoadBalancerName string
	// TargetGroupNames are out-of-band target groups routes refer to by name.
	TargetGroupNames []string
	// Certificates asks for the issued ACM certificates, for listeners that discover theirs.
	Certificates bool
	// CertificateARNs are the certificates LoadBalancerConfigurations name for secure
	// listeners, to check that they exist and are issued.
	CertificateARNs []string
	// SecurityGroupNames are Name tags of security groups the configuration names.
	SecurityGroupNames []string
	// VPCCIDRs asks for the VPC's CIDR blocks (cached for NetworkCacheTTL).
	VPCCIDRs bool
}

// subnetRead is the VPC's subnets as read at a time.
type subnetRead struct {
	subnets []snapshot.Subnet
	at      time.Time
}

// Facts reads the VPC's subnets (remembered as fresh.go says), the stack's existing load balancer
// and the ARNs of the named target groups. Names that do not exist are left out of the map.
func (c *Cloud) Facts(ctx context.Context, req FactsRequest) (snapshot.AWSFacts, error) {
	var f snapshot.AWSFacts
	subnets, err := c.vpcSubnets(ctx)
	if err != nil {
		return f, fmt.Errorf("reading subnets of VPC %s: %w", c.opts.VPCID, err)
	}
	f.Subnets = subnets
	existing, err := c.existingLoadBalancer(ctx, req)
	if err != nil {
		return f, fmt.Errorf("looking for the load balancer of %s: %w", req.StackID, err)
	}
	f.ExistingLoadBalancer = existing
	if req.VPCCIDRs {
		blocks, err := c.vpcCIDRs(ctx)
		if err != nil {
			return f, err
		}
		for _, b := range blocks {
			f.VPCCIDRs = append(f.VPCCIDRs, b.String())
		}
		slices.Sort(f.VPCCIDRs)
	}
	if req.Certificates {
		if f.Certificates, err = c.issuedCertificates(ctx); err != nil {
			return f, fmt.Errorf("listing ACM certificates: %w", err)
		}
	}
	if f.CertificateStatuses, err = c.certificateStatuses(ctx, req.CertificateARNs); err != nil {
		return f, fmt.Errorf("checking ACM certificates: %w", err)
	}
	if f.SecurityGroupIDs, err = c.securityGroupIDsByName(ctx, req.SecurityGroupNames); err != nil {
		return f, err
	}
	for _, name := range req.TargetGroupNames {
		arn, err := c.targetGroupARN(ctx, name)
		if err != nil {
			return f, fmt.Errorf("looking up target group %q: %w", name, err)
		}
		if arn == "" {
			continue
		}
		if f.TargetGroupARNs == nil {
			f.TargetGroupARNs = map[string]string{}
		}
		f.TargetGroupARNs[name] = arn
	}
	return f, nil
}

// vpcSubnets returns the VPC's subnets. Like the other facts this process remembers
// (fresh.go), they are read once and reused until a resync pass reads AWS afresh or a write
// that names subnets fails (forgetSubnets); SubnetCacheTTL, when set, bounds them too. A route
// added to a Gateway that is programmed reads none.
//
// Every Gateway of the VPC shares them: a resync pass takes a read less than a resync period
// old (sharedReadFresh), so the passes of N Gateways cost one DescribeSubnets a period, not N.
// Reads are made one at a time, so Gateways that reconcile at once share one too.
func (c *Cloud) vpcSubnets(ctx context.Context) ([]snapshot.Subnet, error) {
	if out, ok := c.knownSubnets(ctx); ok {
		return out, nil
	}
	c.subnetsMu.Lock()
	defer c.subnetsMu.Unlock()
	if out, ok := c.knownSubnets(ctx); ok {
		return out, nil // read meanwhile by another Gateway
	}
	readAt := c.now()
	in := &ec2.DescribeSubnetsInput{}
	if c.opts.VPCID != "" {
		in.Filters = []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{c.opts.VPCID}}}
	}
	var out []snapshot.Subnet
	p := ec2.NewDescribeSubnetsPaginator(c.ec2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Subnets {
			sub := snapshot.Subnet{
				ID:               aws.ToString(s.SubnetId),
				AvailabilityZone: aws.ToString(s.AvailabilityZone),
				VPCID:            aws.ToString(s.VpcId),
				CIDR:             aws.ToString(s.CidrBlock),
				IPv6CIDRs:        associatedIPv6(s.Ipv6CidrBlockAssociationSet),
				AvailableIPs:     aws.ToInt32(s.AvailableIpAddressCount),
				Tags:             fromEC2Tags(s.Tags),
			}
			out = append(out, sub)
		}
	}
	slices.SortFunc(out, func(a, b snapshot.Subnet) int { return strings.Compare(a.ID, b.ID) })
	if !slices.ContainsFunc(out, hasRoleTag("kubernetes.io/role/elb")) || !slices.ContainsFunc(out, hasRoleTag("kubernetes.io/role/internal-elb")) {
		if err := c.subnetReachability(ctx, out); err != nil {
			return nil, err
		}
	}
	c.subnets.put(c.opts.VPCID, subnetRead{subnets: out, at: readAt}, c.now())
	return slices.Clone(out), nil
}

// knownSubnets returns the remembered subnets, if any and if they serve ctx.
func (c *Cloud) knownSubnets(ctx context.Context) ([]snapshot.Subnet, bool) {
	now := c.now()
	cached, ok := c.subnets.get(c.opts.VPCID, now)
	if !ok || !sharedReadFresh(ctx, cached.at, now) {
		return nil, false
	}
	return slices.Clone(cached.subnets), true
}

// forgetSubnets drops the remembered subnets after a CreateLoadBalancer or SetSubnets failed:
// the subnets it named may be gone, out of addresses or retagged, unknown until read.
func (c *Cloud) forgetSubnets() { c.subnets.forget(c.opts.VPCID) }

// existingLoadBalancer finds the stack's load balancer as the last apply left it (applied.go),
// else through the inventory: as the last listing saw it when we have not changed it since,
// else described by ARN. A name look-up
// happens only after a create of that name that may have half-succeeded (uncertain.go).
func (c *Cloud) existingLoadBalancer(ctx context.Context, req FactsRequest) (*snapshot.ExistingLoadBalancer, error) {
	if req.LoadBalancerName != "" && c.uncertain.mayExist("loadbalancer", req.LoadBalancerName) {
		lb, err := c.loadBalancerByName(ctx, req.LoadBalancerName)
		if err != nil {
			return nil, err
		}
		if lb != nil {
			tags, err := c.elbTags(ctx, []string{aws.ToString(lb.LoadBalancerArn)})
			if err != nil {
				return nil, err
			}
			if id, ok := c.owned(tags[aws.ToString(lb.LoadBalancerArn)], req.StackID, req.Type); ok && id == model.LoadBalancerID {
				return existingOf(lb.Scheme, lb.AvailabilityZones), nil
			}
		}
	}
	key := stackKey{req.Type, req.StackID}
	if e, ok := c.applied.get(key); ok && e.trusted(c.now()) && e.stack.LoadBalancer != nil {
		// The last apply left it so (applied.go).
		lb := e.stack.LoadBalancer
		out := &snapshot.ExistingLoadBalancer{Scheme: lb.Scheme}
		for _, sm := range lb.Subnets {
			out.Subnets = append(out.Subnets, sm.SubnetID)
		}
		slices.Sort(out.Subnets)
		return out, nil
	}
	arns, err := c.inventoryARNs(ctx, key, kindLoadBalancer)
	if err != nil || len(arns) == 0 {
		return nil, err
	}
	if len(arns) == 1 {
		if lb, ok := c.inv.listedLoadBalancer(arns[0]); ok {
			tags, err := c.elbTags(ctx, arns)
			if err != nil {
				return nil, err
			}
			if id, ok := c.owned(tags[arns[0]], req.StackID, req.Type); ok && id == model.LoadBalancerID {
				return existingOf(lb.Scheme, lb.AvailabilityZones), nil
			}
		}
	}
	lbs, _, err := c.ownedLoadBalancers(ctx, req.StackID, req.Type)
	if err != nil || len(lbs) == 0 {
		return nil, err
	}
	return existingOf(lbs[0].Scheme, lbs[0].AvailabilityZones), nil
}

func existingOf(scheme elbtypes.LoadBalancerSchemeEnum, azs []elbtypes.AvailabilityZone) *snapshot.ExistingLoadBalancer {
	e := &snapshot.ExistingLoadBalancer{Scheme: string(scheme)}
	for _, az := range azs {
		e.Subnets = append(e.Subnets, aws.ToString(az.SubnetId))
	}
	slices.Sort(e.Subnets)
	return e
}

// targetGroupARN looks a target group up by name; "" when there is none.
func (c *Cloud) targetGroupARN(ctx context.Context, name string) (string, error) {
	if arn, ok := c.tgNames.get(name, c.now()); ok {
		return arn, nil
	}
	resp, err := c.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{name}})
	if errorCode(err) == "TargetGroupNotFound" {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if len(resp.TargetGroups) == 0 {
		return "", nil
	}
	arn := aws.ToString(resp.TargetGroups[0].TargetGroupArn)
	c.tgNames.put(name, arn, c.now())
	return arn, nil
}

// associatedIPv6 lists a subnet's IPv6 blocks in the associated state: one being associated or
// disassociated does not give a dual-stack load balancer an address yet (or any more).
func associatedIPv6(set []ec2types.SubnetIpv6CidrBlockAssociation) []string {
	var out []string
	for _, a := range set {
		if a.Ipv6CidrBlockState != nil && a.Ipv6CidrBlockState.State == ec2types.SubnetCidrBlockStateCodeAssociated {
			out = append(out, aws.ToString(a.Ipv6CidrBlock))
		}
	}
	return out
}

// hasRoleTag says whether a subnet carries the load-balancer role tag role
// (kubernetes.io/role/elb or kubernetes.io/role/internal-elb). Translation falls back to
// reachability for a scheme when no subnet carries that scheme's tag, so the route tables are
// read when either tag is on no subnet.
func hasRoleTag(role string) func(snapshot.Subnet) bool {
	return func(s snapshot.Subnet) bool {
		_, ok := s.Tags[role]
		return ok
	}
}

// subnetReachability marks each subnet public or private by its route table, as the AWS Load
// Balancer Controller's discovery by reachability: public when the table (the subnet's own, else
// the VPC's main table) has a route to an internet gateway (igw-...). One DescribeRouteTables
// listing of the VPC, only when one of the two role tags is on no subnet, cached with the subnets.
func (c *Cloud) subnetReachability(ctx context.Context, subnets []snapshot.Subnet) error {
	in := &ec2.DescribeRouteTablesInput{}
	if c.opts.VPCID != "" {
		in.Filters = []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{c.opts.VPCID}}}
	}
	bySubnet := map[string]bool{}
	main, hasMain := false, false
	p := ec2.NewDescribeRouteTablesPaginator(c.ec2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("reading the route tables of VPC %s: %w", c.opts.VPCID, err)
		}
		for _, rt := range page.RouteTables {
			public := slices.ContainsFunc(rt.Routes, func(r ec2types.Route) bool {
				return strings.HasPrefix(aws.ToString(r.GatewayId), "igw-") && r.State != ec2types.RouteStateBlackhole
			})
			for _, a := range rt.Associations {
				if aws.ToBool(a.Main) {
					main, hasMain = public, true
				}
				if id := aws.ToString(a.SubnetId); id != "" {
					bySubnet[id] = public
				}
			}
		}
	}
	for i := range subnets {
		public, ok := bySubnet[subnets[i].ID]
		if !ok && !hasMain {
			continue
		}
		if !ok {
			public = main
		}
		subnets[i].Public = &public
	}
	return nil
}
