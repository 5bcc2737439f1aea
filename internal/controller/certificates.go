package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// TLS certificates of Gateway listeners (tls.certificateRefs) live in Secrets. They are read
// through the same per-Secret watches as OIDC client secrets (secrets.go): only the Secrets
// the Gateway's listeners name, and a change to one of them reconciles the Gateways naming it.

// tlsSecrets reads the Secrets the secure listeners of the Gateway and of its ListenerSets
// name in tls.certificateRefs, with the ReferenceGrants that let them use Secrets of other
// namespaces. A Secret outside its listener's namespace (the Gateway's, or the ListenerSet's)
// is read only when a grant from that Gateway or ListenerSet allows it; one that does not exist
// is left out. All of them are tracked under the Gateway, so a change to any reconciles it.
func (g *gatherer) tlsSecrets(ctx context.Context, s *snapshot.Snapshot) error {
	if g.secrets == nil {
		return nil
	}
	gw := s.Gateway
	var keys []string
	if gw.DeletionTimestamp == nil {
		refs := secretRefsOf(s)
		if err := g.secretGrants(ctx, s, refs); err != nil {
			return err
		}
		set := map[string]bool{}
		for _, r := range refs {
			ns, name := splitKey(r.secret)
			if ns == r.from.namespace || secretGranted(s.ReferenceGrants, r.from, ns, name) {
				set[r.secret] = true
			}
		}
		keys = sortedKeys(set)
	}
	if err := g.secrets.trackTLS(gw.Namespace+"/"+gw.Name, keys); err != nil {
		return err
	}
	for _, k := range keys {
		secret, ok, err := g.secrets.tlsSecret(ctx, k)
		if err != nil {
			return fmt.Errorf("reading the TLS certificate of Secret %s: %w", k, err)
		}
		if !ok {
			continue
		}
		if s.TLSSecrets == nil {
			s.TLSSecrets = map[string]snapshot.TLSSecret{}
		}
		s.TLSSecrets[k] = secret
	}
	return nil
}

// refOwner is the object whose listener names a Secret: a Gateway or a ListenerSet (kind),
// in its namespace. A ReferenceGrant must name it as from.
type refOwner struct{ kind, namespace string }

// ownedListener is a listener with the object it belongs to.
type ownedListener struct {
	gwv1.Listener
	owner refOwner
}

// secretRef is a Secret (namespace/name) a listener of owner names.
type secretRef struct {
	secret string
	from   refOwner
}

// listenersOf are the Gateway's listeners, then the ListenerSet entries that join them
// (allowed by the Gateway and not conflicting: the snapshot's merge, see mergeListenerSets).
func listenersOf(s *snapshot.Snapshot) []ownedListener {
	gw := s.Gateway
	var out []ownedListener
	for _, l := range gw.Spec.Listeners {
		out = append(out, ownedListener{l, refOwner{"Gateway", gw.Namespace}})
	}
	if s.ListenerSetMerge == nil {
		return out
	}
	for _, ml := range s.ListenerSetMerge.Listeners {
		out = append(out, ownedListener{ml.Listener, refOwner{"ListenerSet", ml.Namespace}})
	}
	return out
}

