package aws

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// TestObserveForListsACMOnlyForTLSStacks: a stack without TLS listeners and without imported
// certificates is observed without any ACM call, also by a new process; a stack whose TLS
// listener uses an imported certificate is observed with it even when the desired stack no
// longer has TLS, so that the certificate can be deleted.
func TestObserveForListsACMOnlyForTLSStacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	acmCalls := func(before, after map[string]int) int {
		n := 0
		for _, op := range []string{"acm:ListCertificates", "acm:ListTagsForCertificate", "acm:DescribeCertificate"} {
			n += after[op] - before[op]
		}
		return n
	}

	const tcpStack = "default/tcp-no-acm"
	tcp := nlbStack(tcpStack, "noacm", vpcID, subnets)
	converge(t, c, tcp)
	fresh, _ := newCloud(t, vpcID)
	before := fresh.CallCounts()
	o, err := fresh.ObserveFor(ctx, tcp)
	if err != nil {
		t.Fatal(err)
	}
	if o.LoadBalancer == nil || len(o.Listeners) != len(tcp.Listeners) {
		t.Fatalf("observed %+v, want the load balancer and its listeners", o)
	}
	if n := acmCalls(before, fresh.CallCounts()); n != 0 {
		t.Errorf("observing a TCP stack made %d ACM calls, want 0", n)
	}

	const tlsStack = "certs/tls-dropped"
	cert := importedCertificate(t, tlsStack, "certs", "dropped", "dropped.example.com")
	tls := nlbStack(tlsStack, "tlsdrop", vpcID, subnets)
	l := &tls.Listeners[0]
	l.Protocol, l.SSLPolicy, l.ALPNPolicy = "TLS", "ELBSecurityPolicy-2016-08", "None"
	l.Certificates = []model.Ref{{ID: cert.ID}}
	tls.Certificates = []model.Certificate{cert}
	converge(t, c, tls)

	// A new process whose desired stack has dropped TLS still finds the imported certificate
	// through the TLS listener it observes.
	plain := nlbStack(tlsStack, "tlsdrop", vpcID, subnets)
	fresh2, _ := newCloud(t, vpcID)
	o, err = fresh2.ObserveFor(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Certificates) != 1 || o.Certificates[0].ID != cert.ID {
		t.Fatalf("observed certificates %+v, want the imported %s", o.Certificates, cert.ID)
	}
	if got := o.Listeners[0].Certificates; !slices.Equal(got, []model.Ref{{ID: cert.ID}}) {
		t.Errorf("listener certificates observed as %+v, want the imported certificate's logical ID", got)
	}
	// Once the stack is known to import, it is observed with its certificates whatever the
	// listeners say.
	if !fresh2.acm.isImporter(stackKey{model.Network, tlsStack}) {
		t.Errorf("a stack observed with an imported certificate is not remembered as importing")
	}
}

// TestCertificateStatusFacts: the facts give the ACM status of each named certificate of the
// region, NOT_FOUND for one ACM does not have, and leave out ARNs of other services and
// regions (AWS decides about them).
func TestCertificateStatusFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := newCloud(t, "")
	raw := rawACM()
	body, key := testKeyPair(t, "status.facts.test")
	imported, err := raw.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: []byte(body), PrivateKey: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := raw.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("pending.facts.test")})
	if err != nil {
		t.Fatal(err)
	}
	issued, waiting := aws.ToString(imported.CertificateArn), aws.ToString(pending.CertificateArn)
	missing := "arn:aws:acm:" + testRegion + ":123456789012:certificate/00000000-0000-0000-0000-000000000000"
	otherRegion := "arn:aws:acm:eu-west-3:123456789012:certificate/00000000-0000-0000-0000-000000000000"
	iam := "arn:aws:iam::123456789012:server-certificate/legacy"
	facts, err := c.Facts(ctx, FactsRequest{StackID: "certs/status", Type: model.Application,
		CertificateARNs: []string{issued, waiting, missing, otherRegion, iam}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{issued: "ISSUED", waiting: "PENDING_VALIDATION", missing: snapshot.CertificateNotFound}
	if !maps.Equal(facts.CertificateStatuses, want) {
		t.Errorf("certificate statuses %v, want %v", facts.CertificateStatuses, want)
	}

	// Without named certificates no ACM call is made.
	before := c.CallCounts()
	if _, err := c.Facts(ctx, FactsRequest{StackID: "certs/status", Type: model.Application}); err != nil {
		t.Fatal(err)
	}
	for op, n := range callDiff(before, c.CallCounts()) {
		if strings.HasPrefix(op, "acm:") {
			t.Errorf("facts without certificates called %s %d times", op, n)
		}
	}
}
