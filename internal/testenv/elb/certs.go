package elb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
)

// Certificates. A TLS or HTTPS listener names ACM certificate ARNs; the load balancer serves the
// certificate ACM holds for each. The data plane reads the certificate and its chain through
// ACM's GetCertificate, as anyone may. ACM never hands out an imported certificate's private key
// (GetCertificate leaves it out, ExportCertificate refuses imported certificates), yet a load
// balancer has it; so the key comes from Options.PrivateKey, and the data plane refuses a key
// that does not belong to the certificate ACM answers. The certificate served is therefore
// always ACM's, never one the key's source made up.

// CertificateBody is what ACM's GetCertificate answers for a certificate ARN.
type CertificateBody struct {
	Certificate, Chain string
}

// loadedCert is a certificate ready to serve, with the body it was built from.
type loadedCert struct {
	body CertificateBody
	cert *tls.Certificate
	err  error
}

// certStore keeps the servable certificates of the listeners' ARNs.
type certStore struct {
	key func(ctx context.Context, arn string) ([]byte, error)

	mu    sync.Mutex
	certs map[string]*loadedCert
}

// sync brings the store in step with the bodies ACM answered: a new or changed body is paired
// with its key again; ARNs no listener names are forgotten.
func (s *certStore) sync(ctx context.Context, bodies map[string]CertificateBody) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.certs == nil {
		s.certs = map[string]*loadedCert{}
	}
	var errs []error
	for arn, body := range bodies {
		if cur, ok := s.certs[arn]; ok && cur.body == body && cur.err == nil {
			continue
		}
		lc := &loadedCert{body: body}
		lc.cert, lc.err = s.load(ctx, arn, body)
		if lc.err != nil {
			errs = append(errs, fmt.Errorf("certificate %s: %w", arn, lc.err))
		}
		s.certs[arn] = lc
	}
	for arn := range s.certs {
		if _, ok := bodies[arn]; !ok {
			delete(s.certs, arn)
		}
	}
	return errs
}

func (s *certStore) load(ctx context.Context, arn string, body CertificateBody) (*tls.Certificate, error) {
	if s.key == nil {
		return nil, errors.New("no source for private keys (Options.PrivateKey)")
	}
	key, err := s.key(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	chain := strings.TrimSpace(body.Certificate) + "\n"
	if strings.TrimSpace(body.Chain) != "" {
		chain += strings.TrimSpace(body.Chain) + "\n"
	}
	c, err := tls.X509KeyPair([]byte(chain), key)
	if err != nil {
		return nil, fmt.Errorf("the key does not serve the certificate ACM holds: %w", err)
	}
	return &c, nil
}

// get is the servable certificate of an ARN.
func (s *certStore) get(arn string) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lc, ok := s.certs[arn]
	if !ok {
		return nil, fmt.Errorf("certificate %s is not loaded", arn)
	}
	return lc.cert, lc.err
}

// acmBodies reads the certificate and chain of each ARN through ACM; an ARN ACM cannot answer
// is left out (its listener's handshakes fail, as they would on a load balancer whose
// certificate is gone) and reported.
func acmBodies(ctx context.Context, client *acm.Client, arns []string) (map[string]CertificateBody, []error) {
	out := map[string]CertificateBody{}
	var errs []error
	for _, arn := range arns {
		if _, ok := out[arn]; ok {
			continue
		}
		got, err := client.GetCertificate(ctx, &acm.GetCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			errs = append(errs, fmt.Errorf("GetCertificate %s: %w", arn, err))
			continue
		}
		out[arn] = CertificateBody{Certificate: aws.ToString(got.Certificate), Chain: aws.ToString(got.CertificateChain)}
	}
	return out, errs
}

// KeyFromURL is an Options.PrivateKey that asks an HTTP endpoint for a certificate's PEM key:
// GET url?region=…&certificateArn=… (the test environment's side door,
// testenv.CertificateKeyPath on its AWS endpoint, answers so).
func KeyFromURL(endpoint, region string) func(ctx context.Context, arn string) ([]byte, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(ctx context.Context, arn string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			endpoint+"?"+url.Values{"region": {region}, "certificateArn": {arn}}.Encode(), nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
		}
		return b, nil
	}
}
