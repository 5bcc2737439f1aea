package targets

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/elbgateway/elbgateway/internal/model"
)

// The loop half of the worker-node security group rules. One request, SecurityGroupsRequest,
// reconciles the rules of every bound target group at once, because the rules of one security
// group aggregate the ports of all the target groups whose targets sit behind it. Each target
// group reconcile asks for it; the work queue folds the asks into one run.

// SecurityGroupsRequest is the request name of the security-group pass (never an ARN).
const SecurityGroupsRequest = "security-groups"

// NodeNetwork is what the security-group pass needs from AWS.
type NodeNetwork interface {
	// InstanceENIs returns the primary network interface of each instance that exists.
	InstanceENIs(ctx context.Context, instanceIDs []string) (map[string]model.ENI, error)
	// IPENIs returns the network interface of each private IP that one holds.
	IPENIs(ctx context.Context, ips []string) (map[string]model.ENI, error)
	// NodeRules returns the rules of each group, sorted by owner.
	NodeRules(ctx context.Context, groupIDs []string) (map[string]model.ObservedNodeRules, error)
	AuthorizeNodeRules(ctx context.Context, groupID string, rules []model.NodeRule) error
	RevokeNodeRules(ctx context.Context, groupID string, rules []model.NodeRule) error
	// RevokeLegacyNodeRules revokes rules an earlier elbgateway wrote with the LBC description.
	RevokeLegacyNodeRules(ctx context.Context, groupID string, rules []model.NodeRule) error
}

// NodeRuleOptions configure the security-group pass.
type NodeRuleOptions struct {
	// Network is nil to leave worker-node security groups alone.
	Network NodeNetwork
	// ClusterName names the kubernetes.io/cluster/<cluster> tag.
	ClusterName string
	// ENISecurityGroupTags must all be on the chosen group of an ENI with several groups
	// (--service-target-eni-security-group-tags).
	ENISecurityGroupTags map[string]string
	// Unrestricted opens every port instead of the traffic and health-check ports
	// (--disable-restricted-sg-rules).
	Unrestricted bool
}

// sgState is what the pass remembers between runs: the groups it wrote to and the sources it
// used, so that rules of target groups that went away are revoked.
type sgState struct {
	groups  map[string]bool
	sources map[string]bool
}

// syncSecurityGroups makes the rules of the worker-node security groups equal to what the
// bound target groups need. It says whether a rule they need is another owner's.
func (r *Reconciler) syncSecurityGroups(ctx context.Context) (bool, error) {
	o := r.nodeRules
	if o.Network == nil {
		return false, nil
	}
	logger := log.FromContext(ctx).WithName("security-groups")
	want, problems, err := r.desiredNodeRules(ctx)
	if err != nil {
		return false, err
	}
	r.reportProblems(ctx, problems)
	st := &r.sg
	groups := map[string]bool{}
	for g := range want {
		groups[g] = true
	}
	for g := range st.groups {
		groups[g] = true
	}
	for _, rules := range want {
		for _, x := range rules {
			if x.SourceGroupID != "" {
				st.sources[x.SourceGroupID] = true
			}
		}
	}
	ids := make([]string, 0, len(groups))
	for g := range groups {
		ids = append(ids, g)
	}
	sort.Strings(ids)
	observed, err := o.Network.NodeRules(ctx, ids)
	if err != nil {
		return false, err
	}
	next := map[string]bool{}
	borrowed := false
	for _, g := range ids {
		add, remove, legacy, lent := planNodeRules(want[g], observed[g], st.sources)
		borrowed = borrowed || len(lent) > 0
		// A stack deleted while this pass ran has revoked its rules and is deleting its
		// security group: a rule from that group is not authorized again.
		add = slices.DeleteFunc(add, func(x model.NodeRule) bool {
			return x.SourceGroupID != "" && !r.registry.SourceInUse(x.SourceGroupID)
		})
		// Taking over an earlier elbgateway's rules: revoked first (AWS would refuse the
		// same rule with our description as a duplicate), then written again as ours.
		if err := o.Network.RevokeLegacyNodeRules(ctx, g, legacy); err != nil {
			return false, err
		}
		if err := o.Network.AuthorizeNodeRules(ctx, g, add); err != nil {
			return false, err
		}
		if err := o.Network.RevokeNodeRules(ctx, g, remove); err != nil {
			return false, err
		}
		if len(add)+len(remove)+len(legacy) > 0 {
			logger.Info("worker-node security group rules", "group", g, "authorized", add, "revoked", remove, "takenOver", legacy)
		}
		if len(want[g]) > 0 {
			next[g] = true
		}
	}
	st.groups = next
	return borrowed, nil
}

// planNodeRules compares the rules a group needs with the rules it has: the rules to
// authorize, the rules of ours to revoke, and an earlier elbgateway's rules to take over.
// Only our own rules are ever revoked (with a CIDR, or from a source group this process has
// used: a rule from a group it never used is left to the stack that owns the group). A rule
// someone else wrote that equals one we need already lets the traffic in: AWS refuses a second
// one, so it is not authorized; when its owner revokes it, the next pass writes ours.
// The rules left out because another owner has them are returned as borrowed. An earlier
// elbgateway's rule is taken over only when its source is a group this process uses: the AWS
// Load Balancer Controller's own Gateway frontend groups carry the same tags, and their rules
// stay its own.
func planNodeRules(want []model.NodeRule, observed model.ObservedNodeRules, sources map[string]bool) (add, remove, legacy, borrowed []model.NodeRule) {
	var ours []model.NodeRule
	for _, x := range observed.Ours {
		if x.CIDR != "" || sources[x.SourceGroupID] {
			ours = append(ours, x)
		}
	}
	add, remove = DiffNodeRules(want, ours)
	add = slices.DeleteFunc(add, func(x model.NodeRule) bool {
		if slices.Contains(observed.Others, x) {
			borrowed = append(borrowed, x)
			return true
		}
		return false
	})
	for _, x := range observed.Legacy {
		if sources[x.SourceGroupID] {
			legacy = append(legacy, x)
		}
	}
	return add, remove, legacy, borrowed
}

