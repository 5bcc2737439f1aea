package testenv

import (
	"context"
	"net/http"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// dualStackRules are AWS's rules for load balancers with IPv6 addresses.
var dualStackRules = []strictRule{
	{svcELB, "CreateLoadBalancer", dualStackSubnetsNeedIPv6},
	{svcELB, "SetSubnets", dualStackSubnetsNeedIPv6},
	{svcELB, "SetIpAddressType", dualStackSubnetsNeedIPv6},
	{svcELB, "CreateListener", dualStackUDPNeedsIPv6},
	{svcELB, "ModifyListener", dualStackUDPNeedsIPv6},
}

// dualStackAnswers correct moto's answers about IPv6.
var dualStackAnswers = []strictAnswer{
	{svcEC2, "DescribeSubnets", subnetIPv6State},
}

// mangledIPv6State is moto's serialization of a subnet IPv6 association's state: the whole
// state object in Python syntax, <state>{'State': 'associated'}</state> (docs/moto-notes.md).
var mangledIPv6State = regexp.MustCompile(`<state>\{(?:'|&#x27;|&apos;|&#39;)State(?:'|&#x27;|&apos;|&#39;): (?:'|&#x27;|&apos;|&#39;)([a-z-]+)(?:'|&#x27;|&apos;|&#39;)\}</state>`)

// subnetIPv6State gives DescribeSubnets AWS's shape: Ipv6CidrBlockState.State is a
// SubnetCidrBlockStateCode ("associating | associated | disassociating | disassociated | failing
// | failed").
func subnetIPv6State(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	s.forwardRewritten(w, r, func(body string) string {
		return mangledIPv6State.ReplaceAllString(body, "<state>$1</state>")
	})
	return true, nil
}

// dualStackSubnetsNeedIPv6: SetIpAddressType's reference example "sets the IP address type of the
// specified load balancer to dualstack ... The load balancer subnets must have associated IPv6
// CIDR blocks", and the NLB and ALB guides' dualstack requirements: "The virtual private cloud
// (VPC) and subnets that you specify for the load balancer must have associated IPv6 CIDR
// blocks." AWS answers CreateLoadBalancer and SetSubnets with "ValidationError: You must specify
// subnets with an associated IPv6 CIDR block." The IP address type is the request's
// (CreateLoadBalancer, SetIpAddressType, SetSubnets' optional one) or else the load balancer's.
func dualStackSubnetsNeedIPv6(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	ipType := r.form.Get("IpAddressType")
	subnets := append(queryStrings(r.form, "Subnets.member"), subnetMappingIDs(r)...)
	if r.action != "CreateLoadBalancer" && (ipType == "" || r.action == "SetIpAddressType") {
		lb, e := describeLoadBalancer(ctx, r, r.form.Get("LoadBalancerArn"))
		if e != nil || lb == nil {
			return e
		}
		if ipType == "" {
			ipType = string(lb.IpAddressType)
		}
		if r.action == "SetIpAddressType" {
			for _, z := range lb.AvailabilityZones {
				subnets = append(subnets, aws.ToString(z.SubnetId))
			}
		}
	}
	if ipType != string(elbtypes.IpAddressTypeDualstack) && ipType != string(elbtypes.IpAddressTypeDualstackWithoutPublicIpv4) {
		return nil
	}
	if len(subnets) == 0 {
		return nil
	}
	out, err := r.aws.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnets})
	if err != nil {
		// An unknown subnet is moto's to refuse, with its own SubnetNotFound.
		return notFoundIsNil(err)
	}
	for _, sn := range out.Subnets {
		if !hasAssociatedIPv6(sn) {
			return refuse("ValidationError", "You must specify subnets with an associated IPv6 CIDR block.")
		}
	}
	return nil
}

// subnetMappingIDs lists the subnets of a request's SubnetMappings.
func subnetMappingIDs(r *strictRequest) []string {
	var out []string
	for _, m := range queryList(r.form, "SubnetMappings.member") {
		if id := m.Get("SubnetId"); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// hasAssociatedIPv6 reads a subnet as moto holds it (the layer's own reads reach moto
// directly, so the state may still be in moto's Python form).
func hasAssociatedIPv6(sn ec2types.Subnet) bool {
	for _, a := range sn.Ipv6CidrBlockAssociationSet {
		if a.Ipv6CidrBlockState == nil {
			continue
		}
		state := string(a.Ipv6CidrBlockState.State)
		if m := pythonIPv6State.FindStringSubmatch(state); m != nil {
			state = m[1]
		}
		if state == string(ec2types.SubnetCidrBlockStateCodeAssociated) {
			return true
		}
	}
	return false
}

var pythonIPv6State = regexp.MustCompile(`^\{'State': '([a-z-]+)'\}$`)

// dualStackUDPNeedsIPv6: the NLB guide's listener prerequisites, "You can't use an IPv4 target
// group with a UDP listener for a dualstack load balancer." A TCP_UDP listener carries the same
// UDP traffic and is held to the same rule (the SetIpAddressType reference long named UDP and
// TCP_UDP listeners together as what a dualstack NLB could not have). ModifyListener keeps the
// listener's protocol and default actions where the request leaves them out.
func dualStackUDPNeedsIPv6(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	protocol := r.form.Get("Protocol")
	lbARN := r.form.Get("LoadBalancerArn")
	tgs := forwardTargetGroups(r.form)
	if r.action == "ModifyListener" {
		out, err := r.aws.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{r.form.Get("ListenerArn")}})
		if err != nil || len(out.Listeners) == 0 {
			return notFoundIsNil(err)
		}
		l := out.Listeners[0]
		lbARN = aws.ToString(l.LoadBalancerArn)
		if protocol == "" {
			protocol = string(l.Protocol)
		}
		if len(queryList(r.form, "DefaultActions.member")) == 0 {
			for _, a := range l.DefaultActions {
				if a.TargetGroupArn != nil {
					tgs = append(tgs, aws.ToString(a.TargetGroupArn))
				}
				if a.ForwardConfig != nil {
					for _, tg := range a.ForwardConfig.TargetGroups {
						tgs = append(tgs, aws.ToString(tg.TargetGroupArn))
					}
				}
			}
		}
	}
	if protocol != string(elbtypes.ProtocolEnumUdp) && protocol != string(elbtypes.ProtocolEnumTcpUdp) {
		return nil
	}
	lb, e := describeLoadBalancer(ctx, r, lbARN)
	if e != nil || lb == nil || lb.IpAddressType != elbtypes.IpAddressTypeDualstack {
		return e
	}
	for _, arn := range tgs {
		tg, e := describeTargetGroup(ctx, r, arn)
		if e != nil {
			return e
		}
		if tg != nil && tg.IpAddressType != elbtypes.TargetGroupIpAddressTypeEnumIpv6 {
			return refuse("ValidationError",
				"A %s listener on a dualstack load balancer must forward to IPv6 target groups; '%s' is %s", protocol, arn, tg.IpAddressType)
		}
	}
	return nil
}
