package controller_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// cacheMemoryServices is how many Services, each with one EndpointSlice of five endpoints,
// BenchmarkCacheMemory creates.
const cacheMemoryServices = 2000

// BenchmarkCacheMemory measures what the controller's cache holds per Service or EndpointSlice:
// on an API server of its own, it starts the controller (both gates), waits for its caches to
// sync, then creates cacheMemoryServices Services and as many EndpointSlices (headless) by
// server-side apply (so each carries the managedFields a real one does) and waits until the
// cache has seen them all. It reports the Go heap in use after GC that they added, per object
// and in all: with the controller's cache options and every Service named by a route (named:
// what the trimming keeps of an object in use), with the controller's cache options and no
// Service named (unnamed: the cache holds none of them), and with whole objects cached (whole),
// the cache before both.
//
// Run it with make bench PKGS=./internal/controller/ BENCHTIME=1x.
func BenchmarkCacheMemory(b *testing.B) {
	for _, c := range []struct {
		name    string
		options func() cache.Options
		named   bool
	}{
		{"named", controller.CacheOptions, true},
		{"unnamed", controller.CacheOptions, false},
		{"whole", func() cache.Options { return cache.Options{} }, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				inUse, live := runCacheMemory(b, c.options(), c.named)
				b.ReportMetric(inUse/(2*cacheMemoryServices), "heap-B/object")
				b.ReportMetric(live/(2*cacheMemoryServices), "live-B/object")
				b.ReportMetric(inUse/(1<<20), "heap-MiB")
			}
		})
	}
}

// runCacheMemory returns how much the Services and EndpointSlices added to the heap in use
// (spans holding objects) and to the live heap (bytes of reachable objects), after GC. With
// named, a route names every Service; else one more Service, named and created last, tells
// when the cache has seen the others (a watch delivers events in order).
func runCacheMemory(b *testing.B, options cache.Options, named bool) (inUse, live float64) {
	ctx := context.Background()
	cluster := startTestCluster(b, testenv.ClusterOptions{})
	stop, c, ca, err := startManagerWithCache(ctx, cluster.Config, controllerOptions(clusterName, env.cloud), options)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	// The informers the controllers use are started by now; wait until they hold the (empty)
	// cluster.
	for _, o := range []client.Object{&corev1.Service{}, &discoveryv1.EndpointSlice{}} {
		if _, err := ca.GetInformer(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	if !ca.WaitForCacheSync(ctx) {
		b.Fatal("the cache did not sync")
	}
	ns := newNamespaceIn(b, c)
	keys := make([]string, 0, cacheMemoryServices)
	for i := range cacheMemoryServices {
		keys = append(keys, fmt.Sprintf("%s/svc-%d", ns, i))
	}
	sentinel := fmt.Sprintf("svc-%d", cacheMemoryServices)
	if named {
		defer controller.NameServices("cache-memory-"+ns, keys...)()
	} else {
		defer controller.NameServices("cache-memory-"+ns, ns+"/"+sentinel)()
	}
	before := heapAfterGC()

	if err := applyServices(ctx, c, ns, cacheMemoryServices); err != nil {
		b.Fatal(err)
	}
	want := cacheMemoryServices
	if !named {
		if err := applyService(ctx, c, ns, cacheMemoryServices); err != nil {
			b.Fatal(err)
		}
		want = 1
	}
	eventually(b, 5*time.Minute, "every Service and EndpointSlice seen by the cache", func() error {
		var svcs corev1.ServiceList
		var slices discoveryv1.EndpointSliceList
		if err := ca.List(ctx, &svcs, client.InNamespace(ns)); err != nil {
			return err
		}
		if err := ca.List(ctx, &slices, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(svcs.Items) != want || len(slices.Items) != want {
			return fmt.Errorf("%d Services and %d EndpointSlices cached, want %d", len(svcs.Items), len(slices.Items), want)
		}
		if !named && (svcs.Items[0].Name != sentinel || slices.Items[0].Name != sentinel+"-abcde") {
			return fmt.Errorf("cached %s and %s, want only the named %s", svcs.Items[0].Name, slices.Items[0].Name, sentinel)
		}
		return nil
	})
	after := heapAfterGC()
	b.Logf("heap in use %d B before, %d B after %d Services and %d EndpointSlices; live %d B before, %d B after",
		before.HeapInuse, after.HeapInuse, cacheMemoryServices, cacheMemoryServices, before.HeapAlloc, after.HeapAlloc)
	return float64(after.HeapInuse) - float64(before.HeapInuse), float64(after.HeapAlloc) - float64(before.HeapAlloc)
}

// heapAfterGC reads the memory statistics after a full collection.
func heapAfterGC() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// applyServices creates n Services, each with one EndpointSlice of five ready endpoints, by
// server-side apply, eight at a time.
func applyServices(ctx context.Context, c client.Client, ns string, n int) error {
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				if err := applyService(ctx, c, ns, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	go func() {
		defer close(work)
		for i := range n {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	return errors.Join(func() []error {
		var out []error
		for err := range errs {
			out = append(out, err)
		}
		return out
	}()...)
}

// applyService server-side applies Service svc-i and its EndpointSlice as kubectl and the
// EndpointSlice controller would write them: labels (copied to the slice), a selector, two
// ports, endpoints with their pods, nodes and zones. The Service is headless: a test API server has 254 cluster IPs.
func applyService(ctx context.Context, c client.Client, ns string, i int) error {
	name := fmt.Sprintf("svc-%d", i)
	labels := fmt.Sprintf(`{"app.kubernetes.io/name":%q,"app.kubernetes.io/instance":"shop","app.kubernetes.io/part-of":"shop","app.kubernetes.io/managed-by":"kubectl"}`, name)
	svc := fmt.Sprintf(`{"apiVersion":"v1","kind":"Service","metadata":{"name":%q,"namespace":%q,"labels":%s},
"spec":{"clusterIP":"None","selector":{"app.kubernetes.io/name":%q},"ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"},{"name":"metrics","port":9090,"targetPort":9090,"protocol":"TCP"}]}}`,
		name, ns, labels, name)
	if err := c.Patch(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, applyPatch(svc), client.FieldOwner("kubectl"), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying Service %s: %w", name, err)
	}
	var eps string
	for j := range 5 {
		if j > 0 {
			eps += ","
		}
		eps += fmt.Sprintf(`{"addresses":["10.%d.%d.%d"],"conditions":{"ready":true,"serving":true,"terminating":false},
"nodeName":"ip-10-0-%d-10.ec2.internal","zone":"us-east-1%c","targetRef":{"kind":"Pod","namespace":%q,"name":"%s-7d9f8b6c5-%05d","uid":"00000000-0000-0000-0000-%012d"}}`,
			(i>>8)&255, i&255, j+10, j, 'a'+byte(j%3), ns, name, j, i*5+j)
	}
	slice := fmt.Sprintf(`{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"%s-abcde","namespace":%q,
"labels":{"kubernetes.io/service-name":%q,"endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io",%s}},
"addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"},{"name":"metrics","port":9090,"protocol":"TCP"}],"endpoints":[%s]}`,
		name, ns, name, labels[1:len(labels)-1], eps)
	if err := c.Patch(ctx, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-abcde"}}, applyPatch(slice), client.FieldOwner("endpointslice-controller.k8s.io"), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying EndpointSlice of %s: %w", name, err)
	}
	return nil
}

// applyPatch is a server-side apply of a JSON object.
func applyPatch(object string) client.Patch {
	return client.RawPatch(types.ApplyPatchType, []byte(object))
}
