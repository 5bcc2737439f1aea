package aws

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// targetsPerCall bounds the targets of one RegisterTargets or DeregisterTargets call.
const targetsPerCall = 500

// Targets lists the registered targets of a target group of the given target type (ip or
// instance), sorted, leaving out the ones that are draining (already on their way out).
//
// What it read, and what RegisterTargets and DeregisterTargets changed since, is remembered
// until the group's next resync pass, whose ctx asks for a fresh read (see changeRegistered).
func (c *Cloud) Targets(ctx context.Context, tgARN, targetType string) ([]model.Target, error) {
	if known, ok := c.registered.get(tgARN, c.now()); ok && !freshRead(ctx) {
		return slices.Clone(known), nil
	}
	resp, err := c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		c.registered.forget(tgARN) // gone, or unknown until read
		return nil, fmt.Errorf("reading targets of %s: %w", tgARN, err)
	}
	out := registeredOf(resp.TargetHealthDescriptions, targetType)
	c.registered.put(tgARN, slices.Clone(out), c.now())
	return out, nil
}

// registeredOf are the targets of a DescribeTargetHealth answer that stay registered, sorted:
// a draining one is on its way out, and registering it again is what brings it back.
//
// The targets keep the AvailabilityZone AWS reports only where a request may name one: for
// target types instance and alb, TargetDescription's AvailabilityZone "is not supported", and a
// RegisterTargets or DeregisterTargets built from what was read would be refused with it.
func registeredOf(descriptions []elbtypes.TargetHealthDescription, targetType string) []model.Target {
	keepZone := targetType != string(elbtypes.TargetTypeEnumInstance) && targetType != string(elbtypes.TargetTypeEnumAlb)
	out := make([]model.Target, 0, len(descriptions))
	for _, d := range descriptions {
		if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining {
			continue
		}
		if d.Target == nil {
			continue
		}
		t := model.Target{ID: aws.ToString(d.Target.Id), Port: aws.ToInt32(d.Target.Port)}
		if keepZone {
			t.AvailabilityZone = aws.ToString(d.Target.AvailabilityZone)
		}
		out = append(out, t)
	}
	slices.SortFunc(out, compareTargets)
	return out
}

// The targets loop reconciles a target group on every change of its endpoints and after every
// apply that touches its binding; reading the registered targets each time cost one
// DescribeTargetHealth per target group per event. The registered targets are remembered from
// the last read and from our own registrations: a group we just created has none, a
// registration adds what AWS accepted, a deregistration removes what it named. The group's
// resync pass reads them again and finds what changed behind our back (fresh.go). A call that
// fails in a way that leaves the group's targets unknown forgets them.

// changeRegistered applies a registration (add) or deregistration to the remembered targets of a
// group; nothing when they are not known.
func (c *Cloud) changeRegistered(tgARN string, targets []model.Target, add bool) {
	known, ok := c.registered.get(tgARN, c.now())
	if !ok {
		return
	}
	type key struct {
		id   string
		port int32
	}
	byKey := map[key]model.Target{}
	for _, t := range known {
		byKey[key{t.ID, t.Port}] = t
	}
	for _, t := range targets {
		if add {
			byKey[key{t.ID, t.Port}] = t
		} else {
			delete(byKey, key{t.ID, t.Port})
		}
	}
	out := make([]model.Target, 0, len(byKey))
	for _, t := range byKey {
		out = append(out, t)
	}
	slices.SortFunc(out, compareTargets)
	c.registered.put(tgARN, out, c.now())
}

func compareTargets(a, b model.Target) int {
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return int(a.Port) - int(b.Port)
}