// BorrowedRuleRecheck is how soon the security-group pass looks again while a rule the
// targets need is another owner's (the AWS Load Balancer Controller's): when that owner
// revokes it, ours follows within this time rather than at the next resync.
const BorrowedRuleRecheck = 30 * time.Second

// desiredNodeRules computes the rules of every worker-node group from the bound target groups
// and their current targets. Targets whose group cannot be chosen are left out and reported
// by Gateway.
func (r *Reconciler) desiredNodeRules(ctx context.Context) (map[string][]model.NodeRule, map[string][]Problem, error) {
	type bound struct {
		b       Binding
		targets []model.Target
	}
	var all []bound
	var instances, ips []string
	for _, arn := range r.registry.All() {
		b, ok := r.registry.Get(arn)
		if !ok || b.Network == nil {
			continue
		}
		gated, err := r.gatedPods(ctx, b)
		if err != nil {
			return nil, nil, err
		}
		ts, err := r.desired(ctx, b, gateAddresses(gated))
		if err != nil {
			return nil, nil, err
		}
		all = append(all, bound{b, ts})
		for _, t := range ts {
			if b.TargetType == TargetTypeInstance {
				instances = append(instances, t.ID)
			} else {
				ips = append(ips, t.ID)
			}
		}
	}
	o := r.nodeRules
	byInstance, err := o.Network.InstanceENIs(ctx, instances)
	if err != nil {
		return nil, nil, err
	}
	byIP, err := o.Network.IPENIs(ctx, ips)
	if err != nil {
		return nil, nil, err
	}
	var rules []GroupRule
	problems := map[string][]Problem{}
	for _, x := range all {
		gateway := r.registry.GatewayOf(x.b.TargetGroupARN)
		for _, t := range x.targets {
			target := "target " + t.ID + " (pod IP)"
			eni, ok := byIP[t.ID]
			if x.b.TargetType == TargetTypeInstance {
				target = "target " + t.ID + " (instance)"
				eni, ok = byInstance[t.ID]
			}
			if !ok {
				problems[gateway] = append(problems[gateway], Problem{Reason: ReasonNoNetworkInterface,
					Message: target + ": no network interface in the load balancer's VPC holds it; targets must be in that VPC for their security group rules"})
				continue
			}
			g, err := SelectSecurityGroup(eni, o.ClusterName, o.ENISecurityGroupTags)
			if err != nil {
				p := Problem{Reason: ReasonNoSecurityGroup, Message: target + ": " + err.Error()}
				if se, ok := err.(*SelectionError); ok {
					p.Reason = se.Reason
				}
				problems[gateway] = append(problems[gateway], p)
				continue
			}
			for _, nr := range PortRules(*x.b.Network, t.Port, o.Unrestricted) {
				rules = append(rules, GroupRule{GroupID: g, NodeRule: nr})
			}
		}
	}
	return Aggregate(rules), problems, nil
}

// reportProblems records the problems of every Gateway in the registry, whose subscribers
// (the Gateway controllers) turn them into a status condition, and logs each change.
func (r *Reconciler) reportProblems(ctx context.Context, problems map[string][]Problem) {
	logger := log.FromContext(ctx).WithName("security-groups")
	for _, gateway := range r.registry.ProblemGateways() {
		if _, ok := problems[gateway]; !ok {
			r.registry.SetProblems(gateway, nil)
			logger.Info("worker-node security group rules resolved", "gateway", gateway)
		}
	}
	gateways := make([]string, 0, len(problems))
	for gw := range problems {
		gateways = append(gateways, gw)
	}
	sort.Strings(gateways)
	for _, gateway := range gateways {
		before := r.registry.Problems(gateway)
		r.registry.SetProblems(gateway, problems[gateway])
		if after := r.registry.Problems(gateway); !slices.Equal(before, after) {
			msgs := make([]string, 0, len(after))
			for _, p := range after {
				msgs = append(msgs, p.Message)
			}
			logger.Info("Warning: worker-node security group rules skipped: "+strings.Join(msgs, "; "), "gateway", gateway)
		}
	}
}

// GatewayOf returns the namespace/name of the Gateway a target group is bound for, or "".
func (r *Registry) GatewayOf(arn string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for gw, bs := range r.byGateway {
		if _, ok := bs[arn]; ok {
			return gw
		}
	}
	return ""
}

// newKick returns a function that asks for a security-group pass without blocking: an ask
// already waiting in the channel covers this one.
func newKick(ch chan<- event.TypedGenericEvent[string]) func() {
	return func() {
		select {
		case ch <- event.TypedGenericEvent[string]{Object: SecurityGroupsRequest}:
		default:
		}
	}
}

func sameNetwork(a, b *Network) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.SourceGroupID == b.SourceGroupID && a.Protocol == b.Protocol && a.HealthCheckPort == b.HealthCheckPort &&
		slices.Equal(a.ClientCIDRs, b.ClientCIDRs) && slices.Equal(a.HealthCheckCIDRs, b.HealthCheckCIDRs)
}
