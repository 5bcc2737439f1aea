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

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// refusal is one input AWS is known to refuse: the objects that carry it, where the refusal
// must show, and the AWS calls it must not cost.
type refusal struct {
	name string
	// files are seed files to apply; yaml are more objects.
	files []string
	yaml  string
	// where reads the condition that must carry the refusal, in namespace ns.
	where  func(w *faultWorld, ns string) (*metav1.Condition, error)
	status metav1.ConditionStatus
	reason string
	field  string
	// noCalls are the AWS actions the refused input must never call.
	noCalls []string
}

const (
	seedLBC = `
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata: {name: internet-facing-config}
spec:
  scheme: internet-facing
`
	seedTGC = `
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata: {name: custom-tg-config}
spec:
  targetReference: {name: backend}
  defaultConfiguration:
    targetType: ip
`
)

var (
	seedWithoutConfigs = []string{"examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/gw-public-nlb.yaml",
		"examples/seed-l4/backend-service.yaml", "examples/seed-l4/tcproute.yaml"}
	seedWithoutTGC = append([]string{"examples/seed-l4/lbconfig.yaml"}, seedWithoutConfigs...)
)

func (w *faultWorld) seedGatewayCondition(typ string) func(w *faultWorld, ns string) (*metav1.Condition, error) {
	return func(w *faultWorld, ns string) (*metav1.Condition, error) {
		var gw gwv1.Gateway
		if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "aws-tcp-gateway"}, &gw); err != nil {
			return nil, err
		}
		if c := meta.FindStatusCondition(gw.Status.Conditions, typ); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("no %s condition", typ)
	}
}

func routeConditionOf(controllerName, kind, name, typ string) func(w *faultWorld, ns string) (*metav1.Condition, error) {
	return func(w *faultWorld, ns string) (*metav1.Condition, error) {
		return parentConditionOf(w.client, controllerName, routeRef{apiVersion: "gateway.networking.k8s.io/v1", kind: kind, ns: ns, name: name}, typ)
	}
}

