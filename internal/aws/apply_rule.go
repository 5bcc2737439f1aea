package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// rule creates, modifies (conditions, actions, transforms, tags) or deletes one ALB rule.
func (a *applier) rule(ctx context.Context, ch plan.Change) error {
	switch ch.Op {
	case plan.OpCreate:
		return a.createRule(ctx, ch.Desired.ListenerPort, ch.Desired.Rule)
	case plan.OpUpdate:
		return a.updateRule(ctx, ch.Desired.Rule, ch.Observed.Rule, ch.Update)
	case plan.OpDelete:
		return a.deleteRule(ctx, ch.Observed.ListenerPort, ch.Observed.Rule)
	}
	return fmt.Errorf("unknown op %q", ch.Op)
}

func (a *applier) createRule(ctx context.Context, port int32, r *model.Rule) error {
	lis := a.lisARNs[port]
	if lis == "" {
		return fmt.Errorf("listener on port %d does not exist (yet)", port)
	}
	actions, err := toActions(r.Actions, a.tgRef, secretRequired)
	if err != nil {
		return fmt.Errorf("rule %d of listener %d: %w", r.Priority, port, err)
	}
	tags := withSecretTag(r.Tags, r.Actions)
	resp, err := a.c.elb.CreateRule(ctx, &elbv2.CreateRuleInput{
		ListenerArn: aws.String(lis),
		Priority:    aws.Int32(r.Priority),
		Conditions:  toConditions(r.Conditions),
		Actions:     actions,
		Transforms:  toTransforms(r.Transforms),
		Tags:        toELBTags(tags),
	})
	if err != nil {
		return fmt.Errorf("creating rule %d of listener %d: %w", r.Priority, port, err)
	}
	if len(resp.Rules) > 0 {
		arn := aws.ToString(resp.Rules[0].RuleArn)
		a.ruleARNs[ruleKey(port, r.Priority)] = arn
		a.c.tags.put(arn, tags, a.c.now())
	}
	return nil
}

// updateRule modifies the rule in place. An OIDC client secret the model does not carry is
// kept (UseExistingClientSecret); transforms the rule no longer wants are reset. The tags are
// written after the modify, the OIDC client secret fingerprint last.
func (a *applier) updateRule(ctx context.Context, want, have *model.Rule, u *plan.Update) error {
	if !u.Has(plan.FieldRule) {
		return a.updateELBTags(ctx, have.ARN, u)
	}
	actions, err := toActions(want.Actions, a.tgRef, secretOrExisting)
	if err != nil {
		return fmt.Errorf("rule %d: %w", want.Priority, err)
	}
	in := &elbv2.ModifyRuleInput{
		RuleArn:    aws.String(have.ARN),
		Conditions: toConditions(want.Conditions),
		Actions:    actions,
	}
	if len(want.Transforms) > 0 {
		in.Transforms = toTransforms(want.Transforms)
	} else if len(have.Transforms) > 0 {
		in.ResetTransforms = aws.Bool(true)
	}
	if _, err := a.c.elb.ModifyRule(ctx, in); err != nil {
		return fmt.Errorf("modifying rule %d: %w", have.Priority, err)
	}
	if err := a.updateELBTags(ctx, have.ARN, u); err != nil {
		return err
	}
	return a.syncSecretTag(ctx, have.ARN, want.Actions, have.Actions)
}

func (a *applier) deleteRule(ctx context.Context, port int32, r *model.Rule) error {
	_, err := a.c.elb.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(r.ARN)})
	if err != nil && errorCode(err) != "RuleNotFound" {
		return fmt.Errorf("deleting rule %d of listener %d: %w", r.Priority, port, err)
	}
	a.c.tags.forget(r.ARN)
	if key := ruleKey(port, r.Priority); a.ruleARNs[key] == r.ARN {
		delete(a.ruleARNs, key)
	}
	return nil
}

// rulePriorities moves a listener's rules, one SetRulePriorities call per step of the plan.
func (a *applier) rulePriorities(ctx context.Context, ch plan.Change) error {
	port := ch.Observed.ListenerPort
	for _, step := range ch.Update.PriorityMoves {
		pairs := make([]elbtypes.RulePriorityPair, 0, len(step))
		for _, mv := range step {
			pairs = append(pairs, elbtypes.RulePriorityPair{RuleArn: aws.String(mv.Rule.ARN), Priority: aws.Int32(mv.To)})
		}
		if _, err := a.c.elb.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: pairs}); err != nil {
			return fmt.Errorf("setting rule priorities of listener %d (%s): %w", port, ch.Reason, err)
		}
		for _, mv := range step {
			if from := ruleKey(port, mv.From); a.ruleARNs[from] == mv.Rule.ARN {
				delete(a.ruleARNs, from)
			}
			a.ruleARNs[ruleKey(port, mv.To)] = mv.Rule.ARN
		}
	}
	return nil
}
