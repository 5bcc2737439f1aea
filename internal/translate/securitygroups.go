package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// The security groups of a load balancer, beyond the managed frontend group (loadbalancer.go):
// explicit groups named by ID or Name tag, the cluster's shared backend group, and how the
// worker nodes let the load balancer's traffic in (NodeIngress).

// SecurityGroupNames returns the entries of the Gateway's spec.securityGroups (its merged
// LoadBalancerConfiguration) that are Name tags rather than sg- IDs, sorted. The controller
// resolves them to IDs into AWSFacts.SecurityGroupIDs before translation.
func SecurityGroupNames(s *snapshot.Snapshot) []string {
	cfg := configOf(s)
	if cfg == nil {
		return nil
	}
	var out []string
	for _, g := range cfg.spec.SecurityGroups {
		if g != "" && !isSecurityGroupID(g) && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// NeedsBackendSecurityGroup says whether the Gateway's load balancer gets the cluster's shared
// backend security group: a live Gateway with a managed frontend group, or with explicit
// groups and manageBackendSecurityGroupRules. An NLB without security groups does not.
func NeedsBackendSecurityGroup(s *snapshot.Snapshot) bool {
	if s == nil || s.Gateway == nil || s.Gateway.DeletionTimestamp != nil {
		return false
	}
	cfg := configOf(s)
	if cfg == nil {
		return false
	}
	alb := s.Settings.ControllerName == controllerALB
	return usesBackendGroup(cfg.spec, alb)
}

func usesBackendGroup(spec awsv1.LoadBalancerConfigurationSpec, alb bool) bool {
	if isTrue(spec.DisableSecurityGroup) && !alb {
		return false
	}
	return len(spec.SecurityGroups) == 0 || isTrue(spec.ManageBackendSecurityGroupRules)
}

// NeedsVPCCIDRs says whether translation needs the VPC's CIDR blocks (AWSFacts.VPCCIDRs): the
// worker nodes behind an internal NLB without security groups and without sourceRanges are
// opened to them.
func NeedsVPCCIDRs(s *snapshot.Snapshot) bool {
	if s == nil || s.Gateway == nil || s.Gateway.DeletionTimestamp != nil || s.Settings.ControllerName == controllerALB {
		return false
	}
	cfg := configOf(s)
	return cfg != nil && isTrue(cfg.spec.DisableSecurityGroup) && len(cfg.spec.SourceRanges) == 0 &&
		schemeOf(cfg.spec, s.Settings) == string(awsv1.LoadBalancerSchemeInternal)
}

// NodeIngress says how the targets' security groups let the load balancer of a translated
// stack in: from the shared backend group when the load balancer has it, else from the managed
// frontend group; from CIDRs for an NLB without security groups; not at all for explicit groups
// without manageBackendSecurityGroupRules. The CIDRs, as the AWS Load Balancer Controller
// chooses them: clients from sourceRanges, else from the VPC's CIDR blocks for an internal load
// balancer (its clients are in the VPC or reach it through it), else from anywhere; health
// checks, and the traffic of target groups that do not preserve the client's IP, from the load
// balancer's subnets (model.NodeIngress.SubnetCIDRs).
func NodeIngress(s *snapshot.Snapshot, stack *model.Stack) model.NodeIngress {
	if s == nil || stack == nil || stack.LoadBalancer == nil {
		return model.NodeIngress{}
	}
	lb := stack.LoadBalancer
	if backend := s.AWS.BackendSecurityGroupID; backend != "" && slices.Contains(lb.SecurityGroups, model.Ref{External: backend}) {
		return model.NodeIngress{SourceGroup: &model.Ref{External: backend}}
	}
	if slices.Contains(lb.SecurityGroups, model.Ref{ID: model.ManagedSecurityGroupID}) {
		return model.NodeIngress{SourceGroup: &model.Ref{ID: model.ManagedSecurityGroupID}}
	}
	if len(lb.SecurityGroups) > 0 || stack.Type != model.Network {
		return model.NodeIngress{}
	}
	var n model.NodeIngress
	dualstack := lb.IPAddressType != string(awsv1.LoadBalancerIPAddressTypeIPv4)
	if cfg := configOf(s); cfg != nil {
		for _, r := range cfg.spec.SourceRanges {
			if p, err := netip.ParsePrefix(r); err == nil && (p.Addr().Is4() || dualstack) {
				n.ClientCIDRs = append(n.ClientCIDRs, p.Masked().String())
			}
		}
	}
	for _, m := range lb.Subnets {
		for _, sn := range s.AWS.Subnets {
			if sn.ID == m.SubnetID && sn.CIDR != "" {
				n.HealthCheckCIDRs = append(n.HealthCheckCIDRs, sn.CIDR)
			}
		}
	}
	slices.Sort(n.HealthCheckCIDRs)
	n.HealthCheckCIDRs = slices.Compact(n.HealthCheckCIDRs)
	if len(n.ClientCIDRs) == 0 && lb.Scheme == string(awsv1.LoadBalancerSchemeInternal) {
		for _, c := range s.AWS.VPCCIDRs {
			if p, err := netip.ParsePrefix(c); err == nil && (p.Addr().Is4() || dualstack) {
				n.ClientCIDRs = append(n.ClientCIDRs, p.Masked().String())
			}
		}
		if len(n.ClientCIDRs) == 0 {
			// The VPC's blocks were not read: its subnets' are a narrower stand-in, never
			// the whole Internet.
			n.ClientCIDRs = slices.Clone(n.HealthCheckCIDRs)
		}
	}
	if len(n.ClientCIDRs) == 0 {
		n.ClientCIDRs = []string{"0.0.0.0/0"}
		if dualstack {
			n.ClientCIDRs = append(n.ClientCIDRs, "::/0")
		}
	}
	slices.Sort(n.ClientCIDRs)
	n.ClientCIDRs = slices.Compact(n.ClientCIDRs)
	n.SubnetCIDRs = slices.Clone(n.HealthCheckCIDRs)
	return n
}

// checkSecurityGroups rejects explicit security groups that name no group, or several, and
// manageBackendSecurityGroupRules without a backend group.
func (t *translator) checkSecurityGroups() *problem {
	spec := t.cfg.spec
	if isTrue(spec.DisableSecurityGroup) && !t.alb() {
		return nil
	}
	for i, g := range spec.SecurityGroups {
		if g == "" || isSecurityGroupID(g) {
			continue
		}
		id, ok := t.s.AWS.SecurityGroupIDs[g]
		switch {
		case !ok:
			return &problem{invalidParameters, fmt.Sprintf(
				"LoadBalancerConfiguration spec.securityGroups[%d]: no security group in VPC %s has the Name tag %q; create it, tag it, or give its ID (sg-...)",
				i, t.s.Settings.VPCID, g)}
		case id == "":
			return &problem{invalidParameters, fmt.Sprintf(
				"LoadBalancerConfiguration spec.securityGroups[%d]: several security groups in VPC %s have the Name tag %q; give the ID (sg-...) of the one to use",
				i, t.s.Settings.VPCID, g)}
		}
	}
	if n := len(t.explicitSecurityGroups()); n > 0 {
		if _, ok := t.backendSecurityGroup(); ok {
			n++
		}
		if n > model.MaxSecurityGroupsPerLoadBalancer {
			return &problem{invalidParameters, fmt.Sprintf(
				"LoadBalancerConfiguration spec.securityGroups: %d security groups (with the shared backend group), a load balancer takes at most %d; name fewer",
				n, model.MaxSecurityGroupsPerLoadBalancer)}
		}
	}
	if len(spec.SecurityGroups) > 0 && isTrue(spec.ManageBackendSecurityGroupRules) && t.s.AWS.BackendSecurityGroupID == "" {
		return &problem{invalidParameters,
			"LoadBalancerConfiguration spec.manageBackendSecurityGroupRules: needs the shared backend security group, which the controller does not use " +
				"(--enable-backend-security-group=false); enable it, or drop manageBackendSecurityGroupRules and open the worker nodes' security groups yourself"}
	}
	return nil
}

// explicitSecurityGroups are the IDs of the configured security groups, sorted; names are
// resolved through the facts (checkSecurityGroups made sure they resolve).
func (t *translator) explicitSecurityGroups() []model.Ref {
	var out []model.Ref
	for _, g := range t.cfg.spec.SecurityGroups {
		id := g
		if !isSecurityGroupID(g) {
			id = t.s.AWS.SecurityGroupIDs[g]
		}
		if id != "" && !slices.Contains(out, model.Ref{External: id}) {
			out = append(out, model.Ref{External: id})
		}
	}
	slices.SortFunc(out, func(a, b model.Ref) int { return strings.Compare(a.External, b.External) })
	return out
}

// backendSecurityGroup is the shared backend group for the load balancer, if it gets one.
func (t *translator) backendSecurityGroup() (model.Ref, bool) {
	id := t.s.AWS.BackendSecurityGroupID
	if id == "" || !usesBackendGroup(t.cfg.spec, t.alb()) {
		return model.Ref{}, false
	}
	return model.Ref{External: id}, true
}

// configOf is the Gateway's merged configuration, or nil when it does not resolve.
func configOf(s *snapshot.Snapshot) *lbConfig {
	if s == nil || s.Gateway == nil {
		return nil
	}
	cfg, p := resolveConfig(s)
	if p != nil {
		return nil
	}
	return cfg
}

// isSecurityGroupID tells a group ID from a Name tag, as the AWS Load Balancer Controller does.
func isSecurityGroupID(s string) bool { return strings.HasPrefix(s, "sg-") }

func isTrue(b *bool) bool { return b != nil && *b }
