package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// quotaRulesPerSecurityGroup: "Inbound or outbound rules per security group: 60" (Amazon VPC
// quotas), "enforced separately for IPv4 and IPv6 rules".
const quotaRulesPerSecurityGroup = 60

var ec2Rules = []strictRule{
	{svcEC2, "DeleteSecurityGroup", securityGroupDependencies},
	{svcEC2, "AuthorizeSecurityGroupIngress", ingressAtomicDuplicate},
	{svcEC2, "AuthorizeSecurityGroupIngress", ingressRulesPerGroup},
}

var ec2Answers = []strictAnswer{
	{svcEC2, "DescribeNetworkInterfaces", secondaryIPFilters},
	{svcEC2, "DescribeNetworkInterfaces", addIPv4Prefixes},
	{svcEC2, "AssignPrivateIpAddresses", recordIPv4Prefixes},
	{svcEC2, "CreateSecurityGroup", recordSecurityGroupCreation},
	{svcEC2, "DescribeSecurityGroups", hideNewSecurityGroups},
}

// securityGroupDependencies: DeleteSecurityGroup — "If you attempt to delete a security group
// that is associated with an instance or network interface, is referenced by another security
// group in the same VPC, or has a VPC association, the operation fails with
// DependencyViolation." A load balancer's security groups are associated with its network
// interfaces, so a group a load balancer uses counts as associated.
func securityGroupDependencies(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	id := r.form.Get("GroupId")
	if id == "" {
		return nil // by name: default VPC only, which the controller never uses
	}
	groups, err := r.aws.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil || len(groups.SecurityGroups) == 0 {
		return notFoundIsNil(err)
	}
	vpc := aws.ToString(groups.SecurityGroups[0].VpcId)
	dependent := func(what string) *apiError {
		return refuse("DependencyViolation", "resource %s has a dependent object (%s)", id, what)
	}

	lbs := elbv2.NewDescribeLoadBalancersPaginator(r.aws.elb, &elbv2.DescribeLoadBalancersInput{})
	for lbs.HasMorePages() {
		page, err := lbs.NextPage(ctx)
		if e := mustRead(err); e != nil {
			return e
		}
		for _, lb := range page.LoadBalancers {
			if slices.Contains(lb.SecurityGroups, id) {
				return dependent("load balancer " + aws.ToString(lb.LoadBalancerArn))
			}
		}
	}

	enis, err := r.aws.ec2.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{id}}}})
	if e := mustRead(err); e != nil {
		return e
	}
	for _, eni := range enis.NetworkInterfaces {
		for _, g := range eni.Groups {
			if aws.ToString(g.GroupId) == id {
				return dependent("network interface " + aws.ToString(eni.NetworkInterfaceId))
			}
		}
	}

	others := ec2.NewDescribeSecurityGroupsPaginator(r.aws.ec2, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	for others.HasMorePages() {
		page, err := others.NextPage(ctx)
		if e := mustRead(err); e != nil {
			return e
		}
		for _, g := range page.SecurityGroups {
			if aws.ToString(g.GroupId) == id {
				continue
			}
			for _, p := range slices.Concat(g.IpPermissions, g.IpPermissionsEgress) {
				for _, pair := range p.UserIdGroupPairs {
					if aws.ToString(pair.GroupId) == id {
						return dependent("a rule of security group " + aws.ToString(g.GroupId))
					}
				}
			}
		}
	}
	return nil
}

// sgRule is one atomic security-group rule: a protocol, a port range and one source.
type sgRule struct {
	protocol string
	from, to int
	source   string // CIDR, prefix list ID or group ID
}

// requestedIngress expands an AuthorizeSecurityGroupIngress request into atomic rules: its
// IpPermissions, or the legacy top-level CidrIp / IpProtocol / FromPort / ToPort form.
func requestedIngress(form url.Values) []sgRule {
	var out []sgRule
	perms := queryList(form, "IpPermissions")
	if len(perms) == 0 && form.Get("IpProtocol") != "" {
		perms = []url.Values{form}
	}
	for _, p := range perms {
		proto := normalProtocol(p.Get("IpProtocol"))
		from, to := portRange(proto, p.Get("FromPort"), p.Get("ToPort"))
		add := func(src string) { out = append(out, sgRule{proto, from, to, src}) }
		if c := p.Get("CidrIp"); c != "" {
			add(c)
		}
		for _, r := range queryList(p, "IpRanges") {
			add(r.Get("CidrIp"))
		}
		for _, r := range queryList(p, "Ipv6Ranges") {
			add(r.Get("CidrIpv6"))
		}
		for _, r := range queryList(p, "PrefixListIds") {
			add(r.Get("PrefixListId"))
		}
		for _, r := range queryList(p, "Groups") {
			add(r.Get("GroupId"))
		}
	}
	return out
}

