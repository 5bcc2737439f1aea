package aws

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Observe reads what exists of a stack: the resources tagged with its cluster and stack, as a
// model.Stack with ARNs, group IDs, DNS name and state filled in. References between them are
// logical IDs again: a forward to one of the stack's target groups is Ref{ID}, anything else
// Ref{External}. When several load balancers carry the stack's tags, the oldest is the stack's.
// Load balancers and target groups are found through the inventory (inventory.go) and described
// by ARN; Observe fails rather than answer from a failed listing.
func (c *Cloud) Observe(ctx context.Context, stackID string, t model.LoadBalancerType) (*model.Stack, error) {
	return c.observe(ctx, stackID, t, true, nil)
}

// ObserveFor is Observe for a reconcile that knows the desired stack: it lists ACM (to find the
// certificates the stack imported) only when the stack may have imported one: the desired stack
// imports certificates, an observed listener is HTTPS or TLS, or this process imported or
// observed a certificate of the stack before. A stack without TLS costs no ACM call.
func (c *Cloud) ObserveFor(ctx context.Context, desired *model.Stack) (*model.Stack, error) {
	return c.observe(ctx, desired.ID, desired.Type, true, desired)
}

// ObserveForDelete reads what deleting a stack needs: its load balancer (as the last listing saw
// it when we have not changed it since) with its attributes (deletion protection), target
// groups, security groups and imported certificates, by their identifiers. Listeners and rules
// go with their load balancer, and target group attributes do not matter to a delete, so none
// of them is read.
func (c *Cloud) ObserveForDelete(ctx context.Context, stackID string, t model.LoadBalancerType) (*model.Stack, error) {
	return c.observe(ctx, stackID, t, false, nil)
}

// listedOwnedLoadBalancer is the stack's one load balancer as the last listing saw it, when we
// have not changed it since; none otherwise.
func (c *Cloud) listedOwnedLoadBalancer(ctx context.Context, stackID string, t model.LoadBalancerType) ([]elbtypes.LoadBalancer, []model.Tags, error) {
	arns, err := c.inventoryARNs(ctx, stackKey{t, stackID}, kindLoadBalancer)
	if err != nil || len(arns) != 1 {
		return nil, nil, err
	}
	lb, ok := c.inv.listedLoadBalancer(arns[0])
	if !ok {
		return nil, nil, nil
	}
	tags, err := c.elbTags(ctx, arns)
	if err != nil {
		return nil, nil, err
	}
	if id, mine := c.owned(tags[arns[0]], stackID, t); !mine || id != model.LoadBalancerID {
		return nil, nil, nil
	}
	return []elbtypes.LoadBalancer{lb}, []model.Tags{tags[arns[0]]}, nil
}

// observe reads the stack; with desired nil it always reads the imported certificates, else
// only when the stack may have some (ObserveFor).
func (c *Cloud) observe(ctx context.Context, stackID string, t model.LoadBalancerType, full bool, desired *model.Stack) (*model.Stack, error) {
	s := &model.Stack{ID: stackID, Type: t}
	sgs, err := c.observeSecurityGroups(ctx, stackID, t)
	if err != nil {
		return nil, fmt.Errorf("observing security groups of %s: %w", stackID, err)
	}
	s.SecurityGroups = sgs
	tgs, err := c.observeTargetGroups(ctx, stackID, t, full)
	if err != nil {
		return nil, fmt.Errorf("observing target groups of %s: %w", stackID, err)
	}
	s.TargetGroups = tgs
	certsRead := false
	readCerts := func() error {
		certs, err := c.observeCertificates(ctx, stackID, t)
		if err != nil {
			return fmt.Errorf("observing imported certificates of %s: %w", stackID, err)
		}
		s.Certificates, certsRead = certs, true
		return nil
	}
	if desired == nil || len(desired.Certificates) > 0 || c.acm.isImporter(stackKey{t, stackID}) {
		if err := readCerts(); err != nil {
			return nil, err
		}
	}
	refs := newRefIndex(s)
	var lbs []elbtypes.LoadBalancer
	var lbTags []model.Tags
	if !full {
		lbs, lbTags, err = c.listedOwnedLoadBalancer(ctx, stackID, t)
	}
	if len(lbs) == 0 && err == nil {
		lbs, lbTags, err = c.ownedLoadBalancers(ctx, stackID, t)
	}
	if err != nil {
		return nil, fmt.Errorf("observing load balancer of %s: %w", stackID, err)
	}
	if len(lbs) == 0 {
		return s, nil
	}
	c.applied.mark(stackKey{t, stackID})
	lb, err := c.observeLoadBalancer(ctx, lbs[0], withoutOwnTags(lbTags[0]), refs)
	if err != nil {
		return nil, fmt.Errorf("observing load balancer %s of %s: %w", aws.ToString(lbs[0].LoadBalancerName), stackID, err)
	}
	var want model.Addons
	if desired != nil && desired.LoadBalancer != nil {
		want = desired.LoadBalancer.Addons
	}
	if err := c.observeAddons(ctx, lb, addonsTagged(lbTags[0]), want); err != nil {
		return nil, fmt.Errorf("observing load balancer %s of %s: %w", aws.ToString(lbs[0].LoadBalancerName), stackID, err)
	}
	s.LoadBalancer = lb
	if !full {
		return s, nil
	}
	listeners, err := c.observeListeners(ctx, lb.ARN, t, refs)
	if err != nil {
		return nil, fmt.Errorf("observing listeners of %s: %w", stackID, err)
	}
	s.Listeners = listeners
	if !certsRead && slices.ContainsFunc(listeners, func(l model.Listener) bool { return l.Protocol == "HTTPS" || l.Protocol == "TLS" }) {
		if err := readCerts(); err != nil {
			return nil, err
		}
		refs := newRefIndex(s)
		for i := range s.Listeners {
			for j, r := range s.Listeners[i].Certificates {
				if r.ID == "" {
					s.Listeners[i].Certificates[j] = refs.ref(r.External)
				}
			}
		}
	}
	return s, nil
}

