package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Most reconciles find a stack exactly as the last apply left it. Reading it in full
// (attributes of every target group, listener and the load balancer, rules and their tags)
// costs about 15 calls a Gateway, and ELB allows an account 10 describe calls a second.
//
//   - After an apply succeeds in full, the process keeps its result (the desired stack with the
//     identifiers AWS assigned) until the stack's next resync pass (fresh.go) and plans the
//     next reconciles of the stack against it instead of reading AWS: a Gateway whose routes
//     arrive one by one costs one read, not one per route.
//   - The load balancer carries appliedTagKey: a hash of that desired stack (the caller's
//     fingerprint). The first reconcile of a stack in a new process whose desired stack hashes
//     the same takes the stack as applied: the load balancer, its tags and the target groups
//     come from the region-wide listing that finds every stack anyway, the security groups and
//     listeners from one call each.
//
// Any other reconcile (the resync pass, WithFreshRead, among them) observes in full, so drift
// is still found and repaired.

// appliedTagKey is the load balancer tag that holds the hash of the stack last applied in full.
const appliedTagKey = "elbgateway.k8s.aws/applied-stack"

// appliedEntry is what this process knows of a stack: applied or taken as applied (stack,
// the hash of the desired stack it holds, until when it is trusted: zero for until the next
// resync pass), or observed in full (stack nil).
type appliedEntry struct {
	hash  string
	stack *model.Stack
	until time.Time
}

// trusted reports whether the entry holds a stack to answer from at now.
func (e appliedEntry) trusted(now time.Time) bool {
	return e.stack != nil && (e.until.IsZero() || now.Before(e.until))
}

// appliedState remembers, per stack, whether this process took it as applied or observed it.
type appliedState struct {
	mu      sync.Mutex
	entries map[stackKey]appliedEntry
}

func (a *appliedState) get(k stackKey) (appliedEntry, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.entries[k]
	return e, ok
}

func (a *appliedState) put(k stackKey, e appliedEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.entries == nil {
		a.entries = map[stackKey]appliedEntry{}
	}
	a.entries[k] = e
}

// mark records that the stack was observed in full (or changed by us): it is never taken as
// applied again in this process.
func (a *appliedState) mark(k stackKey) { a.put(k, appliedEntry{}) }

// trustedUntil is the end of the trust in what is remembered now: zero (until the next resync
// pass) unless Options.AppliedTrust bounds it.
func (c *Cloud) trustedUntil() time.Time {
	if c.opts.AppliedTrust <= 0 {
		return time.Time{}
	}
	return c.now().Add(c.opts.AppliedTrust)
}

// ObserveApplied answers Observe from memory when it can. Until the resync pass after an apply that
// succeeded in full (RecordApplied) it returns that apply's result; same is true when desired
// hashes as the stack applied then, and the caller needs no plan. Otherwise, the first time in
// this process, when the stack's load balancer says desired (by hash) was applied in full, it
// returns desired with the ARNs, group IDs, DNS name and state AWS holds, and same is true. s is
// nil when it cannot answer (the stack was observed in full before, the hash on AWS differs, a
// resource is missing or extra, the stack imports certificates): the caller observes in full.
func (c *Cloud) ObserveApplied(ctx context.Context, desired *model.Stack, hash string) (s *model.Stack, same bool, err error) {
	if desired == nil || desired.LoadBalancer == nil || hash == "" || freshRead(ctx) {
		return nil, false, nil
	}
	key := stackKey{desired.Type, desired.ID}
	if e, seen := c.applied.get(key); seen {
		if !e.trusted(c.now()) {
			return nil, false, nil
		}
		s, err := copyStack(e.stack)
		if err != nil {
			return nil, false, err
		}
		return s, e.hash == hash, nil
	}
	if len(desired.Certificates) > 0 {
		return nil, false, nil
	}
	lbARNs, err := c.inventoryARNs(ctx, key, kindLoadBalancer)
	if err != nil || len(lbARNs) != 1 {
		return nil, false, err
	}
	tgARNs, err := c.inventoryARNs(ctx, key, kindTargetGroup)
	if err != nil {
		return nil, false, err
	}
	tags, err := c.elbTags(ctx, append(append([]string(nil), lbARNs...), tgARNs...))
	if err != nil {
		return nil, false, err
	}
	lbTags := tags[lbARNs[0]]
	lb, listed := c.inv.listedLoadBalancer(lbARNs[0])
	if !listed || lbTags[appliedTagKey] != hash {
		return nil, false, nil
	}
	if id, mine := c.owned(lbTags, desired.ID, desired.Type); !mine || id != model.LoadBalancerID {
		return nil, false, nil
	}
	tgByID := map[string]string{}
	for _, arn := range tgARNs {
		if id, mine := c.owned(tags[arn], desired.ID, desired.Type); mine {
			tgByID[id] = arn
		}
	}
	if s, err = copyStack(desired); err != nil {
		return nil, false, err
	}
	if len(tgByID) != len(s.TargetGroups) {
		return nil, false, nil
	}
	for i := range s.TargetGroups {
		if s.TargetGroups[i].ARN = tgByID[s.TargetGroups[i].ID]; s.TargetGroups[i].ARN == "" {
			return nil, false, nil
		}
	}
	sgs, err := c.observeSecurityGroups(ctx, desired.ID, desired.Type)
	if err != nil {
		return nil, false, err
	}
	groupIDs := map[string]string{}
	for _, g := range sgs {
		groupIDs[g.ID] = g.GroupID
	}
	if len(groupIDs) != len(s.SecurityGroups) {
		return nil, false, nil
	}
	for i := range s.SecurityGroups {
		if s.SecurityGroups[i].GroupID = groupIDs[s.SecurityGroups[i].ID]; s.SecurityGroups[i].GroupID == "" {
			return nil, false, nil
		}
	}
	if ok, err := c.fillListenerARNs(ctx, aws.ToString(lb.LoadBalancerArn), s); err != nil || !ok {
		return nil, false, err
	}
	s.LoadBalancer.ARN, s.LoadBalancer.DNSName = aws.ToString(lb.LoadBalancerArn), aws.ToString(lb.DNSName)
	if lb.State != nil {
		s.LoadBalancer.State = string(lb.State.Code)
	}
	kept, err := copyStack(s)
	if err != nil {
		return nil, false, err
	}
	c.applied.put(key, appliedEntry{hash: hash, stack: kept, until: c.trustedUntil()})
	return s, true, nil
}

