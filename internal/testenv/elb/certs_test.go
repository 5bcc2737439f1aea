package elb

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// certFor is a self-signed certificate for hosts and its key, as PEM.
func certFor(t *testing.T, hosts ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: hosts[0]},
		DNSNames: hosts, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// The certificate served is the one ACM answers, paired with the key from the key source; a key
// of another certificate is refused; a re-imported body is paired again; an ARN no listener
// names is forgotten.
func TestCertStore(t *testing.T) {
	certA, keyA := certFor(t, "a.example.com")
	certB, keyB := certFor(t, "b.example.com")
	keys := map[string][]byte{"arn:a": keyA, "arn:b": keyA}
	s := &certStore{key: func(_ context.Context, arn string) ([]byte, error) {
		if k, ok := keys[arn]; ok {
			return k, nil
		}
		return nil, errors.New("no key")
	}}
	errs := s.sync(t.Context(), map[string]CertificateBody{"arn:a": {Certificate: string(certA)}, "arn:b": {Certificate: string(certB)}})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "arn:b") {
		t.Errorf("a key of another certificate: errors %v, want one for arn:b", errs)
	}
	if c, err := s.get("arn:a"); err != nil || c.Leaf.DNSNames[0] != "a.example.com" {
		t.Errorf("arn:a: %v %v", c, err)
	}
	if _, err := s.get("arn:b"); err == nil {
		t.Error("arn:b is served with a key that is not its own")
	}
	// The key is put right, and arn:a re-imported with another certificate and key.
	certA2, keyA2 := certFor(t, "a2.example.com")
	keys["arn:b"], keys["arn:a"] = keyB, keyA2
	if errs := s.sync(t.Context(), map[string]CertificateBody{"arn:a": {Certificate: string(certA2)}, "arn:b": {Certificate: string(certB)}}); len(errs) != 0 {
		t.Fatal(errs)
	}
	if c, err := s.get("arn:a"); err != nil || c.Leaf.DNSNames[0] != "a2.example.com" {
		t.Errorf("arn:a after re-import: %v %v", c, err)
	}
	if c, err := s.get("arn:b"); err != nil || c.Leaf.DNSNames[0] != "b.example.com" {
		t.Errorf("arn:b once its key is right: %v %v", c, err)
	}
	s.sync(t.Context(), map[string]CertificateBody{"arn:b": {Certificate: string(certB)}})
	if _, err := s.get("arn:a"); err == nil {
		t.Error("arn:a is still served after its listener let it go")
	}
	none := &certStore{}
	if errs := none.sync(t.Context(), map[string]CertificateBody{"arn:a": {Certificate: string(certA)}}); len(errs) != 1 {
		t.Errorf("without a key source: %v, want an error", errs)
	}
}

// SNI (ALB user guide, "SSL certificates"): a certificate whose names cover the client's
// host name is chosen, wildcards included; otherwise, or without SNI, the default certificate.
func TestChooseCertificate(t *testing.T) {
	var certs []*tls.Certificate
	for _, hosts := range [][]string{{"default.example.com"}, {"*.apps.example.com"}, {"api.example.com", "api.example.org"}} {
		c, k := certFor(t, hosts...)
		pair, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, &pair)
	}
	for _, c := range []struct{ sni, want string }{
		{"", "default.example.com"},
		{"shop.apps.example.com", "*.apps.example.com"},
		{"api.example.org", "api.example.com"},
		{"API.EXAMPLE.COM", "api.example.com"},
		{"a.b.apps.example.com", "default.example.com"}, // a wildcard covers one label
		{"other.test", "default.example.com"},
	} {
		if got := chooseCertificate(certs, c.sni).Leaf.DNSNames[0]; got != c.want {
			t.Errorf("SNI %q chose %s, want %s", c.sni, got, c.want)
		}
	}
}
