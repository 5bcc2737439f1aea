package aws

import (
	"errors"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Conversions of listener and rule actions between the model and the SDK.

// secretUse says how a write carries an OIDC client secret, which AWS never returns.
type secretUse int

const (
	// secretRequired: creating a rule or listener needs the secret.
	secretRequired secretUse = iota
	// secretOrExisting: a modify sends the desired secret, or keeps the one AWS holds
	// (UseExistingClientSecret) when the model carries none.
	secretOrExisting
)

// errNoClientSecret is returned when an authenticate-oidc action is created without a secret.
var errNoClientSecret = errors.New("authenticate-oidc action has no client secret: set clientSecret in the secret the ListenerRuleConfiguration's authenticateOIDCConfig names")

func toActions(actions []model.Action, tg func(model.Ref) (string, error), secret secretUse) ([]elbtypes.Action, error) {
	out := make([]elbtypes.Action, 0, len(actions))
	for i, a := range actions {
		e := elbtypes.Action{Type: elbtypes.ActionTypeEnum(a.Type), Order: aws.Int32(int32(i + 1))}
		switch {
		case a.AuthenticateOIDC != nil:
			cfg, err := toOIDC(a.AuthenticateOIDC, secret)
			if err != nil {
				return nil, err
			}
			e.AuthenticateOidcConfig = cfg
		case a.AuthenticateCognito != nil:
			e.AuthenticateCognitoConfig = toCognito(a.AuthenticateCognito)
		case a.JWTValidation != nil:
			e.JwtValidationConfig = toJWT(a.JWTValidation)
		case a.Forward != nil:
			fc, err := toForward(a.Forward, tg)
			if err != nil {
				return nil, err
			}
			e.ForwardConfig = fc
		case a.FixedResponse != nil:
			e.FixedResponseConfig = &elbtypes.FixedResponseActionConfig{StatusCode: aws.String(a.FixedResponse.StatusCode),
				ContentType: optional(a.FixedResponse.ContentType), MessageBody: optional(a.FixedResponse.MessageBody)}
		case a.Redirect != nil:
			r := a.Redirect
			e.RedirectConfig = &elbtypes.RedirectActionConfig{StatusCode: elbtypes.RedirectActionStatusCodeEnum(r.StatusCode),
				Protocol: optional(r.Protocol), Host: optional(r.Host), Port: optional(r.Port), Path: optional(r.Path), Query: optional(r.Query)}
		}
		out = append(out, e)
	}
	return out, nil
}

func toForward(f *model.ForwardAction, tg func(model.Ref) (string, error)) (*elbtypes.ForwardActionConfig, error) {
	fc := &elbtypes.ForwardActionConfig{}
	for _, w := range f.TargetGroups {
		arn, err := tg(w.TargetGroup)
		if err != nil {
			return nil, err
		}
		fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(w.Weight)})
	}
	// Disabled stickiness is AWS's default, and a Network Load Balancer refuses the setting even
	// disabled ("Target group stickiness is not supported for load balancers of type
	// 'network'"): only enabled stickiness is sent. Observe reads disabled as none.
	if s := f.Stickiness; s != nil && s.Enabled {
		fc.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true)}
		if s.DurationSeconds > 0 {
			fc.TargetGroupStickinessConfig.DurationSeconds = aws.Int32(s.DurationSeconds)
		}
	}
	return fc, nil
}

