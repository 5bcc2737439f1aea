package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/elbgateway/elbgateway/internal/model"
)

// oidcStack is an ALB whose HTTPS listener has one rule, authenticating with OIDC client
// "web" and the given secret before it forwards.
func oidcStack(t *testing.T, stack, suffix, vpcID string, subnets, certs []string) *model.Stack {
	t.Helper()
	s := albStack(stack, suffix, vpcID, subnets, certs)
	https := s.Listeners[1]
	https.Rules = https.Rules[:1]
	if https.Rules[0].Actions[0].AuthenticateOIDC == nil {
		t.Fatal("the first HTTPS rule of albStack no longer authenticates with OIDC")
	}
	s.Listeners = []model.Listener{https}
	return s
}

// setClientSecret gives the stack's OIDC action a secret and its fingerprint, as translate does.
func setClientSecret(s *model.Stack, secret string) string {
	o := s.Listeners[0].Rules[0].Actions[0].AuthenticateOIDC
	o.ClientSecret = model.NewSecret(secret)
	o.ClientSecretHash = model.OIDCClientSecretFingerprint(o.ClientID, o.ClientSecret)
	return o.ClientSecretHash
}

// observedOIDCRule is the stack's one HTTPS rule as observe sees it.
func observedOIDCRule(t *testing.T, c *Cloud, s *model.Stack) model.Rule {
	t.Helper()
	observed, err := c.Observe(context.Background(), s.ID, s.Type)
	if err != nil {
		t.Fatal(err)
	}
	if len(observed.Listeners) != 1 || len(observed.Listeners[0].Rules) != 1 {
		t.Fatalf("want one listener with one rule, observed %+v", observed.Listeners)
	}
	return observed.Listeners[0].Rules[0]
}

