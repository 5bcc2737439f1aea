package aws

import (
	"context"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// certificate imports, re-imports or deletes a certificate the stack imports from a Secret.
// Errors never carry the private key: ACM does not echo it, and we do not print inputs.
func (a *applier) certificate(ctx context.Context, ch plan.Change) error {
	switch ch.Op {
	case plan.OpCreate:
		return a.importCertificate(ctx, ch.Desired.Certificate)
	case plan.OpUpdate:
		return a.updateCertificate(ctx, ch.Desired.Certificate, ch.Observed.Certificate, ch.Update)
	case plan.OpDelete:
		return a.deleteCertificate(ctx, ch.Observed.Certificate)
	}
	return fmt.Errorf("unknown op %q", ch.Op)
}

func (a *applier) importCertificate(ctx context.Context, want *model.Certificate) error {
	tags := maps.Clone(want.Tags)
	if tags == nil {
		tags = model.Tags{}
	}
	tags[certificateHashTag(a.typ)] = want.Hash
	resp, err := a.c.acm.client.ImportCertificate(ctx, importInput(want, nil, toACMTags(tags)))
	if err != nil {
		return fmt.Errorf("importing the certificate of Secret %s into ACM: %w", want.SecretRef, err)
	}
	arn := aws.ToString(resp.CertificateArn)
	a.certARNs[want.ID] = arn
	a.c.acm.tags.put(arn, tags, a.c.now())
	a.c.acm.domains.forget(arn)
	a.c.noteCertificateListChanged()
	return nil
}

func importInput(want *model.Certificate, arn *string, tags []acmtypes.Tag) *acm.ImportCertificateInput {
	in := &acm.ImportCertificateInput{
		Certificate:    []byte(want.Body),
		PrivateKey:     []byte(want.PrivateKey.Value()),
		CertificateArn: arn,
		Tags:           tags,
	}
	if want.Chain != "" {
		in.CertificateChain = []byte(want.Chain)
	}
	return in
}

// updateCertificate re-imports new content under the same ARN and brings the tags up to date.
// ACM takes no tags with a re-import, so the hash tag is written after it, together with the
// ownership tags (AWS keeps them across a re-import; writing them again costs nothing and
// keeps the certificate findable on emulators that drop them).
func (a *applier) updateCertificate(ctx context.Context, want, have *model.Certificate, u *plan.Update) error {
	arn := have.ARN
	add := maps.Clone(u.AddTags)
	if u.Has(plan.FieldContent) {
		if _, err := a.c.acm.client.ImportCertificate(ctx, importInput(want, aws.String(arn), nil)); err != nil {
			return fmt.Errorf("re-importing the certificate of Secret %s into ACM as %s: %w", want.SecretRef, arn, err)
		}
		a.c.acm.domains.forget(arn)
		if add == nil {
			add = model.Tags{}
		}
		maps.Copy(add, want.Tags)
		add[certificateHashTag(a.typ)] = want.Hash
	}
	if len(add) > 0 {
		if _, err := a.c.acm.client.AddTagsToCertificate(ctx, &acm.AddTagsToCertificateInput{
			CertificateArn: aws.String(arn), Tags: toACMTags(add)}); err != nil {
			return fmt.Errorf("tagging certificate %s: %w", arn, err)
		}
	}
	if len(u.RemoveTags) > 0 {
		var tags []acmtypes.Tag
		for _, k := range u.RemoveTags {
			tags = append(tags, acmtypes.Tag{Key: aws.String(k)})
		}
		if _, err := a.c.acm.client.RemoveTagsFromCertificate(ctx, &acm.RemoveTagsFromCertificateInput{
			CertificateArn: aws.String(arn), Tags: tags}); err != nil {
			return fmt.Errorf("untagging certificate %s: %w", arn, err)
		}
	}
	a.c.acm.tags.update(arn, add, u.RemoveTags, a.c.now())
	return nil
}

// deleteCertificate deletes an imported certificate, retrying while a listener that just
// stopped using it (or a load balancer being deleted) still holds it.
func (a *applier) deleteCertificate(ctx context.Context, have *model.Certificate) error {
	err := a.retryWhile(ctx, func() error {
		_, err := a.c.acm.client.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(have.ARN)})
		return err
	}, "ResourceInUseException")
	if err != nil && errorCode(err) != "ResourceNotFoundException" {
		return fmt.Errorf("deleting certificate %s: %w", have.ARN, err)
	}
	a.c.acm.tags.forget(have.ARN)
	a.c.acm.domains.forget(have.ARN)
	a.c.noteCertificateListChanged()
	return nil
}

// certRef resolves a listener certificate: one of the stack's imported certificates by
// logical ID, or an ARN.
func (a *applier) certRef(r model.Ref) (string, error) {
	if r.External != "" {
		return r.External, nil
	}
	if arn := a.certARNs[r.ID]; arn != "" {
		return arn, nil
	}
	return "", fmt.Errorf("certificate %q is not imported (yet); it must be imported before the listener that uses it", r.ID)
}

func (a *applier) certRefs(refs []model.Ref) ([]string, error) {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		arn, err := a.certRef(r)
		if err != nil {
			return nil, err
		}
		out = append(out, arn)
	}
	return out, nil
}
