package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Static addresses of load balancers (SubnetMappings with AllocationId, PrivateIPv4Address,
// IPv6Address). moto takes the subnet of each mapping and drops its addresses: it neither checks
// them nor reports them in AvailabilityZones[].LoadBalancerAddresses (docs/moto-notes.md). The
// layer enforces AWS's rules and keeps the addresses AWS would report, per load balancer.

// lbAddress is what AWS reports of one subnet's static address.
type lbAddress struct {
	allocationID, publicIPv4, privateIPv4, ipv6 string
}

// subnetMappingAddresses: CreateLoadBalancer / SetSubnets SubnetMappings — "[Application Load
// Balancers] ... You can't specify Elastic IP addresses for your subnets." "[Network Load
// Balancers] ... You can specify one Elastic IP address per subnet if you need static IP
// addresses for your internet-facing load balancer. For internal load balancers, you can specify
// one private IP address per subnet from the IPv4 range of the subnet." SubnetMapping
// AllocationId: "[Network Load Balancers] The allocation ID of the Elastic IP address for an
// internet-facing load balancer." PrivateIPv4Address: "[Network Load Balancers] The private IPv4
// address for an internal load balancer." The error code (InvalidConfigurationRequest) is
// settled by a real account (docs/aws-contract.md).
func subnetMappingAddresses(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	mappings := queryList(r.form, "SubnetMappings.member")
	if !anyAddress(mappings) {
		return nil
	}
	typ, scheme := r.form.Get("Type"), r.form.Get("Scheme")
	if typ == "" {
		typ = string(elbtypes.LoadBalancerTypeEnumApplication)
	}
	if scheme == "" {
		scheme = string(elbtypes.LoadBalancerSchemeEnumInternetFacing)
	}
	if r.action == "SetSubnets" {
		lb, e := describeLoadBalancer(ctx, r, r.form.Get("LoadBalancerArn"))
		if e != nil || lb == nil {
			return e
		}
		typ, scheme = string(lb.Type), string(lb.Scheme)
	}
	if typ != string(elbtypes.LoadBalancerTypeEnumNetwork) {
		return refuse("InvalidConfigurationRequest", "Only Network Load Balancers take addresses in subnet mappings; a %s load balancer takes subnets only", typ)
	}
	for _, m := range mappings {
		subnet := m.Get("SubnetId")
		if m.Get("AllocationId") != "" && scheme != string(elbtypes.LoadBalancerSchemeEnumInternetFacing) {
			return refuse("InvalidConfigurationRequest", "Elastic IP allocation '%s' for subnet '%s': Elastic IPs are for internet-facing load balancers", m.Get("AllocationId"), subnet)
		}
		if ip := m.Get("PrivateIPv4Address"); ip != "" {
			if scheme != string(elbtypes.LoadBalancerSchemeEnumInternal) {
				return refuse("InvalidConfigurationRequest", "Private IPv4 address '%s' for subnet '%s': private addresses are for internal load balancers", ip, subnet)
			}
			cidr, e := subnetCIDR(ctx, r, subnet)
			if e != nil {
				return e
			}
			_, n, err := net.ParseCIDR(cidr)
			if parsed := net.ParseIP(ip); err == nil && (parsed == nil || parsed.To4() == nil || !n.Contains(parsed)) {
				return refuse("InvalidConfigurationRequest", "Private IPv4 address '%s' is not in the IPv4 range %s of subnet '%s'", ip, cidr, subnet)
			}
		}
	}
	return nil
}

// unchangedSubnetAddresses: SetSubnets — "When you specify subnets for a Network Load Balancer,
// you must include all subnets that were enabled previously, with their existing
// configurations, plus any additional subnets." A subnet whose static address differs from the
// one it has is refused.
func unchangedSubnetAddresses(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	arn := r.form.Get("LoadBalancerArn")
	s.mu.Lock()
	have := s.lbAddresses[arn]
	s.mu.Unlock()
	for _, m := range queryList(r.form, "SubnetMappings.member") {
		old, ok := have[m.Get("SubnetId")]
		if !ok {
			continue
		}
		if old.allocationID != m.Get("AllocationId") || old.privateIPv4 != m.Get("PrivateIPv4Address") || old.ipv6 != m.Get("IPv6Address") {
			return refuse("InvalidConfigurationRequest", "Subnet '%s' of load balancer '%s' must keep its existing configuration", m.Get("SubnetId"), arn)
		}
	}
	return nil
}

func anyAddress(mappings []url.Values) bool {
	for _, m := range mappings {
		if m.Get("AllocationId") != "" || m.Get("PrivateIPv4Address") != "" || m.Get("IPv6Address") != "" {
			return true
		}
	}
	return false
}

func subnetCIDR(ctx context.Context, r *strictRequest, subnet string) (string, *apiError) {
	out, err := r.aws.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	if err != nil || len(out.Subnets) == 0 {
		return "", notFoundIsNil(err)
	}
	return aws.ToString(out.Subnets[0].CidrBlock), nil
}

var (
	lbARNAndZones = regexp.MustCompile(`(?s)<LoadBalancerArn>([^<]+)</LoadBalancerArn>(.*?)<AvailabilityZones>(.*?)</AvailabilityZones>`)
	zoneSubnet    = regexp.MustCompile(`<SubnetId>([^<]+)</SubnetId>`)
)

// loadBalancerAddresses answers CreateLoadBalancer, SetSubnets and DescribeLoadBalancers with the
// static addresses AWS reports (AvailabilityZone LoadBalancerAddresses: IpAddress and
// AllocationId of an Elastic IP, PrivateIPv4Address, IPv6Address), and remembers those a
// successful CreateLoadBalancer or SetSubnets asked for. The load balancer provisioning state
// (knob ProvisioningSeconds) is applied to the same answer.
func loadBalancerAddresses(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	asked := map[string]lbAddress{}
	for _, m := range queryList(r.form, "SubnetMappings.member") {
		a := lbAddress{allocationID: m.Get("AllocationId"), privateIPv4: m.Get("PrivateIPv4Address"), ipv6: m.Get("IPv6Address")}
		if a.allocationID != "" {
			out, err := r.aws.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{a.allocationID}})
			if err != nil || len(out.Addresses) == 0 {
				return true, refuse("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", a.allocationID)
			}
			a.publicIPv4 = aws.ToString(out.Addresses[0].PublicIp)
		}
		if a != (lbAddress{}) {
			asked[m.Get("SubnetId")] = a
		}
	}
	s.forwardRewritten(w, r, func(body string) string {
		body = loopbackDNSNames(s, provisioning(s, body))
		s.mu.Lock()
		defer s.mu.Unlock()
		body = lbARNAndZones.ReplaceAllStringFunc(body, func(m string) string {
			sub := lbARNAndZones.FindStringSubmatch(m)
			arn := sub[1]
			if r.action == "CreateLoadBalancer" || r.action == "SetSubnets" {
				if len(asked) > 0 {
					s.lbAddresses[arn] = asked
				}
			}
			have := s.lbAddresses[arn]
			zones := zoneSubnet.ReplaceAllStringFunc(sub[3], func(z string) string {
				a, ok := have[zoneSubnet.FindStringSubmatch(z)[1]]
				if !ok {
					return z
				}
				return z + a.xml()
			})
			return "<LoadBalancerArn>" + arn + "</LoadBalancerArn>" + sub[2] + "<AvailabilityZones>" + zones + "</AvailabilityZones>"
		})
		if r.action == "SetSubnets" && len(asked) > 0 {
			// SetSubnets answers with the zones only.
			arn := r.form.Get("LoadBalancerArn")
			s.lbAddresses[arn] = asked
			body = zoneSubnet.ReplaceAllStringFunc(body, func(z string) string {
				if a, ok := asked[zoneSubnet.FindStringSubmatch(z)[1]]; ok {
					return z + a.xml()
				}
				return z
			})
		}
		return body
	})
	return true, nil
}

func (a lbAddress) xml() string {
	var b strings.Builder
	b.WriteString("<LoadBalancerAddresses><member>")
	for _, f := range []struct{ tag, v string }{
		{"IpAddress", a.publicIPv4}, {"AllocationId", a.allocationID},
		{"PrivateIPv4Address", a.privateIPv4}, {"IPv6Address", a.ipv6},
	} {
		if f.v != "" {
			fmt.Fprintf(&b, "<%s>%s</%s>", f.tag, f.v, f.tag)
		}
	}
	b.WriteString("</member></LoadBalancerAddresses>")
	return b.String()
}
