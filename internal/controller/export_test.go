package controller

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// SecretWatcher gives the integration tests the per-Secret watches of the ALB controller.
type SecretWatcher struct{ w *secretWatcher }

// StartSecretWatcher starts a watcher against cfg that queues Gateways on queue until ctx ends.
func StartSecretWatcher(ctx context.Context, cfg *rest.Config, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) (*SecretWatcher, error) {
	w, err := newSecretWatcher(cfg, nil)
	if err != nil {
		return nil, err
	}
	return &SecretWatcher{w: w}, w.Start(ctx, queue)
}

// Track records the Secrets a Gateway names.
func (s *SecretWatcher) Track(gateway string, secrets ...string) error {
	return s.w.track(gateway, secrets)
}

// Forget stops tracking a Gateway.
func (s *SecretWatcher) Forget(gateway string) { s.w.forget(gateway) }

// Watched lists the watched Secrets.
func (s *SecretWatcher) Watched() []string { return s.w.watched() }

// OIDCClient reads a watched Secret's client.
func (s *SecretWatcher) OIDCClient(ctx context.Context, key string) (snapshot.OIDCClient, bool, error) {
	return s.w.oidcClient(ctx, key)
}

// Stored returns what the watch of Secret key holds: "namespace/name@resourceVersion" of each
// object, and the data keys kept of each, sorted.
func (s *SecretWatcher) Stored(key string) (objects []string, dataKeys []string) {
	s.w.mu.Lock()
	sw := s.w.watches[key]
	s.w.mu.Unlock()
	if sw == nil {
		return nil, nil
	}
	for _, o := range sw.informer.GetStore().List() {
		sec := o.(*corev1.Secret)
		objects = append(objects, sec.Namespace+"/"+sec.Name+"@"+sec.ResourceVersion)
		for k := range sec.Data {
			dataKeys = append(dataKeys, k)
		}
	}
	sort.Strings(objects)
	sort.Strings(dataKeys)
	return objects, dataKeys
}

// NameServices records, as a route with the given UID would, that the Services ("namespace/name")
// are named, so that the cache keeps them whole; the returned func forgets it.
func NameServices(routeUID string, keys ...string) func() {
	referencedServices.set(routeUID, keys)
	return func() { referencedServices.set(routeUID, nil) }
}