// refIndex turns AWS identifiers of the stack's own resources back into logical IDs.
type refIndex map[string]string

func newRefIndex(s *model.Stack) refIndex {
	r := refIndex{}
	for _, sg := range s.SecurityGroups {
		r[sg.GroupID] = sg.ID
	}
	for _, tg := range s.TargetGroups {
		r[tg.ARN] = tg.ID
	}
	for _, c := range s.Certificates {
		r[c.ARN] = c.ID
	}
	return r
}

func (r refIndex) ref(id string) model.Ref {
	if logical, ok := r[id]; ok {
		return model.Ref{ID: logical}
	}
	return model.Ref{External: id}
}

func (c *Cloud) observeSecurityGroups(ctx context.Context, stackID string, t model.LoadBalancerType) ([]model.SecurityGroup, error) {
	filters := []ec2types.Filter{
		{Name: aws.String("tag:" + clusterTagKey), Values: []string{c.opts.ClusterName}},
		{Name: aws.String("tag:" + stackTagKey(t)), Values: []string{stackID}},
	}
	if c.opts.VPCID != "" {
		filters = append(filters, ec2types.Filter{Name: aws.String("vpc-id"), Values: []string{c.opts.VPCID}})
	}
	var out []model.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(c.ec2, &ec2.DescribeSecurityGroupsInput{Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.SecurityGroups {
			tags := fromEC2Tags(g.Tags)
			id, ok := c.owned(tags, stackID, t)
			if !ok {
				continue
			}
			out = append(out, model.SecurityGroup{
				ID:          id,
				Name:        aws.ToString(g.GroupName),
				Description: aws.ToString(g.Description),
				Ingress:     fromIPPermissions(g.IpPermissions),
				Tags:        tags,
				GroupID:     aws.ToString(g.GroupId),
			})
		}
	}
	slices.SortFunc(out, func(a, b model.SecurityGroup) int { return strings.Compare(a.ID+a.GroupID, b.ID+b.GroupID) })
	return out, nil
}

func (c *Cloud) observeTargetGroups(ctx context.Context, stackID string, t model.LoadBalancerType, attributes bool) ([]model.TargetGroup, error) {
	tgs, tags, err := c.ownedTargetGroups(ctx, stackID, t)
	if err != nil {
		return nil, err
	}
	out := make([]model.TargetGroup, 0, len(tgs))
	for i, tg := range tgs {
		id, _ := c.owned(tags[i], stackID, t)
		m := fromTargetGroup(tg)
		m.ID, m.Tags = id, tags[i]
		c.noteQUIC(m.ARN, m.Protocol)
		if !attributes {
			out = append(out, m)
			continue
		}
		if m.TargetType == "alb" {
			// Its attributes are AWS's, never changed; its one target is the group's own.
			if m.Targets, err = c.albGroupTargets(ctx, m.ARN); err != nil {
				return nil, fmt.Errorf("target group %s: %w", m.Name, err)
			}
			out = append(out, m)
			continue
		}
		attrs, err := c.targetGroupAttributes(ctx, m.ARN)
		if err != nil {
			return nil, fmt.Errorf("target group %s: %w", m.Name, err)
		}
		m.Attributes = attrs
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b model.TargetGroup) int { return strings.Compare(a.ID+a.ARN, b.ID+b.ARN) })
	return out, nil
}

// noteQUIC remembers whether a target group is QUIC or TCP_QUIC.
func (c *Cloud) noteQUIC(arn, protocol string) {
	if model.IsQUIC(protocol) {
		c.quicGroups.Store(arn, true)
	}
}

