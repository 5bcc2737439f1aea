package translate

import (
	"fmt"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

// secretTypeTLS is the only Secret type a certificateRef may name.
const secretTypeTLS = "kubernetes.io/tls"

// certificateRefs resolves a listener's tls.certificateRefs into certificates the stack imports
// into ACM. A ref that cannot be used is left out and reported (the first one) on the
// listener: ResolvedRefs=False with InvalidCertificateRef, or RefNotPermitted for a Secret in
// another namespace without a ReferenceGrant.
func (t *translator) certificateRefs(l *listenerState) ([]model.Ref, *problem) {
	var out []model.Ref
	var first *problem
	for j, ref := range l.spec.TLS.CertificateRefs {
		field := l.field(fmt.Sprintf("tls.certificateRefs[%d]", j))
		c, p := t.certificateRef(l, field, ref)
		if p != nil {
			first = cmpFirst(first, p)
			continue
		}
		if t.imported == nil {
			t.imported = map[string]model.Certificate{}
		}
		t.imported[c.ID] = c
		if r := (model.Ref{ID: c.ID}); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, first
}

// checkCertificateRefs resolves the tls.certificateRefs of every accepted listener that
// terminates TLS, whether or not a route attaches to it (a port without routes gets no AWS
// listener, but its Gateway listener still reports on its own references): a ref that cannot be
// used makes the listener ResolvedRefs=False, and a listener with no usable ref is served with
// no certificate at all, never with another listener's or a discovered one.
func (t *translator) checkCertificateRefs() {
	for _, l := range t.listeners {
		if !l.accepted() || !terminatesTLS(l.spec) || len(l.spec.TLS.CertificateRefs) == 0 {
			continue
		}
		l.certificates, l.certificateProblem = t.certificateRefs(l)
		l.certificatesChecked = true
		if l.certificateProblem != nil {
			l.unresolved = cmpFirst(l.unresolved, l.certificateProblem)
		}
	}
}

// servable says whether a listener can be served: not when it names certificateRefs and none
// of them can be used. Its routes then get no rules on its port, even when another listener
// there has a certificate: they would be answered with a certificate that is not theirs.
func (l *listenerState) servable() bool {
	return !l.certificatesChecked || len(l.certificates) > 0
}

// terminatesTLS says whether a listener ends TLS on the load balancer: HTTPS, and TLS in mode
// Terminate (the default).
func terminatesTLS(l gwv1.Listener) bool {
	if l.TLS == nil {
		return false
	}
	return l.Protocol == gwv1.HTTPSProtocolType || l.Protocol == gwv1.TLSProtocolType && !passthrough(l)
}

// certificateRef checks one ref of a listener and reads its Secret. The Secret's namespace
// defaults to the namespace of the listener's owner (the ListenerSet's for a ListenerSet
// entry), and a Secret elsewhere needs a ReferenceGrant from that owner: a grant to the
// Gateway does not cover its ListenerSets, nor the reverse.
func (t *translator) certificateRef(l *listenerState, field string, ref gwv1.SecretObjectReference) (model.Certificate, *problem) {
	invalid := func(format string, args ...any) (model.Certificate, *problem) {
		return model.Certificate{}, &problem{string(gwv1.ListenerReasonInvalidCertificateRef), field + ": " + fmt.Sprintf(format, args...)}
	}
	group, kind := "", "Secret"
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if group != "" || kind != "Secret" {
		g := group
		if g == "" {
			g = "core"
		}
		return invalid("%s %s/%s is not supported; refer to a core Secret of type %s (group \"\", kind Secret)",
			g, kind, ref.Name, secretTypeTLS)
	}
	fromKind, fromNamespace := "Gateway", t.gw.Namespace
	if l.owner != "" {
		fromKind, fromNamespace = "ListenerSet", l.ownerNamespace
	}
	ns := fromNamespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	key := ns + "/" + string(ref.Name)
	if ns != fromNamespace && !referenceGranted(t.s.ReferenceGrants,
		objectRef{group: gatewayAPIGroup, kind: fromKind, namespace: fromNamespace},
		objectRef{group: "", kind: "Secret", namespace: ns, name: string(ref.Name)}) {
		return model.Certificate{}, &problem{string(gwv1.ListenerReasonRefNotPermitted), fmt.Sprintf(
			"%s: Secret %s is in another namespace and no ReferenceGrant in %s lets %ss of %s refer to it; add one (from group %s kind %s namespace %s, to group \"\" kind Secret)",
			field, key, ns, fromKind, fromNamespace, gatewayAPIGroup, fromKind, fromNamespace)}
	}
	secret, ok := t.s.TLSSecrets[key]
	if !ok {
		return invalid("Secret %s not found; create it (type %s with tls.crt and tls.key) or fix the name", key, secretTypeTLS)
	}
	if secret.Type != secretTypeTLS {
		return invalid("Secret %s has type %q; use a Secret of type %s with tls.crt and tls.key", key, secret.Type, secretTypeTLS)
	}
	pair, err := parseKeyPair(secret.Certificate, secret.PrivateKey)
	if err == nil {
		err = pair.validAt(t.s.Now.Time)
	}
	if err != nil {
		return invalid("Secret %s: %v", key, err)
	}
	return model.Certificate{
		ID:          model.CertificateID(ns, string(ref.Name)),
		SecretRef:   key,
		Body:        pair.body,
		Chain:       pair.chain,
		PrivateKey:  model.NewSecret(pair.key),
		Hash:        pair.hash,
		DomainNames: pair.names,
		Tags:        t.tags(nil, model.CertificateID(ns, string(ref.Name))),
	}, nil
}

// keepImportedCertificates adds to the stack the imported certificates its listeners use.
func (t *translator) keepImportedCertificates() {
	used := map[string]bool{}
	for _, l := range t.stack.Listeners {
		for _, r := range l.Certificates {
			if r.ID != "" {
				used[r.ID] = true
			}
		}
	}
	for id, c := range t.imported {
		if used[id] {
			t.stack.Certificates = append(t.stack.Certificates, c)
		}
	}
}
