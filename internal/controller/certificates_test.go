package controller_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// selfSigned is a self-signed ECDSA certificate for host and its key, as PEM.
func selfSigned(t *testing.T, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
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
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// acmCertificateBody reads a certificate's body from ACM with the AWS CLI.
func acmCertificateBody(t *testing.T, arn string) string {
	t.Helper()
	var out struct{ Certificate string }
	cliJSON(t, &out, "acm", "get-certificate", "--certificate-arn", arn)
	return strings.TrimSpace(out.Certificate)
}

// waitCertificateDeleted waits until ACM no longer has the certificate.
func waitCertificateDeleted(t *testing.T, arn string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "certificate "+arn+" leaves ACM", func() error {
		out, err := testenv.AWSCLI(context.Background(), env.moto.Endpoint, region, "acm", "describe-certificate", "--certificate-arn", arn)
		if err == nil {
			return fmt.Errorf("certificate %s still exists: %.200s", arn, out)
		}
		if !strings.Contains(err.Error()+string(out), "ResourceNotFoundException") {
			return fmt.Errorf("describe-certificate failed otherwise: %v", err)
		}
		return nil
	})
}

// TestCertificateRefsImportedIntoACM: a TLS Secret named by a listener's certificateRefs is
// imported into ACM and becomes the NLB TLS listener's certificate; rotating the Secret
// re-imports it under the same ARN; deleting the Gateway deletes the imported certificate.
func TestCertificateRefsImportedIntoACM(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	certPEM, keyPEM := selfSigned(t, "app.example.com")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}
	if err := env.client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	scenario(t, ns, "  - {name: tls, protocol: TLS, port: 443, hostname: app.example.com, tls: {mode: Terminate, certificateRefs: [{name: gw-tls}]}}\n")
	applyYAML(t, env.client, ns, ipTargets+"---"+route("TLSRoute", "tls", "tls", "", "backend", 3000))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	waitListeners(t, lbARN, "TLS:443")

	var certARN string
	eventually(t, 30*timeoutScale, "the listener uses the imported certificate", func() error {
		ls := listeners(t, lbARN)
		if len(ls) != 1 || len(ls[0].Certificates) == 0 {
			return fmt.Errorf("listeners %+v", ls)
		}
		certARN = awssdk.ToString(ls[0].Certificates[0].CertificateArn)
		return nil
	})
	if got, want := acmCertificateBody(t, certARN), strings.TrimSpace(string(certPEM)); got != want {
		t.Fatalf("ACM certificate %s holds\n%s\nwant the Secret's tls.crt\n%s", certARN, got, want)
	}
	var tags struct{ Tags []struct{ Key, Value string } }
	cliJSON(t, &tags, "acm", "list-tags-for-certificate", "--certificate-arn", certARN)
	owned := map[string]string{}
	for _, tag := range tags.Tags {
		owned[tag.Key] = tag.Value
	}
	if owned["elbv2.k8s.aws/cluster"] != clusterName || owned["gateway.k8s.aws.nlb/stack"] != ns+"/gw" ||
		owned["gateway.k8s.aws.nlb/resource"] != "Certificate/"+ns+"/gw-tls" || owned["gateway.k8s.aws.nlb/certificate-hash"] == "" {
		t.Errorf("imported certificate tags %v, want the cluster, stack, resource and hash tags", owned)
	}

	t.Run("rotating the Secret re-imports under the same ARN", func(t *testing.T) {
		newCert, newKey := selfSigned(t, "app.example.com")
		var s corev1.Secret
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gw-tls"}, &s); err != nil {
			t.Fatal(err)
		}
		s.Data = map[string][]byte{corev1.TLSCertKey: newCert, corev1.TLSPrivateKeyKey: newKey}
		if err := env.client.Update(ctx, &s); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*timeoutScale, "ACM holds the rotated certificate", func() error {
			if got := acmCertificateBody(t, certARN); got != strings.TrimSpace(string(newCert)) {
				return fmt.Errorf("certificate %s still holds the old content", certARN)
			}
			return nil
		})
		ls := listeners(t, lbARN)
		if got := awssdk.ToString(ls[0].Certificates[0].CertificateArn); got != certARN {
			t.Errorf("listener certificate %s after rotation, want the same ARN %s", got, certARN)
		}
	})

	t.Run("deleting the Gateway deletes the imported certificate", func(t *testing.T) {
		gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}}
		if err := env.client.Delete(ctx, gw); err != nil {
			t.Fatal(err)
		}
		waitCertificateDeleted(t, certARN, 60*timeoutScale)
	})
}
