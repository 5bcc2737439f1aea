package aws

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// This file reads and writes the security groups that lie outside one Gateway's stack: the
// security groups an explicit configuration names, and the worker-node security groups of the
// targets' network interfaces (see backendsg.go for the shared backend security group).

// filterValuesPerCall bounds the values of one EC2 filter.
const filterValuesPerCall = 200

// networkState holds the caches of this file; its zero value is ready to use.
type networkState struct {
	once sync.Once
	// sgNames maps a Name tag value to the group ID ("" when several groups carry it).
	sgNames *ttlCache[string]
	// sgTags holds the tags of security groups by ID.
	sgTags *ttlCache[model.Tags]
	// instanceENIs and ipENIs hold a primary ENI by instance ID, an ENI by private IP.
	instanceENIs *ttlCache[model.ENI]
	ipENIs       *ttlCache[model.ENI]
	// unheld remembers, for unheldTTL, the addresses no interface of the VPC held when last
	// looked up, so a target that no interface holds is not looked up again on every pass.
	unheld *ttlCache[struct{}]

	// backendMu serialises finding, creating and deleting the shared backend security group.
	backendMu sync.Mutex
	backendID string
}

// unheldTTL is how long an address no interface held stays unheld before it is looked up
// again: a pod address is on its interface before the pod runs, so a miss is a target outside
// the VPC's interfaces, which a minute later is still outside them.
const unheldTTL = time.Minute

func (c *Cloud) net() *networkState {
	n := &c.network
	n.once.Do(func() {
		n.sgNames = newTTLCache[string](c.opts.NameCacheTTL)
		n.sgTags = newTTLCache[model.Tags](c.opts.NetworkCacheTTL)
		n.instanceENIs = newTTLCache[model.ENI](c.opts.NetworkCacheTTL)
		n.ipENIs = newTTLCache[model.ENI](c.opts.NetworkCacheTTL)
		n.unheld = newTTLCache[struct{}](unheldTTL)
	})
	return n
}

// vpcFilter limits a look-up to the cluster's VPC, when one is configured.
func (c *Cloud) vpcFilter(filters ...ec2types.Filter) []ec2types.Filter {
	if c.opts.VPCID != "" {
		filters = append(filters, ec2types.Filter{Name: aws.String("vpc-id"), Values: []string{c.opts.VPCID}})
	}
	return filters
}

// securityGroupIDsByName resolves Name tag values to security group IDs in the VPC. A name no
// group carries is left out; a name several groups carry maps to "".
func (c *Cloud) securityGroupIDsByName(ctx context.Context, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	n := c.net()
	out := map[string]string{}
	var misses []string
	now := c.now()
	for _, name := range names {
		if id, ok := n.sgNames.get(name, now); ok {
			out[name] = id
		} else {
			misses = append(misses, name)
		}
	}
	for chunk := range slices.Chunk(misses, filterValuesPerCall) {
		groups, err := c.describeSecurityGroups(ctx, c.vpcFilter(ec2types.Filter{Name: aws.String("tag:Name"), Values: chunk}))
		if err != nil {
			return nil, fmt.Errorf("looking up security groups by Name tag: %w", err)
		}
		found := map[string][]string{}
		for _, g := range groups {
			name := fromEC2Tags(g.Tags)["Name"]
			found[name] = append(found[name], aws.ToString(g.GroupId))
		}
		for _, name := range chunk {
			ids := found[name]
			switch len(ids) {
			case 0:
				continue // not cached: it may be created any time
			case 1:
				out[name] = ids[0]
			default:
				out[name] = ""
			}
			n.sgNames.put(name, out[name], now)
		}
	}
	return out, nil
}

func (c *Cloud) describeSecurityGroups(ctx context.Context, filters []ec2types.Filter) ([]ec2types.SecurityGroup, error) {
	var out []ec2types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(c.ec2, &ec2.DescribeSecurityGroupsInput{Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.SecurityGroups...)
	}
	return out, nil
}

