package controller

import (
	"context"
	"errors"
	"fmt"
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

// tlsSecrets reads the Secrets the Gateway's secure listeners name in tls.certificateRefs,
// with the ReferenceGrants that let it use Secrets of other namespaces. A Secret in another
// namespace is read only when a grant allows it; one that does not exist is left out.
func (g *gatherer) tlsSecrets(ctx context.Context, s *snapshot.Snapshot) error {
	if g.secrets == nil {
		return nil
	}
	gw := s.Gateway
	var keys []string
	if gw.DeletionTimestamp == nil {
		refs := certificateSecretRefs(gw)
		if err := g.secretGrants(ctx, s, refs); err != nil {
			return err
		}
		for _, k := range refs {
			ns, name := splitKey(k)
			if ns == gw.Namespace || secretGranted(s.ReferenceGrants, gw.Namespace, ns, name) {
				keys = append(keys, k)
			}
		}
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

// certificateSecretRefs are the Secrets (namespace/name, sorted) the Gateway's HTTPS and
// terminating TLS listeners name.
func certificateSecretRefs(gw *gwv1.Gateway) []string {
	set := map[string]bool{}
	for _, l := range gw.Spec.Listeners {
		if !terminatesTLS(l) {
			continue
		}
		for _, ref := range l.TLS.CertificateRefs {
			if ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Secret" {
				continue
			}
			ns := gw.Namespace
			if ref.Namespace != nil && *ref.Namespace != "" {
				ns = string(*ref.Namespace)
			}
			set[ns+"/"+string(ref.Name)] = true
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

// secretGrants adds the ReferenceGrants of the Secrets' namespaces that the referenceGrants
// step has not read.
func (g *gatherer) secretGrants(ctx context.Context, s *snapshot.Snapshot, refs []string) error {
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
	for _, k := range refs {
		ns, _ := splitKey(k)
		if ns == s.Gateway.Namespace || listed[ns] {
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

// secretGranted says whether a grant in namespace ns lets Gateways of gwNamespace use the
// Secret name.
func secretGranted(grants []gwv1beta1.ReferenceGrant, gwNamespace, ns, name string) bool {
	for _, g := range grants {
		if g.Namespace != ns {
			continue
		}
		from := false
		for _, f := range g.Spec.From {
			from = from || string(f.Group) == gwv1.GroupName && f.Kind == "Gateway" && string(f.Namespace) == gwNamespace
		}
		for _, t := range g.Spec.To {
			if from && t.Group == "" && t.Kind == "Secret" && (t.Name == nil || *t.Name == "" || string(*t.Name) == name) {
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
	for _, l := range s.Gateway.Spec.Listeners {
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
	for _, l := range s.Gateway.Spec.Listeners {
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