// existingIngress expands a security group's ingress permissions into atomic rules.
func existingIngress(perms []ec2types.IpPermission) []sgRule {
	var out []sgRule
	for _, p := range perms {
		proto := normalProtocol(aws.ToString(p.IpProtocol))
		from, to := portRange(proto, fmt.Sprint(aws.ToInt32(p.FromPort)), fmt.Sprint(aws.ToInt32(p.ToPort)))
		add := func(src string) { out = append(out, sgRule{proto, from, to, src}) }
		for _, r := range p.IpRanges {
			add(aws.ToString(r.CidrIp))
		}
		for _, r := range p.Ipv6Ranges {
			add(aws.ToString(r.CidrIpv6))
		}
		for _, r := range p.PrefixListIds {
			add(aws.ToString(r.PrefixListId))
		}
		for _, r := range p.UserIdGroupPairs {
			add(aws.ToString(r.GroupId))
		}
	}
	return out
}

// normalProtocol maps protocol numbers to the names AWS reports ("6" is "tcp").
func normalProtocol(p string) string {
	switch strings.ToLower(p) {
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "all":
		return "-1"
	}
	return strings.ToLower(p)
}

// portRange: "If you specify all protocols, traffic on all ports is allowed" — ports of -1
// protocol rules do not tell rules apart.
func portRange(proto, from, to string) (int, int) {
	if proto == "-1" {
		return -1, -1
	}
	f, _ := strconv.Atoi(from)
	t, _ := strconv.Atoi(to)
	return f, t
}

// ingressAtomicDuplicate: AuthorizeSecurityGroupIngress is one request, refused whole —
// InvalidPermission.Duplicate: "The specified rule already exists" — when any of its rules is
// already in the group (EC2 error codes: "You tried to create a rule that already exists"). moto
// refuses the duplicate but keeps the rules of the request that came before it.
func ingressAtomicDuplicate(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	g, e := securityGroupOf(ctx, r)
	if e != nil || g == nil {
		return e
	}
	have := existingIngress(g.IpPermissions)
	for _, want := range requestedIngress(r.form) {
		if slices.Contains(have, want) {
			return refuse("InvalidPermission.Duplicate",
				"the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists",
				want.source, strings.ToUpper(want.protocol), want.from, want.to)
		}
	}
	return nil
}

// ingressRulesPerGroup: "Inbound or outbound rules per security group: 60" — "This quota is
// enforced separately for IPv4 and IPv6 rules ... A rule that references a security group or
// prefix list ID counts as one rule for IPv4 and one rule for IPv6", and "When you reference a
// prefix list in a security group rule, the maximum number of entries for the prefix lists
// counts as the same number of rules" (Amazon VPC quotas). Exceeding it is
// RulesPerSecurityGroupLimitExceeded.
func ingressRulesPerGroup(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	g, e := securityGroupOf(ctx, r)
	if e != nil || g == nil {
		return e
	}
	counts := map[string]int{}
	for _, rule := range append(existingIngress(g.IpPermissions), requestedIngress(r.form)...) {
		v4, v6, e := ruleWeight(ctx, r, rule.source)
		if e != nil {
			return e
		}
		counts["IPv4"] += v4
		counts["IPv6"] += v6
	}
	for _, family := range []string{"IPv4", "IPv6"} {
		if counts[family] > quotaRulesPerSecurityGroup {
			return refuse("RulesPerSecurityGroupLimitExceeded",
				"The maximum number of rules per security group has been reached (%d %s inbound rules in %s)",
				quotaRulesPerSecurityGroup, family, aws.ToString(g.GroupId))
		}
	}
	return nil
}

// ruleWeight is how many IPv4 and IPv6 rules one source costs.
func ruleWeight(ctx context.Context, r *strictRequest, source string) (int, int, *apiError) {
	switch {
	case strings.HasPrefix(source, "sg-"):
		return 1, 1, nil
	case strings.HasPrefix(source, "pl-"):
		out, err := r.aws.ec2.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{source}})
		if err != nil || len(out.PrefixLists) == 0 {
			return 1, 0, notFoundIsNil(err)
		}
		pl := out.PrefixLists[0]
		n := int(aws.ToInt32(pl.MaxEntries))
		if strings.EqualFold(aws.ToString(pl.AddressFamily), "IPv6") {
			return 0, n, nil
		}
		return n, 0, nil
	}
	if ip, _, err := net.ParseCIDR(source); err == nil && ip.To4() == nil {
		return 0, 1, nil
	}
	return 1, 0, nil
}

// securityGroupOf reads the group a request names by GroupId; nil when moto does not have it.
func securityGroupOf(ctx context.Context, r *strictRequest) (*ec2types.SecurityGroup, *apiError) {
	id := r.form.Get("GroupId")
	if id == "" {
		return nil, nil
	}
	out, err := r.aws.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil || len(out.SecurityGroups) == 0 {
		return nil, notFoundIsNil(err)
	}
	return &out.SecurityGroups[0], nil
}

// ipFilters are the DescribeNetworkInterfaces filters that match any private IPv4 address of
// an interface on AWS: "addresses.private-ip-address - The private IPv4 addresses associated
// with the network interface." and "private-ip-address - The private IPv4 address or addresses
// of the network interface." moto matches them against the primary address only.
var ipFilters = map[string]bool{"addresses.private-ip-address": true, "private-ip-address": true}

