package testenv

import (
	"context"
	"encoding/json"
	"net/http"
)

// CertificateKeyPath is the layer's side door for the private keys of imported certificates:
// GET with the query parameters region and certificateArn answers the PEM private key last
// imported under that ARN (404 when the layer saw none).
//
// ACM never returns an imported certificate's private key: GetCertificate answers the
// certificate and its chain only, and ExportCertificate refuses imported certificates ("is not a
// private certificate"; moto does the same). A load balancer holds the key all the same, so the
// local data plane, which stands in for it, reads the certificate through ACM's API and the key
// here, where the test environment keeps what ImportCertificate carried on its way to moto. AWS
// requests never use this path.
const CertificateKeyPath = "/_elbgateway/certificate-key"

var acmAnswers = []strictAnswer{
	{svcACM, "ImportCertificate", keepImportedKey},
}

// certificateKey names one certificate in one region.
type certificateKey struct{ region, arn string }

// keepImportedKey passes an ImportCertificate to moto and, when it succeeds, keeps the private
// key it carried under the certificate's ARN (the one re-imported, or the new one moto answers).
func keepImportedKey(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	var in struct {
		CertificateArn string
		PrivateKey     []byte // base64 in JSON, PEM inside
	}
	if err := r.decodeJSON(&in); err != nil || len(in.PrivateKey) == 0 {
		return false, nil
	}
	s.forwardRewritten(w, r, func(body string) string {
		var out struct{ CertificateArn string }
		if err := json.Unmarshal([]byte(body), &out); err == nil && out.CertificateArn != "" {
			s.keepKey(certificateKey{r.region, out.CertificateArn}, in.PrivateKey)
		}
		return body
	})
	return true, nil
}

func (s *Strict) keepKey(k certificateKey, pem []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[certificateKey][]byte{}
	}
	s.keys[k] = pem
}

// ImportedKey is the PEM private key last imported under a certificate ARN in a region.
func (s *Strict) ImportedKey(region, arn string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[certificateKey{region, arn}]
	return k, ok
}

// serveCertificateKey is the side door's handler.
func (s *Strict) serveCertificateKey(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET a certificate's key", http.StatusMethodNotAllowed)
		return
	}
	region, arn := r.URL.Query().Get("region"), r.URL.Query().Get("certificateArn")
	if region == "" {
		region = "us-east-1"
	}
	key, ok := s.ImportedKey(region, arn)
	if !ok {
		http.Error(w, "no certificate "+arn+" was imported in "+region+" through this endpoint", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(key)
}
