package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// OIDC client secrets live in Secrets, and the controller never caches Secrets cluster-wide:
// the secretWatcher runs one informer per Secret that some Gateway's authenticate-oidc action
// names, restricted to that one Secret by a metadata.name field selector. A watch starts when
// the first Gateway names the Secret and stops when the last one no longer does. The informer
// keeps only the keys an OIDC client or a TLS certificate needs, and a change to them reconciles every Gateway
// naming the Secret. It is a source of the Gateway controller (Start receives its queue).

// Keys of an OIDC client Secret.
const (
	secretKeyClientID       = "clientID"
	secretKeyClientIDLegacy = "clientId"
	secretKeyClientSecret   = "clientSecret"
)

// secretSyncTimeout bounds the wait for a new Secret watch's first list.
const secretSyncTimeout = 30 * time.Second

// secretWatcher holds the per-Secret watches.
type secretWatcher struct {
	// listWatch returns the list-and-watch of one Secret.
	listWatch func(namespace, name string) cache.ListerWatcher

	mu      sync.Mutex
	ctx     context.Context
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
	watches map[string]*secretWatch // by Secret namespace/name
	// onChange, when set before Start, also hears of every change of a watched Secret (the
	// ListenerRuleConfiguration status follows its Secret through it).
	onChange func(key string)
	uses     map[string][]string // Gateway namespace/name → the Secrets it names
	// tlsUses is Gateway namespace/name → the Secrets its listeners' certificateRefs name
	// (certificates.go); both kinds of use share the watches.
	tlsUses map[string][]string
}

// secretWatch is the informer of one Secret.
type secretWatch struct {
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
}

// newSecretWatcher returns a watcher that reaches the API server with cfg (and httpClient when
// not nil, to share the manager's connections).
func newSecretWatcher(cfg *rest.Config, httpClient *http.Client) (*secretWatcher, error) {
	var cs *kubernetes.Clientset
	var err error
	if httpClient != nil {
		cs, err = kubernetes.NewForConfigAndClient(cfg, httpClient)
	} else {
		cs, err = kubernetes.NewForConfig(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the Secret client: %w", err)
	}
	return &secretWatcher{listWatch: func(namespace, name string) cache.ListerWatcher {
		selector := fields.OneTermEqualSelector("metadata.name", name).String()
		return cache.NewFilteredListWatchFromClient(cs.CoreV1().RESTClient(), "secrets", namespace, func(o *metav1.ListOptions) {
			o.FieldSelector = selector
		})
	}}, nil
}

// Start records the controller's queue; watches start on demand and end with ctx.
func (w *secretWatcher) Start(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ctx, w.queue = ctx, queue
	return nil
}

// String names the source in controller-runtime's logs.
func (w *secretWatcher) String() string {
	return "per-Secret watches of OIDC client secrets and TLS certificate secrets"
}

// track records the Secrets (namespace/name) a Gateway names now, starts the watches that are
// missing and stops the ones no Gateway names any more.
func (w *secretWatcher) track(gateway string, secrets []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(secrets) == 0 {
		delete(w.uses, gateway)
	} else {
		if w.ctx == nil {
			return errors.New("the Secret watcher is not started")
		}
		if w.uses == nil {
			w.uses = map[string][]string{}
		}
		w.uses[gateway] = append([]string(nil), secrets...)
	}
	return w.syncWatches()
}

// syncWatches starts the watches some Gateway needs and stops the others; w.mu is held.
func (w *secretWatcher) syncWatches() error {
	wanted := map[string]bool{}
	for _, uses := range []map[string][]string{w.uses, w.tlsUses} {
		for _, keys := range uses {
			for _, k := range keys {
				wanted[k] = true
			}
		}
	}
	for _, k := range sortedKeys(wanted) {
		if w.watches[k] == nil {
			w.start(k)
		}
	}
	for k, sw := range w.watches {
		if !wanted[k] {
			sw.stop()
			delete(w.watches, k)
		}
	}
	return nil
}

// forget stops tracking a Gateway that is gone or no longer ours.
func (w *secretWatcher) forget(gateway string) {
	if w == nil {
		return
	}
	_ = w.track(gateway, nil)
	_ = w.trackTLS(gateway, nil)
}

// start runs the informer of one Secret; w.mu is held.
func (w *secretWatcher) start(key string) {
	ns, name := splitKey(key)
	inf := cache.NewSharedIndexInformerWithOptions(w.listWatch(ns, name), &corev1.Secret{},
		cache.SharedIndexInformerOptions{ObjectDescription: "Secret " + key})
	_ = inf.SetTransform(oidcKeysOnly)
	_, _ = inf.AddEventHandler(secretEvents{notify: func() {
		w.notify(key)
		if w.onChange != nil {
			w.onChange(key)
		}
	}})
	ctx, stop := context.WithCancel(w.ctx)
	go inf.RunWithContext(ctx)
	if w.watches == nil {
		w.watches = map[string]*secretWatch{}
	}
	w.watches[key] = &secretWatch{informer: inf, stop: stop}
}

// notify queues every Gateway that names a Secret.
func (w *secretWatcher) notify(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.queue == nil {
		return
	}
	users := usersOf(w.uses, key)
	maps.Copy(users, usersOf(w.tlsUses, key))
	for _, gw := range sortedKeys(users) {
		ns, name := splitKey(gw)
		w.queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	}
}

func usersOf(uses map[string][]string, key string) map[string]bool {
	out := map[string]bool{}
	for gw, keys := range uses {
		for _, k := range keys {
			if k == key {
				out[gw] = true
			}
		}
	}
	return out
}

// oidcClient returns the client ID and secret a watched Secret holds; false when the Secret
// does not exist. It waits for a new watch's first list.
func (w *secretWatcher) oidcClient(ctx context.Context, key string) (snapshot.OIDCClient, bool, error) {
	w.mu.Lock()
	sw := w.watches[key]
	w.mu.Unlock()
	if sw == nil {
		return snapshot.OIDCClient{}, false, fmt.Errorf("Secret %s is not watched", key)
	}
	if !sw.informer.HasSynced() {
		wait, cancel := context.WithTimeout(ctx, secretSyncTimeout)
		defer cancel()
		if !cache.WaitForCacheSync(wait.Done(), sw.informer.HasSynced) {
			return snapshot.OIDCClient{}, false, fmt.Errorf("the watch of Secret %s did not list it within %s", key, secretSyncTimeout)
		}
	}
	obj, ok, err := sw.informer.GetStore().GetByKey(key)
	if err != nil || !ok {
		return snapshot.OIDCClient{}, false, err
	}
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return snapshot.OIDCClient{}, false, nil
	}
	return oidcClientOf(s), true, nil
}

