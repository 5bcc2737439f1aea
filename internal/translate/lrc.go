package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
)

const kindLRC = "ListenerRuleConfiguration"

// attachLRC resolves an ExtensionRef filter to a ListenerRuleConfiguration in the route's
// namespace. A rule takes at most one.
func (t *translator) attachLRC(r *routeState, rule *l7Rule, ref *gwv1.LocalObjectReference, field string) *problem {
	incompatible := string(gwv1.RouteReasonIncompatibleFilters)
	if ref == nil || string(ref.Group) != awsGroup || string(ref.Kind) != kindLRC {
		got := "nothing"
		if ref != nil {
			got = fmt.Sprintf("group %q kind %q", ref.Group, ref.Kind)
		}
		return rejectLRC(rule, &problem{incompatible, fmt.Sprintf("%s.extensionRef: names %s; an ALB takes group %s kind %s", field, got, awsGroup, kindLRC)},
			string(gwv1.RouteReasonInvalidKind))
	}
	if rule.lrc != nil {
		return &problem{incompatible, fmt.Sprintf("%s.extensionRef: a rule takes one %s, %s is the second; merge them", field, kindLRC, ref.Name)}
	}
	for i := range t.s.ListenerRuleConfigurations {
		lrc := &t.s.ListenerRuleConfigurations[i]
		if lrc.Namespace == r.namespace && lrc.Name == string(ref.Name) {
			rule.lrc = lrc
			return t.resolveLRCSecrets(rule, field)
		}
	}
	return rejectLRC(rule, &problem{incompatible, fmt.Sprintf("%s.extensionRef: %s %s/%s not found; create it in the route's namespace or fix the name",
		field, kindLRC, r.namespace, ref.Name)}, string(gwv1.RouteReasonUnsupportedValue))
}

// rejectLRC rejects the rule for a ListenerRuleConfiguration it cannot use, and records the
// route's ResolvedRefs=False problem with reason (docs/reference/listenerruleconfiguration.md):
// InvalidKind when the ExtensionRef names another group or kind, UnsupportedValue when the
// configuration is missing or invalid.
func rejectLRC(rule *l7Rule, p *problem, reason string) *problem {
	rule.lrcUnresolved = &problem{reason, p.message}
	return p
}

// resolveLRCSecrets checks that the OIDC client secret an LRC names was gathered.
func (t *translator) resolveLRCSecrets(rule *l7Rule, field string) *problem {
	for _, a := range rule.lrc.Spec.Actions {
		o := a.AuthenticateOIDCConfig
		if a.Type != awsv1.ActionTypeAuthenticateOIDC || o == nil {
			continue
		}
		key := rule.lrc.Namespace + "/"
		if o.Secret != nil {
			key += o.Secret.Name
		}
		if c, ok := t.s.OIDCSecrets[key]; o.Secret == nil || !ok || c.ClientID == "" || c.ClientSecret == "" {
			return rejectLRC(rule, &problem{string(gwv1.RouteReasonIncompatibleFilters), fmt.Sprintf(
				"%s: %s %s/%s authenticate-oidc needs Secret %s with keys clientID and clientSecret; create it",
				field, kindLRC, rule.lrc.Namespace, rule.lrc.Name, key)}, string(gwv1.RouteReasonUnsupportedValue))
		}
	}
	return nil
}

