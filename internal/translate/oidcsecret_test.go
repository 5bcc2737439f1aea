package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// oidcAction returns the one authenticate-oidc action the snapshot translates to.
func oidcAction(t *testing.T, s *snapshot.Snapshot) *model.AuthenticateOIDCAction {
	t.Helper()
	stack, _ := Gateway(s)
	var found []*model.AuthenticateOIDCAction
	for _, l := range stack.Listeners {
		for _, r := range l.Rules {
			for _, a := range r.Actions {
				if a.AuthenticateOIDC != nil {
					found = append(found, a.AuthenticateOIDC)
				}
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one authenticate-oidc action, got %d", len(found))
	}
	return found[0]
}

// TestOIDCClientSecretFingerprint: the action carries a salted fingerprint of its client
// secret, which follows the secret (and the client ID), is not a plain hash of it, and is
// what the printed stack shows instead of the secret.
func TestOIDCClientSecretFingerprint(t *testing.T) {
	const key = "gateway-conformance-infra/oidc-client"
	withClient := func(id, secret string) *snapshot.Snapshot {
		s := loadSnapshot(t, filepath.Join("testdata", "LRCOIDCOnHTTPS"))
		if _, ok := s.OIDCSecrets[key]; !ok {
			t.Fatalf("the case no longer has the Secret %s", key)
		}
		s.OIDCSecrets[key] = snapshot.OIDCClient{ClientID: id, ClientSecret: secret}
		return s
	}
	const first, rotated = "first-client-secret", "rotated-client-secret"
	a := oidcAction(t, withClient("my-client", first))
	if a.ClientSecretHash != model.OIDCClientSecretFingerprint("my-client", model.NewSecret(first)) {
		t.Errorf("fingerprint %q, want OIDCClientSecretFingerprint of the client", a.ClientSecretHash)
	}
	if len(a.ClientSecretHash) != 16 || strings.Trim(a.ClientSecretHash, "0123456789abcdef") != "" {
		t.Errorf("fingerprint %q, want 16 lowercase hex digits", a.ClientSecretHash)
	}
	for _, plain := range []string{first, "my-client:" + first, "my-client" + first} {
		sum := sha256.Sum256([]byte(plain))
		if unsalted := hex.EncodeToString(sum[:]); strings.HasPrefix(unsalted, a.ClientSecretHash) {
			t.Errorf("fingerprint %q is the start of the unsalted sha256 of %q", a.ClientSecretHash, plain)
		}
	}

	b := oidcAction(t, withClient("my-client", rotated))
	if b.ClientSecretHash == a.ClientSecretHash || b.ClientSecret.Value() != rotated {
		t.Errorf("a rotated secret: fingerprint %q (was %q), want another one and the new secret", b.ClientSecretHash, a.ClientSecretHash)
	}
	if again := oidcAction(t, withClient("my-client", first)); again.ClientSecretHash != a.ClientSecretHash {
		t.Errorf("the same secret again: fingerprint %q, want %q", again.ClientSecretHash, a.ClientSecretHash)
	}
	if other := oidcAction(t, withClient("other-client", first)); other.ClientSecretHash == a.ClientSecretHash {
		t.Errorf("another client ID with the same secret: fingerprint %q unchanged", other.ClientSecretHash)
	}

	printed := string(translateYAML(t, withClient("my-client", rotated)))
	if strings.Contains(printed, rotated) {
		t.Errorf("the printed stack shows the client secret")
	}
	if !strings.Contains(printed, "clientSecretHash: "+b.ClientSecretHash) || !strings.Contains(printed, "clientSecret: "+model.Redacted) {
		t.Errorf("the printed stack does not show the fingerprint and the redacted secret:\n%s", printed)
	}
}
