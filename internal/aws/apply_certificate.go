package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

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
	// Even a failed import may have created the certificate: observe the stack's from now on.
	a.c.acm.noteImporter(stackKey{a.typ, a.stackID})
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
		_, err := a.c.acm.client.ImportCertificate(ctx, importInput(want, aws.String(arn), nil))
		if errorCode(err) == "ValidationException" {
			// ACM refuses a re-import whose key algorithm or size differs from the original's.
			return a.replaceCertificate(ctx, want, have, err)
		}
		if err != nil {
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

// replaceCertificate imports new content as a new certificate when ACM refused to re-import it
// under the old ARN (a key of another algorithm or size), moves the listeners that use the old
// one to it, and deletes the old one. A refusal for another reason fails the import of the new
// one the same way, and is reported with both errors.
func (a *applier) replaceCertificate(ctx context.Context, want, have *model.Certificate, refused error) error {
	if err := a.importCertificate(ctx, want); err != nil {
		return fmt.Errorf("ACM refused to re-import the certificate of Secret %s as %s (%v), and importing it anew failed: %w",
			want.SecretRef, have.ARN, refused, err)
	}
	next := a.certARNs[want.ID]
	if a.observed != nil {
		for _, l := range a.observed.Listeners {
			i := slices.Index(l.Certificates, model.Ref{ID: want.ID})
			if i < 0 || l.ARN == "" {
				continue
			}
			if err := a.moveListenerCertificate(ctx, l.ARN, i == 0, have.ARN, next); err != nil {
				return fmt.Errorf("moving listener on port %d from certificate %s to %s: %w", l.Port, have.ARN, next, err)
			}
		}
	}
	return a.deleteCertificate(ctx, have)
}

// moveListenerCertificate points a listener at a new certificate: its default with
// ModifyListener, an extra one with Add- then RemoveListenerCertificates.
func (a *applier) moveListenerCertificate(ctx context.Context, listenerARN string, isDefault bool, from, to string) error {
	if isDefault {
		_, err := a.c.elb.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(listenerARN),
			Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(to)}}})
		return err
	}
	if err := a.addCertificates(ctx, listenerARN, []string{to}); err != nil {
		return err
	}
	return a.removeCertificates(ctx, listenerARN, []string{from})
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
