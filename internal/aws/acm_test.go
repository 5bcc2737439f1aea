package aws

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// testKeyPair is a self-signed ECDSA certificate for hosts and its key, as PEM.
func testKeyPair(t *testing.T, hosts ...string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func rawACM() *acm.Client {
	return acm.NewFromConfig(aws.Config{Region: testRegion, Credentials: testCreds}, func(o *acm.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
}

// importedCertificate is the model of a certificate imported from the Secret ns/name.
func importedCertificate(t *testing.T, stack, ns, name, host string) model.Certificate {
	body, key := testKeyPair(t, host)
	sum := sha256.Sum256([]byte(body + key))
	id := model.CertificateID(ns, name)
	return model.Certificate{ID: id, SecretRef: ns + "/" + name, Body: body, PrivateKey: model.NewSecret(key),
		Hash: hex.EncodeToString(sum[:]), Tags: ownTags(stack, id)}
}

// TestImportedCertificateLifecycle imports a Secret's certificate for a TLS listener, keeps a
// steady state without ACM calls, re-imports new content under the same ARN, and deletes
// the certificate after the load balancer when the stack goes away.
func TestImportedCertificateLifecycle(t *testing.T) {
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "certs/tls-gateway"
	cert := importedCertificate(t, stack, "certs", "tls", "tls.example.com")
	desired := nlbStack(stack, "acmlife", vpcID, subnets)
	l := &desired.Listeners[0]
	l.Protocol, l.SSLPolicy, l.ALPNPolicy = "TLS", "ELBSecurityPolicy-2016-08", "None"
	l.Certificates = []model.Ref{{ID: cert.ID}}
	desired.Certificates = []model.Certificate{cert}

	created := converge(t, c, desired)
	if created[0].Kind != plan.KindCertificate || created[0].Op != plan.OpCreate {
		t.Fatalf("want the certificate imported first, got\n%s", lines(created))
	}
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if len(observed.Certificates) != 1 || observed.Certificates[0].Hash != cert.Hash {
		t.Fatalf("observed certificates %+v, want one with hash %s", observed.Certificates, cert.Hash)
	}
	arn := observed.Certificates[0].ARN
	if got := observed.Listeners[0].Certificates; !slices.Equal(got, []model.Ref{{ID: cert.ID}}) {
		t.Errorf("listener certificates observed as %+v, want the imported certificate's logical ID", got)
	}
	_, elb := rawClients(t)
	ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{observed.Listeners[0].ARN}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ls.Listeners[0].Certificates[0].CertificateArn); got != arn {
		t.Errorf("listener's default certificate on AWS is %s, want the imported %s", got, arn)
	}
	if body := acmBody(t, arn); body != strings.TrimSpace(cert.Body) {
		t.Errorf("ACM holds\n%s\nwant the Secret's certificate\n%s", body, cert.Body)
	}

	t.Run("steady state makes no ACM calls", func(t *testing.T) {
		before := c.CallCounts()
		o, err := c.Observe(ctx, stack, model.Network)
		if err != nil {
			t.Fatal(err)
		}
		if changes := plan.Diff(desired, o); len(changes) != 0 {
			t.Errorf("steady state plans\n%s", lines(changes))
		}
		after := c.CallCounts()
		for _, op := range []string{"acm:ListCertificates", "acm:ListTagsForCertificate", "acm:DescribeCertificate", "acm:ImportCertificate"} {
			if d := after[op] - before[op]; d != 0 {
				t.Errorf("%s called %d times in a steady-state Observe, want 0 (cached)", op, d)
			}
		}
	})

	t.Run("new content is re-imported under the same ARN", func(t *testing.T) {
		rotated := importedCertificate(t, stack, "certs", "tls", "tls.example.com")
		desired.Certificates = []model.Certificate{rotated}
		changes := converge(t, c, desired)
		if got := ops(changes); !slices.Equal(got, []string{"update Certificate " + cert.ID}) {
			t.Errorf("rotation planned %v, want only the certificate update", got)
		}
		o, err := c.Observe(ctx, stack, model.Network)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Certificates) != 1 || o.Certificates[0].ARN != arn || o.Certificates[0].Hash != rotated.Hash {
			t.Errorf("after rotation observed %+v, want ARN %s with hash %s", o.Certificates, arn, rotated.Hash)
		}
		if body := acmBody(t, arn); body != strings.TrimSpace(rotated.Body) {
			t.Errorf("ACM still holds the old certificate after re-import")
		}
		tags, err := rawACM().ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		got := model.Tags{}
		for _, tag := range tags.Tags {
			got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		if got["gateway.k8s.aws.nlb/stack"] != stack || got[certificateHashTag(model.Network)] != rotated.Hash {
			t.Errorf("tags on AWS after re-import %v, want the stack tag and the new hash", got)
		}
	})

	t.Run("deleting the stack deletes the certificate last", func(t *testing.T) {
		changes := converge(t, c, &model.Stack{ID: stack, Type: model.Network})
		if last := changes[len(changes)-1]; last.Kind != plan.KindCertificate || last.Op != plan.OpDelete {
			t.Errorf("want the certificate deleted last, got\n%s", lines(changes))
		}
		_, err := rawACM().DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		if errorCode(err) != "ResourceNotFoundException" {
			t.Errorf("certificate %s still exists after the stack was deleted (err %v)", arn, err)
		}
		assertNothingTagged(t, stack)
	})
}

func acmBody(t *testing.T, arn string) string {
	t.Helper()
	resp, err := rawACM().GetCertificate(context.Background(), &acm.GetCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(aws.ToString(resp.Certificate))
}

// TestCertificateDiscoveryFacts: the facts list issued certificates with their names, leave
// out one that waits for validation, and reuse what they read (list for a minute, names for
// ten).
func TestCertificateDiscoveryFacts(t *testing.T) {
	ctx := context.Background()
	c, _ := newCloud(t, "")
	raw := rawACM()
	importPair := func(hosts ...string) string {
		body, key := testKeyPair(t, hosts...)
		resp, err := raw.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: []byte(body), PrivateKey: []byte(key)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(resp.CertificateArn)
	}
	exact := importPair("shop.discovery.test")
	wildcard := importPair("*.discovery.test", "discovery.test")
	pending, err := raw.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("pending.discovery.test")})
	if err != nil {
		t.Fatal(err)
	}

	facts, err := c.Facts(ctx, FactsRequest{StackID: "certs/discovery", Type: model.Application, Certificates: true})
	if err != nil {
		t.Fatal(err)
	}
	byARN := map[string][]string{}
	for _, f := range facts.Certificates {
		byARN[f.ARN] = f.DomainNames
	}
	if got := byARN[exact]; !slices.Equal(got, []string{"shop.discovery.test"}) {
		t.Errorf("exact certificate names %v, want [shop.discovery.test]", got)
	}
	if got := byARN[wildcard]; !slices.Equal(got, []string{"*.discovery.test", "discovery.test"}) {
		t.Errorf("wildcard certificate names %v, want [*.discovery.test discovery.test]", got)
	}
	if _, ok := byARN[aws.ToString(pending.CertificateArn)]; ok {
		t.Errorf("certificate %s waiting for validation is in the facts", aws.ToString(pending.CertificateArn))
	}
	if !slices.IsSortedFunc(facts.Certificates, func(a, b snapshot.Certificate) int { return strings.Compare(a.ARN, b.ARN) }) {
		t.Errorf("facts certificates are not sorted by ARN")
	}

	before := c.CallCounts()
	if _, err := c.Facts(ctx, FactsRequest{StackID: "certs/discovery", Type: model.Application, Certificates: true}); err != nil {
		t.Fatal(err)
	}
	if d := acmCalls(before, c.CallCounts()); d != 0 {
		t.Errorf("facts within a minute made %d ACM calls, want 0", d)
	}
	later := time.Now().Add(2 * time.Minute)
	c.now = func() time.Time { return later }
	before = c.CallCounts()
	if _, err := c.Facts(ctx, FactsRequest{StackID: "certs/discovery", Type: model.Application, Certificates: true}); err != nil {
		t.Fatal(err)
	}
	after := c.CallCounts()
	if d := acmCalls(before, after); d != 1 || after["acm:ListCertificates"]-before["acm:ListCertificates"] != 1 {
		t.Errorf("facts after the list expired made %d ACM calls, want 1 ListCertificates (names cached)", d)
	}
}

func acmCalls(before, after map[string]int) int {
	n := 0
	for k, v := range after {
		if strings.HasPrefix(k, "acm:") {
			n += v - before[k]
		}
	}
	return n
}
