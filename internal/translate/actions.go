package translate

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
)

// ruleActions are a rule's actions on one port: the ListenerRuleConfiguration's authenticate or
// jwt-validation action (HTTPS only), then the routing action: its fixed response, else the
// RequestRedirect, else a forward to the usable backends by weight, else a 500.
// It returns the target groups the forward needs that the stack does not have yet.
func (t *translator) ruleActions(r *routeState, rule *l7Rule, port int32, protocol string) ([]model.Action, []model.TargetGroup, *problem) {
	var actions []model.Action
	if pre := t.preRoutingAction(rule); pre != nil {
		if protocol != "HTTPS" {
			// The AWS Load Balancer Controller drops the action silently and serves the rule
			// unauthenticated; here the rule stays off the port and the route says why.
			return nil, nil, &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: not programmed on port %d: %s %s/%s has action %s, which an ALB runs on HTTPS listeners only; attach the route to an HTTPS listener only (sectionName)",
				rule.field(""), port, kindLRC, rule.lrc.Namespace, rule.lrc.Name, pre.Type)}
		}
		actions = append(actions, *pre)
	}
	if a := lrcAction(rule.lrc, awsv1.ActionTypeFixedResponse); a != nil {
		return append(actions, fixedResponse(a)), nil, nil
	}
	if rule.redirect != nil {
		return append(actions, model.Action{Type: model.ActionRedirect, Redirect: redirectAction(rule)}), nil, nil
	}
	forward, tgs, p := t.ruleForward(r, rule, protocol)
	if p != nil {
		return nil, nil, p
	}
	if forward == nil {
		return append(actions, invalidBackends()), nil, nil
	}
	return append(actions, model.Action{Type: model.ActionForward, Forward: forward}), tgs, nil
}

// invalidBackends answers a rule without a usable backend: 500, as the Gateway API requires
// (HTTPRouteRule.backendRefs: "If all entries in BackendRefs are invalid, and there are also no
// filters specified in this route rule, all traffic which matches this rule MUST receive a 500
// status code"; the conformance tests HTTPRouteInvalid*BackendRef* check it) and as the AWS Load
// Balancer Controller's code answers (its documentation says 503).
func invalidBackends() model.Action {
	return model.Action{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{
		StatusCode: "500", ContentType: "text/plain"}}
}

// ruleForward builds the forward of a rule's usable backends; nil when none carries traffic.
func (t *translator) ruleForward(r *routeState, rule *l7Rule, protocol string) (*model.ForwardAction, []model.TargetGroup, *problem) {
	var pending []model.TargetGroup
	var order []model.Ref
	weights := map[model.Ref]int32{}
	for _, b := range rule.backends {
		ref := model.Ref{External: b.external}
		if b.service != nil {
			tg, p := t.l7TargetGroup(r.l4Route, b, protocol)
			if p != nil {
				return nil, nil, p
			}
			id, p := t.addTargetGroup(tg, &pending, b.field)
			if p != nil {
				return nil, nil, p
			}
			ref = model.Ref{ID: id}
		}
		if _, seen := weights[ref]; !seen {
			order = append(order, ref)
		}
		weights[ref] = min(weights[ref]+b.weight, model.MaxWeight)
	}
	f := &model.ForwardAction{Stickiness: stickiness(rule.lrc)}
	carries := false
	for _, ref := range order {
		f.TargetGroups = append(f.TargetGroups, model.WeightedTargetGroup{TargetGroup: ref, Weight: weights[ref]})
		carries = carries || weights[ref] > 0
	}
	if !carries {
		return nil, nil, nil
	}
	return f, pending, nil
}
