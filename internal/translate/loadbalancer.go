package translate

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
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

func (t *translator) scheme() string {
	if s := t.cfg.spec.Scheme; s != nil && *s != "" {
		return string(*s)
	}
	if t.s.Settings.DefaultScheme != "" {
		return t.s.Settings.DefaultScheme
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
	}
	for _, a := range t.cfg.spec.LoadBalancerAttributes {
		if lb.Attributes == nil {
			lb.Attributes = map[string]string{}
		}
		lb.Attributes[a.Key] = a.Value
	}
	return lb
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
	sg.Ingress = slices.Collect(maps.Keys(rules))
	t.stack.SecurityGroups = append(t.stack.SecurityGroups, sg)
	lb.SecurityGroups = append(lb.SecurityGroups, model.Ref{ID: model.ManagedSecurityGroupID})
}

func ingressProtocols(listener string) []string {
	switch listener {
	case "UDP":
		return []string{"udp"}
	case "TCP_UDP":
		return []string{"tcp", "udp"}
	default:
		return []string{"tcp"}
	}
}

func portString(p int32) string { return strconv.Itoa(int(p)) }
