package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// oidcFingerprintSalt keeps a fingerprint from being a plain hash of the secret.
const oidcFingerprintSalt = "elbgateway-oidc:"

// OIDCClientSecretFingerprint is a short, salted fingerprint of an OIDC client's secret: the
// first 16 hex digits of sha256("elbgateway-oidc:" + clientID + ":" + secret). It changes
// with the secret (and the client ID) and may be printed, tagged and compared; the secret
// cannot be read back from it. An unset secret has no fingerprint ("").
func OIDCClientSecretFingerprint(clientID string, secret Secret) string {
	if !secret.IsSet() {
		return ""
	}
	sum := sha256.Sum256([]byte(oidcFingerprintSalt + clientID + ":" + secret.Value()))
	return hex.EncodeToString(sum[:])[:16]
}

// OIDCSecretFingerprints joins the client secret fingerprints of the authenticate-oidc
// actions among actions, in their order, with "."; "" when there is none, or when one of them
// is unknown. It is what the plan compares and what apply tags a rule or listener with.
func OIDCSecretFingerprints(actions []Action) string {
	var out string
	for _, a := range actions {
		if a.AuthenticateOIDC == nil {
			continue
		}
		h := a.AuthenticateOIDC.ClientSecretHash
		if h == "" {
			return ""
		}
		if out != "" {
			out += "."
		}
		out += h
	}
	return out
}
