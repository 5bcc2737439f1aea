package controller_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// TestSecretWatcher checks the per-Secret watches behind OIDC client secrets: each watch holds
// its one Secret (and only the OIDC keys of it), a change of those keys queues every Gateway
// naming the Secret, other changes queue nothing, and a watch ends with its last Gateway.
func TestSecretWatcher(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := newNamespace(t)
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer queue.ShutDown()
	w, err := controller.StartSecretWatcher(ctx, env.cfg, queue)
	if err != nil {
		t.Fatal(err)
	}
	oidc := createSecret(t, ns, "oidc", map[string]string{"clientID": "id-1", "clientSecret": "s3cret\n", "note": "not for us"})
	createSecret(t, ns, "other", map[string]string{"clientID": "id-other", "clientSecret": "x"})
	createSecret(t, ns, "legacy", map[string]string{"clientId": "id-legacy", "clientSecret": "y"})
	key := ns + "/oidc"

	if err := w.Track(ns+"/gw-a", key); err != nil {
		t.Fatal(err)
	}
	if err := w.Track(ns+"/gw-b", key, ns+"/legacy"); err != nil {
		t.Fatal(err)
	}
	if got, want := w.Watched(), []string{ns + "/legacy", key}; !reflect.DeepEqual(got, want) {
		t.Errorf("watched %v, want %v", got, want)
	}
	if c, ok, err := w.OIDCClient(ctx, key); err != nil || !ok || c != (snapshot.OIDCClient{ClientID: "id-1", ClientSecret: "s3cret"}) {
		t.Errorf("client of %s: ok=%v err=%v id=%q secret set=%v", key, ok, err, c.ClientID, c.ClientSecret == "s3cret")
	}
	if c, ok, err := w.OIDCClient(ctx, ns+"/legacy"); err != nil || !ok || c.ClientID != "id-legacy" {
		t.Errorf("client of the legacy clientId Secret: ok=%v err=%v id=%q", ok, err, c.ClientID)
	}
	objects, keys := w.Stored(key)
	if len(objects) != 1 || !strings.HasPrefix(objects[0], key+"@") {
		t.Errorf("the watch of %s holds %v, want that Secret alone (the field selector keeps %s/other out)", key, objects, ns)
	}
	if want := []string{"clientID", "clientSecret"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("the watch keeps data keys %v, want %v", keys, want)
	}

	// A change of a key OIDC does not read queues nothing.
	oidc.StringData = map[string]string{"note": "changed"}
	if err := env.client.Update(ctx, oidc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*timeoutScale, "the watch sees the new version", func() error {
		if objects, _ := w.Stored(key); len(objects) != 1 || objects[0] != key+"@"+oidc.ResourceVersion {
			return fmt.Errorf("holds %v, want version %s", objects, oidc.ResourceVersion)
		}
		return nil
	})
	if n := queue.Len(); n != 0 {
		t.Errorf("%d Gateways queued for a change of a key OIDC does not read, want none", n)
	}

	// A new client ID queues both Gateways naming the Secret.
	oidc.StringData = map[string]string{"clientID": "id-2"}
	if err := env.client.Update(ctx, oidc); err != nil {
		t.Fatal(err)
	}
	if got, want := drain(t, queue, 2), []string{ns + "/gw-a", ns + "/gw-b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("queued %v, want %v", got, want)
	}
	if c, _, _ := w.OIDCClient(ctx, key); c.ClientID != "id-2" {
		t.Errorf("client ID %q after the change, want id-2", c.ClientID)
	}

	// A Secret named before it exists: absent, then its creation queues the Gateway.
	if err := w.Track(ns+"/gw-c", ns+"/later"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := w.OIDCClient(ctx, ns+"/later"); err != nil || ok {
		t.Errorf("a missing Secret: ok=%v err=%v, want absent", ok, err)
	}
	createSecret(t, ns, "later", map[string]string{"clientID": "id-3", "clientSecret": "z"})
	if got, want := drain(t, queue, 1), []string{ns + "/gw-c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("queued %v, want %v", got, want)
	}

	// Watches end with the last Gateway naming them.
	w.Forget(ns + "/gw-a")
	if err := w.Track(ns+"/gw-b", ns+"/legacy"); err != nil {
		t.Fatal(err)
	}
	w.Forget(ns + "/gw-c")
	if got, want := w.Watched(), []string{ns + "/legacy"}; !reflect.DeepEqual(got, want) {
		t.Errorf("watched %v, want %v", got, want)
	}
	if _, _, err := w.OIDCClient(ctx, key); err == nil {
		t.Errorf("reading %s after its watch ended: want an error", key)
	}
	w.Forget(ns + "/gw-b")
	if got := w.Watched(); len(got) != 0 {
		t.Errorf("watched %v after every Gateway is forgotten, want none", got)
	}
}

func createSecret(t *testing.T, ns, name string, data map[string]string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data}
	if err := env.client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// drain takes n requests off the queue (waiting up to 10s for them), then checks that no
// other arrives within half a second, and returns them as namespace/name, sorted.
func drain(t *testing.T, queue workqueue.TypedRateLimitingInterface[reconcile.Request], n int) []string {
	t.Helper()
	eventually(t, 10*timeoutScale, fmt.Sprintf("%d Gateways queued", n), func() error {
		if queue.Len() < n {
			return fmt.Errorf("%d queued", queue.Len())
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	var out []string
	for queue.Len() > 0 {
		r, _ := queue.Get()
		out = append(out, r.String())
		queue.Done(r)
	}
	sort.Strings(out)
	return out
}
