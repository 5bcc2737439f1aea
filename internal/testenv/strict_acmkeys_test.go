package testenv

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
)

// The key side door answers the private key each ImportCertificate carried, the newest for a
// re-imported ARN, and 404 for a certificate the layer never saw imported; ACM's own API keeps
// answering the certificate without its key.
func TestStrictCertificateKeySideDoor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	client := acm.NewFromConfig(AWSConfig(f.moto.Endpoint, testRegion))
	key := func(region, arn string) (int, []byte) {
		resp, err := http.Get(f.moto.Strict.URL + CertificateKeyPath + "?" + url.Values{"region": {region}, "certificateArn": {arn}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	cert, priv := selfSigned(t, "keys.example.com", "ec")
	out, err := client.ImportCertificate(f.ctx, &acm.ImportCertificateInput{Certificate: cert, PrivateKey: priv})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.CertificateArn)
	if code, got := key(testRegion, arn); code != http.StatusOK || !bytes.Equal(got, priv) {
		t.Fatalf("side door for %s: %d %q, want 200 and the imported key", arn, code, got)
	}
	if code, _ := key("eu-west-1", arn); code != http.StatusNotFound {
		t.Errorf("the ARN in another region: %d, want 404", code)
	}
	if code, _ := key(testRegion, arn+"-unknown"); code != http.StatusNotFound {
		t.Errorf("an unknown ARN: %d, want 404", code)
	}

	cert2, priv2 := selfSigned(t, "keys.example.com", "ec")
	if _, err := client.ImportCertificate(f.ctx, &acm.ImportCertificateInput{CertificateArn: aws.String(arn), Certificate: cert2, PrivateKey: priv2}); err != nil {
		t.Fatal(err)
	}
	if code, got := key(testRegion, arn); code != http.StatusOK || !bytes.Equal(got, priv2) {
		t.Errorf("after a re-import: %d, want the new key", code)
	}
	// What ACM answers for the certificate carries no key: the side door is the only way to it.
	got, err := client.GetCertificate(f.ctx, &acm.GetCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil || aws.ToString(got.Certificate) != string(bytes.TrimSpace(cert2)) && aws.ToString(got.Certificate) != string(cert2) {
		t.Errorf("GetCertificate: %v, want the re-imported certificate", err)
	}
}
