package snapshot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestTLSSecretNeverPrintsTheKey(t *testing.T) {
	s := TLSSecret{Type: "kubernetes.io/tls", Certificate: "CERT", PrivateKey: "hunter2-key"}
	data, err := json.Marshal(map[string]TLSSecret{"ns/a": s})
	if err != nil {
		t.Fatal(err)
	}
	printed := string(data) + fmt.Sprintf("%v %+v %#v %s", s, s, s, s)
	if strings.Contains(printed, "hunter2") {
		t.Errorf("the private key was printed: %s", printed)
	}
	if !strings.Contains(string(data), `"privateKey":"REDACTED"`) || !strings.Contains(string(data), `"certificate":"CERT"`) {
		t.Errorf("printed %s, want the certificate and a redacted key", data)
	}
	var back TLSSecret
	if err := json.Unmarshal([]byte(`{"type":"kubernetes.io/tls","privateKey":"k"}`), &back); err != nil || back.PrivateKey != "k" {
		t.Errorf("a snapshot file's key does not load: %+v %v", back, err)
	}
}