// refusals: every input that translation refuses, on the real API server with the AWS calls
// counted: which object says so, with which condition, and the calls it does not cost.
func (w *faultWorld) refusals(t *testing.T) {
	gatewayAccepted := w.seedGatewayCondition("Accepted")
	tcpResolved := routeConditionOf("gateway.k8s.aws/nlb", "TCPRoute", "tcp-backend-aws", "ResolvedRefs")
	expiredCert, expiredKey := certificateValidIn(t, "secure.example.com", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	cases := []refusal{{
		name: "load balancer attribute of the other type", files: seedWithoutConfigs,
		yaml:  seedLBC + "  loadBalancerAttributes: [{key: idle_timeout.timeout_seconds, value: \"60\"}]\n" + "\n---\n" + seedTGC,
		where: gatewayAccepted, status: metav1.ConditionFalse, reason: "InvalidParameters", field: "spec.loadBalancerAttributes[0]",
		noCalls: []string{"CreateLoadBalancer"},
	}, {
		name: "NLB ipAddressType dualstack-without-public-ipv4", files: seedWithoutConfigs,
		yaml:  seedLBC + "  ipAddressType: dualstack-without-public-ipv4\n" + "\n---\n" + seedTGC,
		where: gatewayAccepted, status: metav1.ConditionFalse, reason: "InvalidParameters", field: "spec.ipAddressType",
		noCalls: []string{"CreateLoadBalancer"},
	}, {
		name: "tag key aws:", files: seedWithoutConfigs,
		yaml:  seedLBC + "  tags: {\"aws:owner\": me}\n" + "\n---\n" + seedTGC,
		where: gatewayAccepted, status: metav1.ConditionFalse, reason: "InvalidParameters", field: "spec.tags",
		noCalls: []string{"CreateLoadBalancer"},
	}, {
		name: "spec.addresses", files: []string{"examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/backend-service.yaml", "examples/seed-l4/tcproute.yaml"},
		yaml:  seedLBC + "\n---\n" + seedTGC + "\n---\n" + strings.Replace(seedGatewayYAML(t), "  listeners:", "  addresses: [{type: Hostname, value: lb.example.com}]\n  listeners:", 1),
		where: gatewayAccepted, status: metav1.ConditionFalse, reason: "UnsupportedAddress", field: "spec.addresses",
		noCalls: []string{"CreateLoadBalancer"},
	}, {
		name: "health check timeout not below the interval", files: seedWithoutTGC,
		yaml:  seedTGC + "    healthCheckConfig: {healthCheckInterval: 10, healthCheckTimeout: 10}\n",
		where: tcpResolved, status: metav1.ConditionFalse, reason: "UnsupportedValue", field: "healthCheckConfig.healthCheckTimeout",
		// The TCP Gateway itself is programmed, without any ACM call.
		noCalls: []string{"CreateTargetGroup", "ListCertificates", "DescribeCertificate"},
	}, {
		name: "target group attribute of ALB target groups", files: seedWithoutTGC,
		yaml:  seedTGC + "    targetGroupAttributes: [{key: slow_start.duration_seconds, value: \"60\"}]\n",
		where: tcpResolved, status: metav1.ConditionFalse, reason: "UnsupportedValue", field: "targetGroupAttributes[0]",
		noCalls: []string{"CreateTargetGroup"},
	}, {
		name: "ExternalName Service", files: []string{"examples/seed-l4/lbconfig.yaml", "examples/seed-l4/gwc-nlb.yaml",
			"examples/seed-l4/gw-public-nlb.yaml", "examples/seed-l4/tcproute.yaml"},
		yaml:  seedTGC + "---\napiVersion: v1\nkind: Service\nmetadata: {name: backend}\nspec: {type: ExternalName, externalName: example.com, ports: [{port: 3000}]}\n",
		where: tcpResolved, status: metav1.ConditionFalse, reason: "UnsupportedValue", field: "spec.rules[0].backendRefs[0]",
		noCalls: []string{"CreateTargetGroup"},
	}, {
		name: "HTTPRoute on an NLB Gateway", files: seedWithoutTGC,
		yaml: seedTGC + "\n---\n" + strings.NewReplacer("name: gw,", "name: aws-tcp-gateway,", "sectionName: http}", "sectionName: tcp-app}").
			Replace(pathRoute("web", "/")),
		where:  routeConditionOf("gateway.k8s.aws/nlb", "HTTPRoute", "web", "Accepted"),
		status: metav1.ConditionFalse, reason: "NotAllowedByListeners", field: "spec.parentRefs[0]",
		noCalls: []string{"CreateRule"},
	}, {
		name: "expired certificate in a Secret", files: []string{"examples/seed-l4/backend-service.yaml"},
		yaml: albClass + "\n---\n" + albConfig("") + "\n---\n" + ipTargets + "\n---\n" +
			albGateway("gw", "  - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: expired}]}}\n") + "\n---\n" +
			strings.Replace(pathRoute("secure", "/"), "sectionName: http}", "sectionName: https}", 1) + "\n---\n" +
			fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: expired}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: %q\n  tls.key: %q\n", expiredCert, expiredKey),
		where:  firstListenerResolvedRefs,
		status: metav1.ConditionFalse, reason: "InvalidCertificateRef", field: "tls.certificateRefs[0]",
		noCalls: []string{"ImportCertificate", "CreateListener"},
	}, {
		name: "certificate ARN that ACM does not have", files: []string{"examples/seed-l4/backend-service.yaml"},
		yaml: albClass + "\n---\n" + albConfig("arn:aws:acm:"+region+":123456789012:certificate/00000000-0000-0000-0000-000000000000") +
			"\n---\n" + ipTargets + "\n---\n" +
			albGateway("gw", "  - {name: https, protocol: HTTPS, port: 443}\n") + "\n---\n" +
			strings.Replace(pathRoute("secure", "/"), "sectionName: http}", "sectionName: https}", 1),
		where:  firstListenerResolvedRefs,
		status: metav1.ConditionFalse, reason: "InvalidCertificateRef", field: "listenerConfigurations[HTTPS:443].defaultCertificate",
		noCalls: []string{"CreateListener"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespaceIn(t, w.client)
			w.proxy.ResetCounts()
			applyFiles(t, w.client, ns, tc.files...)
			applyYAML(t, w.client, ns, tc.yaml)
			eventually(t, 30*time.Second, "the refusal on its object", func() error {
				c, err := tc.where(w, ns)
				if err != nil {
					return err
				}
				if c.Status != tc.status || c.Reason != tc.reason {
					return fmt.Errorf("%s %s %s %q", c.Type, c.Status, c.Reason, c.Message)
				}
				if !strings.Contains(c.Message, tc.field) {
					return fmt.Errorf("message %q does not name %s", c.Message, tc.field)
				}
				return nil
			})
			time.Sleep(2 * time.Second) // more reconciles, whose calls count too
			counts := w.proxy.Counts()
			for _, action := range tc.noCalls {
				if counts[action] != 0 {
					t.Errorf("%d %s calls for a refused input, want 0 (calls: %s)", counts[action], action, countsText(counts))
				}
			}
			t.Logf("AWS calls: %s", countsText(counts))
			// The next case counts its own calls only.
			var gws gwv1.GatewayList
			if err := w.client.List(context.Background(), &gws, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			for _, gw := range gws.Items {
				w.deleteGateway(t, ns, gw.Name, time.Minute)
			}
		})
	}
}

// firstListenerResolvedRefs is the ResolvedRefs condition of the first listener of Gateway gw.
func firstListenerResolvedRefs(w *faultWorld, ns string) (*metav1.Condition, error) {
	var gw gwv1.Gateway
	if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "gw"}, &gw); err != nil {
		return nil, err
	}
	for _, l := range gw.Status.Listeners {
		if c := meta.FindStatusCondition(l.Conditions, "ResolvedRefs"); c != nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no listener status")
}

// seedGatewayYAML is the seed's Gateway manifest.
func seedGatewayYAML(t *testing.T) string {
	return readFile(t, env.root+"/examples/seed-l4/gw-public-nlb.yaml")
}

// certificateValidIn is a self-signed certificate for host valid from notBefore to notAfter,
// and its key, as PEM.
func certificateValidIn(t *testing.T, host string, notBefore, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: notBefore, NotAfter: notAfter,
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
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}
