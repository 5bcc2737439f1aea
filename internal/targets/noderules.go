package targets

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
)

// The pure half of the worker-node security group rules: which security group of a target's
// network interface gets the rules, which ports a target group needs, how the ports of all
// target groups aggregate into one rule per group, protocol and source, and the diff.

// ClusterTagPrefix is the prefix of the tag key, kubernetes.io/cluster/<cluster>, that marks
// the one security group of a network interface the rules go into when it has several.
const ClusterTagPrefix = "kubernetes.io/cluster/"

// Network says where the traffic of a target group comes from and on which ports, for the
// rules of its targets' security groups.
type Network struct {
	// SourceGroupID is the load balancer's security group the rules allow (the shared backend
	// group, or the managed frontend group). Empty means rules from CIDRs.
	SourceGroupID string
	// ClientCIDRs and HealthCheckCIDRs are the sources of the traffic and the health checks of
	// an NLB without security groups.
	ClientCIDRs      []string
	HealthCheckCIDRs []string
	// Protocol is the target group's protocol (TCP, UDP, TCP_UDP, TLS, HTTP, ...).
	Protocol string
	// HealthCheckPort is a port number or traffic-port.
	HealthCheckPort string
}

// GroupRule is a rule in a worker-node security group.
type GroupRule struct {
	GroupID string
	model.NodeRule
}