func (c *Cloud) isQUIC(arn string) bool {
	_, ok := c.quicGroups.Load(arn)
	return ok
}

func fromTargetGroup(tg elbtypes.TargetGroup) model.TargetGroup {
	m := model.TargetGroup{
		Name:            aws.ToString(tg.TargetGroupName),
		TargetType:      string(tg.TargetType),
		Protocol:        string(tg.Protocol),
		ProtocolVersion: aws.ToString(tg.ProtocolVersion),
		Port:            aws.ToInt32(tg.Port),
		IPAddressType:   string(tg.IpAddressType),
		VPCID:           aws.ToString(tg.VpcId),
		ARN:             aws.ToString(tg.TargetGroupArn),
		HealthCheck: model.HealthCheck{
			Enabled:            aws.ToBool(tg.HealthCheckEnabled),
			Protocol:           string(tg.HealthCheckProtocol),
			Port:               aws.ToString(tg.HealthCheckPort),
			Path:               aws.ToString(tg.HealthCheckPath),
			IntervalSeconds:    aws.ToInt32(tg.HealthCheckIntervalSeconds),
			TimeoutSeconds:     aws.ToInt32(tg.HealthCheckTimeoutSeconds),
			HealthyThreshold:   aws.ToInt32(tg.HealthyThresholdCount),
			UnhealthyThreshold: aws.ToInt32(tg.UnhealthyThresholdCount),
		},
	}
	if tg.Matcher != nil {
		m.HealthCheck.HTTPCode = aws.ToString(tg.Matcher.HttpCode)
		m.HealthCheck.GRPCCode = aws.ToString(tg.Matcher.GrpcCode)
	}
	return m
}

func (c *Cloud) observeLoadBalancer(ctx context.Context, lb elbtypes.LoadBalancer, tags model.Tags, refs refIndex) (*model.LoadBalancer, error) {
	m := &model.LoadBalancer{
		Name:          aws.ToString(lb.LoadBalancerName),
		Scheme:        string(lb.Scheme),
		IPAddressType: string(lb.IpAddressType),
		Tags:          tags,
		ARN:           aws.ToString(lb.LoadBalancerArn),
		DNSName:       aws.ToString(lb.DNSName),
	}
	if lb.State != nil {
		m.State = string(lb.State.Code)
	}
	m.Subnets = subnetsOf(lb.AvailabilityZones)
	for _, g := range lb.SecurityGroups {
		m.SecurityGroups = append(m.SecurityGroups, refs.ref(g))
	}
	slices.SortFunc(m.SecurityGroups, compareRefs)
	attrs, err := c.elb.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn})
	if err != nil {
		return nil, err
	}
	m.Attributes = fromLBAttributes(attrs.Attributes)
	return m, nil
}

func compareRefs(a, b model.Ref) int {
	return strings.Compare(a.ID+"\x00"+a.External, b.ID+"\x00"+b.External)
}

func (c *Cloud) observeListeners(ctx context.Context, lbARN string, t model.LoadBalancerType, refs refIndex) ([]model.Listener, error) {
	var raw []elbtypes.Listener
	p := elbv2.NewDescribeListenersPaginator(c.elb, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		raw = append(raw, page.Listeners...)
	}
	arns := make([]string, 0, len(raw))
	for _, l := range raw {
		arns = append(arns, aws.ToString(l.ListenerArn))
	}
	tags, err := c.elbTags(ctx, arns)
	if err != nil {
		return nil, err
	}
	out := make([]model.Listener, 0, len(raw))
	for _, l := range raw {
		actions := fromActions(l.DefaultActions, refs)
		m := model.Listener{
			Port:           aws.ToInt32(l.Port),
			Protocol:       string(l.Protocol),
			DefaultActions: actions,
			SSLPolicy:      aws.ToString(l.SslPolicy),
			Tags:           takeSecretTag(tags[aws.ToString(l.ListenerArn)], actions),
			ARN:            aws.ToString(l.ListenerArn),
		}
		if len(l.AlpnPolicy) > 0 {
			m.ALPNPolicy = l.AlpnPolicy[0]
		}
		if m.Protocol == "HTTPS" {
			m.MutualAuthentication = fromMutualAuthentication(l.MutualAuthentication)
		}
		if err := c.observeListenerDetails(ctx, &m, l, t, refs); err != nil {
			return nil, fmt.Errorf("listener %d: %w", m.Port, err)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b model.Listener) int { return int(a.Port) - int(b.Port) })
	return out, nil
}

