package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestListenerSetALB: an ALB Gateway that allows ListenerSets of its namespace takes a
// ListenerSet's HTTP entry (a new ALB listener with the rule of an HTTPRoute attached through
// parentRef kind ListenerSet + sectionName) and its HTTPS entry on the Gateway's own port 443
// (the Secret it names is imported into ACM and added to the listener next to the Gateway's
// default certificate). An entry whose Secret does not exist is ResolvedRefs=False
// InvalidCertificateRef and gets no listener, until the Secret is created (the Secret's watch
// reconciles the parent Gateway). Deleting the ListenerSet removes its listeners and
// certificate from the ALB and deletes the certificates imported for it.
func TestListenerSetALB(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	gwCert, gwKey := selfSigned(t, "a.example.com")
	lsCert, lsKey := selfSigned(t, "b.example.com")
	createTLSSecret(t, ns, "gw-tls", gwCert, gwKey)
	createTLSSecret(t, ns, "ls-tls", lsCert, lsKey)
	gateway := testenv.AllowListenerSets(albGateway("gw",
		"  - {name: https, protocol: HTTPS, port: 443, hostname: a.example.com, tls: {certificateRefs: [{name: gw-tls}]}}\n"))
	listenerSet := testenv.ListenerSetYAML("extra", "gw",
		"{name: http, protocol: HTTP, port: 8080}",
		"{name: https, protocol: HTTPS, port: 443, hostname: b.example.com, tls: {certificateRefs: [{name: ls-tls}]}}",
		"{name: late, protocol: HTTPS, port: 8443, tls: {certificateRefs: [{name: late-tls}]}}")
	applyFiles(t, env.client, ns, "examples/seed-l4/backend-service.yaml")
	applyYAML(t, env.client, ns, albClass+"---"+albConfig("")+"---"+ipTargets+"---"+gateway+"---"+listenerSet+`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: main
spec:
  parentRefs: [{name: gw, sectionName: https}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /main}}]
    backendRefs: [{name: backend, port: 3000}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: shop
spec:
  parentRefs:
  - {group: gateway.networking.k8s.io, kind: ListenerSet, name: extra, sectionName: http}
  - {group: gateway.networking.k8s.io, kind: ListenerSet, name: extra, sectionName: https}
  rules:
  - matches: [{path: {type: PathPrefix, value: /shop}}]
    backendRefs: [{name: backend, port: 3000}]
---`+testenv.ListenerSetRouteYAML("HTTPRoute", "late", "extra", "late", "backend", 3000))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	ports := func() map[int32]string {
		out := map[int32]string{}
		for _, l := range listeners(t, lbARN) {
			out[awssdk.ToInt32(l.Port)] = awssdk.ToString(l.ListenerArn)
		}
		return out
	}
	// listenerCerts are the certificates of a listener: the default one's ARN, and all ARNs.
	listenerCerts := func(listenerARN string) (string, []string) {
		var all struct {
			Certificates []struct {
				CertificateArn string
				IsDefault      bool
			}
		}
		cliJSON(t, &all, "elbv2", "describe-listener-certificates", "--listener-arn", listenerARN)
		def, arns := "", []string{}
		for _, c := range all.Certificates {
			arns = append(arns, c.CertificateArn)
			if c.IsDefault {
				def = c.CertificateArn
			}
		}
		return def, arns
	}
	entryCondition := func(name, typ string) (*metav1.Condition, error) {
		ls, _, err := listenerSetCondition(ns, "extra", "Accepted")
		if err != nil {
			return nil, err
		}
		for _, e := range ls.Status.Listeners {
			if string(e.Name) == name {
				if c := meta.FindStatusCondition(e.Conditions, typ); c != nil {
					return c, nil
				}
			}
		}
		return nil, fmt.Errorf("entry %s has no %s condition: %+v", name, typ, ls.Status.Listeners)
	}

	// The HTTP entry: a listener on 8080 with the route's rule.
	var httpARN, httpsARN string
	eventually(t, 60*timeoutScale, "listeners 443 and 8080, none on 8443", func() error {
		p := ports()
		httpARN, httpsARN = p[8080], p[443]
		if httpARN == "" || httpsARN == "" || p[8443] != "" || len(p) != 2 {
			return fmt.Errorf("listeners %s", listenerSummary(listeners(t, lbARN)))
		}
		return nil
	})
	waitRouteCondition(t, "HTTPRoute", ns, "shop", "Accepted", metav1.ConditionTrue, "Accepted")
	if rs := waitRuleCount(t, httpARN, 1); !strings.Contains(rs[0], "path-pattern=/shop") {
		t.Errorf("rule on 8080 %q, want the shop route's /shop", rs[0])
	}

	// Port 443: the Gateway's certificate is the default, the ListenerSet's is added.
	var defaultARN, lsARN string
	eventually(t, 60*timeoutScale, "443 carries both certificates", func() error {
		def, arns := listenerCerts(httpsARN)
		if len(arns) != 2 || def == "" {
			return fmt.Errorf("certificates %v (default %s)", arns, def)
		}
		defaultARN = def
		for _, a := range arns {
			if a != def {
				lsARN = a
			}
		}
		return nil
	})
	if got := acmCertificateBody(t, defaultARN); got != strings.TrimSpace(string(gwCert)) {
		t.Errorf("the default certificate of 443 is not the Gateway's Secret's")
	}
	if got := acmCertificateBody(t, lsARN); got != strings.TrimSpace(string(lsCert)) {
		t.Errorf("the other certificate of 443 is not the ListenerSet's Secret's")
	}
	eventually(t, 30*timeoutScale, "entry statuses", func() error {
		for name, want := range map[string]string{"http": "True", "https": "True", "late": "False"} {
			c, err := entryCondition(name, "ResolvedRefs")
			if err != nil {
				return err
			}
			if string(c.Status) != want {
				return fmt.Errorf("entry %s ResolvedRefs %s/%s %q, want %s", name, c.Status, c.Reason, c.Message, want)
			}
		}
		c, _ := entryCondition("late", "ResolvedRefs")
		if c.Reason != string(gwv1.ListenerEntryReasonInvalidCertificateRef) || !strings.Contains(c.Message, ns+"/late-tls") {
			return fmt.Errorf("entry late ResolvedRefs %s %q, want InvalidCertificateRef naming the Secret", c.Reason, c.Message)
		}
		if p, err := entryCondition("late", "Programmed"); err != nil || p.Status != metav1.ConditionFalse {
			return fmt.Errorf("entry late Programmed %+v %v, want False", p, err)
		}
		return nil
	})

	// Creating the missing Secret brings its listener.
	lateCert, lateKey := selfSigned(t, "c.example.com")
	createTLSSecret(t, ns, "late-tls", lateCert, lateKey)
	var lateARN string
	eventually(t, 60*timeoutScale, "listener 8443 with the new Secret's certificate", func() error {
		l := ports()[8443]
		if l == "" {
			return fmt.Errorf("listeners %s", listenerSummary(listeners(t, lbARN)))
		}
		def, _ := listenerCerts(l)
		if def == "" {
			return fmt.Errorf("listener 8443 has no certificate yet")
		}
		lateARN = def
		return nil
	})
	if got := acmCertificateBody(t, lateARN); got != strings.TrimSpace(string(lateCert)) {
		t.Errorf("the certificate of 8443 is not the late Secret's")
	}

	// Deleting the ListenerSet: its listeners and certificate leave the ALB, and the
	// certificates imported for it are deleted; the Gateway's stay.
	if err := env.client.Delete(ctx, &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "extra"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*timeoutScale, "only 443 left, with the Gateway's certificate only", func() error {
		p := ports()
		if len(p) != 1 || p[443] == "" {
			return fmt.Errorf("listeners %s", listenerSummary(listeners(t, lbARN)))
		}
		if def, arns := listenerCerts(p[443]); len(arns) != 1 || def != defaultARN {
			return fmt.Errorf("443 certificates %v, want only %s", arns, defaultARN)
		}
		return nil
	})
	for _, arn := range []string{lsARN, lateARN} {
		waitCertificateDeleted(t, arn, 60*timeoutScale)
	}
	if got := acmCertificateBody(t, defaultARN); got != strings.TrimSpace(string(gwCert)) {
		t.Errorf("the Gateway's imported certificate changed or left")
	}
}