// noSuchInterface is an interface ID no moto holds, to make a filter match nothing.
const noSuchInterface = "eni-00000000000000000"

// secondaryIPFilters corrects DescribeNetworkInterfaces' private-IP filters: it finds the
// interfaces any of whose private addresses match, with the request's other filters, and asks
// moto for those interfaces by ID instead.
func secondaryIPFilters(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	filters := queryList(r.form, "Filter")
	var ips []string
	var rest []ec2types.Filter
	for _, f := range filters {
		name := f.Get("Name")
		values := queryStrings(f, "Value")
		if ipFilters[name] {
			ips = append(ips, values...)
			continue
		}
		rest = append(rest, ec2types.Filter{Name: aws.String(name), Values: values})
	}
	if len(ips) == 0 {
		return false, nil
	}
	in := &ec2.DescribeNetworkInterfacesInput{Filters: rest, NetworkInterfaceIds: queryStrings(r.form, "NetworkInterfaceId")}
	var matched []string
	p := ec2.NewDescribeNetworkInterfacesPaginator(r.aws.ec2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, nil // moto answers the request with its own error
		}
		for _, eni := range page.NetworkInterfaces {
			for _, a := range eni.PrivateIpAddresses {
				if slices.Contains(ips, aws.ToString(a.PrivateIpAddress)) {
					matched = append(matched, aws.ToString(eni.NetworkInterfaceId))
					break
				}
			}
		}
	}
	if len(matched) == 0 {
		matched = []string{noSuchInterface}
	}
	form := url.Values{}
	for k, v := range r.form {
		if !strings.HasPrefix(k, "Filter.") && !strings.HasPrefix(k, "NetworkInterfaceId.") &&
			k != "MaxResults" && k != "NextToken" {
			form[k] = v
		}
	}
	form.Set("Filter.1.Name", "network-interface-id")
	for i, id := range matched {
		form.Set(fmt.Sprintf("Filter.1.Value.%d", i+1), id)
	}
	r.form = form
	return false, nil
}

// createdGroupID finds the new group's ID in moto's CreateSecurityGroup answer.
var createdGroupID = regexp.MustCompile(`<groupId>(sg-[0-9a-f]+)</groupId>`)

// recordSecurityGroupCreation notes when each security group is created while the Describe
// delay knob is on.
func recordSecurityGroupCreation(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	if s.Knobs().SecurityGroupDescribeDelayMS <= 0 {
		return false, nil
	}
	s.forwardRewritten(w, r, func(body string) string {
		if m := createdGroupID.FindStringSubmatch(body); m != nil {
			s.mu.Lock()
			s.sgCreated[m[1]] = time.Now()
			s.mu.Unlock()
		}
		return body
	})
	return true, nil
}

// hiddenGroups lists the groups still inside the Describe delay.
func (s *Strict) hiddenGroups() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	delay := time.Duration(s.knobs.SecurityGroupDescribeDelayMS) * time.Millisecond
	hidden := map[string]bool{}
	for id, at := range s.sgCreated {
		if time.Since(at) < delay {
			hidden[id] = true
		} else {
			delete(s.sgCreated, id)
		}
	}
	return hidden
}

// hideNewSecurityGroups (knob SecurityGroupDescribeDelayMS): EC2 eventual consistency — "the
// results of an API command you run might not be immediately visible to all subsequent commands
// you run" (EC2 API: Eventual consistency). A group created less than the delay ago is
// InvalidGroup.NotFound when named and missing from listings.
func hideNewSecurityGroups(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	if s.Knobs().SecurityGroupDescribeDelayMS <= 0 {
		return false, nil
	}
	hidden := s.hiddenGroups()
	if len(hidden) == 0 {
		return false, nil
	}
	for _, id := range queryStrings(r.form, "GroupId") {
		if hidden[id] {
			return false, refuse("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	in := &ec2.DescribeSecurityGroupsInput{GroupIds: queryStrings(r.form, "GroupId"), GroupNames: queryStrings(r.form, "GroupName")}
	for _, f := range queryList(r.form, "Filter") {
		in.Filters = append(in.Filters, ec2types.Filter{Name: aws.String(f.Get("Name")), Values: queryStrings(f, "Value")})
	}
	var visible []string
	p := ec2.NewDescribeSecurityGroupsPaginator(r.aws.ec2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, nil // moto answers the request with its own error
		}
		for _, g := range page.SecurityGroups {
			if id := aws.ToString(g.GroupId); !hidden[id] {
				visible = append(visible, id)
			}
		}
	}
	form := url.Values{"Action": r.form["Action"], "Version": r.form["Version"]}
	form.Set("Filter.1.Name", "group-id")
	if len(visible) == 0 {
		visible = []string{"sg-00000000000000000"}
	}
	for i, id := range visible {
		form.Set(fmt.Sprintf("Filter.1.Value.%d", i+1), id)
	}
	r.form = form
	return false, nil
}