// ruleTag reads one tag of a rule straight from AWS; ok is false when the rule lacks it.
func ruleTag(t *testing.T, arn, key string) (string, bool) {
	t.Helper()
	_, elb := rawClients(t)
	resp, err := elb.DescribeTags(context.Background(), &elbv2.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.TagDescriptions {
		for _, tag := range d.Tags {
			if aws.ToString(tag.Key) == key {
				return aws.ToString(tag.Value), true
			}
		}
	}
	return "", false
}

// sentClientSecret is the client secret moto holds for a rule's OIDC action: unlike AWS, it
// returns what it was last sent, which shows that a write carried the secret.
func sentClientSecret(t *testing.T, arn string) string {
	t.Helper()
	_, elb := rawClients(t)
	resp, err := elb.DescribeRules(context.Background(), &elbv2.DescribeRulesInput{RuleArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.Rules {
		for _, a := range r.Actions {
			if a.AuthenticateOidcConfig != nil {
				return aws.ToString(a.AuthenticateOidcConfig.ClientSecret)
			}
		}
	}
	return ""
}

// TestOIDCClientSecretRotation: AWS never returns an OIDC client secret, so a rule is tagged
// with its fingerprint; observe reads it back, and a rotated secret is one ModifyRule (which
// sends it) and one tag write, after which the plan is empty again.
func TestOIDCClientSecretRotation(t *testing.T) {
	t.Parallel()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/web-oidc"
	desired := oidcStack(t, stack, "oidc", vpcID, subnets, []string{importTestCertificate(t, "oidc.example.com")})
	first := setClientSecret(desired, "first-secret")
	convergeALB(t, c, desired)

	r := observedOIDCRule(t, c, desired)
	if got := r.Actions[0].AuthenticateOIDC.ClientSecretHash; got != first {
		t.Errorf("observed fingerprint %q, want %q", got, first)
	}
	if _, ok := r.Tags[oidcSecretTagKey]; ok {
		t.Errorf("observed rule tags %v still hold the fingerprint tag", r.Tags)
	}
	if v, ok := ruleTag(t, r.ARN, oidcSecretTagKey); !ok || v != first {
		t.Errorf("rule tag %s = %q (%t), want %q", oidcSecretTagKey, v, ok, first)
	}
	if got := sentClientSecret(t, r.ARN); got != "first-secret" {
		t.Errorf("the rule's client secret in AWS is %q, want the first one", got)
	}

	t.Run("steady state writes nothing", func(t *testing.T) {
		_, writes := convergeALB(t, c, desired)
		wantWrites(t, "steady state", writes, map[string]int{})
	})

	t.Run("a rotated secret is one ModifyRule and one tag write", func(t *testing.T) {
		rotated := setClientSecret(desired, "rotated-secret")
		if rotated == first {
			t.Fatal("the fingerprint did not change with the secret")
		}
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "rotate", changes, []string{"update Rule 443:10"})
		wantWrites(t, "rotate", writes, map[string]int{"elbv2:ModifyRule": 1, "elbv2:AddTags": 1})
		if v, _ := ruleTag(t, r.ARN, oidcSecretTagKey); v != rotated {
			t.Errorf("rule tag %s = %q, want %q", oidcSecretTagKey, v, rotated)
		}
		if got := sentClientSecret(t, r.ARN); got != "rotated-secret" {
			t.Errorf("the rule's client secret in AWS is %q, want the rotated one", got)
		}
		if strings.Contains(lines(changes), "rotated-secret") {
			t.Errorf("the plan shows the secret:\n%s", lines(changes))
		}
		_, writes = convergeALB(t, c, desired)
		wantWrites(t, "after the rotation", writes, map[string]int{})
	})

	t.Run("a rule without the tag converges with one ModifyRule", func(t *testing.T) {
		_, elb := rawClients(t)
		if _, err := elb.RemoveTags(context.Background(), &elbv2.RemoveTagsInput{ResourceArns: []string{r.ARN}, TagKeys: []string{oidcSecretTagKey}}); err != nil {
			t.Fatal(err)
		}
		fresh, _ := newCloud(t, vpcID) // its tag cache has not seen the rule
		changes, writes := convergeALB(t, fresh, desired)
		wantOps(t, "untagged", changes, []string{"update Rule 443:10"})
		wantWrites(t, "untagged", writes, map[string]int{"elbv2:ModifyRule": 1, "elbv2:AddTags": 1})
		_, writes = convergeALB(t, fresh, desired)
		wantWrites(t, "tagged again", writes, map[string]int{})
	})

	t.Run("a rule that stops authenticating loses the tag", func(t *testing.T) {
		desired.Listeners[0].Rules[0].Actions = desired.Listeners[0].Rules[0].Actions[1:]
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "no more OIDC", changes, []string{"update Rule 443:10"})
		wantWrites(t, "no more OIDC", writes, map[string]int{"elbv2:ModifyRule": 1, "elbv2:RemoveTags": 1})
		if v, ok := ruleTag(t, r.ARN, oidcSecretTagKey); ok {
			t.Errorf("rule still tagged %s = %q", oidcSecretTagKey, v)
		}
	})

	t.Run("deleting the stack leaves nothing tagged", func(t *testing.T) {
		converge(t, c, &model.Stack{ID: stack, Type: model.Application})
		assertNothingTaggedFor(t, "gateway.k8s.aws.alb/stack", stack)
	})
}

// TestOIDCListenerDefaultActionRotation: a listener whose default actions authenticate with
// OIDC carries the fingerprint tag the same way.
func TestOIDCListenerDefaultActionRotation(t *testing.T) {
	t.Parallel()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/web-oidc-listener"
	desired := oidcStack(t, stack, "oidcl", vpcID, subnets, []string{importTestCertificate(t, "oidcl.example.com")})
	l := &desired.Listeners[0]
	first := setClientSecret(desired, "first-secret")
	l.DefaultActions = []model.Action{l.Rules[0].Actions[0], l.DefaultActions[0]}
	l.Rules = nil
	convergeALB(t, c, desired)
	observed, err := c.Observe(context.Background(), stack, model.Application)
	if err != nil {
		t.Fatal(err)
	}
	have := observed.Listeners[0]
	if got := have.DefaultActions[0].AuthenticateOIDC; got == nil || got.ClientSecretHash != first {
		t.Fatalf("observed default action %+v, want the fingerprint %q", got, first)
	}
	if v, ok := ruleTag(t, have.ARN, oidcSecretTagKey); !ok || v != first {
		t.Errorf("listener tag %s = %q (%t), want %q", oidcSecretTagKey, v, ok, first)
	}

	o := l.DefaultActions[0].AuthenticateOIDC
	o.ClientSecret = model.NewSecret("rotated-secret")
	o.ClientSecretHash = model.OIDCClientSecretFingerprint(o.ClientID, o.ClientSecret)
	changes, writes := convergeALB(t, c, desired)
	wantOps(t, "rotate", changes, []string{"update Listener 443"})
	wantWrites(t, "rotate", writes, map[string]int{"elbv2:ModifyListener": 1, "elbv2:AddTags": 1})
	if v, _ := ruleTag(t, have.ARN, oidcSecretTagKey); v != o.ClientSecretHash {
		t.Errorf("listener tag %s = %q, want %q", oidcSecretTagKey, v, o.ClientSecretHash)
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Application})
}

