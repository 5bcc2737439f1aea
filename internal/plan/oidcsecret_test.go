package plan

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

// oidcCase loads a golden case whose HTTPS listener has one authenticate-oidc rule, and
// returns that rule of each side.
func oidcCase(t *testing.T, name string) (desired, observed *model.Stack, want, have *model.Rule) {
	t.Helper()
	dir := filepath.Join("testdata", name)
	desired, observed = loadStack(t, filepath.Join(dir, "desired.yaml")), loadStack(t, filepath.Join(dir, "observed.yaml"))
	find := func(s *model.Stack) *model.Rule {
		for i := range s.Listeners {
			for j := range s.Listeners[i].Rules {
				for _, a := range s.Listeners[i].Rules[j].Actions {
					if a.AuthenticateOIDC != nil {
						return &s.Listeners[i].Rules[j]
					}
				}
			}
		}
		t.Fatalf("%s: no authenticate-oidc rule", name)
		return nil
	}
	return desired, observed, find(desired), find(observed)
}

// TestOIDCSecretRotatedIsOneModify: a rotated client secret, which AWS never returns, is one
// in-place modify of its rule (carrying the new secret), not a no-op and not a replacement;
// a rule observed without a fingerprint is modified once the same way.
func TestOIDCSecretRotatedIsOneModify(t *testing.T) {
	for _, name := range []string{"oidc-secret-rotated", "oidc-secret-untagged"} {
		t.Run(name, func(t *testing.T) {
			desired, observed, want, have := oidcCase(t, name)
			changes := Diff(desired, observed)
			if len(changes) != 1 {
				t.Fatalf("want one change, got\n%s", render(changes))
			}
			c := changes[0]
			if c.Op != OpUpdate || c.Kind != KindRule || c.Observed.Rule == nil || c.Observed.Rule.ARN != have.ARN ||
				!c.Update.Has(FieldRule) || c.Update.Has(FieldTags) {
				t.Fatalf("want a modify of rule %s, got %s (%v)", have.ARN, c, c.Update.Fields)
			}
			if got := c.Desired.Rule.Actions[0].AuthenticateOIDC; got == nil || !got.ClientSecret.IsSet() ||
				got.ClientSecret.Value() != want.Actions[0].AuthenticateOIDC.ClientSecret.Value() {
				t.Errorf("the modify does not carry the desired client secret")
			}
			if strings.Contains(c.String(), want.Actions[0].AuthenticateOIDC.ClientSecret.Value()) {
				t.Errorf("the change shows the client secret: %s", c)
			}
			// Once applied, AWS's rule carries the new fingerprint: nothing is left to do.
			have.Actions[0].AuthenticateOIDC.ClientSecretHash = want.Actions[0].AuthenticateOIDC.ClientSecretHash
			if rest := Diff(desired, observed); len(rest) != 0 {
				t.Errorf("after the modify: want no changes, got\n%s", render(rest))
			}
		})
	}
}

// TestOIDCSecretRotatedWhileMoving: a rule whose secret rotates while it moves to another
// priority is still the same rule: one priority move and one modify, nothing created.
func TestOIDCSecretRotatedWhileMoving(t *testing.T) {
	desired, observed, want, _ := oidcCase(t, "oidc-secret-rotated")
	want.Priority += 5
	want.Tags = nil
	for i := range observed.Listeners {
		for j := range observed.Listeners[i].Rules {
			observed.Listeners[i].Rules[j].Tags = nil
		}
	}
	for i := range desired.Listeners {
		for j := range desired.Listeners[i].Rules {
			desired.Listeners[i].Rules[j].Tags = nil
		}
	}
	desired.Sort()
	var got []string
	for _, c := range Diff(desired, observed) {
		got = append(got, string(c.Op)+" "+string(c.Kind))
	}
	if strings.Join(got, ",") != "update RulePriorities,update Rule" {
		t.Errorf("changes %v, want a priority move and one rule modify", got)
	}
}

// TestOIDCSecretUnknownIsNotCompared: a desired action without a fingerprint (its secret is
// not known to the model) plans nothing against an observed one that has one.
func TestOIDCSecretUnknownIsNotCompared(t *testing.T) {
	desired, observed, want, _ := oidcCase(t, "unchanged-alb-every-feature")
	want.Actions[0].AuthenticateOIDC.ClientSecretHash = ""
	if changes := Diff(desired, observed); len(changes) != 0 {
		t.Errorf("want no changes, got\n%s", render(changes))
	}
}