// watched returns the Secrets watched now, sorted.
func (w *secretWatcher) watched() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.watches))
	for k := range w.watches {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// oidcClientOf reads the client ID (key clientID, or the legacy clientId) and the client
// secret of a Secret, without trailing whitespace (files written with a final newline).
func oidcClientOf(s *corev1.Secret) snapshot.OIDCClient {
	id := s.Data[secretKeyClientID]
	if len(id) == 0 {
		id = s.Data[secretKeyClientIDLegacy]
	}
	return snapshot.OIDCClient{
		ClientID:     strings.TrimRightFunc(string(id), unicode.IsSpace),
		ClientSecret: strings.TrimRightFunc(string(s.Data[secretKeyClientSecret]), unicode.IsSpace),
	}
}

// oidcKeysOnly is the watches' transform: a Secret is kept with its name, its type, the OIDC
// client keys and the TLS keys (tls.crt, tls.key) only, so nothing else of it stays in memory.
func oidcKeysOnly(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	out := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Namespace: s.Namespace, Name: s.Name, UID: s.UID, ResourceVersion: s.ResourceVersion,
	}}
	out.Type = s.Type
	for _, k := range []string{secretKeyClientID, secretKeyClientIDLegacy, secretKeyClientSecret, corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
		if v, ok := s.Data[k]; ok {
			if out.Data == nil {
				out.Data = map[string][]byte{}
			}
			out.Data[k] = v
		}
	}
	return out, nil
}

// secretEvents turns the events of one Secret's watch into notifications: a creation after the
// first list, a change of the OIDC keys, a deletion.
type secretEvents struct {
	notify func()
}

func (e secretEvents) OnAdd(_ any, isInInitialList bool) {
	if !isInInitialList {
		e.notify()
	}
}

func (e secretEvents) OnUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*corev1.Secret)
	n, ok2 := newObj.(*corev1.Secret)
	if ok1 && ok2 && maps.EqualFunc(o.Data, n.Data, func(a, b []byte) bool { return string(a) == string(b) }) {
		return
	}
	e.notify()
}

func (e secretEvents) OnDelete(any) { e.notify() }
