package model

import "strings"

// CertificateIDPrefix starts the logical ID of a certificate the stack imports from a Secret:
// Certificate/<namespace>/<name>.
const CertificateIDPrefix = "Certificate/"

// CertificateID is the logical ID of the certificate imported from the Secret namespace/name.
func CertificateID(namespace, name string) string {
	return CertificateIDPrefix + namespace + "/" + name
}

// Certificate is a TLS certificate the stack imports into ACM from a Kubernetes Secret of type
// kubernetes.io/tls. It is re-imported under the same ARN when the Secret's content changes
// (Hash), and deleted when no listener of the stack uses it any more.
type Certificate struct {
	ID string `json:"id"`
	// SecretRef is the Secret's namespace/name.
	SecretRef string `json:"secretRef,omitempty"`
	// Body is the leaf certificate (PEM), Chain the intermediates after it (PEM, may be empty).
	Body       string `json:"body,omitempty"`
	Chain      string `json:"chain,omitempty"`
	PrivateKey Secret `json:"privateKey"`
	// Hash identifies the content (certificate, chain and key); it is kept in a tag on AWS.
	Hash string `json:"hash"`
	// DomainNames are the names the certificate covers, for reading; they do not take part in
	// the comparison with AWS.
	DomainNames []string `json:"domainNames,omitempty"`
	Tags        Tags     `json:"tags,omitempty"`

	// Observed only.
	ARN string `json:"arn,omitempty"`
}

// IsImportedCertificate says whether a logical ID names an imported certificate.
func IsImportedCertificate(id string) bool { return strings.HasPrefix(id, CertificateIDPrefix) }
