package translate

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func pemPair(t *testing.T, pub, priv any, host string) (string, string) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func TestParseKeyPair(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert1, key1 := pemPair(t, &k1.PublicKey, k1, "a.example.com")
	cert2, key2 := pemPair(t, &k2.PublicKey, k2, "a.example.com")

	p1, err := parseKeyPair(cert1, key1)
	if err != nil {
		t.Fatal(err)
	}
	if p1.names[0] != "a.example.com" || p1.chain != "" || p1.body != cert1 {
		t.Errorf("parsed %+v, want the leaf alone and its name", p1.names)
	}
	p2, err := parseKeyPair(cert2, key2)
	if err != nil {
		t.Fatal(err)
	}
	if p1.hash == p2.hash {
		t.Error("two key pairs hash the same")
	}
	// A chain: the second certificate becomes the chain.
	withChain, err := parseKeyPair(cert1+cert2, key1)
	if err != nil || withChain.chain != cert2 || withChain.hash == p1.hash {
		t.Errorf("leaf + intermediate: chain %q, err %v; want the second certificate as chain and another hash", withChain.chain, err)
	}

	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edCert, edPEM := pemPair(t, edKey.Public(), edKey, "ed.example.com")
	for name, c := range map[string]struct{ cert, key, want string }{
		"mismatch":    {cert1, key2, "does not fit"},
		"no cert":     {"garbage", key1, "no PEM certificate"},
		"empty key":   {cert1, "", "tls.key is missing"},
		"bad key PEM": {cert1, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "does not fit"},
		"ed25519":     {edCert, edPEM, "cannot be imported into ACM"},
	} {
		_, err := parseKeyPair(c.cert, c.key)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
			continue
		}
		for _, line := range strings.Split(c.key, "\n") {
			if len(line) > 8 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
				t.Errorf("%s: the error shows key material: %v", name, err)
			}
		}
	}
}