// InstanceENIs returns the primary network interface (device index 0) of each instance, with
// its security groups and their tags. Instances that do not exist are left out.
func (c *Cloud) InstanceENIs(ctx context.Context, instanceIDs []string) (map[string]model.ENI, error) {
	n := c.net()
	out, misses := cachedENIs(n.instanceENIs, instanceIDs, c.now())
	raw := map[string]describedENI{}
	for chunk := range slices.Chunk(misses, filterValuesPerCall) {
		p := ec2.NewDescribeInstancesPaginator(c.ec2, &ec2.DescribeInstancesInput{
			Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: chunk}},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describing instances: %w", err)
			}
			for _, r := range page.Reservations {
				for _, inst := range r.Instances {
					for _, ni := range inst.NetworkInterfaces {
						if ni.Attachment != nil && aws.ToInt32(ni.Attachment.DeviceIndex) == 0 {
							raw[aws.ToString(inst.InstanceId)] = describedENI{id: aws.ToString(ni.NetworkInterfaceId), groups: ni.Groups}
						}
					}
				}
			}
		}
	}
	return c.withGroupTags(ctx, raw, n.instanceENIs, out)
}

// IPENIs returns the network interface in the VPC that holds each private IP address (primary
// or secondary IPv4, IPv6, or inside a prefix delegated to it), with its security groups and
// their tags. Addresses no interface holds are left out.
func (c *Cloud) IPENIs(ctx context.Context, ips []string) (map[string]model.ENI, error) {
	n := c.net()
	now := c.now()
	out, misses := cachedENIs(n.ipENIs, ips, now)
	want := map[string]bool{}
	var v4 []string
	for _, ip := range misses {
		if _, known := n.unheld.get(ip, now); known {
			continue
		}
		want[ip] = true
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			v4 = append(v4, ip)
		}
	}
	raw := map[string]describedENI{}
	for chunk := range slices.Chunk(v4, filterValuesPerCall) {
		p := ec2.NewDescribeNetworkInterfacesPaginator(c.ec2, &ec2.DescribeNetworkInterfacesInput{
			Filters: c.vpcFilter(ec2types.Filter{Name: aws.String("addresses.private-ip-address"), Values: chunk}),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describing network interfaces: %w", err)
			}
			for _, ni := range page.NetworkInterfaces {
				for _, a := range ni.PrivateIpAddresses {
					if ip := aws.ToString(a.PrivateIpAddress); want[ip] {
						raw[ip] = describedENI{id: aws.ToString(ni.NetworkInterfaceId), groups: ni.Groups}
					}
				}
			}
		}
	}
	if err := c.prefixENIs(ctx, want, raw); err != nil {
		return nil, err
	}
	for ip := range want {
		if _, found := raw[ip]; !found {
			n.unheld.put(ip, struct{}{}, now)
		}
	}
	return c.withGroupTags(ctx, raw, n.ipENIs, out)
}

// prefixENIs finds the interfaces of the addresses in want that no private IPv4 address
// filter matched: pod addresses under prefix delegation lie in a prefix assigned to the node's
// interface (Ipv4Prefixes, Ipv6Prefixes) and are no address of it, and IPv6 pod addresses are
// Ipv6Addresses, which "addresses.private-ip-address" ("The private IPv4 addresses associated
// with the network interface") does not match. No EC2 filter matches an address inside a
// prefix, so the interfaces of the VPC are read once, and only when some address is left.
func (c *Cloud) prefixENIs(ctx context.Context, want map[string]bool, raw map[string]describedENI) error {
	left := map[string]netip.Addr{}
	for ip := range want {
		if _, found := raw[ip]; found {
			continue
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			left[ip] = a
		}
	}
	if len(left) == 0 {
		return nil
	}
	p := ec2.NewDescribeNetworkInterfacesPaginator(c.ec2, &ec2.DescribeNetworkInterfacesInput{Filters: c.vpcFilter()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describing network interfaces: %w", err)
		}
		for _, ni := range page.NetworkInterfaces {
			var prefixes []netip.Prefix
			for _, x := range ni.Ipv4Prefixes {
				if pf, err := netip.ParsePrefix(aws.ToString(x.Ipv4Prefix)); err == nil {
					prefixes = append(prefixes, pf)
				}
			}
			for _, x := range ni.Ipv6Prefixes {
				if pf, err := netip.ParsePrefix(aws.ToString(x.Ipv6Prefix)); err == nil {
					prefixes = append(prefixes, pf)
				}
			}
			for _, x := range ni.Ipv6Addresses {
				if a, err := netip.ParseAddr(aws.ToString(x.Ipv6Address)); err == nil {
					prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
				}
			}
			for ip, a := range left {
				if slices.ContainsFunc(prefixes, func(pf netip.Prefix) bool { return pf.Contains(a) }) {
					raw[ip] = describedENI{id: aws.ToString(ni.NetworkInterfaceId), groups: ni.Groups}
				}
			}
		}
	}
	return nil
}