// secretRefsOf are the Secrets the secure listeners of the Gateway and of its ListenerSets
// name, each with the object that names it.
func secretRefsOf(s *snapshot.Snapshot) []secretRef {
	var out []secretRef
	for _, l := range listenersOf(s) {
		for _, k := range listenerSecretRefs(l.Listener, l.owner.namespace) {
			if r := (secretRef{k, l.owner}); !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// listenerSecretRefs are the Secrets (namespace/name) a terminating listener names; ns is the
// namespace of its Gateway or ListenerSet, where a ref without namespace points.
func listenerSecretRefs(l gwv1.Listener, ns string) []string {
	if !terminatesTLS(l) {
		return nil
	}
	var out []string
	for _, ref := range l.TLS.CertificateRefs {
		if ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Secret" {
			continue
		}
		at := ns
		if ref.Namespace != nil && *ref.Namespace != "" {
			at = string(*ref.Namespace)
		}
		out = append(out, at+"/"+string(ref.Name))
	}
	return out
}

// certificateSecretRefs are the Secrets (namespace/name, sorted) the Gateway's own HTTPS and
// terminating TLS listeners name.
func certificateSecretRefs(gw *gwv1.Gateway) []string {
	set := map[string]bool{}
	for _, l := range gw.Spec.Listeners {
		for _, k := range listenerSecretRefs(l, gw.Namespace) {
			set[k] = true
		}
	}
	return sortedKeys(set)
}

// certificateNamespaces are the namespaces other than its own (sorted) that the Gateway's
// certificateRefs name Secrets in.
func certificateNamespaces(gw *gwv1.Gateway) []string {
	set := map[string]bool{}
	for _, k := range certificateSecretRefs(gw) {
		if ns, _ := splitKey(k); ns != gw.Namespace {
			set[ns] = true
		}
	}
	return sortedKeys(set)
}

func terminatesTLS(l gwv1.Listener) bool {
	if l.TLS == nil || l.TLS.Mode != nil && *l.TLS.Mode == gwv1.TLSModePassthrough {
		return false
	}
	return l.Protocol == gwv1.HTTPSProtocolType || l.Protocol == gwv1.TLSProtocolType
}

// secretGrants adds the ReferenceGrants of the namespaces of cross-namespace Secrets that the
// referenceGrants step has not read.
func (g *gatherer) secretGrants(ctx context.Context, s *snapshot.Snapshot, refs []secretRef) error {
	if !g.apis.ReferenceGrant {
		return nil
	}
	listed := map[string]bool{}
	for _, r := range routeObjects(s) {
		for _, b := range r.backends {
			if b.Namespace != r.namespace {
				listed[b.Namespace] = true
			}
		}
	}
	for _, r := range refs {
		ns, _ := splitKey(r.secret)
		if ns == r.from.namespace || listed[ns] {
			continue
		}
		listed[ns] = true
		grants, err := listReferenceGrants(ctx, g.reader, g.apis, ns)
		if err != nil {
			return err
		}
		s.ReferenceGrants = append(s.ReferenceGrants, grants...)
	}
	return nil
}

// secretGranted says whether a grant in namespace ns lets from (Gateways or ListenerSets of a
// namespace) use the Secret name.
func secretGranted(grants []gwv1beta1.ReferenceGrant, from refOwner, ns, name string) bool {
	for _, g := range grants {
		if g.Namespace != ns {
			continue
		}
		ok := false
		for _, f := range g.Spec.From {
			ok = ok || string(f.Group) == gwv1.GroupName && string(f.Kind) == from.kind && string(f.Namespace) == from.namespace
		}
		for _, t := range g.Spec.To {
			if ok && t.Group == "" && t.Kind == "Secret" && (t.Name == nil || *t.Name == "" || string(*t.Name) == name) {
				return true
			}
		}
	}
	return false
}

// needsCertificateDiscovery says whether a secure listener may discover its certificate in
// ACM: it names no certificateRefs and no LoadBalancerConfiguration sets certificates for its
// PROTOCOL:PORT. An HTTPS listener without a tls block is one (the API server accepts it, and
// it is how seed 000 asks for discovery); so is a tls block with options and no certificateRefs.
func needsCertificateDiscovery(s *snapshot.Snapshot) bool {
	for _, ol := range listenersOf(s) {
		l := ol.Listener
		noTLS := l.TLS == nil && l.Protocol == gwv1.HTTPSProtocolType
		if !noTLS && (!terminatesTLS(l) || len(l.TLS.CertificateRefs) > 0) {
			continue
		}
		if !configuredCertificates(s, string(l.Protocol)+":"+strconv.Itoa(int(l.Port))) {
			return true
		}
	}
	return false
}

// configuredCertificateARNs are the certificate ARNs LoadBalancerConfigurations name for the
// PROTOCOL:PORT of a secure listener that names no certificateRefs, sorted: translation checks
// that ACM has them, issued.
func configuredCertificateARNs(s *snapshot.Snapshot) []string {
	set := map[string]bool{}
	for _, ol := range listenersOf(s) {
		l := ol.Listener
		if l.Protocol != gwv1.HTTPSProtocolType && l.Protocol != gwv1.TLSProtocolType ||
			l.TLS != nil && (len(l.TLS.CertificateRefs) > 0 || l.TLS.Mode != nil && *l.TLS.Mode == gwv1.TLSModePassthrough) {
			continue
		}
		protocolPort := string(l.Protocol) + ":" + strconv.Itoa(int(l.Port))
		for _, lbc := range s.LoadBalancerConfigurations {
			for _, lc := range lbc.Spec.ListenerConfigurations {
				if !strings.EqualFold(string(lc.ProtocolPort), protocolPort) {
					continue
				}
				if lc.DefaultCertificate != nil && *lc.DefaultCertificate != "" {
					set[*lc.DefaultCertificate] = true
				}
				for _, c := range lc.Certificates {
					if c != "" {
						set[c] = true
					}
				}
			}
		}
	}
	return sortedKeys(set)
}

func configuredCertificates(s *snapshot.Snapshot, protocolPort string) bool {
	for _, lbc := range s.LoadBalancerConfigurations {
		for _, lc := range lbc.Spec.ListenerConfigurations {
			if !strings.EqualFold(string(lc.ProtocolPort), protocolPort) {
				continue
			}
			if lc.DefaultCertificate != nil && *lc.DefaultCertificate != "" || len(lc.Certificates) > 0 {
				return true
			}
		}
	}
	return false
}

// trackTLS records the Secrets a Gateway's certificateRefs name now and starts or stops
// watches to match.
func (w *secretWatcher) trackTLS(gateway string, secrets []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(secrets) == 0 {
		delete(w.tlsUses, gateway)
	} else {
		if w.ctx == nil {
			return errors.New("the Secret watcher is not started")
		}
		if w.tlsUses == nil {
			w.tlsUses = map[string][]string{}
		}
		w.tlsUses[gateway] = append([]string(nil), secrets...)
	}
	return w.syncWatches()
}

// tlsSecret returns the type and TLS keys of a watched Secret; false when it does not exist.
// It waits for a new watch's first list.
func (w *secretWatcher) tlsSecret(ctx context.Context, key string) (snapshot.TLSSecret, bool, error) {
	w.mu.Lock()
	sw := w.watches[key]
	w.mu.Unlock()
	if sw == nil {
		return snapshot.TLSSecret{}, false, fmt.Errorf("Secret %s is not watched", key)
	}
	if !sw.informer.HasSynced() {
		wait, cancel := context.WithTimeout(ctx, secretSyncTimeout)
		defer cancel()
		if !cache.WaitForCacheSync(wait.Done(), sw.informer.HasSynced) {
			return snapshot.TLSSecret{}, false, fmt.Errorf("the watch of Secret %s did not list it within %s", key, secretSyncTimeout)
		}
	}
	obj, ok, err := sw.informer.GetStore().GetByKey(key)
	if err != nil || !ok {
		return snapshot.TLSSecret{}, false, err
	}
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return snapshot.TLSSecret{}, false, nil
	}
	return snapshot.TLSSecret{
		Type:        string(secret.Type),
		Certificate: string(secret.Data[corev1.TLSCertKey]),
		PrivateKey:  string(secret.Data[corev1.TLSPrivateKeyKey]),
	}, true, nil
}
