package translate

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// Tag keys that mark what a stack owns.
const (
	clusterTag = "elbv2.k8s.aws/cluster"
	stackTag   = "gateway.k8s.aws.nlb/stack"
	resourceTg = "gateway.k8s.aws.nlb/resource"
	// The same for ALB stacks.
	stackTagALB    = "gateway.k8s.aws.alb/stack"
	resourceTagALB = "gateway.k8s.aws.alb/resource"
)

// tags are user tags, then the controller's default tags, then the tracking tags; later wins.
func (t *translator) tags(user map[string]string, resource string) model.Tags {
	stack, res := stackTag, resourceTg
	if t.alb() {
		stack, res = stackTagALB, resourceTagALB
	}
	return mergeTags(user, t.s.Settings.DefaultTags, map[string]string{
		clusterTag: t.s.Settings.ClusterName,
		stack:      t.gw.Namespace + "/" + t.gw.Name,
		res:        resource,
	})
}

func (t *translator) scheme() string { return schemeOf(t.cfg.spec, t.s.Settings) }

// schemeOf is the scheme a configuration asks for, else the controller's default, else internal.
func schemeOf(spec awsv1.LoadBalancerConfigurationSpec, settings snapshot.Settings) string {
	if s := spec.Scheme; s != nil && *s != "" {
		return string(*s)
	}
	if settings.DefaultScheme != "" {
		return settings.DefaultScheme
	}
	return string(awsv1.LoadBalancerSchemeInternal)
}

func (t *translator) ipAddressType() string {
	if t.cfg != nil && t.cfg.spec.IpAddressType != nil && *t.cfg.spec.IpAddressType != "" {
		return string(*t.cfg.spec.IpAddressType)
	}
	return string(awsv1.LoadBalancerIPAddressTypeIPv4)
}

// lbName is the configured name, or the generated one.
func (t *translator) lbName() (string, *problem) {
	if n := t.cfg.spec.LoadBalancerName; n != nil {
		if err := model.CheckName(*n); err != nil {
			return "", &problem{invalidParameters, fmt.Sprintf(
				"LoadBalancerConfiguration spec.loadBalancerName: %q %v; fix it", *n, err)}
		}
		return *n, nil
	}
	return loadBalancerName(t.s.Settings.ClusterName, t.gw.Namespace, t.gw.Name, string(t.gw.UID), t.scheme()), nil
}

// loadBalancer builds the load balancer; its subnets were resolved before.
func (t *translator) loadBalancer(name string, subnets []model.SubnetMapping) *model.LoadBalancer {
	lb := &model.LoadBalancer{
		Name:          name,
		Scheme:        t.scheme(),
		IPAddressType: t.ipAddressType(),
		Subnets:       subnets,
		Tags:          t.tags(t.cfg.spec.Tags, model.LoadBalancerID),
		Addons:        t.addons(),
	}
	for _, a := range t.cfg.spec.LoadBalancerAttributes {
		if lb.Attributes == nil {
			lb.Attributes = map[string]string{}
		}
		lb.Attributes[a.Key] = a.Value
	}
	return lb
}

// addons are the LoadBalancerConfiguration's WAFv2 web ACL, Shield Advanced protection and
// minimum capacity.
func (t *translator) addons() model.Addons {
	spec := t.cfg.spec
	var a model.Addons
	if spec.WAFv2 != nil {
		a.WebACL = spec.WAFv2.ACL
	}
	if spec.ShieldAdvanced != nil {
		a.Shield = spec.ShieldAdvanced.Enabled
	}
	if spec.MinimumLoadBalancerCapacity != nil {
		a.CapacityUnits = spec.MinimumLoadBalancerCapacity.CapacityUnits
	}
	return a
}