// describedENI is a network interface as EC2 describes it, before the tags of its security
// groups are known.
type describedENI struct {
	id     string
	groups []ec2types.GroupIdentifier
}

// withGroupTags completes the described interfaces with the tags of their security groups,
// caches each under its key and adds it to out, which it returns.
func (c *Cloud) withGroupTags(ctx context.Context, raw map[string]describedENI, cache *ttlCache[model.ENI],
	out map[string]model.ENI) (map[string]model.ENI, error) {
	var groupIDs []string
	for _, ni := range raw {
		for _, g := range ni.groups {
			groupIDs = append(groupIDs, aws.ToString(g.GroupId))
		}
	}
	tags, err := c.securityGroupTags(ctx, groupIDs)
	if err != nil {
		return nil, err
	}
	for key, ni := range raw {
		eni := model.ENI{ID: ni.id}
		for _, g := range ni.groups {
			gid := aws.ToString(g.GroupId)
			eni.SecurityGroups = append(eni.SecurityGroups, model.ENISecurityGroup{ID: gid, Tags: tags[gid]})
		}
		sortENIGroups(&eni)
		out[key] = eni
		cache.put(key, eni, c.now())
	}
	return out, nil
}

func cachedENIs(cache *ttlCache[model.ENI], keys []string, now time.Time) (map[string]model.ENI, []string) {
	out := map[string]model.ENI{}
	var misses []string
	for _, k := range keys {
		if eni, ok := cache.get(k, now); ok {
			out[k] = eni
		} else if !slices.Contains(misses, k) {
			misses = append(misses, k)
		}
	}
	slices.Sort(misses)
	return out, misses
}

func sortENIGroups(eni *model.ENI) {
	slices.SortFunc(eni.SecurityGroups, func(a, b model.ENISecurityGroup) int { return strings.Compare(a.ID, b.ID) })
}

// securityGroupTags returns the tags of security groups by ID, cached.
func (c *Cloud) securityGroupTags(ctx context.Context, ids []string) (map[string]model.Tags, error) {
	n := c.net()
	out := map[string]model.Tags{}
	var misses []string
	now := c.now()
	for _, id := range ids {
		if tags, ok := n.sgTags.get(id, now); ok {
			out[id] = tags
		} else if !slices.Contains(misses, id) {
			misses = append(misses, id)
		}
	}
	for chunk := range slices.Chunk(misses, filterValuesPerCall) {
		groups, err := c.describeSecurityGroups(ctx, []ec2types.Filter{{Name: aws.String("group-id"), Values: chunk}})
		if err != nil {
			return nil, fmt.Errorf("reading the tags of security groups %s: %w", strings.Join(chunk, ", "), err)
		}
		for _, g := range groups {
			id := aws.ToString(g.GroupId)
			out[id] = fromEC2Tags(g.Tags)
			n.sgTags.put(id, out[id], now)
		}
	}
	return out, nil
}

