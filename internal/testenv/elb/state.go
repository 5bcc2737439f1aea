package elb

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// Snapshot is what the data plane read of AWS at one time.
type Snapshot struct {
	LoadBalancers []LoadBalancer
	TargetGroups  map[string]*TargetGroup
	// Certificates are what ACM holds for the certificate ARNs of TLS and HTTPS listeners.
	Certificates map[string]CertificateBody
	// certErrs are the certificates ACM could not answer.
	certErrs []error
}

// LoadBalancer is one load balancer and its listeners.
type LoadBalancer struct {
	ARN, Name, DNSName, Type string
	// Addr is the loopback address its DNS name resolves to first: that of its first zone.
	Addr netip.Addr
	// Zones are its Availability Zones, by name, each with the address of its node there.
	Zones      []Zone
	Attributes map[string]string
	Listeners  []Listener
}

// Zone is a load balancer's node in one Availability Zone.
type Zone struct {
	Name string
	Addr netip.Addr
}

// zoneAddrs are the load balancer's addresses, one per zone (at least Addr).
func (lb LoadBalancer) zoneAddrs() []Zone {
	if len(lb.Zones) == 0 {
		return []Zone{{Addr: lb.Addr}}
	}
	return lb.Zones
}

// crossZone says whether a target group's targets in every zone receive traffic from each of
// the load balancer's nodes: the target group attribute load_balancing.cross_zone.enabled when it
// is true or false, else the load balancer's (use_load_balancer_configuration); off by default
// on Network Load Balancers, on for Application Load Balancers.
func crossZone(lb *LoadBalancer, tg *TargetGroup) bool {
	switch tg.Attributes["load_balancing.cross_zone.enabled"] {
	case "true":
		return true
	case "false":
		return false
	}
	if v, ok := lb.Attributes["load_balancing.cross_zone.enabled"]; ok {
		return v == "true"
	}
	return lb.Type != "network"
}

// Listener is one listener, with its rules on an ALB (the default rule included).
type Listener struct {
	ARN            string
	Port           int32
	Protocol       string
	SSLPolicy      string
	DefaultActions []elbtypes.Action
	Rules          []elbtypes.Rule
	// Certificates are the listener's certificate ARNs, the default one first.
	Certificates []string
}

// TargetGroup is one target group with its attributes, health check and registered targets.
type TargetGroup struct {
	ARN, Protocol, ProtocolVersion, TargetType, VPC string
	Port                                            int32
	Attributes                                      map[string]string
	HealthCheck                                     HealthCheck
	Targets                                         []Target
}

// HealthCheck is a target group's health check settings.
type HealthCheck struct {
	Enabled                     bool
	Protocol, Port, Path        string
	Matcher                     string // HTTP codes: "200", "200-299", "200,202"
	Interval, Timeout           time.Duration
	HealthyThreshold, Unhealthy int
}

// Target is a registered target and the loopback address it is dialled at ("" when it has none).
type Target struct {
	ID   string
	Port int32
	// IP is the address AWS would send to: the ID of an ip target, an instance's private address.
	IP   string
	Addr string
	// Zone is the Availability Zone it is in; "" when it takes traffic from every zone (an ip
	// target outside the VPC, registered with zone "all", or one whose zone is unknown).
	Zone string
}

// key identifies a target within its group.
func (t Target) key() string { return t.ID + ":" + itoa(t.Port) }

// reader reads a Snapshot through the ELBv2 and EC2 APIs.
type reader struct {
	elb        *elbv2.Client
	ec2        *ec2.Client
	acm        *acm.Client
	targetAddr func(ip string, port int32) (string, bool)
}

