package aws

import (
	"context"
	"fmt"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// Apply carries out changes (from plan.Diff(desired, observed)) in order, resolving references
// to the ARNs and group IDs AWS assigns as resources are created. It returns the resulting
// stack: desired with ARNs, group IDs, DNS name and state filled in (an empty stack when
// desired has no load balancer). It is safe to run again after a partial failure: creates look
// for an existing resource of the same name first, deletes accept "not found". The error names
// the change that failed and why.
func (c *Cloud) Apply(ctx context.Context, desired, observed *model.Stack, changes []plan.Change) (*model.Stack, error) {
	a := newApplier(c, desired, observed)
	for _, ch := range changes {
		if err := a.apply(ctx, ch); err != nil {
			// What AWS holds now is known only by reading it (see applied.go).
			c.applied.mark(stackKey{a.typ, a.stackID})
			return a.result(), fmt.Errorf("%s %s %s: %w", ch.Op, ch.Kind, ch.ID, err)
		}
	}
	return a.result(), nil
}

// applier holds what is known of the stack's AWS identifiers while changes run.
type applier struct {
	c        *Cloud
	stackID  string
	typ      model.LoadBalancerType
	desired  *model.Stack
	sgIDs    map[string]string // logical ID → group ID
	tgARNs   map[string]string // logical ID → ARN
	lb       *model.LoadBalancer
	lisARNs  map[int32]string  // port → ARN
	ruleARNs map[string]string // "<port>:<priority>" → ARN
	certARNs map[string]string // imported certificate logical ID → ARN
}

func newApplier(c *Cloud, desired, observed *model.Stack) *applier {
	a := &applier{c: c, desired: desired, sgIDs: map[string]string{}, tgARNs: map[string]string{},
		lisARNs: map[int32]string{}, ruleARNs: map[string]string{}, certARNs: map[string]string{}}
	for _, s := range []*model.Stack{observed, desired} {
		if s != nil && a.stackID == "" {
			a.stackID, a.typ = s.ID, s.Type
		}
	}
	if observed == nil {
		return a
	}
	for _, sg := range observed.SecurityGroups {
		if _, ok := a.sgIDs[sg.ID]; !ok {
			a.sgIDs[sg.ID] = sg.GroupID
		}
	}
	for _, tg := range observed.TargetGroups {
		if _, ok := a.tgARNs[tg.ID]; !ok {
			a.tgARNs[tg.ID] = tg.ARN
		}
	}
	for _, c := range observed.Certificates {
		if _, ok := a.certARNs[c.ID]; !ok {
			a.certARNs[c.ID] = c.ARN
		}
	}
	if observed.LoadBalancer != nil {
		lb := *observed.LoadBalancer
		a.lb = &lb
	}
	for _, l := range observed.Listeners {
		a.lisARNs[l.Port] = l.ARN
		for _, r := range l.Rules {
			a.ruleARNs[ruleKey(l.Port, r.Priority)] = r.ARN
		}
	}
	return a
}

func ruleKey(port, priority int32) string { return fmt.Sprintf("%d:%d", port, priority) }

func (a *applier) apply(ctx context.Context, ch plan.Change) error {
	switch ch.Kind {
	case plan.KindSecurityGroup:
		return a.securityGroup(ctx, ch)
	case plan.KindTargetGroup:
		return a.targetGroup(ctx, ch)
	case plan.KindLoadBalancer:
		return a.loadBalancer(ctx, ch)
	case plan.KindListener:
		return a.listener(ctx, ch)
	case plan.KindRule:
		return a.rule(ctx, ch)
	case plan.KindRulePriorities:
		return a.rulePriorities(ctx, ch)
	case plan.KindCertificate:
		return a.certificate(ctx, ch)
	}
	return fmt.Errorf("unknown kind %q", ch.Kind)
}

// tgRef resolves a forward target: one of the stack's target groups by logical ID, or an ARN.
func (a *applier) tgRef(r model.Ref) (string, error) {
	if r.External != "" {
		return r.External, nil
	}
	if arn := a.tgARNs[r.ID]; arn != "" {
		return arn, nil
	}
	return "", fmt.Errorf("target group %q does not exist (yet); it must be created before what forwards to it", r.ID)
}

func (a *applier) sgRefs(refs []model.Ref) ([]string, error) {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		if r.External != "" {
			out = append(out, r.External)
			continue
		}
		id := a.sgIDs[r.ID]
		if id == "" {
			return nil, fmt.Errorf("security group %q does not exist (yet); it must be created before the load balancer", r.ID)
		}
		out = append(out, id)
	}
	return out, nil
}

func (a *applier) lbARN() (string, error) {
	if a.lb == nil || a.lb.ARN == "" {
		return "", fmt.Errorf("the load balancer of %s does not exist (yet)", a.stackID)
	}
	return a.lb.ARN, nil
}

// result is desired with the identifiers known now.
func (a *applier) result() *model.Stack {
	if a.desired == nil || a.desired.LoadBalancer == nil {
		return &model.Stack{ID: a.stackID, Type: a.typ}
	}
	d := a.desired
	out := &model.Stack{ID: d.ID, Type: d.Type}
	lb := *d.LoadBalancer
	if a.lb != nil {
		lb.ARN, lb.DNSName, lb.State = a.lb.ARN, a.lb.DNSName, a.lb.State
	}
	out.LoadBalancer = &lb
	for _, sg := range d.SecurityGroups {
		sg.GroupID = a.sgIDs[sg.ID]
		out.SecurityGroups = append(out.SecurityGroups, sg)
	}
	for _, tg := range d.TargetGroups {
		tg.ARN = a.tgARNs[tg.ID]
		out.TargetGroups = append(out.TargetGroups, tg)
	}
	for _, c := range d.Certificates {
		c.ARN = a.certARNs[c.ID]
		out.Certificates = append(out.Certificates, c)
	}
	for _, l := range d.Listeners {
		l.ARN = a.lisARNs[l.Port]
		rules := make([]model.Rule, 0, len(l.Rules))
		for _, r := range l.Rules {
			r.ARN = a.ruleARNs[ruleKey(l.Port, r.Priority)]
			rules = append(rules, r)
		}
		if len(l.Rules) > 0 {
			l.Rules = rules
		}
		out.Listeners = append(out.Listeners, l)
	}
	return out
}

// retryWhile repeats call while it fails with one of codes, with doubling pauses, for at most
// Options.DeleteTimeout.
func (a *applier) retryWhile(ctx context.Context, call func() error, codes ...string) error {
	return a.c.retryWhileCode(ctx, call, codes...)
}

func hasCode(err error, codes ...string) bool {
	code := errorCode(err)
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}