// NodeRules returns, for each security group, its ingress rules sorted by owner (ours, an
// earlier elbgateway's with the LBC description, everyone else's), each list sorted. Telling
// the earlier ones apart reads the tags of their source groups (cached).
func (c *Cloud) NodeRules(ctx context.Context, groupIDs []string) (map[string]model.ObservedNodeRules, error) {
	var all []ec2types.SecurityGroup
	for chunk := range slices.Chunk(slices.Sorted(slices.Values(groupIDs)), filterValuesPerCall) {
		groups, err := c.describeSecurityGroups(ctx, []ec2types.Filter{{Name: aws.String("group-id"), Values: chunk}})
		if err != nil {
			return nil, fmt.Errorf("reading the rules of security groups %s: %w", strings.Join(chunk, ", "), err)
		}
		all = append(all, groups...)
	}
	var sources []string
	for _, g := range all {
		for _, r := range describedRules(g.IpPermissions) {
			if r.description == model.LBCNodeRuleDescription && r.SourceGroupID != "" && !slices.Contains(sources, r.SourceGroupID) {
				sources = append(sources, r.SourceGroupID)
			}
		}
	}
	ours, err := c.ourSourceGroups(ctx, sources)
	if err != nil {
		return nil, err
	}
	out := map[string]model.ObservedNodeRules{}
	for _, g := range all {
		out[aws.ToString(g.GroupId)] = classifyNodeRules(g.IpPermissions, ours)
	}
	return out, nil
}

// ourSourceGroups returns which of the security groups provably belong to a stack of ours: the
// managed frontend groups, tagged with our cluster and a Gateway stack. The shared backend
// group is the other controller's as much as ours, so it never proves anything.
func (c *Cloud) ourSourceGroups(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	tags, err := c.securityGroupTags(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id, t := range tags {
		if t[clusterTagKey] != c.opts.ClusterName || t[backendSGResourceTag] == backendSGResource {
			continue
		}
		if t[stackTagKey(model.Network)] != "" || t[stackTagKey(model.Application)] != "" {
			out[id] = true
		}
	}
	return out, nil
}

// describedRule is one source of a permission with its description.
type describedRule struct {
	model.NodeRule
	description string
}

// describedRules expands permissions into one rule per source (group, IPv4 or IPv6 range).
func describedRules(perms []ec2types.IpPermission) []describedRule {
	var out []describedRule
	for _, p := range perms {
		base := model.NodeRule{Protocol: aws.ToString(p.IpProtocol), FromPort: aws.ToInt32(p.FromPort), ToPort: aws.ToInt32(p.ToPort)}
		for _, pair := range p.UserIdGroupPairs {
			r := base
			r.SourceGroupID = aws.ToString(pair.GroupId)
			out = append(out, describedRule{r, aws.ToString(pair.Description)})
		}
		for _, x := range p.IpRanges {
			r := base
			r.CIDR = aws.ToString(x.CidrIp)
			out = append(out, describedRule{r, aws.ToString(x.Description)})
		}
		for _, x := range p.Ipv6Ranges {
			r := base
			r.CIDR = aws.ToString(x.CidrIpv6)
			out = append(out, describedRule{r, aws.ToString(x.Description)})
		}
	}
	return out
}

// classifyNodeRules sorts a group's rules by owner: ours by description; the LBC description
// from one of ourSources is an earlier elbgateway's; everything else is someone else's.
func classifyNodeRules(perms []ec2types.IpPermission, ourSources map[string]bool) model.ObservedNodeRules {
	var out model.ObservedNodeRules
	for _, r := range describedRules(perms) {
		switch {
		case r.description == model.NodeRuleDescription:
			out.Ours = append(out.Ours, r.NodeRule)
		case r.description == model.LBCNodeRuleDescription && r.SourceGroupID != "" && ourSources[r.SourceGroupID]:
			out.Legacy = append(out.Legacy, r.NodeRule)
		default:
			out.Others = append(out.Others, r.NodeRule)
		}
	}
	SortNodeRules(out.Ours)
	SortNodeRules(out.Legacy)
	SortNodeRules(out.Others)
	return out
}

// SortNodeRules orders rules by protocol, ports and source.
func SortNodeRules(rules []model.NodeRule) {
	slices.SortFunc(rules, func(a, b model.NodeRule) int {
		return strings.Compare(nodeRuleKey(a), nodeRuleKey(b))
	})
}

func nodeRuleKey(r model.NodeRule) string {
	return fmt.Sprintf("%s/%05d/%05d/%s/%s", r.Protocol, r.FromPort, r.ToPort, r.SourceGroupID, r.CIDR)
}

// toNodePermissions makes one permission per rule, with a description.
func toNodePermissions(rules []model.NodeRule, description string) []ec2types.IpPermission {
	out := make([]ec2types.IpPermission, 0, len(rules))
	desc := aws.String(description)
	for _, r := range rules {
		p := ec2types.IpPermission{IpProtocol: aws.String(r.Protocol), FromPort: aws.Int32(r.FromPort), ToPort: aws.Int32(r.ToPort)}
		switch {
		case r.SourceGroupID != "":
			p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(r.SourceGroupID), Description: desc}}
		case strings.Contains(r.CIDR, ":"):
			p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(r.CIDR), Description: desc}}
		default:
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.CIDR), Description: desc}}
		}
		out = append(out, p)
	}
	return out
}