// TestSecretTagHelpers: the fingerprint tag goes onto the OIDC actions in order, is left among
// the tags when it fits none, and the tags given (the cache's) are never modified.
func TestSecretTagHelpers(t *testing.T) {
	oidc := func(id, secret string) model.Action {
		o := &model.AuthenticateOIDCAction{ClientID: id, ClientSecret: model.NewSecret(secret)}
		o.ClientSecretHash = model.OIDCClientSecretFingerprint(id, o.ClientSecret)
		return model.Action{Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: o}
	}
	two := []model.Action{oidc("a", "x"), forward(map[string]int32{"tg": 1}), oidc("b", "y")}
	base := model.Tags{"k": "v"}
	tagged := withSecretTag(base, two)
	if len(base) != 1 {
		t.Errorf("withSecretTag modified its input: %v", base)
	}
	want := two[0].AuthenticateOIDC.ClientSecretHash + "." + two[2].AuthenticateOIDC.ClientSecretHash
	if tagged[oidcSecretTagKey] != want || tagged["k"] != "v" {
		t.Errorf("withSecretTag = %v, want %s=%s", tagged, oidcSecretTagKey, want)
	}
	observed := []model.Action{{Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: &model.AuthenticateOIDCAction{ClientID: "a"}},
		forward(map[string]int32{"tg": 1}), {Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: &model.AuthenticateOIDCAction{ClientID: "b"}}}
	rest := takeSecretTag(tagged, observed)
	if _, ok := rest[oidcSecretTagKey]; ok || rest["k"] != "v" {
		t.Errorf("takeSecretTag left %v", rest)
	}
	if _, ok := tagged[oidcSecretTagKey]; !ok {
		t.Errorf("takeSecretTag modified its input")
	}
	if model.OIDCSecretFingerprints(observed) != want {
		t.Errorf("observed fingerprints %q, want %q", model.OIDCSecretFingerprints(observed), want)
	}
	// No OIDC action to take it: the tag stays, for the plan to remove.
	if left := takeSecretTag(tagged, []model.Action{forward(map[string]int32{"tg": 1})}); left[oidcSecretTagKey] != want {
		t.Errorf("a tag without OIDC actions: %v, want it kept", left)
	}
	// A secret the write does not send (UseExistingClientSecret) is not tagged.
	kept := []model.Action{{Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: &model.AuthenticateOIDCAction{ClientID: "a", ClientSecretHash: "0123456789abcdef"}}}
	if v := sentSecretFingerprints(kept); v != "" {
		t.Errorf("sentSecretFingerprints without a secret = %q, want none", v)
	}
}
