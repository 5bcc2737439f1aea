package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// listenerCondition reads one condition of one listener of a Gateway.
func listenerCondition(ns, gateway, listener, condType string) (*metav1.Condition, error) {
	var gw gwv1.Gateway
	if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: gateway}, &gw); err != nil {
		return nil, err
	}
	for _, l := range gw.Status.Listeners {
		if string(l.Name) == listener {
			if c := meta.FindStatusCondition(l.Conditions, condType); c != nil {
				if c.ObservedGeneration != gw.Generation {
					return nil, fmt.Errorf("listener %s %s is of generation %d, the Gateway is at %d", listener, condType, c.ObservedGeneration, gw.Generation)
				}
				return c, nil
			}
		}
	}
	return nil, fmt.Errorf("listener %s has no %s condition yet: %+v", listener, condType, gw.Status.Listeners)
}

// TestSecretReferenceGrantTakesEffectAtOnce: a Gateway's TLS listener names a Secret in another
// namespace. Creating the v1 ReferenceGrant there serves the certificate, deleting it takes the
// certificate off the AWS listener and reports ResolvedRefs=False RefNotPermitted, creating it
// again serves it again: each within seconds, not at the next resync (10 minutes), and without
// any change to the Gateway.
func TestSecretReferenceGrantTakesEffectAtOnce(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	certs := newNamespace(t)
	certPEM, keyPEM := selfSigned(t, "app.example.com")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: certs, Name: "shared-tls"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}
	if err := env.client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	// The TCP listener keeps the load balancer when the TLS one has no certificate. The routes
	// live in a third namespace, so no route of the grant's from namespace leads to the Gateway.
	apps := newNamespace(t)
	all := "allowedRoutes: {namespaces: {from: All}}"
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 7000, "+all+"}\n"+
		"  - {name: tls, protocol: TLS, port: 443, hostname: app.example.com, "+all+", tls: {mode: Terminate, certificateRefs: [{name: shared-tls, namespace: "+certs+"}]}}\n")
	applyFiles(t, env.client, apps, "examples/seed-l4/backend-service.yaml")
	parent := "parentRefs: [{name: gw, namespace: " + ns + ", "
	applyYAML(t, env.client, apps, strings.ReplaceAll(ipTargets+"---"+route("TCPRoute", "tcp", "tcp", "", "backend", 3000)+
		"---"+route("TLSRoute", "tls", "tls", "", "backend", 3000), "parentRefs: [{name: gw, ", parent))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")

	waitRefNotPermitted := func(what string) {
		t.Helper()
		eventually(t, 30*timeoutScale, what, func() error {
			c, err := listenerCondition(ns, "gw", "tls", string(gwv1.ListenerConditionResolvedRefs))
			if err != nil {
				return err
			}
			if c.Status != metav1.ConditionFalse || c.Reason != string(gwv1.ListenerReasonRefNotPermitted) {
				return fmt.Errorf("ResolvedRefs %s/%s %q", c.Status, c.Reason, c.Message)
			}
			if !strings.Contains(c.Message, certs+"/shared-tls") {
				return fmt.Errorf("the message does not name the Secret: %q", c.Message)
			}
			return nil
		})
		waitListeners(t, lbARN, "TCP:7000")
	}
	waitRefNotPermitted("RefNotPermitted before any grant")

	grant := fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata:
  name: gateways-of-%s
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: %s}]
  to: [{group: "", kind: Secret, name: shared-tls}]
`, ns, ns)
	served := func(what string) string {
		t.Helper()
		waitListeners(t, lbARN, "TLS:443,TCP:7000")
		var certARN string
		eventually(t, 30*timeoutScale, what, func() error {
			c, err := listenerCondition(ns, "gw", "tls", string(gwv1.ListenerConditionResolvedRefs))
			if err != nil {
				return err
			}
			if c.Status != metav1.ConditionTrue {
				return fmt.Errorf("ResolvedRefs %s/%s %q", c.Status, c.Reason, c.Message)
			}
			for _, l := range listeners(t, lbARN) {
				if awssdk.ToInt32(l.Port) == 443 && len(l.Certificates) == 1 {
					certARN = awssdk.ToString(l.Certificates[0].CertificateArn)
				}
			}
			if certARN == "" {
				return fmt.Errorf("no certificate on the TLS listener: %s", listenerSummary(listeners(t, lbARN)))
			}
			return nil
		})
		if got, want := acmCertificateBody(t, certARN), strings.TrimSpace(string(certPEM)); got != want {
			t.Fatalf("the listener serves %s holding\n%s\nwant the granted Secret's certificate", certARN, got)
		}
		return certARN
	}

	applyYAML(t, env.client, certs, grant)
	certARN := served("the granted certificate is served")

	// Revoking: the grant goes, the certificate leaves the AWS listener, and the imported copy
	// leaves ACM.
	var rg gwv1.ReferenceGrant
	if err := env.client.Get(ctx, types.NamespacedName{Namespace: certs, Name: "gateways-of-" + ns}, &rg); err != nil {
		t.Fatal(err)
	}
	if err := env.client.Delete(ctx, &rg); err != nil {
		t.Fatal(err)
	}
	waitRefNotPermitted("RefNotPermitted after the grant is revoked")
	waitCertificateDeleted(t, certARN, 30*timeoutScale)
	if c, err := listenerCondition(ns, "gw", "tcp", string(gwv1.ListenerConditionProgrammed)); err != nil || c.Status != metav1.ConditionTrue {
		t.Errorf("the TCP listener beside the revoked one: %+v, %v; want Programmed=True", c, err)
	}

	// A grant naming another Secret does not permit this one; updating it to name this one does.
	applyYAML(t, env.client, certs, strings.Replace(grant, "name: shared-tls", "name: other-tls", 1))
	waitRefNotPermitted("RefNotPermitted with a grant for another Secret")
	if err := env.client.Get(ctx, types.NamespacedName{Namespace: certs, Name: "gateways-of-" + ns}, &rg); err != nil {
		t.Fatal(err)
	}
	name := gwv1.ObjectName("shared-tls")
	rg.Spec.To[0].Name = &name
	if err := env.client.Update(ctx, &rg); err != nil {
		t.Fatal(err)
	}
	served("the certificate is served again once an update grants it")
}
