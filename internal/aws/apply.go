package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// Apply carries out changes (from plan.Diff(desired, observed)) in order, resolving references
// to the ARNs and group IDs AWS assigns as resources are created. It returns the resulting
// stack: desired with ARNs, group IDs, DNS name and state filled in (an empty stack when
// desired has no load balancer). It is safe to run again after a partial failure: creates look
// for an existing resource of the same name first, deletes accept "not found". The error names
// the change that failed and why.
//
// A change AWS refuses does not stop the plan: the changes that do not depend on it run (see
// plan.Waits), and the error is an *ApplyError listing what failed and what waited. Throttling
// and a cancelled context stop the plan at once; what did not run is listed as not attempted.
func (c *Cloud) Apply(ctx context.Context, desired, observed *model.Stack, changes []plan.Change) (*model.Stack, error) {
	a := newApplier(c, desired, observed)
	var failed []plan.Change
	var out ApplyError
	for i, ch := range changes {
		if d, wait := plan.WaitsOnFailed(failed, ch); wait {
			failed = append(failed, ch)
			out.Failures = append(out.Failures, ChangeFailure{Change: ch, WaitedOn: &d, Cause: out.causeOf(d)})
			continue
		}
		err := a.apply(ctx, ch)
		if err == nil {
			continue
		}
		failed = append(failed, ch)
		out.Failures = append(out.Failures, ChangeFailure{Change: ch, Err: err})
		if isThrottle(err) || ctx.Err() != nil {
			for _, rest := range changes[i+1:] {
				out.Failures = append(out.Failures, ChangeFailure{Change: rest, NotAttempted: true})
			}
			break
		}
	}
	if len(out.Failures) > 0 {
		// What AWS holds now is known only by reading it (see applied.go).
		c.applied.mark(stackKey{a.typ, a.stackID})
		return a.result(), &out
	}
	return a.result(), nil
}

// ApplyError is a plan applied in part: the changes that failed, those that waited on them,
// and those not attempted. Every change not listed was applied.
type ApplyError struct {
	Failures []ChangeFailure
}

// ChangeFailure is one change of a plan that did not happen.
type ChangeFailure struct {
	Change plan.Change
	// Err is why AWS (or the client) refused the change; nil when it waited or was not attempted.
	Err error
	// WaitedOn is the failed change this one depends on, and Cause the refusal at the root of
	// the wait.
	WaitedOn *plan.Change
	Cause    error
	// NotAttempted says the plan stopped (throttling, cancellation) before this change.
	NotAttempted bool
}

// Code is the AWS error code of the failure (of its cause when it waited), or "".
func (f ChangeFailure) Code() string {
	if f.Err == nil {
		return errorCode(f.Cause)
	}
	return errorCode(f.Err)
}

// causeOf is the refusal behind the failure of change d.
func (e *ApplyError) causeOf(d plan.Change) error {
	for _, f := range e.Failures {
		if f.Change.Op == d.Op && f.Change.Kind == d.Kind && f.Change.ID == d.ID {
			if f.Err != nil {
				return f.Err
			}
			return f.Cause
		}
	}
	return nil
}

// Reason says in one line why the change did not happen.
func (f ChangeFailure) Reason() string {
	switch {
	case f.Err != nil:
		return fmt.Sprintf("%s %s %s: %v", f.Change.Op, f.Change.Kind, f.Change.ID, f.Err)
	case f.WaitedOn != nil:
		return fmt.Sprintf("%s %s %s waits for %s %s %s, which failed: %v", f.Change.Op, f.Change.Kind, f.Change.ID,
			f.WaitedOn.Op, f.WaitedOn.Kind, f.WaitedOn.ID, f.Cause)
	}
	return fmt.Sprintf("%s %s %s not attempted yet", f.Change.Op, f.Change.Kind, f.Change.ID)
}

func (e *ApplyError) Error() string {
	var refused []string
	for _, f := range e.Failures {
		if f.Err != nil {
			refused = append(refused, f.Reason())
		}
	}
	held := len(e.Failures) - len(refused)
	msg := strings.Join(refused, "; ")
	if held > 0 {
		msg += fmt.Sprintf(" (%d dependent or later changes not applied)", held)
	}
	return msg
}

// Unwrap returns the errors of the changes that failed.
func (e *ApplyError) Unwrap() []error {
	var out []error
	for _, f := range e.Failures {
		if f.Err != nil {
			out = append(out, f.Err)
		}
	}
	return out
}

// applier holds what is known of the stack's AWS identifiers while changes run.
type applier struct {
	c        *Cloud
	stackID  string
	typ      model.LoadBalancerType
	desired  *model.Stack
	observed *model.Stack
	sgIDs    map[string]string // logical ID → group ID
	tgARNs   map[string]string // logical ID → ARN
	lb       *model.LoadBalancer
	lisARNs  map[int32]string  // port → ARN
	ruleARNs map[string]string // "<port>:<priority>" → ARN
	certARNs map[string]string // imported certificate logical ID → ARN
	// shieldID is the ID of the load balancer's Shield protection when this controller (or LBC)
	// made it: observed, or returned by CreateProtection. The result carries it, so a later
	// plan run from memory can still delete the protection.
	shieldID string
}

func newApplier(c *Cloud, desired, observed *model.Stack) *applier {
	a := &applier{c: c, desired: desired, observed: observed, sgIDs: map[string]string{}, tgARNs: map[string]string{},
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
		a.shieldID = lb.Addons.ShieldProtectionID
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
	case plan.KindAddon:
		return a.addon(ctx, ch)
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
	if lb.Addons.Shield {
		lb.Addons.ShieldProtectionID = a.shieldID
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