// RegisterTargets registers targets with a target group, at most 500 per call. The zone of
// each target is AWS's to decide (see targetZones); a zone the caller set is ignored.
//
// AWS refuses a whole call with InvalidTarget when one target cannot be registered (an
// instance that is not running, or does not exist). The others are then registered without
// it, and the refused ones come back in an *InvalidTargetsError.
func (c *Cloud) RegisterTargets(ctx context.Context, tgARN string, targets []model.Target) error {
	targets, err := c.targetZones(ctx, targets)
	if err != nil {
		return err
	}
	var refused []model.Target
	var messages []string
	for chunk := range slices.Chunk(targets, targetsPerCall) {
		bad, msgs, err := c.registerChunk(ctx, tgARN, chunk)
		if err != nil {
			c.registered.forget(tgARN)
			return fmt.Errorf("registering %d targets with %s: %w", len(chunk), tgARN, err)
		}
		refused, messages = append(refused, bad...), append(messages, msgs...)
	}
	c.changeRegistered(tgARN, slices.DeleteFunc(slices.Clone(targets), func(t model.Target) bool {
		return slices.ContainsFunc(refused, func(r model.Target) bool { return r.ID == t.ID && r.Port == t.Port })
	}), true)
	if len(refused) > 0 {
		slices.SortFunc(refused, compareTargets)
		slices.Sort(messages)
		return &InvalidTargetsError{TargetGroupARN: tgARN, Targets: refused, Message: strings.Join(slices.Compact(messages), "; ")}
	}
	return nil
}

// InvalidTargetsError says which targets AWS refused (InvalidTarget) while the others of the
// same request were registered.
type InvalidTargetsError struct {
	TargetGroupARN string
	Targets        []model.Target
	// Message is AWS's explanation.
	Message string
}

func (e *InvalidTargetsError) Error() string {
	ids := make([]string, 0, len(e.Targets))
	for _, t := range e.Targets {
		ids = append(ids, fmt.Sprintf("%s:%d", t.ID, t.Port))
	}
	return fmt.Sprintf("target group %s refused targets %s: %s", e.TargetGroupARN, strings.Join(ids, ", "), e.Message)
}

// quoted finds the 'quoted' target IDs of an InvalidTarget message ("The following targets are
// not in a running state and cannot be registered: 'i-0123'").
var quoted = regexp.MustCompile(`'([^']+)'`)

// registerChunk registers up to 500 targets, leaving out the ones AWS refuses: first the ones
// its InvalidTarget message names, else (a message that names none) one target per call.
func (c *Cloud) registerChunk(ctx context.Context, tgARN string, chunk []model.Target) (refused []model.Target, messages []string, err error) {
	register := func(ts []model.Target) error {
		in := &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: toTargets(ts)}
		if c.isQUIC(tgARN) {
			// TargetDescription QuicServerId: "This value is required if the protocol is QUIC or
			// TCP_QUIC and can't be used with other protocols."
			for i := range in.Targets {
				in.Targets[i].QuicServerId = optional(model.QUICServerID(ts[i].ID))
			}
		}
		_, err := c.elb.RegisterTargets(ctx, in)
		return err
	}
	pending := chunk
	for len(pending) > 0 {
		err := register(pending)
		if err == nil {
			return refused, messages, nil
		}
		if errorCode(err) != "InvalidTarget" {
			return nil, nil, err
		}
		msg := errorMessage(err)
		named := map[string]bool{}
		for _, m := range quoted.FindAllStringSubmatch(msg, -1) {
			named[m[1]] = true
		}
		rest := slices.DeleteFunc(slices.Clone(pending), func(t model.Target) bool { return named[t.ID] })
		if len(rest) == len(pending) {
			break // the message names none of them: find them one by one
		}
		for _, t := range pending {
			if named[t.ID] {
				refused = append(refused, t)
			}
		}
		messages = append(messages, msg)
		pending = rest
	}
	for _, t := range pending {
		err := register([]model.Target{t})
		switch {
		case err == nil:
		case errorCode(err) == "InvalidTarget":
			refused = append(refused, t)
			messages = append(messages, errorMessage(err))
		default:
			return nil, nil, err
		}
	}
	return refused, messages, nil
}