// AuthorizeNodeRules adds rules to a worker-node security group.
func (c *Cloud) AuthorizeNodeRules(ctx context.Context, groupID string, rules []model.NodeRule) error {
	if len(rules) == 0 {
		return nil
	}
	if err := c.authorizeIngress(ctx, groupID, toNodePermissions(rules, model.NodeRuleDescription)); err != nil {
		return fmt.Errorf("authorizing ingress of worker-node security group %s: %w", groupID, err)
	}
	return nil
}

// authorizeIngress adds permissions to a security group. AuthorizeSecurityGroupIngress is
// atomic: one permission that already exists refuses the whole request with
// InvalidPermission.Duplicate and adds nothing. Then each permission is sent on its own and
// the duplicates are skipped: the one extra call per permission is paid only when a rule was
// there already (added by hand, or by an interrupted apply).
func (c *Cloud) authorizeIngress(ctx context.Context, groupID string, perms []ec2types.IpPermission) error {
	if len(perms) == 0 {
		return nil
	}
	send := func(ps []ec2types.IpPermission) error {
		_, err := c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(groupID), IpPermissions: ps})
		return err
	}
	err := send(perms)
	if errorCode(err) != "InvalidPermission.Duplicate" {
		return err
	}
	for _, p := range splitPermissions(perms) {
		if err := send([]ec2types.IpPermission{p}); err != nil && errorCode(err) != "InvalidPermission.Duplicate" {
			return err
		}
	}
	return nil
}

// splitPermissions returns one permission per source (CIDR, IPv6 CIDR, prefix list, group):
// a duplicate is judged per source.
func splitPermissions(perms []ec2types.IpPermission) []ec2types.IpPermission {
	var out []ec2types.IpPermission
	for _, p := range perms {
		base := ec2types.IpPermission{IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort}
		for _, r := range p.IpRanges {
			q := base
			q.IpRanges = []ec2types.IpRange{r}
			out = append(out, q)
		}
		for _, r := range p.Ipv6Ranges {
			q := base
			q.Ipv6Ranges = []ec2types.Ipv6Range{r}
			out = append(out, q)
		}
		for _, r := range p.PrefixListIds {
			q := base
			q.PrefixListIds = []ec2types.PrefixListId{r}
			out = append(out, q)
		}
		for _, r := range p.UserIdGroupPairs {
			q := base
			q.UserIdGroupPairs = []ec2types.UserIdGroupPair{r}
			out = append(out, q)
		}
	}
	return out
}

// Brief retries of a call AWS may refuse for a moment after a create (eventual consistency).
const (
	briefRetries = 5
	briefPause   = 200 * time.Millisecond
)

