package controller

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClientOptions are the manager client options the controllers expect: Secrets are never
// cached (a Get of one goes to the API server instead of starting a cluster-wide informer);
// the Secrets the controllers need are read through per-Secret watches (secrets.go).
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}
