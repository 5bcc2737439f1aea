package aws

import (
	"context"
	"fmt"
	"strings"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/elbgateway/elbgateway/internal/model"
)

// AWS never returns an OIDC client secret. A rule (or listener) whose actions authenticate
// with OIDC is tagged with the fingerprints of the secrets it was last written with
// (model.OIDCSecretFingerprints), observe reads them back onto the actions, and the plan
// compares them: a rotated secret modifies the rule, and the modify sends the new one.

// oidcSecretTagKey is the tag that holds the fingerprints.
const oidcSecretTagKey = "gateway.k8s.aws.alb/oidc-secret-hash"

// sentSecretFingerprints is what the tag says after a write of actions: the fingerprints of
// the secrets the write sent; "" when it sent none, or kept a secret AWS already had
// (UseExistingClientSecret), whose fingerprint the model does not know.
func sentSecretFingerprints(actions []model.Action) string {
	for _, a := range actions {
		if a.AuthenticateOIDC != nil && !a.AuthenticateOIDC.ClientSecret.IsSet() {
			return ""
		}
	}
	return model.OIDCSecretFingerprints(actions)
}

// withSecretTag returns the tags a resource with these actions is created with: tags, plus
// the fingerprint tag when the actions send secrets. tags is not modified.
func withSecretTag(tags model.Tags, actions []model.Action) model.Tags {
	v := sentSecretFingerprints(actions)
	if v == "" {
		return tags
	}
	out := make(model.Tags, len(tags)+1)
	for k, val := range tags {
		out[k] = val
	}
	out[oidcSecretTagKey] = v
	return out
}

// takeSecretTag moves the fingerprint tag of an observed resource onto its observed
// authenticate-oidc actions, one fingerprint each in order, and returns the other tags. A tag
// that fits no action (the resource no longer authenticates, or the count differs) stays
// among the tags, so the plan removes it. tags is not modified: it may be the tag cache's.
func takeSecretTag(tags model.Tags, actions []model.Action) model.Tags {
	v, ok := tags[oidcSecretTagKey]
	if !ok {
		return tags
	}
	var oidc []*model.AuthenticateOIDCAction
	for _, a := range actions {
		if a.AuthenticateOIDC != nil {
			oidc = append(oidc, a.AuthenticateOIDC)
		}
	}
	parts := strings.Split(v, ".")
	if len(oidc) == 0 || len(parts) != len(oidc) {
		return tags
	}
	for i, o := range oidc {
		o.ClientSecretHash = parts[i]
	}
	out := make(model.Tags, len(tags)-1)
	for k, val := range tags {
		if k != oidcSecretTagKey {
			out[k] = val
		}
	}
	return out
}

// syncSecretTag brings the fingerprint tag of arn in line after its actions were modified from
// have to want: the fingerprints of the secrets the modify sent, or no tag when want no longer
// authenticates with OIDC. A modify that kept AWS's secrets leaves the tag as it was.
func (a *applier) syncSecretTag(ctx context.Context, arn string, want, have []model.Action) error {
	old := model.OIDCSecretFingerprints(have)
	if v := sentSecretFingerprints(want); v != "" && v != old {
		if _, err := a.c.elb.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arn},
			Tags: toELBTags(model.Tags{oidcSecretTagKey: v})}); err != nil {
			return fmt.Errorf("tagging %s with the OIDC client secret fingerprint: %w", arn, err)
		}
		a.c.tags.update(arn, model.Tags{oidcSecretTagKey: v}, nil, a.c.now())
		return nil
	}
	if old != "" && !authenticatesWithOIDC(want) {
		if _, err := a.c.elb.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{arn},
			TagKeys: []string{oidcSecretTagKey}}); err != nil {
			return fmt.Errorf("untagging the OIDC client secret fingerprint of %s: %w", arn, err)
		}
		a.c.tags.update(arn, nil, []string{oidcSecretTagKey}, a.c.now())
	}
	return nil
}

func authenticatesWithOIDC(actions []model.Action) bool {
	for _, a := range actions {
		if a.AuthenticateOIDC != nil {
			return true
		}
	}
	return false
}