// retryBriefly retries call while it fails with one of codes, at most briefRetries times,
// pausing ConsistencyRetryInterval (default 200ms), then twice as long each time (about 6s
// in all by default).
func (c *Cloud) retryBriefly(ctx context.Context, call func() error, codes ...string) error {
	pause := c.consistencyPause()
	for i := 0; ; i++ {
		err := call()
		if err == nil || !hasCode(err, codes...) || i == briefRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// RevokeNodeRules removes our rules from a worker-node security group.
func (c *Cloud) RevokeNodeRules(ctx context.Context, groupID string, rules []model.NodeRule) error {
	return c.revokeNodeRules(ctx, groupID, rules, model.NodeRuleDescription)
}

// RevokeLegacyNodeRules removes rules an earlier elbgateway wrote with the LBC description
// (model.ObservedNodeRules.Legacy) from a worker-node security group.
func (c *Cloud) RevokeLegacyNodeRules(ctx context.Context, groupID string, rules []model.NodeRule) error {
	return c.revokeNodeRules(ctx, groupID, rules, model.LBCNodeRuleDescription)
}

func (c *Cloud) revokeNodeRules(ctx context.Context, groupID string, rules []model.NodeRule, description string) error {
	if len(rules) == 0 {
		return nil
	}
	_, err := c.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId: aws.String(groupID), IpPermissions: toNodePermissions(rules, description),
	})
	if err != nil && errorCode(err) != "InvalidPermission.NotFound" && errorCode(err) != "InvalidGroup.NotFound" {
		return fmt.Errorf("revoking ingress of worker-node security group %s: %w", groupID, err)
	}
	return nil
}

// revokeReferences removes our worker-node rules that allow traffic from a security group, in
// every group of the VPC, so that the group can be deleted: those with our description, and
// those an earlier elbgateway wrote with the LBC description when the group is provably ours
// (a managed frontend group). Rules naming the group that someone else wrote (the AWS Load
// Balancer Controller, the user) are left alone and returned, as "group proto/from-to": AWS
// refuses to delete a group another group's rule names (DependencyViolation), so the caller
// must not try while there are any.
func (c *Cloud) revokeReferences(ctx context.Context, sourceGroupID string) ([]string, error) {
	groups, err := c.describeSecurityGroups(ctx, c.vpcFilter(ec2types.Filter{
		Name: aws.String("ip-permission.group-id"), Values: []string{sourceGroupID},
	}))
	if err != nil {
		return nil, fmt.Errorf("finding the rules that name security group %s: %w", sourceGroupID, err)
	}
	ourSources, err := c.ourSourceGroups(ctx, []string{sourceGroupID})
	if err != nil {
		return nil, err
	}
	var foreign []string
	for _, g := range groups {
		id := aws.ToString(g.GroupId)
		rules := classifyNodeRules(g.IpPermissions, ourSources)
		from := func(rs []model.NodeRule) []model.NodeRule {
			var out []model.NodeRule
			for _, r := range rs {
				if r.SourceGroupID == sourceGroupID {
					out = append(out, r)
				}
			}
			return out
		}
		if err := c.RevokeNodeRules(ctx, id, from(rules.Ours)); err != nil {
			return nil, err
		}
		if err := c.RevokeLegacyNodeRules(ctx, id, from(rules.Legacy)); err != nil {
			return nil, err
		}
		for _, r := range from(rules.Others) {
			foreign = append(foreign, fmt.Sprintf("%s %s/%d-%d", id, r.Protocol, r.FromPort, r.ToPort))
		}
	}
	return foreign, nil
}

// retryWhileCode repeats call while it fails with one of codes, with doubling pauses (at most
// 10 s apart), for up to Options.DeleteTimeout.
func (c *Cloud) retryWhileCode(ctx context.Context, call func() error, codes ...string) error {
	deadline := c.now().Add(c.opts.DeleteTimeout)
	pause := c.opts.DeleteRetryInterval
	for {
		err := call()
		if err == nil || !hasCode(err, codes...) || c.now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// consistencyPause is the first pause of a brief retry.
func (c *Cloud) consistencyPause() time.Duration {
	if c.opts.ConsistencyRetryInterval > 0 {
		return c.opts.ConsistencyRetryInterval
	}
	return briefPause
}

// recentlyDeleted says whether we deleted the target group lately.
func (c *Cloud) recentlyDeleted(arn string) bool {
	_, ok := c.deletedTGs.get(arn, c.now())
	return ok
}
