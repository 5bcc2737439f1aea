package snapshot

import "encoding/json"

// TLSSecret is what translation reads of a Secret a listener's tls.certificateRefs names: its
// type and the PEM of tls.crt and tls.key. The key prints as "REDACTED", so a printed snapshot
// never shows it.
type TLSSecret struct {
	// Type is the Secret's type; only kubernetes.io/tls is accepted.
	Type string `json:"type"`
	// Certificate is tls.crt: the leaf certificate, then any intermediates (PEM).
	Certificate string `json:"certificate,omitempty"`
	// PrivateKey is tls.key (PEM).
	PrivateKey string `json:"privateKey,omitempty"`
}

// MarshalJSON prints the private key as "REDACTED".
func (s TLSSecret) MarshalJSON() ([]byte, error) {
	type plain TLSSecret
	p := plain(s)
	if p.PrivateKey != "" {
		p.PrivateKey = "REDACTED"
	}
	return json.Marshal(p)
}

// String keeps the private key out of fmt output.
func (s TLSSecret) String() string {
	data, _ := s.MarshalJSON()
	return string(data)
}

// GoString keeps the private key out of %#v output.
func (s TLSSecret) GoString() string { return "snapshot.TLSSecret" + s.String() }
