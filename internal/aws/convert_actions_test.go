package aws

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

func testTGRef(r model.Ref) (string, error) {
	if r.External != "" {
		return r.External, nil
	}
	return "arn:tg/" + r.ID, nil
}

// TestConditionsRoundTrip converts every condition type to the SDK and back, the way AWS
// returns them (moto cannot hold regex-only conditions, so they are covered here).
func TestConditionsRoundTrip(t *testing.T) {
	conds := []model.Condition{
		{Field: "host-header", Values: []string{"a.example.com"}},
		{Field: "host-header", RegexValues: []string{"^(.+)\\.example\\.com$"}},
		{Field: "path-pattern", Values: []string{"/shop*"}},
		{Field: "path-pattern", RegexValues: []string{"^/api/v[0-9]+/.*$"}},
		{Field: "http-header", HeaderName: "x-env", Values: []string{"canary"}},
		{Field: "http-header", HeaderName: "user-agent", RegexValues: []string{".*Mobile.*"}},
		{Field: "query-string", QueryValues: []model.KeyValue{{Key: "version", Value: "2"}, {Value: "beta"}}},
		{Field: "http-request-method", Values: []string{"GET", "POST"}},
		{Field: "source-ip", Values: []string{"10.0.0.0/8"}},
	}
	sdk := toConditions(conds)
	if sdk[1].HostHeaderConfig == nil || len(sdk[1].HostHeaderConfig.Values) != 0 || sdk[1].HostHeaderConfig.RegexValues[0] != conds[1].RegexValues[0] {
		t.Errorf("regex host-header sent as %+v", sdk[1].HostHeaderConfig)
	}
	for i, c := range sdk {
		if c.Values != nil {
			t.Errorf("condition %d (%s) sends top-level Values; AWS wants the typed config", i, aws.ToString(c.Field))
		}
	}
	if got := fromConditions(sdk); !reflect.DeepEqual(got, conds) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, conds)
	}
}