func toOIDC(o *model.AuthenticateOIDCAction, secret secretUse) (*elbtypes.AuthenticateOidcActionConfig, error) {
	cfg := &elbtypes.AuthenticateOidcActionConfig{
		Issuer:                           aws.String(o.Issuer),
		AuthorizationEndpoint:            aws.String(o.AuthorizationEndpoint),
		TokenEndpoint:                    aws.String(o.TokenEndpoint),
		UserInfoEndpoint:                 aws.String(o.UserInfoEndpoint),
		ClientId:                         aws.String(o.ClientID),
		Scope:                            optional(o.Scope),
		SessionCookieName:                optional(o.SessionCookieName),
		OnUnauthenticatedRequest:         elbtypes.AuthenticateOidcActionConditionalBehaviorEnum(o.OnUnauthenticatedRequest),
		AuthenticationRequestExtraParams: maps.Clone(o.AuthenticationRequestExtraParams),
	}
	if o.SessionTimeout > 0 {
		cfg.SessionTimeout = aws.Int64(o.SessionTimeout)
	}
	switch {
	case o.ClientSecret.IsSet():
		cfg.ClientSecret = aws.String(o.ClientSecret.Value())
	case secret == secretOrExisting:
		cfg.UseExistingClientSecret = aws.Bool(true)
	default:
		return nil, errNoClientSecret
	}
	return cfg, nil
}

func toCognito(c *model.AuthenticateCognitoAction) *elbtypes.AuthenticateCognitoActionConfig {
	cfg := &elbtypes.AuthenticateCognitoActionConfig{
		UserPoolArn:                      aws.String(c.UserPoolARN),
		UserPoolClientId:                 aws.String(c.UserPoolClientID),
		UserPoolDomain:                   aws.String(c.UserPoolDomain),
		Scope:                            optional(c.Scope),
		SessionCookieName:                optional(c.SessionCookieName),
		OnUnauthenticatedRequest:         elbtypes.AuthenticateCognitoActionConditionalBehaviorEnum(c.OnUnauthenticatedRequest),
		AuthenticationRequestExtraParams: maps.Clone(c.AuthenticationRequestExtraParams),
	}
	if c.SessionTimeout > 0 {
		cfg.SessionTimeout = aws.Int64(c.SessionTimeout)
	}
	return cfg
}

func toJWT(j *model.JWTValidationAction) *elbtypes.JwtValidationActionConfig {
	cfg := &elbtypes.JwtValidationActionConfig{Issuer: aws.String(j.Issuer), JwksEndpoint: aws.String(j.JWKSEndpoint)}
	for _, c := range j.AdditionalClaims {
		cfg.AdditionalClaims = append(cfg.AdditionalClaims, elbtypes.JwtValidationActionAdditionalClaim{
			Format: elbtypes.JwtValidationActionAdditionalClaimFormatEnum(c.Format), Name: aws.String(c.Name), Values: slices.Clone(c.Values)})
	}
	return cfg
}

// fromActions converts actions AWS returned, in their order. An OIDC action comes back
// without its client secret.
func fromActions(actions []elbtypes.Action, refs refIndex) []model.Action {
	sorted := slices.Clone(actions)
	slices.SortStableFunc(sorted, func(a, b elbtypes.Action) int { return int(aws.ToInt32(a.Order)) - int(aws.ToInt32(b.Order)) })
	out := make([]model.Action, 0, len(sorted))
	for _, a := range sorted {
		m := model.Action{Type: model.ActionType(a.Type)}
		switch a.Type {
		case elbtypes.ActionTypeEnumForward:
			m.Forward = fromForward(a, refs)
		case elbtypes.ActionTypeEnumFixedResponse:
			if f := a.FixedResponseConfig; f != nil {
				m.FixedResponse = &model.FixedResponseAction{StatusCode: aws.ToString(f.StatusCode), ContentType: aws.ToString(f.ContentType), MessageBody: aws.ToString(f.MessageBody)}
			}
		case elbtypes.ActionTypeEnumRedirect:
			if r := a.RedirectConfig; r != nil {
				m.Redirect = &model.RedirectAction{Protocol: aws.ToString(r.Protocol), Host: aws.ToString(r.Host), Port: aws.ToString(r.Port),
					Path: aws.ToString(r.Path), Query: aws.ToString(r.Query), StatusCode: string(r.StatusCode)}
			}
		case elbtypes.ActionTypeEnumAuthenticateOidc:
			m.AuthenticateOIDC = fromOIDC(a.AuthenticateOidcConfig)
		case elbtypes.ActionTypeEnumAuthenticateCognito:
			m.AuthenticateCognito = fromCognito(a.AuthenticateCognitoConfig)
		case elbtypes.ActionTypeEnumJwtValidation:
			m.JWTValidation = fromJWT(a.JwtValidationConfig)
		}
		out = append(out, m)
	}
	return out
}