// observeListenerDetails reads what DescribeListeners leaves out: extra certificates,
// attributes and (ALB) rules.
func (c *Cloud) observeListenerDetails(ctx context.Context, m *model.Listener, l elbtypes.Listener, t model.LoadBalancerType, refs refIndex) error {
	if m.Protocol == "HTTPS" || m.Protocol == "TLS" {
		certs, err := c.listenerCertificates(ctx, m.ARN, l.Certificates)
		if err != nil {
			return err
		}
		for _, arn := range certs {
			m.Certificates = append(m.Certificates, refs.ref(arn))
		}
	}
	if m.Protocol != "TLS" {
		attrs, err := c.elb.DescribeListenerAttributes(ctx, &elbv2.DescribeListenerAttributesInput{ListenerArn: l.ListenerArn})
		if err != nil {
			return err
		}
		m.Attributes = fromListenerAttributes(attrs.Attributes)
	}
	if t == model.Application {
		rules, err := c.observeRules(ctx, m.ARN, refs)
		if err != nil {
			return err
		}
		m.Rules = rules
	}
	return nil
}

// listenerCertificates returns the default certificate first, then the others sorted.
func (c *Cloud) listenerCertificates(ctx context.Context, listenerARN string, defaults []elbtypes.Certificate) ([]string, error) {
	var def string
	if len(defaults) > 0 {
		def = aws.ToString(defaults[0].CertificateArn)
	}
	var extra []string
	p := elbv2.NewDescribeListenerCertificatesPaginator(c.elb, &elbv2.DescribeListenerCertificatesInput{ListenerArn: aws.String(listenerARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, cert := range page.Certificates {
			arn := aws.ToString(cert.CertificateArn)
			if aws.ToBool(cert.IsDefault) {
				def = arn
				continue
			}
			if arn != def {
				extra = append(extra, arn)
			}
		}
	}
	slices.Sort(extra)
	extra = slices.Compact(extra)
	if def == "" {
		return extra, nil
	}
	return append([]string{def}, slices.DeleteFunc(extra, func(s string) bool { return s == def })...), nil
}

func (c *Cloud) observeRules(ctx context.Context, listenerARN string, refs refIndex) ([]model.Rule, error) {
	var raw []elbtypes.Rule
	in := &elbv2.DescribeRulesInput{ListenerArn: aws.String(listenerARN), PageSize: aws.Int32(400)}
	for {
		page, err := c.elb.DescribeRules(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Rules {
			if !aws.ToBool(r.IsDefault) {
				raw = append(raw, r)
			}
		}
		if aws.ToString(page.NextMarker) == "" {
			break
		}
		in.Marker = page.NextMarker
	}
	arns := make([]string, 0, len(raw))
	for _, r := range raw {
		arns = append(arns, aws.ToString(r.RuleArn))
	}
	tags, err := c.elbTags(ctx, arns)
	if err != nil {
		return nil, err
	}
	out := make([]model.Rule, 0, len(raw))
	for _, r := range raw {
		prio, err := strconv.Atoi(aws.ToString(r.Priority))
		if err != nil {
			return nil, fmt.Errorf("rule %s has priority %q: %w", aws.ToString(r.RuleArn), aws.ToString(r.Priority), err)
		}
		actions := fromActions(r.Actions, refs)
		out = append(out, model.Rule{
			Priority:   int32(prio),
			Conditions: fromConditions(r.Conditions),
			Actions:    actions,
			Transforms: fromTransforms(r.Transforms),
			Tags:       takeSecretTag(tags[aws.ToString(r.RuleArn)], actions),
			ARN:        aws.ToString(r.RuleArn),
		})
	}
	slices.SortFunc(out, func(a, b model.Rule) int { return int(a.Priority) - int(b.Priority) })
	return out, nil
}

// subnetsOf reads a load balancer's subnets and their static addresses.
func subnetsOf(zones []elbtypes.AvailabilityZone) []model.SubnetMapping {
	var out []model.SubnetMapping
	for _, az := range zones {
		sm := model.SubnetMapping{SubnetID: aws.ToString(az.SubnetId)}
		for _, a := range az.LoadBalancerAddresses {
			sm.AllocationID = aws.ToString(a.AllocationId)
			sm.PrivateIPv4Address = aws.ToString(a.PrivateIPv4Address)
			sm.IPv6Address = aws.ToString(a.IPv6Address)
			sm.PublicIPv4Address = aws.ToString(a.IpAddress)
		}
		out = append(out, sm)
	}
	slices.SortFunc(out, func(a, b model.SubnetMapping) int { return strings.Compare(a.SubnetID, b.SubnetID) })
	return out
}

// albGroupTargets reads the targets of a target group of type alb, leaving out a draining one:
// it is being deregistered, so a Gateway that still wants it registers it again.
func (c *Cloud) albGroupTargets(ctx context.Context, arn string) ([]model.Target, error) {
	resp, err := c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	return registeredOf(resp.TargetHealthDescriptions, string(elbtypes.TargetTypeEnumAlb)), nil
}
