package translate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// TestListenerSetCertificateRefs: a ListenerSet entry's tls.certificateRefs are resolved in
// the ListenerSet's namespace and imported like a Gateway listener's; on a port it shares with
// the Gateway's own HTTPS listener the certificates are united, the Gateway's first (the
// default); a Secret in another namespace needs a ReferenceGrant from the ListenerSet (one
// from the Gateway does not count, and the Gateway's namespace is "another namespace" too);
// a bad ref makes the entry ResolvedRefs=False with the spec's reason and Programmed=False,
// and does not touch its siblings.
func TestListenerSetCertificateRefs(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "CertificateRefsSameNamespace"))
	gwNS := s.Gateway.Namespace
	s.Gateway.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr(gwv1.NamespacesFromAll)}}
	secret := func(host string) snapshot.TLSSecret {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		c, key := pemPair(t, &k.PublicKey, k, host)
		return snapshot.TLSSecret{Type: secretTypeTLS, Certificate: c, PrivateKey: key}
	}
	s.TLSSecrets["team/shop-tls"] = secret("shop.example.com")
	s.TLSSecrets["vault/vault-tls"] = secret("vault.example.com")
	https := func(name string, port int32, host string, ref gwv1.SecretObjectReference) gwv1.ListenerEntry {
		e := entry(name, port, gwv1.HTTPSProtocolType)
		e.Hostname = ptr(gwv1.Hostname(host))
		e.TLS = &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{ref}}
		return e
	}
	ls := listenerSet("team", "shop", 0,
		https("shop", 443, "shop.example.com", gwv1.SecretObjectReference{Name: "shop-tls"}),
		https("granted", 8443, "vault.example.com", gwv1.SecretObjectReference{Name: "vault-tls", Namespace: ptr(gwv1.Namespace("vault"))}),
		https("denied", 9443, "secure.example.com", gwv1.SecretObjectReference{Name: "secure-tls", Namespace: ptr(gwv1.Namespace(gwNS))}),
		https("missing", 10443, "gone.example.com", gwv1.SecretObjectReference{Name: "nope"}),
	)
	ls.Spec.ParentRef = gwv1.ParentGatewayReference{Name: gwv1.ObjectName(s.Gateway.Name), Namespace: ptr(gwv1.Namespace(gwNS))}
	s.ListenerSets = []gwv1.ListenerSet{ls}
	grant := gwv1beta1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "vault", Name: "listenersets"}}
	grant.Spec.From = []gwv1beta1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: "ListenerSet", Namespace: "team"}}
	grant.Spec.To = []gwv1beta1.ReferenceGrantTo{{Group: "", Kind: "Secret"}}
	s.ReferenceGrants = []gwv1beta1.ReferenceGrant{grant}
	svc := s.Services[0].DeepCopy()
	svc.Namespace = "team"
	s.Services = append(s.Services, *svc)
	route := s.HTTPRoutes[0].DeepCopy()
	route.Namespace, route.Name = "team", "shop"
	route.Spec.Hostnames = nil
	route.Spec.ParentRefs = nil
	for _, section := range []string{"shop", "granted", "denied", "missing"} {
		route.Spec.ParentRefs = append(route.Spec.ParentRefs, gwv1.ParentReference{Group: ptr(gwv1.Group(gwv1.GroupName)),
			Kind: ptr(gwv1.Kind("ListenerSet")), Name: "shop", SectionName: ptr(gwv1.SectionName(section))})
	}
	s.HTTPRoutes = append(s.HTTPRoutes, *route)

	gwCert, shopCert, vaultCert := model.CertificateID(gwNS, "secure-tls"), model.CertificateID("team", "shop-tls"), model.CertificateID("vault", "vault-tls")
	stack, set := Gateway(s)
	if err := stack.Validate(); err != nil {
		t.Fatalf("stack does not validate: %v", err)
	}
	certs := map[int32][]string{}
	for _, l := range stack.Listeners {
		for _, r := range l.Certificates {
			certs[l.Port] = append(certs[l.Port], r.ID)
		}
	}
	if got := certs[443]; !slices.Equal(got, []string{gwCert, shopCert}) {
		t.Errorf("port 443 certificates %v, want the Gateway's (default) then the ListenerSet's: %v", got, []string{gwCert, shopCert})
	}
	if got := certs[8443]; !slices.Equal(got, []string{vaultCert}) {
		t.Errorf("port 8443 certificates %v, want the granted Secret's", got)
	}
	for _, port := range []int32{9443, 10443} {
		if _, ok := certs[port]; ok {
			t.Errorf("port %d has a listener; its entry has no usable certificate", port)
		}
	}
	var imported []string
	for _, c := range stack.Certificates {
		imported = append(imported, c.ID)
	}
	slices.Sort(imported)
	if want := []string{gwCert, shopCert, vaultCert}; !slices.Equal(imported, want) {
		t.Errorf("imported %v, want %v", imported, want)
	}
	if len(set.ListenerSets) != 1 {
		t.Fatalf("ListenerSet statuses %+v", set.ListenerSets)
	}
	entries := map[string][]metav1.Condition{}
	for _, e := range set.ListenerSets[0].Status.Listeners {
		entries[string(e.Name)] = e.Conditions
	}
	for name, want := range map[string]struct{ resolved, reason, field string }{
		"shop":    {"True", "ResolvedRefs", ""},
		"granted": {"True", "ResolvedRefs", ""},
		"denied":  {"False", "RefNotPermitted", "spec.listeners[2].tls.certificateRefs[0]"},
		"missing": {"False", "InvalidCertificateRef", "spec.listeners[3].tls.certificateRefs[0]"},
	} {
		c := cond(entries[name], "ResolvedRefs")
		if string(c.Status) != want.resolved || c.Reason != want.reason || !strings.Contains(c.Message, want.field) {
			t.Errorf("entry %s ResolvedRefs = %s %s %q; want %s %s naming %s", name, c.Status, c.Reason, c.Message, want.resolved, want.reason, want.field)
		}
		if a := cond(entries[name], "Accepted"); a.Status != metav1.ConditionTrue {
			t.Errorf("entry %s Accepted = %+v; a bad certificateRef does not refuse the entry", name, a)
		}
		p := cond(entries[name], "Programmed")
		if want.resolved == "True" && p.Status != metav1.ConditionTrue || want.resolved == "False" && (p.Status != metav1.ConditionFalse || p.Reason != "Invalid") {
			t.Errorf("entry %s Programmed = %+v", name, p)
		}
	}
	if c := cond(set.Gateway.Listeners[0].Conditions, "ResolvedRefs"); c.Status != metav1.ConditionTrue {
		t.Errorf("the Gateway's own listener: ResolvedRefs = %+v", c)
	}

	// A grant from Gateways of the namespace does not let the ListenerSet use the Secret.
	s.ReferenceGrants[0].Spec.From[0].Kind = "Gateway"
	stack, set = Gateway(s)
	for _, l := range stack.Listeners {
		if l.Port == 8443 {
			t.Errorf("port 8443 built with a grant to Gateways only")
		}
	}
	for _, e := range set.ListenerSets[0].Status.Listeners {
		if e.Name == "granted" {
			if c := cond(e.Conditions, "ResolvedRefs"); c.Reason != "RefNotPermitted" || !strings.Contains(c.Message, "kind ListenerSet namespace team") {
				t.Errorf("grant to Gateways only: ResolvedRefs = %+v, want RefNotPermitted naming the grant to add", c)
			}
		}
	}
}