func (r *reader) read(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{TargetGroups: map[string]*TargetGroup{}}
	var certARNs []string
	lbs := elbv2.NewDescribeLoadBalancersPaginator(r.elb, &elbv2.DescribeLoadBalancersInput{})
	for lbs.HasMorePages() {
		page, err := lbs.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeLoadBalancers: %w", err)
		}
		for _, lb := range page.LoadBalancers {
			m := LoadBalancer{ARN: aws.ToString(lb.LoadBalancerArn), Name: aws.ToString(lb.LoadBalancerName),
				DNSName: aws.ToString(lb.DNSName), Type: string(lb.Type)}
			m.Addr = lbAddr(m.ARN, m.DNSName)
			if lb.State != nil && lb.State.Code != elbtypes.LoadBalancerStateEnumActive {
				continue // "provisioning": not routing traffic yet
			}
			m.Zones = zonesOf(m, lb.AvailabilityZones)
			attrs, err := r.elb.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn})
			if gone(err) {
				continue // deleted since DescribeLoadBalancers
			}
			if err != nil {
				return nil, fmt.Errorf("DescribeLoadBalancerAttributes of %s: %w", m.Name, err)
			}
			m.Attributes = map[string]string{}
			for _, a := range attrs.Attributes {
				m.Attributes[aws.ToString(a.Key)] = aws.ToString(a.Value)
			}
			ls, err := r.listeners(ctx, m)
			if gone(err) {
				continue // it or one of its listeners deleted while read
			}
			if err != nil {
				return nil, err
			}
			m.Listeners = ls
			for _, l := range ls {
				certARNs = append(certARNs, l.Certificates...)
			}
			s.LoadBalancers = append(s.LoadBalancers, m)
		}
	}
	forwarded := map[string]bool{}
	for _, lb := range s.LoadBalancers {
		for _, l := range lb.Listeners {
			actions := slices.Clone(l.DefaultActions)
			for _, rule := range l.Rules {
				actions = append(actions, rule.Actions...)
			}
			for _, a := range actions {
				forwarded[aws.ToString(a.TargetGroupArn)] = true
				if a.ForwardConfig != nil {
					for _, t := range a.ForwardConfig.TargetGroups {
						forwarded[aws.ToString(t.TargetGroupArn)] = true
					}
				}
			}
		}
	}
	tgs := elbv2.NewDescribeTargetGroupsPaginator(r.elb, &elbv2.DescribeTargetGroupsInput{})
	instances := map[string]instance{}
	subnets := map[string][]subnet{}
	for tgs.HasMorePages() {
		page, err := tgs.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeTargetGroups: %w", err)
		}
		for _, tg := range page.TargetGroups {
			// A group serves traffic when an action forwards to it; moto lists a load balancer
			// on the group only for some of the calls that make such an action.
			if len(tg.LoadBalancerArns) == 0 && !forwarded[aws.ToString(tg.TargetGroupArn)] {
				continue // serves no traffic
			}
			m, err := r.targetGroup(ctx, tg, instances, subnets)
			if gone(err) {
				continue // deleted since DescribeTargetGroups
			}
			if err != nil {
				return nil, err
			}
			s.TargetGroups[m.ARN] = m
		}
	}
	s.Certificates, s.certErrs = acmBodies(ctx, r.acm, certARNs)
	return s, nil
}

func (r *reader) listeners(ctx context.Context, lb LoadBalancer) ([]Listener, error) {
	var out []Listener
	p := elbv2.NewDescribeListenersPaginator(r.elb, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb.ARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeListeners of %s: %w", lb.Name, err)
		}
		for _, l := range page.Listeners {
			m := Listener{ARN: aws.ToString(l.ListenerArn), Port: aws.ToInt32(l.Port), Protocol: string(l.Protocol),
				SSLPolicy: aws.ToString(l.SslPolicy), DefaultActions: l.DefaultActions}
			for _, c := range l.Certificates {
				m.Certificates = append(m.Certificates, aws.ToString(c.CertificateArn))
			}
			if m.Protocol == "HTTP" || m.Protocol == "HTTPS" {
				rules, err := r.rules(ctx, m.ARN)
				if err != nil {
					return nil, err
				}
				m.Rules = rules
			}
			if m.Protocol == "HTTPS" || m.Protocol == "TLS" {
				certs, err := r.listenerCertificates(ctx, m.ARN)
				if err != nil {
					return nil, err
				}
				for _, c := range certs {
					if !slices.Contains(m.Certificates, c) {
						m.Certificates = append(m.Certificates, c)
					}
				}
			}
			out = append(out, m)
		}
	}
	return out, nil
}

func (r *reader) rules(ctx context.Context, listenerARN string) ([]elbtypes.Rule, error) {
	var out []elbtypes.Rule
	p := elbv2.NewDescribeRulesPaginator(r.elb, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listenerARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeRules of %s: %w", listenerARN, err)
		}
		out = append(out, page.Rules...)
	}
	return out, nil
}