// fillListenerARNs sets the ARNs of the listeners of s from one DescribeListeners; false when
// AWS holds other ports than s.
func (c *Cloud) fillListenerARNs(ctx context.Context, lbARN string, s *model.Stack) (bool, error) {
	var raw []elbtypes.Listener
	p := elbv2.NewDescribeListenersPaginator(c.elb, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, err
		}
		raw = append(raw, page.Listeners...)
	}
	byPort := map[int32]elbtypes.Listener{}
	for _, l := range raw {
		byPort[aws.ToInt32(l.Port)] = l
	}
	if len(byPort) != len(s.Listeners) {
		return false, nil
	}
	for i := range s.Listeners {
		l, ok := byPort[s.Listeners[i].Port]
		if !ok || string(l.Protocol) != s.Listeners[i].Protocol {
			return false, nil
		}
		s.Listeners[i].ARN = aws.ToString(l.ListenerArn)
	}
	return true, nil
}

// RecordApplied remembers result, the stack an apply that succeeded in full left (or the one
// observed when there was nothing to change), until the next resync pass, and tags the stack's load
// balancer with hash, the fingerprint of the desired stack it holds, unless it carries it
// already (one AddTags per change of the stack, none in steady state). A load balancer that is
// not active yet is not remembered: its state is what the next reconciles look at.
func (c *Cloud) RecordApplied(ctx context.Context, result *model.Stack, hash string) error {
	if result == nil || result.LoadBalancer == nil || result.LoadBalancer.ARN == "" || hash == "" {
		return nil
	}
	key := stackKey{result.Type, result.ID}
	if e, ok := c.applied.get(key); !ok || e.stack == nil || e.hash != hash || freshRead(ctx) {
		if result.LoadBalancer.State == string(elbtypes.LoadBalancerStateEnumActive) {
			kept, err := copyStack(result)
			if err != nil {
				return err
			}
			c.applied.put(key, appliedEntry{hash: hash, stack: kept, until: c.trustedUntil()})
		}
	}
	arn := result.LoadBalancer.ARN
	tags, err := c.elbTags(ctx, []string{arn})
	if err != nil {
		return err
	}
	// The addons tag lists exactly the addons of the stack applied in full (addons.go).
	want := model.Tags{appliedTagKey: hash}
	if ids := addonIDs(result.LoadBalancer.Addons); len(ids) > 0 {
		want[addonsTagKey] = strings.Join(ids, ",")
	}
	add := model.Tags{}
	for k, v := range want {
		if tags[arn][k] != v {
			add[k] = v
		}
	}
	if _, ok := tags[arn][addonsTagKey]; ok && want[addonsTagKey] == "" {
		if _, err := c.elb.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{arn}, TagKeys: []string{addonsTagKey}}); err != nil {
			return fmt.Errorf("recording the applied stack on load balancer %s: %w", arn, err)
		}
		c.tags.update(arn, nil, []string{addonsTagKey}, c.now())
	}
	if len(add) == 0 {
		return nil
	}
	if _, err := c.elb.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arn}, Tags: toELBTags(add)}); err != nil {
		return fmt.Errorf("recording the applied stack on load balancer %s: %w", arn, err)
	}
	c.tags.update(arn, add, nil, c.now())
	return nil
}

// withoutAppliedTag is the load balancer's tags as the plan compares them: without the
// applied-stack tag, which only RecordApplied writes.
func withoutAppliedTag(tags model.Tags) model.Tags {
	if _, ok := tags[appliedTagKey]; !ok {
		return tags
	}
	out := make(model.Tags, len(tags)-1)
	for k, v := range tags {
		if k != appliedTagKey {
			out[k] = v
		}
	}
	return out
}

func copyStack(s *model.Stack) (*model.Stack, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var out model.Stack
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
