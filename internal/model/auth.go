package model

import "encoding/json"

// Secret is a value that must reach AWS but never a log, a plan or a golden file: it prints
// as "REDACTED" and its value is read with Value.
type Secret struct {
	value string
}

// NewSecret wraps a secret value.
func NewSecret(value string) Secret { return Secret{value: value} }

// Value returns the secret, for the one AWS call that needs it.
func (s Secret) Value() string { return s.value }

// IsSet says whether the secret holds a value.
func (s Secret) IsSet() bool { return s.value != "" }

// Redacted is what a set Secret prints as.
const Redacted = "REDACTED"

// MarshalJSON prints a set secret as "REDACTED" and an unset one as "".
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.value == "" {
		return json.Marshal("")
	}
	return json.Marshal(Redacted)
}

// UnmarshalJSON reads a string; a printed "REDACTED" reads back as that text, not the secret.
func (s *Secret) UnmarshalJSON(data []byte) error {
	return json.Unmarshal(data, &s.value)
}

// String keeps the secret out of fmt output.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return Redacted
}

// GoString keeps the secret out of %#v output.
func (s Secret) GoString() string { return `model.Secret{"` + s.String() + `"}` }

// AuthenticateOIDCAction authenticates users through an OpenID Connect identity provider
// before the rule's routing action.
type AuthenticateOIDCAction struct {
	Issuer                           string            `json:"issuer"`
	AuthorizationEndpoint            string            `json:"authorizationEndpoint"`
	TokenEndpoint                    string            `json:"tokenEndpoint"`
	UserInfoEndpoint                 string            `json:"userInfoEndpoint"`
	ClientID                         string            `json:"clientID"`
	ClientSecret                     Secret            `json:"clientSecret"`
	Scope                            string            `json:"scope,omitempty"`
	SessionCookieName                string            `json:"sessionCookieName,omitempty"`
	SessionTimeout                   int64             `json:"sessionTimeout,omitempty"`
	OnUnauthenticatedRequest         string            `json:"onUnauthenticatedRequest,omitempty"`
	AuthenticationRequestExtraParams map[string]string `json:"authenticationRequestExtraParams,omitempty"`
	// ClientSecretHash identifies the client secret without showing it
	// (OIDCClientSecretFingerprint). AWS never returns the secret, so the fingerprint is what
	// the plan compares: desired, translate sets it; observed, it is read back from the tag
	// apply writes next to the action. Empty: unknown.
	ClientSecretHash string `json:"clientSecretHash,omitempty"`
}

// AuthenticateCognitoAction authenticates users through an Amazon Cognito user pool before the
// rule's routing action.
type AuthenticateCognitoAction struct {
	UserPoolARN                      string            `json:"userPoolARN"`
	UserPoolClientID                 string            `json:"userPoolClientID"`
	UserPoolDomain                   string            `json:"userPoolDomain"`
	Scope                            string            `json:"scope,omitempty"`
	SessionCookieName                string            `json:"sessionCookieName,omitempty"`
	SessionTimeout                   int64             `json:"sessionTimeout,omitempty"`
	OnUnauthenticatedRequest         string            `json:"onUnauthenticatedRequest,omitempty"`
	AuthenticationRequestExtraParams map[string]string `json:"authenticationRequestExtraParams,omitempty"`
}

// JWTClaim is a claim a validated token must carry.
type JWTClaim struct {
	Format string   `json:"format"`
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// JWTValidationAction validates a bearer token before the rule's routing action.
type JWTValidationAction struct {
	Issuer           string     `json:"issuer"`
	JWKSEndpoint     string     `json:"jwksEndpoint"`
	AdditionalClaims []JWTClaim `json:"additionalClaims,omitempty"`
}

// MutualAuthentication is the mTLS setting of an HTTPS listener. TrustStore is a trust store
// name or ARN (apply resolves a name).
type MutualAuthentication struct {
	Mode                          string `json:"mode"` // off, passthrough, verify
	TrustStore                    string `json:"trustStore,omitempty"`
	IgnoreClientCertificateExpiry bool   `json:"ignoreClientCertificateExpiry,omitempty"`
	AdvertiseTrustStoreCANames    string `json:"advertiseTrustStoreCANames,omitempty"`
}
