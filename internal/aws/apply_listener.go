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

func (a *applier) listener(ctx context.Context, ch plan.Change) error {
	switch ch.Op {
	case plan.OpCreate:
		return a.createListener(ctx, ch.Desired.Listener)
	case plan.OpUpdate:
		return a.updateListener(ctx, ch.Desired.Listener, ch.Observed.Listener, ch.Update)
	case plan.OpDelete:
		return a.deleteListener(ctx, ch.Observed.Listener)
	}
	return fmt.Errorf("unknown op %q", ch.Op)
}

func (a *applier) createListener(ctx context.Context, l *model.Listener) error {
	lbARN, err := a.lbARN()
	if err != nil {
		return err
	}
	actions, err := toActions(l.DefaultActions, a.tgRef)
	if err != nil {
		return err
	}
	in := &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(lbARN),
		Port:            aws.Int32(l.Port),
		Protocol:        elbtypes.ProtocolEnum(l.Protocol),
		DefaultActions:  actions,
		Tags:            toELBTags(l.Tags),
	}
	secureListenerFields(l, &in.Certificates, &in.SslPolicy, &in.AlpnPolicy)
	resp, err := a.c.elb.CreateListener(ctx, in)
	if err != nil {
		return fmt.Errorf("creating listener on port %d: %w", l.Port, err)
	}
	if len(resp.Listeners) == 0 {
		return fmt.Errorf("creating listener on port %d: AWS returned no listener", l.Port)
	}
	arn := aws.ToString(resp.Listeners[0].ListenerArn)
	a.lisARNs[l.Port] = arn
	a.c.tags.put(arn, l.Tags, a.c.now())
	if len(l.Certificates) > 1 {
		if err := a.addCertificates(ctx, arn, l.Certificates[1:]); err != nil {
			return err
		}
	}
	if len(l.Attributes) > 0 {
		return a.setListenerAttributes(ctx, arn, l.Attributes)
	}
	return nil
}

// secureListenerFields sets the default certificate, SSL policy and (TLS) ALPN policy.
func secureListenerFields(l *model.Listener, certs *[]elbtypes.Certificate, ssl **string, alpn *[]string) {
	if l.Protocol != "HTTPS" && l.Protocol != "TLS" {
		return
	}
	if len(l.Certificates) > 0 {
		*certs = []elbtypes.Certificate{{CertificateArn: aws.String(l.Certificates[0])}}
	}
	*ssl = optional(l.SSLPolicy)
	if l.Protocol == "TLS" && l.ALPNPolicy != "" {
		*alpn = []string{l.ALPNPolicy}
	}
}

func (a *applier) updateListener(ctx context.Context, want, have *model.Listener, u *plan.Update) error {
	if u.Has(plan.FieldListener) {
		actions, err := toActions(want.DefaultActions, a.tgRef)
		if err != nil {
			return err
		}
		in := &elbv2.ModifyListenerInput{
			ListenerArn:    aws.String(have.ARN),
			Port:           aws.Int32(want.Port),
			Protocol:       elbtypes.ProtocolEnum(want.Protocol),
			DefaultActions: actions,
		}
		secureListenerFields(want, &in.Certificates, &in.SslPolicy, &in.AlpnPolicy)
		if want.Protocol == "TLS" && want.ALPNPolicy == "" && have.ALPNPolicy != "" {
			in.AlpnPolicy = []string{"None"}
		}
		if _, err := a.c.elb.ModifyListener(ctx, in); err != nil {
			return fmt.Errorf("modifying listener on port %d: %w", want.Port, err)
		}
	}
	if u.Has(plan.FieldCertificates) {
		if err := a.addCertificates(ctx, have.ARN, u.AddCertificates); err != nil {
			return err
		}
		if len(u.RemoveCertificates) > 0 {
			if _, err := a.c.elb.RemoveListenerCertificates(ctx, &elbv2.RemoveListenerCertificatesInput{
				ListenerArn: aws.String(have.ARN), Certificates: toCertificates(u.RemoveCertificates),
			}); err != nil {
				return fmt.Errorf("removing certificates of listener on port %d: %w", want.Port, err)
			}
		}
	}
	if u.Has(plan.FieldAttributes) {
		if err := a.setListenerAttributes(ctx, have.ARN, u.SetAttributes); err != nil {
			return err
		}
	}
	return a.updateELBTags(ctx, have.ARN, u)
}

