package plan

import "github.com/elbgateway/elbgateway/internal/model"

// AWS never returns an OIDC client secret; its fingerprint (ClientSecretHash, which apply tags
// the rule or listener with) stands in for it. describeActions leaves the fingerprint out, so
// a rule whose secret rotates is still paired with itself by content, and is then modified in
// place: the modify sends the new secret.

// secretChange says how the client secrets of want's authenticate-oidc actions differ from
// have's; "" when they do not, or when want does not know its own (no fingerprint: nothing to
// compare with).
func secretChange(want, have []model.Action) string {
	w := model.OIDCSecretFingerprints(want)
	if w == "" {
		return ""
	}
	h := model.OIDCSecretFingerprints(have)
	if w == h {
		return ""
	}
	return "OIDC client secret " + orDefault(h, "untracked") + " → " + w
}