// securityGroups sets the load balancer's security groups: none when disabled, the configured
// IDs, or a managed frontend group open on every programmed listener port.
func (t *translator) securityGroups() {
	spec := t.cfg.spec
	lb := t.stack.LoadBalancer
	// An ALB always has security groups: disableSecurityGroup is an NLB setting.
	if spec.DisableSecurityGroup != nil && *spec.DisableSecurityGroup && !t.alb() {
		return
	}
	if backend, ok := t.backendSecurityGroup(); ok {
		defer func() { lb.SecurityGroups = append(lb.SecurityGroups, backend) }()
	}
	if len(spec.SecurityGroups) > 0 {
		lb.SecurityGroups = append(lb.SecurityGroups, t.explicitSecurityGroups()...)
		return
	}
	sg := model.SecurityGroup{
		ID:          model.ManagedSecurityGroupID,
		Name:        securityGroupName(t.s.Settings.ClusterName, t.gw.Namespace, t.gw.Name, string(t.gw.UID)),
		Description: "[k8s] Managed SecurityGroup for LoadBalancer",
		Tags:        t.tags(spec.Tags, model.ManagedSecurityGroupID),
	}
	dualstack := lb.IPAddressType != string(awsv1.LoadBalancerIPAddressTypeIPv4)
	var v4, v6 []string
	ranges := spec.SourceRanges
	if len(ranges) == 0 {
		ranges = []string{"0.0.0.0/0", "::/0"}
	}
	for _, r := range ranges {
		p, err := netip.ParsePrefix(r)
		switch {
		case err != nil:
			continue
		case p.Addr().Is4():
			v4 = append(v4, p.Masked().String())
		case dualstack:
			v6 = append(v6, p.Masked().String())
		}
	}
	rules := map[model.IngressRule]bool{}
	for _, l := range t.stack.Listeners {
		for _, proto := range ingressProtocols(l.Protocol) {
			for _, c := range append(slices.Clone(v4), v6...) {
				rules[model.IngressRule{Protocol: proto, FromPort: l.Port, ToPort: l.Port, CIDR: c}] = true
			}
			for _, pl := range spec.SecurityGroupPrefixes {
				if pl == "" {
					continue
				}
				rules[model.IngressRule{Protocol: proto, FromPort: l.Port, ToPort: l.Port, PrefixListID: pl}] = true
			}
		}
	}
	if spec.EnableICMP != nil && *spec.EnableICMP {
		for _, c := range v4 {
			rules[model.IngressRule{Protocol: "icmp", FromPort: 3, ToPort: 4, CIDR: c}] = true
		}
		for _, c := range v6 {
			rules[model.IngressRule{Protocol: "icmpv6", FromPort: 2, ToPort: 0, CIDR: c}] = true
		}
	}
	sg.Ingress = t.withinRuleQuota(slices.Collect(maps.Keys(rules)))
	t.stack.SecurityGroups = append(t.stack.SecurityGroups, sg)
	lb.SecurityGroups = append(lb.SecurityGroups, model.Ref{ID: model.ManagedSecurityGroupID})
}

func ingressProtocols(listener string) []string {
	switch listener {
	case "UDP", "QUIC":
		return []string{"udp"}
	case "TCP_UDP", "TCP_QUIC":
		return []string{"tcp", "udp"}
	default:
		return []string{"tcp"}
	}
}

func portString(p int32) string { return strconv.Itoa(int(p)) }

// withinRuleQuota keeps the managed group's inbound rules within AWS's 60 per address family
// ("Inbound or outbound rules per security group: 60", IPv4 and IPv6 counted apart; a prefix
// list counts in both). A group within the quota is left as it is. Over it, listener ports
// that follow each other are merged into port ranges for the same protocol and source, which
// opens no port that was not open; when that is still too many, every listener says why (the
// group cannot be written as it is).
func (t *translator) withinRuleQuota(rules []model.IngressRule) []model.IngressRule {
	if fitsRuleQuota(rules) {
		return rules
	}
	type key struct{ proto, cidr, prefixList string }
	ports := map[key][]int32{}
	var out []model.IngressRule
	for _, r := range rules {
		if r.FromPort != r.ToPort || r.Protocol == "icmp" || r.Protocol == "icmpv6" {
			out = append(out, r)
			continue
		}
		k := key{r.Protocol, r.CIDR, r.PrefixListID}
		ports[k] = append(ports[k], r.FromPort)
	}
	for k, ps := range ports {
		slices.Sort(ps)
		for i := 0; i < len(ps); {
			j := i
			for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
				j++
			}
			out = append(out, model.IngressRule{Protocol: k.proto, FromPort: ps[i], ToPort: ps[j], CIDR: k.cidr, PrefixListID: k.prefixList})
			i = j + 1
		}
	}
	if !fitsRuleQuota(out) {
		v4, v6 := model.IngressRuleCounts(out)
		p := &problem{string(gwv1.ListenerReasonUnsupportedValue), fmt.Sprintf(
			"spec.listeners: the managed security group needs %d IPv4 and %d IPv6 inbound rules (listener ports × sourceRanges and securityGroupPrefixes), AWS allows %d of each; use fewer sourceRanges or prefix lists, consecutive ports, or your own spec.securityGroups",
			v4, v6, model.MaxIngressRulesPerFamily)}
		for _, l := range t.listeners {
			if l.accepted() {
				l.unresolved = cmpFirst(l.unresolved, p)
			}
		}
	}
	return out
}

func fitsRuleQuota(rules []model.IngressRule) bool {
	v4, v6 := model.IngressRuleCounts(rules)
	return v4 <= model.MaxIngressRulesPerFamily && v6 <= model.MaxIngressRulesPerFamily
}
