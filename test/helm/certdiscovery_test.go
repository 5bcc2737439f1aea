package helm

import (
	"slices"
	"strings"
	"testing"
)

// TestChartPassesAllowedCertificateAuthorities: certDiscovery.allowedCertificateAuthorityARNs
// (the AWS Load Balancer Controller chart's key) becomes --allowed-certificate-authority-arns;
// empty, the flag is left out; a value that is no private CA ARN is refused by the schema.
func TestChartPassesAllowedCertificateAuthorities(t *testing.T) {
	const cas = "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/a,arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/b"
	v := seedValues(t, "demo", "eu-west-1", "vpc-0123456789abcdef0")
	v["certDiscovery"] = map[string]any{"allowedCertificateAuthorityARNs": cas}
	objs, err := render(v)
	if err != nil {
		t.Fatal(err)
	}
	if args := containerArgs(t, objs); !slices.Contains(args, "--allowed-certificate-authority-arns="+cas) {
		t.Errorf("container args %v lack --allowed-certificate-authority-arns=%s", args, cas)
	}
	objs, err = render(seedValues(t, "demo", "eu-west-1", "vpc-0123456789abcdef0"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range containerArgs(t, objs) {
		if strings.HasPrefix(a, "--allowed-certificate-authority-arns") {
			t.Errorf("default values render %s", a)
		}
	}
	v["certDiscovery"] = map[string]any{"allowedCertificateAuthorityARNs": "arn:aws:acm:eu-west-1:111122223333:certificate/x"}
	if _, err := render(v); err == nil || !strings.Contains(err.Error(), "allowedCertificateAuthorityARNs") {
		t.Errorf("a certificate ARN instead of a CA's: %v, want the schema to refuse it", err)
	}
}