// TestAwaitsCertificate: a listener that names no certificateRefs and finds no ACM certificate
// for its hostname, the Gateway's or a ListenerSet entry, makes translation ask for an early
// look again (ACM may get one at any time); one found, or a listener whose certificateRefs are
// bad (a Secret change reconciles it), does not.
func TestAwaitsCertificate(t *testing.T) {
	if _, set := Gateway(loadSnapshot(t, filepath.Join("testdata", "ACMNoCertificateOnlyThatListener"))); !set.AwaitsCertificate {
		t.Error("a Gateway listener with no ACM certificate for its hostname: not awaiting one")
	}
	base := func(entries ...gwv1.ListenerEntry) *snapshot.Snapshot {
		s := loadSnapshot(t, filepath.Join("testdata", "CertificateRefsSameNamespace"))
		s.Gateway.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr(gwv1.NamespacesFromAll)}}
		ls := listenerSet("team", "shop", 0, entries...)
		ls.Spec.ParentRef = gwv1.ParentGatewayReference{Name: gwv1.ObjectName(s.Gateway.Name), Namespace: ptr(gwv1.Namespace(s.Gateway.Namespace))}
		s.ListenerSets = []gwv1.ListenerSet{ls}
		return s
	}
	if _, set := Gateway(base()); set.AwaitsCertificate {
		t.Error("every listener has its certificate: awaiting one")
	}
	discover := entry("discover", 443, gwv1.HTTPSProtocolType)
	discover.Hostname = ptr(gwv1.Hostname("shop.example.com"))
	s := base(discover)
	_, set := Gateway(s)
	if c := cond(set.ListenerSets[0].Status.Listeners[0].Conditions, "ResolvedRefs"); c.Reason != "InvalidCertificateRef" {
		t.Fatalf("entry without certificateRefs nor ACM certificate: ResolvedRefs %+v, want InvalidCertificateRef", c)
	}
	if !set.AwaitsCertificate {
		t.Error("a ListenerSet entry with no ACM certificate for its hostname: not awaiting one")
	}
	s.AWS.Certificates = append(s.AWS.Certificates, snapshot.Certificate{ARN: "arn:aws:acm:eu-west-1:111122223333:certificate/shop", DomainNames: []string{"shop.example.com"}})
	if _, set := Gateway(s); set.AwaitsCertificate {
		t.Error("the entry's ACM certificate is found: still awaiting one")
	}
	missing := entry("missing", 443, gwv1.HTTPSProtocolType)
	missing.Hostname = ptr(gwv1.Hostname("shop.example.com"))
	missing.TLS = &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "nope"}}}
	_, set = Gateway(base(missing))
	if c := cond(set.ListenerSets[0].Status.Listeners[0].Conditions, "ResolvedRefs"); c.Reason != "InvalidCertificateRef" {
		t.Fatalf("entry naming a missing Secret: ResolvedRefs %+v, want InvalidCertificateRef", c)
	}
	if set.AwaitsCertificate {
		t.Error("an entry whose certificateRefs name a missing Secret: awaiting an ACM certificate")
	}
}