// DeregisterTargets deregisters targets from a target group, at most 500 per call, with the
// zones RegisterTargets gave them.
func (c *Cloud) DeregisterTargets(ctx context.Context, tgARN string, targets []model.Target) error {
	targets, err := c.targetZones(ctx, targets)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(targets, targetsPerCall) {
		if _, err := c.elb.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: toTargets(chunk)}); err != nil {
			c.registered.forget(tgARN)
			return fmt.Errorf("deregistering %d targets from %s: %w", len(chunk), tgARN, err)
		}
	}
	c.changeRegistered(tgARN, targets, false)
	return nil
}

func toTargets(targets []model.Target) []elbtypes.TargetDescription {
	out := make([]elbtypes.TargetDescription, 0, len(targets))
	for _, t := range targets {
		d := elbtypes.TargetDescription{Id: aws.String(t.ID), AvailabilityZone: optional(t.AvailabilityZone)}
		if t.Port != 0 {
			d.Port = aws.Int32(t.Port)
		}
		out = append(out, d)
	}
	return out
}

// ZoneAll is the AvailabilityZone of an ip target outside the VPC.
const ZoneAll = "all"

// targetZones returns the targets with the AvailabilityZone AWS accepts for them, from the
// TargetDescription reference:
//   - instance (and alb) targets: none — "This parameter is not supported if the target type
//     of the target group is instance or alb";
//   - ip targets inside the VPC: none — "the Availability Zone is automatically detected";
//   - ip targets outside the VPC (peered VPC, on premises): "all" — "If the IP address is
//     outside the VPC, this parameter is required ... specify all".
//
// An ip target is an ID that parses as an IP address; the VPC's CIDR blocks (IPv4 and IPv6)
// are read once per NetworkCacheTTL, and only when there is an ip target.
func (c *Cloud) targetZones(ctx context.Context, targets []model.Target) ([]model.Target, error) {
	out := make([]model.Target, len(targets))
	var cidrs []netip.Prefix
	read := false
	for i, t := range targets {
		t.AvailabilityZone = ""
		if addr, err := netip.ParseAddr(t.ID); err == nil && c.opts.VPCID != "" {
			if !read {
				var err error
				if cidrs, err = c.vpcCIDRs(ctx); err != nil {
					return nil, err
				}
				read = true
			}
			if !containsAddr(cidrs, addr) {
				t.AvailabilityZone = ZoneAll
			}
		}
		out[i] = t
	}
	return out, nil
}

func containsAddr(prefixes []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// vpcCIDRs returns the associated IPv4 and IPv6 CIDR blocks of the cluster's VPC
// (ec2:DescribeVpcs), cached for NetworkCacheTTL.
func (c *Cloud) vpcCIDRs(ctx context.Context) ([]netip.Prefix, error) {
	if cached, ok := c.vpcBlocks.get(c.opts.VPCID, c.now()); ok {
		return cached, nil
	}
	resp, err := c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{c.opts.VPCID}})
	if err != nil {
		return nil, fmt.Errorf("reading the CIDR blocks of VPC %s: %w", c.opts.VPCID, err)
	}
	var out []netip.Prefix
	add := func(cidr string) {
		if p, err := netip.ParsePrefix(cidr); err == nil {
			out = append(out, p.Masked())
		}
	}
	for _, v := range resp.Vpcs {
		add(aws.ToString(v.CidrBlock))
		for _, a := range v.CidrBlockAssociationSet {
			if a.CidrBlockState == nil || a.CidrBlockState.State == ec2types.VpcCidrBlockStateCodeAssociated {
				add(aws.ToString(a.CidrBlock))
			}
		}
		for _, a := range v.Ipv6CidrBlockAssociationSet {
			if a.Ipv6CidrBlockState == nil || a.Ipv6CidrBlockState.State == ec2types.VpcCidrBlockStateCodeAssociated {
				add(aws.ToString(a.Ipv6CidrBlock))
			}
		}
	}
	c.vpcBlocks.put(c.opts.VPCID, out, c.now())
	return out, nil
}
