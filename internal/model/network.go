package model

// NodeRuleDescription is the description of every worker-node security group rule the targets
// loop writes: rules with it are ours, and only those are revoked.
const NodeRuleDescription = "elbgateway.k8s.aws/targets=shared"

// LBCNodeRuleDescription is the description the AWS Load Balancer Controller gives its
// worker-node rules (and that elbgateway wrote before it had its own). A rule with it is the
// other controller's unless its source security group carries our ownership tags.
const LBCNodeRuleDescription = "elbv2.k8s.aws/targetGroupBinding=shared"

// ObservedNodeRules are the ingress rules of one worker-node security group, sorted by who
// owns them.
type ObservedNodeRules struct {
	// Ours carry NodeRuleDescription.
	Ours []NodeRule `json:"ours,omitempty"`
	// Legacy carry LBCNodeRuleDescription but come from a security group of ours: written by
	// an earlier elbgateway, they are taken over (revoked, and written again as ours when
	// still needed).
	Legacy []NodeRule `json:"legacy,omitempty"`
	// Others are every other rule, whoever wrote it. AWS refuses a second rule with the same
	// protocol, ports and source whatever its description, so a rule we need that is among
	// them is already in place and is not written.
	Others []NodeRule `json:"others,omitempty"`
}

// NodeIngress says how traffic from a Gateway's load balancer reaches its targets' network
// interfaces: through rules from a security group (the shared backend group, or the managed
// frontend group when there is no backend group), through rules from CIDRs (an NLB without
// security groups), or not at all (explicit security groups the user manages).
type NodeIngress struct {
	// SourceGroup is the security group the rules allow traffic from, if any.
	SourceGroup *Ref `json:"sourceGroup,omitempty"`
	// ClientCIDRs receive the traffic port when there is no source group.
	ClientCIDRs []string `json:"clientCIDRs,omitempty"`
	// HealthCheckCIDRs receive the health-check port when there is no source group.
	HealthCheckCIDRs []string `json:"healthCheckCIDRs,omitempty"`
	// SubnetCIDRs are the load balancer's subnets: the traffic of a target group that does
	// not preserve the client's IP comes from the load balancer's own addresses in them.
	SubnetCIDRs []string `json:"subnetCIDRs,omitempty"`
}

// TrafficCIDRs are the sources of a target group's traffic when there is no source group:
// the client CIDRs when it preserves the client's IP, else the load balancer's subnets.
func (n NodeIngress) TrafficCIDRs(tg TargetGroup) []string {
	if tg.PreservesClientIP() || len(n.SubnetCIDRs) == 0 {
		return n.ClientCIDRs
	}
	return n.SubnetCIDRs
}

// PreservesClientIP says whether an NLB target group hands its targets the client's address:
// the attribute preserve_client_ip.enabled when set, else AWS's default ("disabled if the
// target group type is IP address and the target group protocol is TCP or TLS. Otherwise, the
// default is enabled").
func (tg TargetGroup) PreservesClientIP() bool {
	if v, ok := tg.Attributes["preserve_client_ip.enabled"]; ok {
		return v == "true"
	}
	return !(tg.TargetType == "ip" && (tg.Protocol == "TCP" || tg.Protocol == "TLS"))
}

// Managed says whether the targets' security groups get rules at all.
func (n NodeIngress) Managed() bool {
	return n.SourceGroup != nil || len(n.ClientCIDRs) > 0
}

// ENI is a network interface that targets receive traffic on, with its security groups.
type ENI struct {
	ID             string             `json:"id"`
	SecurityGroups []ENISecurityGroup `json:"securityGroups"`
}

// ENISecurityGroup is one security group of an ENI, with its tags.
type ENISecurityGroup struct {
	ID   string `json:"id"`
	Tags Tags   `json:"tags,omitempty"`
}

// NodeRule is one ingress rule of a worker-node security group: a port range of one protocol
// from a source security group or a CIDR.
type NodeRule struct {
	Protocol      string `json:"protocol"` // tcp or udp
	FromPort      int32  `json:"fromPort"`
	ToPort        int32  `json:"toPort"`
	SourceGroupID string `json:"sourceGroupID,omitempty"`
	CIDR          string `json:"cidr,omitempty"`
}
