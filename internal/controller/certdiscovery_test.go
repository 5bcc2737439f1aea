package controller_test

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestSeed000CertificateDiscovery is seed 000's "Certificate Discovery for secure listeners": an
// HTTPS listener with a hostname and no certificate configured anywhere (no tls block, no
// LoadBalancerConfiguration certificate) gets the issued ACM certificate that covers the
// hostname, the exact one rather than a wildcard. A listener whose tls block has options but
// no certificateRefs (all the API server accepts for mode Terminate without them) discovers
// too: its hostname is covered by the wildcard only. Each is alone on its Gateway, so neither
// depends on the other asking for discovery.
func TestSeed000CertificateDiscovery(t *testing.T) {
	ns := newNamespace(t)
	wildcard := importCertificate(t, "*.discovery.example.net")
	exact := importCertificate(t, "shop.discovery.example.net")
	importCertificate(t, "other.example.net")
	applyYAML(t, env.client, ns, albClass+"---"+albConfig(""))
	for _, tt := range []struct {
		gateway, listener, want string
	}{
		{"no-tls", "  - {name: https, protocol: HTTPS, port: 443, hostname: shop.discovery.example.net}\n", exact},
		{"tls-options", "  - {name: https, protocol: HTTPS, port: 443, hostname: api.discovery.example.net, " +
			"tls: {mode: Terminate, options: {example.com/policy: none}}}\n", wildcard},
	} {
		t.Run(tt.gateway, func(t *testing.T) {
			applyYAML(t, env.client, ns, albGateway(tt.gateway, tt.listener)+`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: `+tt.gateway+`
spec:
  parentRefs:
  - {name: `+tt.gateway+`}
  rules:
  - backendRefs: [{name: app, port: 80}]
`)
			_, lbARN := programmedGateway(t, env.client, ns, tt.gateway)
			// The account's certificate list is reused for a while (a minute in production, seconds
			// here: sharedCertificateRecheck) and another test may have just read it: a listener
			// without a certificate looks again that much later, so a certificate imported since is
			// found then.
			eventually(t, 150*timeoutScale, "listener https ResolvedRefs=True", func() error {
				c, err := listenerCondition(ns, tt.gateway, "https", string(gwv1.ListenerConditionResolvedRefs))
				if err == nil && c.Status != metav1.ConditionTrue {
					err = fmt.Errorf("ResolvedRefs=%s/%s %q", c.Status, c.Reason, c.Message)
				}
				return err
			})
			waitListeners(t, lbARN, "HTTPS:443")
			var ls struct {
				Listeners []struct {
					Certificates []struct{ CertificateArn string }
				}
			}
			cliJSON(t, &ls, "elbv2", "describe-listeners", "--load-balancer-arn", lbARN)
			if len(ls.Listeners) != 1 || len(ls.Listeners[0].Certificates) != 1 || ls.Listeners[0].Certificates[0].CertificateArn != tt.want {
				t.Errorf("listeners %+v, want HTTPS:443 with %s only", ls.Listeners, tt.want)
			}
		})
	}
}