func fromForward(a elbtypes.Action, refs refIndex) *model.ForwardAction {
	f := &model.ForwardAction{}
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		for _, t := range a.ForwardConfig.TargetGroups {
			w := int32(1)
			if t.Weight != nil {
				w = *t.Weight
			}
			f.TargetGroups = append(f.TargetGroups, model.WeightedTargetGroup{TargetGroup: refs.ref(aws.ToString(t.TargetGroupArn)), Weight: w})
		}
		if s := a.ForwardConfig.TargetGroupStickinessConfig; s != nil && aws.ToBool(s.Enabled) {
			f.Stickiness = &model.Stickiness{Enabled: true, DurationSeconds: aws.ToInt32(s.DurationSeconds)}
		}
	} else if a.TargetGroupArn != nil {
		f.TargetGroups = []model.WeightedTargetGroup{{TargetGroup: refs.ref(*a.TargetGroupArn), Weight: 1}}
	}
	slices.SortFunc(f.TargetGroups, func(a, b model.WeightedTargetGroup) int { return compareRefs(a.TargetGroup, b.TargetGroup) })
	return f
}

func fromOIDC(c *elbtypes.AuthenticateOidcActionConfig) *model.AuthenticateOIDCAction {
	if c == nil {
		return nil
	}
	return &model.AuthenticateOIDCAction{
		Issuer:                           aws.ToString(c.Issuer),
		AuthorizationEndpoint:            aws.ToString(c.AuthorizationEndpoint),
		TokenEndpoint:                    aws.ToString(c.TokenEndpoint),
		UserInfoEndpoint:                 aws.ToString(c.UserInfoEndpoint),
		ClientID:                         aws.ToString(c.ClientId),
		Scope:                            aws.ToString(c.Scope),
		SessionCookieName:                aws.ToString(c.SessionCookieName),
		SessionTimeout:                   aws.ToInt64(c.SessionTimeout),
		OnUnauthenticatedRequest:         string(c.OnUnauthenticatedRequest),
		AuthenticationRequestExtraParams: emptyToNil(c.AuthenticationRequestExtraParams),
	}
}

func fromCognito(c *elbtypes.AuthenticateCognitoActionConfig) *model.AuthenticateCognitoAction {
	if c == nil {
		return nil
	}
	return &model.AuthenticateCognitoAction{
		UserPoolARN:                      aws.ToString(c.UserPoolArn),
		UserPoolClientID:                 aws.ToString(c.UserPoolClientId),
		UserPoolDomain:                   aws.ToString(c.UserPoolDomain),
		Scope:                            aws.ToString(c.Scope),
		SessionCookieName:                aws.ToString(c.SessionCookieName),
		SessionTimeout:                   aws.ToInt64(c.SessionTimeout),
		OnUnauthenticatedRequest:         string(c.OnUnauthenticatedRequest),
		AuthenticationRequestExtraParams: emptyToNil(c.AuthenticationRequestExtraParams),
	}
}

func fromJWT(c *elbtypes.JwtValidationActionConfig) *model.JWTValidationAction {
	if c == nil {
		return nil
	}
	j := &model.JWTValidationAction{Issuer: aws.ToString(c.Issuer), JWKSEndpoint: aws.ToString(c.JwksEndpoint)}
	for _, claim := range c.AdditionalClaims {
		j.AdditionalClaims = append(j.AdditionalClaims, model.JWTClaim{Format: string(claim.Format), Name: aws.ToString(claim.Name), Values: claim.Values})
	}
	return j
}

func emptyToNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
