//go:build demo

package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemo runs `elbgateway demo --exit-after-ready` against its own moto and API server.
func TestDemo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"demo", "--exit-after-ready", "--timeout", "90s"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"aws-tcp-gateway   aws-nlb-gateway-class",
		`"Type": "network"`,
		`"Scheme": "internet-facing"`,
		`"Port": 8080`,
		`"TargetType": "ip"`,
		`"Id": "192.0.2.10"`,
		"export KUBECONFIG=",
		"aws --endpoint-url http://127.0.0.1:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "True") {
		t.Errorf("Gateway not shown as programmed:\n%s", out)
	}
}