// checkLRC rejects ListenerRuleConfigurations the rule cannot use.
func checkLRC(rule *l7Rule) *problem {
	lrc := rule.lrc
	if lrc == nil {
		return nil
	}
	where := fmt.Sprintf("%s %s/%s", kindLRC, lrc.Namespace, lrc.Name)
	incompatible := string(gwv1.RouteReasonIncompatibleFilters)
	pre, routing := 0, 0
	for i, a := range lrc.Spec.Actions {
		switch a.Type {
		case awsv1.ActionTypeAuthenticateOIDC, awsv1.ActionTypeAuthenticateCognito, awsv1.ActionTypeJWTValidation:
			pre++
			if p := checkPreRouting(a, fmt.Sprintf("%s spec.actions[%d]", where, i)); p != nil {
				return p
			}
		case awsv1.ActionTypeRedirect:
			routing++
			if rule.redirect == nil {
				return &problem{incompatible, fmt.Sprintf(
					"%s spec.actions[%d]: a redirect action only adds a query to the rule's RequestRedirect filter, and %s has none; add one",
					where, i, rule.field("filters"))}
			}
		case awsv1.ActionTypeFixedResponse:
			routing++
			if a.FixedResponseConfig == nil || a.FixedResponseConfig.StatusCode < 200 || a.FixedResponseConfig.StatusCode > 599 ||
				a.FixedResponseConfig.StatusCode/100 == 3 {
				return &problem{incompatible, fmt.Sprintf("%s spec.actions[%d].fixedResponseConfig.statusCode: use a 2XX, 4XX or 5XX code", where, i)}
			}
		case awsv1.ActionTypeForward:
			routing++
		default:
			return &problem{incompatible, fmt.Sprintf("%s spec.actions[%d].type: %q is not an action type", where, i, a.Type)}
		}
	}
	if pre > 1 || routing > 1 {
		return &problem{incompatible, where + " spec.actions: at most one authenticate or jwt-validation action and one routing action"}
	}
	for i, c := range lrc.Spec.Conditions {
		if c.Field != "source-ip" || c.SourceIPConfig == nil || len(c.SourceIPConfig.Values) == 0 {
			return &problem{incompatible, fmt.Sprintf("%s spec.conditions[%d]: only field source-ip with sourceIPConfig.values is supported", where, i)}
		}
		for _, v := range c.SourceIPConfig.Values {
			if _, err := netip.ParsePrefix(v); err != nil {
				return &problem{incompatible, fmt.Sprintf("%s spec.conditions[%d].sourceIPConfig: %q is not a CIDR; write it like 10.0.0.0/8", where, i, v)}
			}
		}
		for _, mi := range c.MatchIndexes {
			if mi < 0 || mi >= len(rule.matches) {
				return &problem{incompatible, fmt.Sprintf("%s spec.conditions[%d].matchIndexes: %d is not a match of %s (it has %d)",
					where, i, mi, rule.field("matches"), len(rule.matches))}
			}
		}
	}
	return nil
}

func checkPreRouting(a awsv1.Action, field string) *problem {
	bad := func(what string) *problem {
		return &problem{string(gwv1.RouteReasonIncompatibleFilters), fmt.Sprintf("%s: %s; set it", field, what)}
	}
	switch a.Type {
	case awsv1.ActionTypeAuthenticateOIDC:
		o := a.AuthenticateOIDCConfig
		if o == nil || o.Issuer == "" || o.AuthorizationEndpoint == "" || o.TokenEndpoint == "" || o.UserInfoEndpoint == "" {
			return bad("authenticateOIDCConfig needs issuer, authorizationEndpoint, tokenEndpoint and userInfoEndpoint")
		}
	case awsv1.ActionTypeAuthenticateCognito:
		c := a.AuthenticateCognitoConfig
		if c == nil || c.UserPoolArn == "" || c.UserPoolClientID == "" || c.UserPoolDomain == "" {
			return bad("authenticateCognitoConfig needs userPoolArn, userPoolClientId and userPoolDomain")
		}
	case awsv1.ActionTypeJWTValidation:
		j := a.JwtValidationConfig
		if j == nil || j.Issuer == "" || j.JwksEndpoint == "" {
			return bad("jwtValidationConfig needs issuer and jwksEndpoint")
		}
	}
	return nil
}

func lrcFixedResponse(lrc *awsv1.ListenerRuleConfiguration) bool {
	return lrcAction(lrc, awsv1.ActionTypeFixedResponse) != nil
}

func lrcAction(lrc *awsv1.ListenerRuleConfiguration, typ awsv1.ActionType) *awsv1.Action {
	if lrc == nil {
		return nil
	}
	for i := range lrc.Spec.Actions {
		if lrc.Spec.Actions[i].Type == typ {
			return &lrc.Spec.Actions[i]
		}
	}
	return nil
}

