package aws

import (
	"context"
	"slices"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
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
