package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

var acmRules = []strictRule{
	{svcACM, "DeleteCertificate", certificateInUse},
	{svcACM, "ImportCertificate", reimportKeepsKeyAlgorithm},
}

// certificateInUse: DeleteCertificate — "You cannot delete an ACM certificate that is being
// used by another Amazon Web Services service. To delete a certificate that is in use, you must
// first remove the certificate association using the console or the CLI for the associated
// service." The refusal is ResourceInUseException: "The certificate is in use by another Amazon
// Web Services service in the caller's account. Remove the association and try again." moto
// keeps no InUseBy, so the layer looks for the certificate on every listener of the region.
func certificateInUse(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	var in struct{ CertificateArn string }
	if err := r.decodeJSON(&in); err != nil || in.CertificateArn == "" {
		return nil
	}
	lbs := elbv2.NewDescribeLoadBalancersPaginator(r.aws.elb, &elbv2.DescribeLoadBalancersInput{})
	for lbs.HasMorePages() {
		page, err := lbs.NextPage(ctx)
		if e := mustRead(err); e != nil {
			return e
		}
		for _, lb := range page.LoadBalancers {
			listeners, e := listenersOf(ctx, r, aws.ToString(lb.LoadBalancerArn))
			if e != nil {
				return e
			}
			for _, l := range listeners {
				for _, c := range l.Certificates {
					if aws.ToString(c.CertificateArn) == in.CertificateArn {
						return certificateInUseBy(in.CertificateArn, aws.ToString(l.ListenerArn))
					}
				}
				certs := elbv2.NewDescribeListenerCertificatesPaginator(r.aws.elb,
					&elbv2.DescribeListenerCertificatesInput{ListenerArn: l.ListenerArn})
				for certs.HasMorePages() {
					page, err := certs.NextPage(ctx)
					if err != nil {
						if e := notFoundIsNil(err); e != nil {
							return e
						}
						break // the listener was deleted while the layer read
					}
					for _, c := range page.Certificates {
						if aws.ToString(c.CertificateArn) == in.CertificateArn {
							return certificateInUseBy(in.CertificateArn, aws.ToString(l.ListenerArn))
						}
					}
				}
			}
		}
	}
	return nil
}

func certificateInUseBy(cert, listener string) *apiError {
	return refuse("ResourceInUseException", "Certificate %s is in use by %s", cert, listener)
}

// reimportKeepsKeyAlgorithm: ImportCertificate with CertificateArn — "Include this argument only
// when you want to replace a previously imported certificate." Re-importing keeps the ARN and
// its associations, and AWS refuses a replacement whose key algorithm or size differs from the
// original's with ValidationException (ACM re-import; settled by hack/aws-smoke.sh).
func reimportKeepsKeyAlgorithm(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	var in struct {
		CertificateArn string
		Certificate    []byte // base64 in JSON, PEM inside
	}
	if err := r.decodeJSON(&in); err != nil || in.CertificateArn == "" {
		return nil
	}
	old, err := r.aws.acm.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(in.CertificateArn)})
	if err != nil || old.Certificate == nil {
		return notFoundIsNil(err)
	}
	was := string(old.Certificate.KeyAlgorithm)
	now, ok := keyAlgorithm(in.Certificate)
	if !ok || was == "" || now == was {
		return nil
	}
	return refuse("ValidationException",
		"The certificate being re-imported has key algorithm %s; certificate %s has %s. Import it as a new certificate",
		now, in.CertificateArn, was)
}

// keyAlgorithm names a PEM certificate's key as ACM does (RSA_2048, EC_prime256v1, ...).
func keyAlgorithm(certPEM []byte) (string, bool) {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return "", false
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", false
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA_%d", k.N.BitLen()), true
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 256:
			return "EC_prime256v1", true
		case 384:
			return "EC_secp384r1", true
		case 521:
			return "EC_secp521r1", true
		}
	}
	return "", false
}