// TestActionsRoundTrip converts every action type to the SDK and back; only the OIDC secret,
// which AWS never returns, is lost.
func TestActionsRoundTrip(t *testing.T) {
	const secret = "oidc-secret-value"
	oidc := &model.AuthenticateOIDCAction{Issuer: "https://idp", AuthorizationEndpoint: "https://idp/a", TokenEndpoint: "https://idp/t",
		UserInfoEndpoint: "https://idp/u", ClientID: "web", ClientSecret: model.NewSecret(secret), Scope: "openid email",
		SessionCookieName: "c", SessionTimeout: 60, OnUnauthenticatedRequest: "deny", AuthenticationRequestExtraParams: map[string]string{"prompt": "login"}}
	actions := []model.Action{
		{Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: oidc},
		{Type: model.ActionAuthenticateCognito, AuthenticateCognito: &model.AuthenticateCognitoAction{UserPoolARN: "arn:pool", UserPoolClientID: "client",
			UserPoolDomain: "dom", Scope: "openid", SessionCookieName: "k", SessionTimeout: 30, OnUnauthenticatedRequest: "allow"}},
		{Type: model.ActionJWTValidation, JWTValidation: &model.JWTValidationAction{Issuer: "https://idp", JWKSEndpoint: "https://idp/jwks",
			AdditionalClaims: []model.JWTClaim{{Format: "string-array", Name: "groups", Values: []string{"admin"}}}}},
		{Type: model.ActionForward, Forward: &model.ForwardAction{TargetGroups: []model.WeightedTargetGroup{
			{TargetGroup: model.Ref{External: "arn:tg/other"}, Weight: 20}, {TargetGroup: model.Ref{ID: "a"}, Weight: 80}},
			Stickiness: &model.Stickiness{Enabled: true, DurationSeconds: 3600}}},
	}
	routing := []model.Action{
		{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{StatusCode: "503", ContentType: "text/plain", MessageBody: "down"}},
		{Type: model.ActionRedirect, Redirect: &model.RedirectAction{Protocol: "HTTPS", Host: "h", Port: "443", Path: "/p", Query: "q", StatusCode: "HTTP_302"}},
	}
	for _, list := range [][]model.Action{actions, routing} {
		sdk, err := toActions(list, testTGRef, secretRequired)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range sdk {
			if aws.ToInt32(a.Order) != int32(i+1) {
				t.Errorf("action %d has order %d", i, aws.ToInt32(a.Order))
			}
		}
		got := fromActions(sdk, refIndex{"arn:tg/a": "a"})
		want := clone(t, list)
		for _, a := range want {
			if a.AuthenticateOIDC != nil {
				a.AuthenticateOIDC.ClientSecret = model.Secret{}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %s\nwant %s", dump(got), dump(want))
		}
	}
}

func clone(t *testing.T, actions []model.Action) []model.Action {
	t.Helper()
	out := make([]model.Action, len(actions))
	for i, a := range actions {
		if a.AuthenticateOIDC != nil {
			o := *a.AuthenticateOIDC
			a.AuthenticateOIDC = &o
		}
		out[i] = a
	}
	return out
}

func dump(actions []model.Action) string {
	s := ""
	for _, a := range actions {
		s += fmt.Sprintf("%s %+v %+v %+v %+v %+v %+v\n", a.Type, a.Forward, a.FixedResponse, a.Redirect, a.AuthenticateOIDC, a.AuthenticateCognito, a.JWTValidation)
	}
	return s
}

// TestOIDCSecretUse: a create sends the secret and refuses to go without one; a modify sends
// the secret it has, or keeps AWS's (UseExistingClientSecret); no error message shows it.
func TestOIDCSecretUse(t *testing.T) {
	action := func(secret string) []model.Action {
		return []model.Action{{Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: &model.AuthenticateOIDCAction{
			Issuer: "https://idp", AuthorizationEndpoint: "https://idp/a", TokenEndpoint: "https://idp/t", UserInfoEndpoint: "https://idp/u",
			ClientID: "web", ClientSecret: model.NewSecret(secret)}}}
	}
	cfg := func(a []elbtypes.Action) *elbtypes.AuthenticateOidcActionConfig { return a[0].AuthenticateOidcConfig }

	created, err := toActions(action("s3cret"), testTGRef, secretRequired)
	if err != nil || aws.ToString(cfg(created).ClientSecret) != "s3cret" || cfg(created).UseExistingClientSecret != nil {
		t.Errorf("create with secret: %+v, %v", cfg(created), err)
	}
	if _, err := toActions(action(""), testTGRef, secretRequired); !errors.Is(err, errNoClientSecret) {
		t.Errorf("create without secret: want errNoClientSecret, got %v", err)
	}
	modified, err := toActions(action(""), testTGRef, secretOrExisting)
	if err != nil || cfg(modified).ClientSecret != nil || !aws.ToBool(cfg(modified).UseExistingClientSecret) {
		t.Errorf("modify without secret: want UseExistingClientSecret, got %+v, %v", cfg(modified), err)
	}
	modified, err = toActions(action("n3w"), testTGRef, secretOrExisting)
	if err != nil || aws.ToString(cfg(modified).ClientSecret) != "n3w" || aws.ToBool(cfg(modified).UseExistingClientSecret) {
		t.Errorf("modify with secret: want it sent, got %+v, %v", cfg(modified), err)
	}
}

func TestTransformsRoundTrip(t *testing.T) {
	ts := []model.Transform{
		{Type: "host-header-rewrite", Regex: "^(.*)$", Replace: "internal.example.com"},
		{Type: "url-rewrite", Regex: "^/api/(.*)$", Replace: "/$1"},
	}
	sdk := toTransforms(ts)
	if sdk[0].HostHeaderRewriteConfig == nil || sdk[1].UrlRewriteConfig == nil {
		t.Fatalf("transforms sent as %+v", sdk)
	}
	if got := fromTransforms(sdk); !reflect.DeepEqual(got, ts) {
		t.Errorf("round trip: got %+v, want %+v", got, ts)
	}
}

// TestMutualAuthenticationRoundTrip: a trust store given by ARN is written as it is, and what
// AWS returns (with the ARN) plans no change against a desired trust store name.
func TestMutualAuthenticationRoundTrip(t *testing.T) {
	const arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:truststore/clients/0123456789abcdef"
	l := &model.Listener{Port: 443, Protocol: "HTTPS", MutualAuthentication: &model.MutualAuthentication{Mode: "verify", TrustStore: arn, IgnoreClientCertificateExpiry: true}}
	c := &Cloud{}
	sdk, err := c.mutualAuthentication(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(sdk.Mode) != "verify" || aws.ToString(sdk.TrustStoreArn) != arn || !aws.ToBool(sdk.IgnoreClientCertificateExpiry) {
		t.Errorf("sent %+v", sdk)
	}
	sdk.AdvertiseTrustStoreCaNames = elbtypes.AdvertiseTrustStoreCaNamesEnumOff
	observed := *l
	observed.MutualAuthentication = fromMutualAuthentication(sdk)
	desired := *l
	desired.MutualAuthentication = &model.MutualAuthentication{Mode: "verify", TrustStore: "clients", IgnoreClientCertificateExpiry: true}
	stack := func(l model.Listener) *model.Stack {
		return &model.Stack{ID: "a/b", Type: model.Application, LoadBalancer: &model.LoadBalancer{Name: "lb"}, Listeners: []model.Listener{l}}
	}
	if changes := plan.Diff(stack(desired), stack(observed)); len(changes) != 0 {
		t.Errorf("want no changes, got\n%s", lines(changes))
	}
	if sdk, _ := c.mutualAuthentication(t.Context(), &model.Listener{Protocol: "HTTP", MutualAuthentication: l.MutualAuthentication}); sdk != nil {
		t.Errorf("an HTTP listener got mTLS %+v", sdk)
	}
}

// Disabled stickiness is not sent: it is AWS's default, and a Network Load Balancer refuses the
// setting even disabled.
func TestDisabledStickinessIsNotSent(t *testing.T) {
	arn := func(model.Ref) (string, error) { return "arn:tg", nil }
	fc, err := toForward(&model.ForwardAction{Stickiness: &model.Stickiness{},
		TargetGroups: []model.WeightedTargetGroup{{TargetGroup: model.Ref{ID: "tg"}, Weight: 1}}}, arn)
	if err != nil {
		t.Fatal(err)
	}
	if fc.TargetGroupStickinessConfig != nil {
		t.Errorf("disabled stickiness sent as %+v", fc.TargetGroupStickinessConfig)
	}
	fc, err = toForward(&model.ForwardAction{Stickiness: &model.Stickiness{Enabled: true, DurationSeconds: 60},
		TargetGroups: []model.WeightedTargetGroup{{TargetGroup: model.Ref{ID: "tg"}, Weight: 1}}}, arn)
	if err != nil {
		t.Fatal(err)
	}
	if s := fc.TargetGroupStickinessConfig; s == nil || !*s.Enabled || *s.DurationSeconds != 60 {
		t.Errorf("enabled stickiness sent as %+v", s)
	}
}