func (r *reader) listenerCertificates(ctx context.Context, listenerARN string) ([]string, error) {
	var out []string
	p := elbv2.NewDescribeListenerCertificatesPaginator(r.elb, &elbv2.DescribeListenerCertificatesInput{ListenerArn: aws.String(listenerARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeListenerCertificates of %s: %w", listenerARN, err)
		}
		for _, c := range page.Certificates {
			if aws.ToBool(c.IsDefault) {
				continue
			}
			out = append(out, aws.ToString(c.CertificateArn))
		}
	}
	return out, nil
}

func (r *reader) targetGroup(ctx context.Context, tg elbtypes.TargetGroup, instances map[string]instance, subnets map[string][]subnet) (*TargetGroup, error) {
	m := &TargetGroup{ARN: aws.ToString(tg.TargetGroupArn), Protocol: string(tg.Protocol), ProtocolVersion: aws.ToString(tg.ProtocolVersion),
		TargetType: string(tg.TargetType), VPC: aws.ToString(tg.VpcId), Port: aws.ToInt32(tg.Port), Attributes: map[string]string{}}
	m.HealthCheck = HealthCheck{
		Enabled: aws.ToBool(tg.HealthCheckEnabled), Protocol: string(tg.HealthCheckProtocol), Port: aws.ToString(tg.HealthCheckPort),
		Path: aws.ToString(tg.HealthCheckPath), Interval: seconds(tg.HealthCheckIntervalSeconds, 30), Timeout: seconds(tg.HealthCheckTimeoutSeconds, 5),
		HealthyThreshold: int(aws.ToInt32(tg.HealthyThresholdCount)), Unhealthy: int(aws.ToInt32(tg.UnhealthyThresholdCount)),
	}
	if tg.Matcher != nil {
		m.HealthCheck.Matcher = aws.ToString(tg.Matcher.HttpCode)
	}
	attrs, err := r.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		return nil, fmt.Errorf("DescribeTargetGroupAttributes of %s: %w", m.ARN, err)
	}
	for _, a := range attrs.Attributes {
		m.Attributes[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	health, err := r.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		return nil, fmt.Errorf("DescribeTargetHealth of %s: %w", m.ARN, err)
	}
	for _, d := range health.TargetHealthDescriptions {
		if d.Target == nil || (d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining) {
			continue // draining targets get no new connections
		}
		t := Target{ID: aws.ToString(d.Target.Id), Port: aws.ToInt32(d.Target.Port)}
		if t.Port == 0 {
			t.Port = m.Port
		}
		ip, zone := t.ID, aws.ToString(d.Target.AvailabilityZone)
		if m.TargetType == string(elbtypes.TargetTypeEnumInstance) {
			in := r.instance(ctx, t.ID, instances)
			ip, zone = in.ip, in.zone
		} else if zone == "" {
			if zone, err = r.subnetZone(ctx, m.VPC, ip, subnets); err != nil {
				return nil, err
			}
		}
		if zone != "all" {
			t.Zone = zone
		}
		if ip != "" {
			t.IP = ip
			t.Addr, _ = r.targetAddr(ip, t.Port)
		}
		m.Targets = append(m.Targets, t)
	}
	slices.SortFunc(m.Targets, func(a, b Target) int {
		if a.ID != b.ID {
			if a.ID < b.ID {
				return -1
			}
			return 1
		}
		return int(a.Port - b.Port)
	})
	return m, nil
}

// instance is what the data plane needs of an EC2 instance.
type instance struct{ ip, zone string }

// instance is an instance's private IPv4 address and zone; empty when EC2 does not know it
// (terminated or unknown: AWS would not route to it either).
func (r *reader) instance(ctx context.Context, id string, cache map[string]instance) instance {
	if in, ok := cache[id]; ok {
		return in
	}
	var in instance
	out, err := r.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err == nil {
		for _, res := range out.Reservations {
			for _, i := range res.Instances {
				in.ip = aws.ToString(i.PrivateIpAddress)
				if i.Placement != nil {
					in.zone = aws.ToString(i.Placement.AvailabilityZone)
				}
			}
		}
	}
	cache[id] = in
	return in
}

// subnet is a subnet's block and zone.
type subnet struct {
	cidr netip.Prefix
	zone string
}

// subnetZone is the zone of the subnet of a VPC whose block holds ip: where an ip target
// registered without a zone is ("" when no subnet holds it).
func (r *reader) subnetZone(ctx context.Context, vpc, ip string, cache map[string][]subnet) (string, error) {
	addr, err := netip.ParseAddr(ip)
	if err != nil || vpc == "" {
		return "", nil
	}
	list, ok := cache[vpc]
	if !ok {
		p := ec2.NewDescribeSubnetsPaginator(r.ec2, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return "", fmt.Errorf("DescribeSubnets of %s: %w", vpc, err)
			}
			for _, s := range page.Subnets {
				if c, err := netip.ParsePrefix(aws.ToString(s.CidrBlock)); err == nil {
					list = append(list, subnet{cidr: c, zone: aws.ToString(s.AvailabilityZone)})
				}
			}
		}
		cache[vpc] = list
	}
	for _, s := range list {
		if s.cidr.Contains(addr) {
			return s.zone, nil
		}
	}
	return "", nil
}

// zonesOf are a load balancer's zones by name, the first at its main address, each other at an
// address of its own.
func zonesOf(lb LoadBalancer, azs []elbtypes.AvailabilityZone) []Zone {
	var names []string
	for _, az := range azs {
		if n := aws.ToString(az.ZoneName); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []Zone
	for i, n := range names {
		a := lb.Addr
		if i > 0 {
			a = LoadBalancerAddr(lb.ARN + "/" + n)
		}
		out = append(out, Zone{Name: n, Addr: a})
	}
	return out
}

func seconds(v *int32, def int) time.Duration {
	if v == nil || *v == 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(*v) * time.Second
}

// healthCheckPort is the port health checks go to for a target.
func (h HealthCheck) port(t Target) int32 {
	if h.Port == "" || h.Port == "traffic-port" {
		return t.Port
	}
	n, err := strconv.Atoi(h.Port)
	if err != nil {
		return t.Port
	}
	return int32(n)
}

// gone says whether err is AWS's answer for a resource that no longer exists
// (LoadBalancerNotFound, ListenerNotFound, RuleNotFound, TargetGroupNotFound): one deleted between
// two calls of a read, which the next read no longer lists.
func gone(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && strings.HasSuffix(api.ErrorCode(), "NotFound")
}