func (a *applier) addCertificates(ctx context.Context, arn string, certs []string) error {
	if len(certs) == 0 {
		return nil
	}
	if _, err := a.c.elb.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: aws.String(arn), Certificates: toCertificates(certs)}); err != nil {
		return fmt.Errorf("adding certificates to listener %s: %w", arn, err)
	}
	return nil
}

func toCertificates(arns []string) []elbtypes.Certificate {
	out := make([]elbtypes.Certificate, 0, len(arns))
	for _, arn := range arns {
		out = append(out, elbtypes.Certificate{CertificateArn: aws.String(arn)})
	}
	return out
}

func (a *applier) setListenerAttributes(ctx context.Context, arn string, attrs map[string]string) error {
	if _, err := a.c.elb.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: aws.String(arn), Attributes: toListenerAttributes(attrs)}); err != nil {
		return fmt.Errorf("setting attributes of listener %s: %w", arn, err)
	}
	return nil
}

func (a *applier) deleteListener(ctx context.Context, l *model.Listener) error {
	_, err := a.c.elb.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(l.ARN)})
	if err != nil && errorCode(err) != "ListenerNotFound" {
		return fmt.Errorf("deleting listener on port %d: %w", l.Port, err)
	}
	a.c.tags.forget(l.ARN)
	if a.lisARNs[l.Port] == l.ARN {
		delete(a.lisARNs, l.Port)
	}
	return nil
}

func (a *applier) rule(ctx context.Context, ch plan.Change) error {
	port := ch.Desired.ListenerPort
	if ch.Op == plan.OpDelete {
		port = ch.Observed.ListenerPort
	}
	switch ch.Op {
	case plan.OpCreate:
		return a.createRule(ctx, port, ch.Desired.Rule)
	case plan.OpUpdate:
		return a.updateRule(ctx, ch.Desired.Rule, ch.Observed.Rule, ch.Update)
	case plan.OpDelete:
		_, err := a.c.elb.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(ch.Observed.Rule.ARN)})
		if err != nil && errorCode(err) != "RuleNotFound" {
			return fmt.Errorf("deleting rule %d of listener %d: %w", ch.Observed.Rule.Priority, port, err)
		}
		a.c.tags.forget(ch.Observed.Rule.ARN)
		delete(a.ruleARNs, ruleKey(port, ch.Observed.Rule.Priority))
		return nil
	}
	return fmt.Errorf("unknown op %q", ch.Op)
}

func (a *applier) createRule(ctx context.Context, port int32, r *model.Rule) error {
	lis := a.lisARNs[port]
	if lis == "" {
		return fmt.Errorf("listener on port %d does not exist (yet)", port)
	}
	actions, err := toActions(r.Actions, a.tgRef)
	if err != nil {
		return err
	}
	resp, err := a.c.elb.CreateRule(ctx, &elbv2.CreateRuleInput{
		ListenerArn: aws.String(lis),
		Priority:    aws.Int32(r.Priority),
		Conditions:  toConditions(r.Conditions),
		Actions:     actions,
		Transforms:  toTransforms(r.Transforms),
		Tags:        toELBTags(r.Tags),
	})
	if err != nil {
		return fmt.Errorf("creating rule %d of listener %d: %w", r.Priority, port, err)
	}
	if len(resp.Rules) > 0 {
		arn := aws.ToString(resp.Rules[0].RuleArn)
		a.ruleARNs[ruleKey(port, r.Priority)] = arn
		a.c.tags.put(arn, r.Tags, a.c.now())
	}
	return nil
}

func (a *applier) updateRule(ctx context.Context, want, have *model.Rule, u *plan.Update) error {
	if u.Has(plan.FieldRule) {
		actions, err := toActions(want.Actions, a.tgRef)
		if err != nil {
			return err
		}
		if _, err := a.c.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{
			RuleArn:    aws.String(have.ARN),
			Conditions: toConditions(want.Conditions),
			Actions:    actions,
			Transforms: toTransforms(want.Transforms),
		}); err != nil {
			return fmt.Errorf("modifying rule %d: %w", have.Priority, err)
		}
	}
	return a.updateELBTags(ctx, have.ARN, u)
}