// SelectSecurityGroup picks the security group of a network interface that the rules go into:
// its only group; or, when it has several, the one group tagged kubernetes.io/cluster/<cluster>
// (owned or shared) that also carries every one of the required tags. Anything else is a
// *SelectionError that says which tags the groups have and which to add or remove.
func SelectSecurityGroup(eni model.ENI, cluster string, required map[string]string) (string, error) {
	switch len(eni.SecurityGroups) {
	case 0:
		return "", &SelectionError{Reason: ReasonNoSecurityGroup, ENI: eni, Cluster: cluster, Required: required}
	case 1:
		return eni.SecurityGroups[0].ID, nil
	}
	key := ClusterTagPrefix + cluster
	var match []string
	for _, g := range eni.SecurityGroups {
		if v := g.Tags[key]; v != "owned" && v != "shared" {
			continue
		}
		if carriesAll(g.Tags, required) {
			match = append(match, g.ID)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return "", &SelectionError{Reason: ReasonNoSecurityGroup, ENI: eni, Cluster: cluster, Required: required}
	}
	return "", &SelectionError{Reason: ReasonAmbiguousSecurityGroup, ENI: eni, Cluster: cluster, Required: required, Matches: match}
}

// SelectionError says why no security group of a network interface can take the rules.
type SelectionError struct {
	// Reason is ReasonNoSecurityGroup or ReasonAmbiguousSecurityGroup.
	Reason   string
	ENI      model.ENI
	Cluster  string
	Required map[string]string
	// Matches are the groups that all carry the tags (ambiguous only).
	Matches []string
}

func (e *SelectionError) Error() string {
	if len(e.ENI.SecurityGroups) == 0 {
		return fmt.Sprintf("network interface %s has no security group; attach one", e.ENI.ID)
	}
	want := e.wantedTags()
	found := make([]string, 0, len(e.ENI.SecurityGroups))
	for _, g := range e.ENI.SecurityGroups {
		found = append(found, g.ID+" "+e.relevantTags(g.Tags))
	}
	if e.Reason == ReasonAmbiguousSecurityGroup {
		return fmt.Sprintf("network interface %s has security groups %s, and %s all carry the tags %s; keep them on exactly one, or set --service-target-eni-security-group-tags to tell them apart",
			e.ENI.ID, strings.Join(found, ", "), strings.Join(e.Matches, ", "), want)
	}
	return fmt.Sprintf("network interface %s has security groups %s, and none carries the tags %s; add them to exactly one",
		e.ENI.ID, strings.Join(found, ", "), want)
}

// wantedTags prints the tags the chosen group must carry: the cluster tag, then the required
// tags by key.
func (e *SelectionError) wantedTags() string {
	want := ClusterTagPrefix + e.Cluster + "=owned|shared"
	for _, k := range sortedKeys(e.Required) {
		want += ", " + k + "=" + e.Required[k]
	}
	return want
}

// relevantTags prints the tags of a group that take part in the choice: cluster tags (of any
// cluster) and the required keys, as "(k=v, ...)", or "(none of the tags)".
func (e *SelectionError) relevantTags(tags map[string]string) string {
	var out []string
	for _, k := range sortedKeys(tags) {
		if _, req := e.Required[k]; req || strings.HasPrefix(k, ClusterTagPrefix) {
			out = append(out, k+"="+tags[k])
		}
	}
	if len(out) == 0 {
		return "(none of the tags)"
	}
	return "(" + strings.Join(out, ", ") + ")"
}

func carriesAll(tags, required map[string]string) bool {
	for k, v := range required {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// PortRules are the rules one target on port needs. Restricted (the default): the traffic port
// (tcp; udp for UDP and TCP_UDP target groups) and the health-check port (tcp) when it is a
// number other than the traffic port, or when a UDP target group's health check uses the
// traffic port. Unrestricted: every port of those protocols. From the source group, or from the
// client CIDRs (traffic) and the health-check CIDRs (health checks).
func PortRules(n Network, port int32, unrestricted bool) []model.NodeRule {
	traffic := []string{"tcp"}
	switch n.Protocol {
	case "UDP", "QUIC":
		traffic = []string{"udp"}
	case "TCP_UDP", "TCP_QUIC":
		traffic = []string{"tcp", "udp"}
	}
	type portRule struct {
		protocol    string
		from, to    int32
		healthCheck bool
	}
	var ports []portRule
	for _, p := range traffic {
		ports = append(ports, portRule{protocol: p, from: port, to: port})
	}
	hc := port
	if v, err := strconv.ParseInt(n.HealthCheckPort, 10, 32); err == nil {
		hc = int32(v)
	}
	if hc != port || n.Protocol == "UDP" || n.Protocol == "QUIC" || n.SourceGroupID == "" {
		ports = append(ports, portRule{protocol: "tcp", from: hc, to: hc, healthCheck: true})
	}
	if unrestricted {
		for i := range ports {
			ports[i].from, ports[i].to = 0, 65535
		}
	}
	var out []model.NodeRule
	for _, p := range ports {
		base := model.NodeRule{Protocol: p.protocol, FromPort: p.from, ToPort: p.to}
		if n.SourceGroupID != "" {
			base.SourceGroupID = n.SourceGroupID
			out = append(out, base)
			continue
		}
		cidrs := n.ClientCIDRs
		if p.healthCheck {
			cidrs = n.HealthCheckCIDRs
		}
		for _, c := range cidrs {
			r := base
			r.CIDR = c
			out = append(out, r)
		}
	}
	return out
}

// Aggregate merges rules per security group, protocol and source into one rule whose port
// range spans all of them (from the lowest port to the highest), and returns them by group,
// sorted.
func Aggregate(rules []GroupRule) map[string][]model.NodeRule {
	type key struct{ group, protocol, sourceGroup, cidr string }
	spans := map[key]model.NodeRule{}
	for _, r := range rules {
		k := key{r.GroupID, r.Protocol, r.SourceGroupID, r.CIDR}
		cur, ok := spans[k]
		if !ok {
			spans[k] = r.NodeRule
			continue
		}
		cur.FromPort = min(cur.FromPort, r.FromPort)
		cur.ToPort = max(cur.ToPort, r.ToPort)
		spans[k] = cur
	}
	out := map[string][]model.NodeRule{}
	for k, r := range spans {
		out[k.group] = append(out[k.group], r)
	}
	for g := range out {
		SortNodeRules(out[g])
	}
	return out
}

// DiffNodeRules returns the rules to authorize and the rules to revoke, both sorted.
func DiffNodeRules(desired, observed []model.NodeRule) (authorize, revoke []model.NodeRule) {
	have := map[model.NodeRule]bool{}
	for _, r := range observed {
		have[r] = true
	}
	want := map[model.NodeRule]bool{}
	for _, r := range desired {
		if !want[r] && !have[r] {
			authorize = append(authorize, r)
		}
		want[r] = true
	}
	for _, r := range observed {
		if !want[r] {
			revoke = append(revoke, r)
		}
	}
	SortNodeRules(authorize)
	SortNodeRules(revoke)
	return authorize, revoke
}

// SortNodeRules orders rules by protocol, ports and source.
func SortNodeRules(rules []model.NodeRule) {
	sort.Slice(rules, func(i, j int) bool { return nodeRuleKey(rules[i]) < nodeRuleKey(rules[j]) })
}

func nodeRuleKey(r model.NodeRule) string {
	return fmt.Sprintf("%s/%05d/%05d/%s/%s", r.Protocol, r.FromPort, r.ToPort, r.SourceGroupID, r.CIDR)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
