package translate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// keyPair is a validated certificate and key, split the way ACM imports them.
type keyPair struct {
	body, chain, key string
	names            []string
	hash             string
	// notBefore and notAfter are the leaf's validity window.
	notBefore, notAfter time.Time
}

// parseKeyPair checks tls.crt and tls.key the way ACM will: PEM certificates (the leaf first),
// an unencrypted private key that belongs to the leaf, and a key type ACM imports (RSA 1024 to
// 4096 bits, ECDSA P-256, P-384 or P-521). The validity window is checked against the
// snapshot's clock by the caller (validAt).
// Error messages never contain key material.
func parseKeyPair(certPEM, keyPEM string) (keyPair, error) {
	if strings.TrimSpace(certPEM) == "" {
		return keyPair{}, errors.New("tls.crt is missing or empty; put the PEM certificate (leaf first, then intermediates) in it")
	}
	if strings.TrimSpace(keyPEM) == "" {
		return keyPair{}, errors.New("tls.key is missing or empty; put the PEM private key of the certificate in it")
	}
	var certs []*x509.Certificate
	var blocks [][]byte
	rest := []byte(certPEM)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return keyPair{}, fmt.Errorf("tls.crt: certificate %d does not parse (%v); put PEM certificates in it", len(certs)+1, err)
		}
		certs = append(certs, c)
		blocks = append(blocks, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes}))
	}
	if len(certs) == 0 {
		return keyPair{}, errors.New("tls.crt holds no PEM certificate (-----BEGIN CERTIFICATE-----); put the certificate in it")
	}
	if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
		return keyPair{}, fmt.Errorf("tls.key does not fit tls.crt: %s; put the unencrypted PEM private key of the first certificate in tls.key", keyPairError(err))
	}
	if err := importableKey(certs[0]); err != nil {
		return keyPair{}, err
	}
	p := keyPair{body: string(blocks[0]), key: keyPEM}
	for _, b := range blocks[1:] {
		p.chain += string(b)
	}
	p.names = certificateNames(certs[0])
	p.notBefore, p.notAfter = certs[0].NotBefore, certs[0].NotAfter
	sum := sha256.Sum256([]byte(p.body + "\x00" + p.chain + "\x00" + p.key))
	p.hash = hex.EncodeToString(sum[:])
	return p, nil
}

// keyPairError keeps the reason of a crypto/tls error, which never includes key bytes.
func keyPairError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "tls: ")
	return msg
}

// importableKey says whether ACM imports the certificate's key type.
func importableKey(c *x509.Certificate) error {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096 {
			return nil
		}
		return fmt.Errorf("tls.crt: an RSA key of %d bits cannot be imported into ACM; use 2048, 3072 or 4096 bits", k.N.BitLen())
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("tls.crt: ECDSA curve %s cannot be imported into ACM; use P-256, P-384 or P-521", k.Curve.Params().Name)
	}
	return fmt.Errorf("tls.crt: a %s key cannot be imported into ACM; use RSA or ECDSA", c.PublicKeyAlgorithm)
}

// certificateNames are the DNS names a certificate covers, sorted (the common name when it
// has none).
func certificateNames(c *x509.Certificate) []string {
	names := slices.Clone(c.DNSNames)
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = []string{c.Subject.CommonName}
	}
	for i := range names {
		names[i] = strings.ToLower(names[i])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// validAt refuses a certificate outside its validity window at now (the snapshot's clock; the
// zero time checks nothing). ImportCertificate: ACM refuses a certificate that "has expired or
// is not yet valid" (ValidationException), and a listener cannot serve it.
func (p keyPair) validAt(now time.Time) error {
	switch {
	case now.IsZero():
		return nil
	case now.Before(p.notBefore):
		return fmt.Errorf("tls.crt is not valid before %s; wait, or put a certificate that is valid now in it", p.notBefore.UTC().Format(time.RFC3339))
	case now.After(p.notAfter):
		return fmt.Errorf("tls.crt expired at %s; renew the certificate and put the new one in it", p.notAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
