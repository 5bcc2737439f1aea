package controller_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/elbgateway/elbgateway/internal/controller"
)

// A Service and an EndpointSlice written by server-side apply carry managedFields on the API
// server; the controller's cache holds them without, with the ports and endpoints translation
// and target registration read, and an annotation change still shows in the cached object.
// A Service no route names, and its slice, are not cached at all.
func TestCachedServiceAndSliceCarryNoManagedFields(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := newNamespace(t)
	for i := range 2 {
		if err := applyService(ctx, env.client, ns, i); err != nil {
			t.Fatal(err)
		}
	}
	defer controller.NameServices("route-uid-"+ns, ns+"/svc-0")()
	svcKey := types.NamespacedName{Namespace: ns, Name: "svc-0"}
	sliceKey := types.NamespacedName{Namespace: ns, Name: "svc-0-abcde"}
	var served corev1.Service
	var servedSlice discoveryv1.EndpointSlice
	if err := env.client.Get(ctx, svcKey, &served); err != nil {
		t.Fatal(err)
	}
	if err := env.client.Get(ctx, sliceKey, &servedSlice); err != nil {
		t.Fatal(err)
	}
	if len(served.ManagedFields) == 0 || len(servedSlice.ManagedFields) == 0 || served.Spec.ClusterIP == "" {
		t.Fatalf("the API server's objects have no managedFields or cluster IP; the test proves nothing")
	}

	scheme, err := controller.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	o := controller.CacheOptions()
	o.Scheme = scheme
	ca, err := cache.New(env.cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ca.Start(ctx) }()
	var svc corev1.Service
	var slice discoveryv1.EndpointSlice
	eventually(t, 30*time.Second, "the Service and its slice in the cache", func() error {
		if err := ca.Get(ctx, svcKey, &svc); err != nil {
			return err
		}
		return ca.Get(ctx, sliceKey, &slice)
	})
	if svc.ManagedFields != nil || slice.ManagedFields != nil {
		t.Errorf("cached managedFields: Service %d entries, EndpointSlice %d", len(svc.ManagedFields), len(slice.ManagedFields))
	}
	if !reflect.DeepEqual(svc.Spec.Ports, served.Spec.Ports) || svc.Spec.ClusterIP != "" || svc.Spec.Selector != nil {
		t.Errorf("cached Service spec %+v, want the served ports and no cluster IP or selector", svc.Spec)
	}
	if slice.Labels[discoveryv1.LabelServiceName] != "svc-0" || !reflect.DeepEqual(slice.Ports, servedSlice.Ports) || len(slice.Endpoints) != 1 {
		t.Fatalf("cached EndpointSlice %+v, want its service-name label, ports and one endpoint", slice)
	}
	var servedAddrs []string
	for _, ep := range servedSlice.Endpoints {
		servedAddrs = append(servedAddrs, ep.Addresses...)
	}
	if ep := slice.Endpoints[0]; len(servedAddrs) != 5 || !reflect.DeepEqual(ep.Addresses, servedAddrs) ||
		ep.Conditions != (discoveryv1.EndpointConditions{}) || ep.TargetRef != nil || ep.NodeName != nil || ep.Zone != nil {
		t.Errorf("cached endpoint %+v, want the 5 served (ready) addresses and nothing else", ep)
	}
	// Label selection, which the targets loop lists slices by, works on the cached slices.
	var slices discoveryv1.EndpointSliceList
	if err := ca.List(ctx, &slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: "svc-0"}); err != nil || len(slices.Items) != 1 {
		t.Errorf("slices of svc-0 in the cache: %d, %v", len(slices.Items), err)
	}

	// svc-1, which nothing names, is not cached, nor its slice.
	var unnamed corev1.Service
	if err := ca.Get(ctx, types.NamespacedName{Namespace: ns, Name: "svc-1"}, &unnamed); !apierrors.IsNotFound(err) {
		t.Errorf("unnamed Service read from the cache: %v (%+v), want NotFound", err, unnamed.ObjectMeta)
	}
	if err := ca.List(ctx, &slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: "svc-1"}); err != nil || len(slices.Items) != 0 {
		t.Fatalf("slices of svc-1 in the cache: %d, %v; want none", len(slices.Items), err)
	}

	// An annotation added (a nudge) changes the cached object's digest of them.
	digest := func(o metav1.Object) string { return fmt.Sprint(o.GetAnnotations()) }
	was := digest(&slice)
	patch := []byte(`{"metadata":{"annotations":{"example.com/nudge":"1"}}}`)
	if err := env.client.Patch(ctx, &servedSlice, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the nudge in the cache", func() error {
		if err := ca.Get(ctx, sliceKey, &slice); err != nil {
			return err
		}
		if got := digest(&slice); got == was || len(slice.Annotations) != 1 {
			return fmt.Errorf("cached annotations %v (before the nudge: %s)", slice.Annotations, was)
		}
		return nil
	})
}
