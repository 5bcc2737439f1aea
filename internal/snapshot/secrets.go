package snapshot

import "encoding/json"

// OIDCClient is the client ID and secret an authenticate-oidc action of a
// ListenerRuleConfiguration reads from a Secret (keys clientID or clientId, and clientSecret).
// Only these two values are gathered, never the whole Secret.
type OIDCClient struct {
	ClientID     string `json:"clientID"`
	ClientSecret string `json:"clientSecret"`
}

// MarshalJSON prints the client secret as "REDACTED", so a printed snapshot never shows it.
func (c OIDCClient) MarshalJSON() ([]byte, error) {
	type plain OIDCClient
	p := plain(c)
	if p.ClientSecret != "" {
		p.ClientSecret = "REDACTED"
	}
	return json.Marshal(p)
}
