package aws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Tests of the controller against AWS's API contract where it differs from what an emulator
// accepts; docs/aws-contract.md lists the rule each one relies on.

// importCertificateARN imports a fresh self-signed certificate for host and returns its ARN.
func importCertificateARN(t *testing.T, host string) string {
	t.Helper()
	body, key := testKeyPair(t, host)
	resp, err := rawACM().ImportCertificate(context.Background(), &acm.ImportCertificateInput{Certificate: []byte(body), PrivateKey: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(resp.CertificateArn)
}

// TestListenerCertificatesOnePerCall: a listener with a default and two extra certificates
// adds the extras in two AddListenerCertificates calls, and removes them in two
// RemoveListenerCertificates calls ("You can specify one certificate per call").
func TestListenerCertificatesOnePerCall(t *testing.T) {
	t.Parallel()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "certs/one-per-call"
	desired := nlbStack(stack, "onecert", vpcID, subnets)
	l := &desired.Listeners[0]
	l.Protocol, l.SSLPolicy, l.ALPNPolicy = "TLS", "ELBSecurityPolicy-2016-08", "None"
	for _, host := range []string{"a.onecert.test", "b.onecert.test", "c.onecert.test"} {
		l.Certificates = append(l.Certificates, model.Ref{External: importCertificateARN(t, host)})
	}

	before := c.CallCounts()
	converge(t, c, desired)
	after := c.CallCounts()
	if n := after["elbv2:AddListenerCertificates"] - before["elbv2:AddListenerCertificates"]; n != 2 {
		t.Errorf("creating a listener with two extra certificates made %d AddListenerCertificates calls, want 2 (one per certificate)", n)
	}

	l.Certificates = l.Certificates[:1]
	before = c.CallCounts()
	converge(t, c, desired)
	after = c.CallCounts()
	if n := after["elbv2:RemoveListenerCertificates"] - before["elbv2:RemoveListenerCertificates"]; n != 2 {
		t.Errorf("dropping two extra certificates made %d RemoveListenerCertificates calls, want 2 (one per certificate)", n)
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}