// preRoutingAction is the rule's authenticate or jwt-validation action, if its
// ListenerRuleConfiguration has one.
func (t *translator) preRoutingAction(rule *l7Rule) *model.Action {
	lrc := rule.lrc
	if a := lrcAction(lrc, awsv1.ActionTypeAuthenticateOIDC); a != nil {
		o := a.AuthenticateOIDCConfig
		client := t.s.OIDCSecrets[lrc.Namespace+"/"+o.Secret.Name]
		secret := model.NewSecret(client.ClientSecret)
		return &model.Action{Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: &model.AuthenticateOIDCAction{
			Issuer: o.Issuer, AuthorizationEndpoint: o.AuthorizationEndpoint, TokenEndpoint: o.TokenEndpoint,
			UserInfoEndpoint: o.UserInfoEndpoint, ClientID: client.ClientID,
			ClientSecret: secret, ClientSecretHash: model.OIDCClientSecretFingerprint(client.ClientID, secret),
			Scope: orDefault(deref(o.Scope), "openid"), SessionCookieName: orDefault(deref(o.SessionCookieName), "AWSELBAuthSessionCookie"),
			SessionTimeout: orDefault64(deref(o.SessionTimeout), 604800), OnUnauthenticatedRequest: orDefault(string(deref(o.OnUnauthenticatedRequest)), "authenticate"),
			AuthenticationRequestExtraParams: o.AuthenticationRequestExtraParams,
		}}
	}
	if a := lrcAction(lrc, awsv1.ActionTypeAuthenticateCognito); a != nil {
		c := a.AuthenticateCognitoConfig
		return &model.Action{Type: model.ActionAuthenticateCognito, AuthenticateCognito: &model.AuthenticateCognitoAction{
			UserPoolARN: c.UserPoolArn, UserPoolClientID: c.UserPoolClientID, UserPoolDomain: c.UserPoolDomain,
			Scope: orDefault(deref(c.Scope), "openid"), SessionCookieName: orDefault(deref(c.SessionCookieName), "AWSELBAuthSessionCookie"),
			SessionTimeout: orDefault64(deref(c.SessionTimeout), 604800), OnUnauthenticatedRequest: orDefault(string(deref(c.OnUnauthenticatedRequest)), "authenticate"),
			AuthenticationRequestExtraParams: c.AuthenticationRequestExtraParams,
		}}
	}
	if a := lrcAction(lrc, awsv1.ActionTypeJWTValidation); a != nil {
		j := a.JwtValidationConfig
		out := &model.JWTValidationAction{Issuer: j.Issuer, JWKSEndpoint: j.JwksEndpoint}
		for _, c := range j.AdditionalClaims {
			out.AdditionalClaims = append(out.AdditionalClaims, model.JWTClaim{Format: string(c.Format), Name: c.Name, Values: c.Values})
		}
		return &model.Action{Type: model.ActionJWTValidation, JWTValidation: out}
	}
	return nil
}

// fixedResponse is the LRC's fixed-response action as a model action.
func fixedResponse(a *awsv1.Action) model.Action {
	c := a.FixedResponseConfig
	return model.Action{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{
		StatusCode: strconv.Itoa(int(c.StatusCode)), ContentType: orDefault(deref(c.ContentType), "text/plain"),
		MessageBody: deref(c.MessageBody)}}
}

// stickiness is the LRC's forward stickiness, if set.
func stickiness(lrc *awsv1.ListenerRuleConfiguration) *model.Stickiness {
	a := lrcAction(lrc, awsv1.ActionTypeForward)
	if a == nil || a.ForwardConfig == nil || a.ForwardConfig.TargetGroupStickinessConfig == nil {
		return nil
	}
	c := a.ForwardConfig.TargetGroupStickinessConfig
	s := &model.Stickiness{Enabled: deref(c.Enabled), DurationSeconds: 3600}
	if c.DurationSeconds != nil {
		s.DurationSeconds = *c.DurationSeconds
	}
	return s
}

// sourceIPCondition is the LRC's source-ip condition for a match, if any applies.
func sourceIPCondition(lrc *awsv1.ListenerRuleConfiguration, match int) *model.Condition {
	if lrc == nil {
		return nil
	}
	var values []string
	for _, c := range lrc.Spec.Conditions {
		if c.SourceIPConfig == nil || len(c.MatchIndexes) > 0 && !slices.Contains(c.MatchIndexes, match) {
			continue
		}
		for _, v := range c.SourceIPConfig.Values {
			if !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
	}
	if len(values) == 0 {
		return nil
	}
	return &model.Condition{Field: condSourceIP, Values: values}
}

func orDefault64(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}
