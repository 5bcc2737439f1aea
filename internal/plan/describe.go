package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
)

// The describe functions print values in a canonical form: equal values print equally, so the
// plan compares these strings, and reasons show them.

func describeRef(r model.Ref) string {
	if r.ID != "" {
		return r.ID
	}
	return r.External
}

func describeActions(actions []model.Action) string {
	parts := make([]string, 0, len(actions))
	for _, a := range actions {
		parts = append(parts, describeAction(a))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func describeAction(a model.Action) string {
	switch {
	case a.AuthenticateOIDC != nil:
		return describeOIDC(a.AuthenticateOIDC)
	case a.AuthenticateCognito != nil:
		return describeCognito(a.AuthenticateCognito)
	case a.JWTValidation != nil:
		return describeJWT(a.JWTValidation)
	case a.Forward != nil:
		tgs := make([]string, 0, len(a.Forward.TargetGroups))
		for _, t := range a.Forward.TargetGroups {
			tgs = append(tgs, describeRef(t.TargetGroup)+"="+strconv.Itoa(int(t.Weight)))
		}
		sort.Strings(tgs)
		s := "forward(" + strings.Join(tgs, ",")
		if st := a.Forward.Stickiness; st != nil && st.Enabled {
			s += fmt.Sprintf(";stickiness=%ds", st.DurationSeconds)
		}
		return s + ")"
	case a.FixedResponse != nil:
		f := a.FixedResponse
		return fmt.Sprintf("fixed-response(%s,%s,%q)", f.StatusCode, f.ContentType, f.MessageBody)
	case a.Redirect != nil:
		r := a.Redirect
		return fmt.Sprintf("redirect(%s,%s://%s:%s%s?%s)", r.StatusCode,
			orDefault(r.Protocol, "#{protocol}"), orDefault(r.Host, "#{host}"), orDefault(r.Port, "#{port}"),
			orDefault(r.Path, "/#{path}"), orDefault(r.Query, "#{query}"))
	default:
		return string(a.Type) + "()"
	}
}

func describeConditions(conds []model.Condition) string {
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		values := append([]string(nil), c.Values...)
		sort.Strings(values)
		s := c.Field
		if c.HeaderName != "" {
			s += "[" + strings.ToLower(c.HeaderName) + "]"
		}
		s += "(" + strings.Join(values, ",")
		if len(c.RegexValues) > 0 {
			regex := append([]string(nil), c.RegexValues...)
			sort.Strings(regex)
			s += ";regex=" + strings.Join(regex, ",")
		}
		if len(c.QueryValues) > 0 {
			kvs := make([]string, 0, len(c.QueryValues))
			for _, kv := range c.QueryValues {
				kvs = append(kvs, kv.Key+"="+kv.Value)
			}
			sort.Strings(kvs)
			s += ";query=" + strings.Join(kvs, ",")
		}
		parts = append(parts, s+")")
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

func describeTransforms(ts []model.Transform) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s(%q→%q)", t.Type, t.Regex, t.Replace))
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

func describeHealthCheck(h model.HealthCheck) string {
	s := fmt.Sprintf("%s:%s", h.Protocol, h.Port)
	if !h.Enabled {
		s = "disabled " + s
	}
	if h.Path != "" {
		s += h.Path
	}
	s += fmt.Sprintf(" every %ds timeout %ds healthy %d unhealthy %d", h.IntervalSeconds, h.TimeoutSeconds, h.HealthyThreshold, h.UnhealthyThreshold)
	if h.HTTPCode != "" {
		s += " http " + h.HTTPCode
	}
	if h.GRPCCode != "" {
		s += " grpc " + h.GRPCCode
	}
	return s
}

func describeTags(add model.Tags, remove []string) string {
	keys := make([]string, 0, len(add))
	for k := range add {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+len(remove))
	for _, k := range keys {
		parts = append(parts, "+"+k+"="+add[k])
	}
	for _, k := range remove {
		parts = append(parts, "-"+k)
	}
	return "tags " + strings.Join(parts, " ")
}

func describeIngress(add, revoke []model.IngressRule) string {
	parts := make([]string, 0, len(add)+len(revoke))
	for _, r := range add {
		parts = append(parts, "+"+ingressKey(r))
	}
	for _, r := range revoke {
		parts = append(parts, "-"+ingressKey(r))
	}
	return "ingress " + strings.Join(parts, " ")
}

func describeAttributes(set, observed map[string]string) string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		have, ok := observed[k]
		if !ok {
			have = "unset"
		}
		parts = append(parts, k+" "+have+" → "+set[k])
	}
	return "attributes " + strings.Join(parts, ", ")
}

func describeSetChange(name string, add, remove []string) string {
	parts := make([]string, 0, len(add)+len(remove))
	for _, s := range add {
		parts = append(parts, "+"+s)
	}
	for _, s := range remove {
		parts = append(parts, "-"+s)
	}
	return name + " " + strings.Join(parts, " ")
}

// AWS's defaults of the authenticate actions, which it returns when they were left out.
const (
	defaultAuthScope           = "openid"
	defaultAuthSessionCookie   = "AWSELBAuthSessionCookie"
	defaultAuthSessionTimeout  = 604800
	defaultAuthOnUnauthRequest = "authenticate"
)

// describeOIDC prints the action without its client secret: AWS never returns it, so it cannot
// be compared (apply sends it with every write of the rule). Its fingerprint is compared on
// its own (secretChange).
func describeOIDC(o *model.AuthenticateOIDCAction) string {
	return fmt.Sprintf("authenticate-oidc(issuer=%s,authorization=%s,token=%s,userInfo=%s,client=%s,%s)",
		o.Issuer, o.AuthorizationEndpoint, o.TokenEndpoint, o.UserInfoEndpoint, o.ClientID,
		describeSession(o.Scope, o.SessionCookieName, o.SessionTimeout, o.OnUnauthenticatedRequest, o.AuthenticationRequestExtraParams))
}

func describeCognito(c *model.AuthenticateCognitoAction) string {
	return fmt.Sprintf("authenticate-cognito(pool=%s,client=%s,domain=%s,%s)", c.UserPoolARN, c.UserPoolClientID, c.UserPoolDomain,
		describeSession(c.Scope, c.SessionCookieName, c.SessionTimeout, c.OnUnauthenticatedRequest, c.AuthenticationRequestExtraParams))
}

func describeSession(scope, cookie string, timeout int64, onUnauth string, params map[string]string) string {
	if timeout == 0 {
		timeout = defaultAuthSessionTimeout
	}
	s := fmt.Sprintf("scope=%s,cookie=%s,timeout=%d,unauthenticated=%s", orDefault(scope, defaultAuthScope),
		orDefault(cookie, defaultAuthSessionCookie), timeout, orDefault(onUnauth, defaultAuthOnUnauthRequest))
	if len(params) > 0 {
		kvs := make([]string, 0, len(params))
		for k, v := range params {
			kvs = append(kvs, k+"="+v)
		}
		sort.Strings(kvs)
		s += ",params=" + strings.Join(kvs, "&")
	}
	return s
}

func describeJWT(j *model.JWTValidationAction) string {
	claims := make([]string, 0, len(j.AdditionalClaims))
	for _, c := range j.AdditionalClaims {
		values := append([]string(nil), c.Values...)
		sort.Strings(values)
		claims = append(claims, c.Name+":"+c.Format+"="+strings.Join(values, "|"))
	}
	sort.Strings(claims)
	return fmt.Sprintf("jwt-validation(issuer=%s,jwks=%s,claims=[%s])", j.Issuer, j.JWKSEndpoint, strings.Join(claims, ","))
}

// describeMutualAuth prints an HTTPS listener's mTLS setting; none is mode off. A trust store
// is compared by name, which is what a desired name and an observed ARN share.
func describeMutualAuth(m *model.MutualAuthentication) string {
	if m == nil || m.Mode == "" || m.Mode == "off" {
		return "off"
	}
	if m.Mode != "verify" {
		return m.Mode
	}
	return fmt.Sprintf("verify(trustStore=%s,ignoreExpiry=%t,advertiseCANames=%s)", trustStoreName(m.TrustStore),
		m.IgnoreClientCertificateExpiry, orDefault(m.AdvertiseTrustStoreCANames, "off"))
}

// trustStoreName returns the name of a trust store given by name or by ARN
// (arn:aws:elasticloadbalancing:REGION:ACCOUNT:truststore/NAME/ID).
func trustStoreName(nameOrARN string) string {
	if !strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	_, rest, ok := strings.Cut(nameOrARN, ":truststore/")
	if !ok {
		return nameOrARN
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}
