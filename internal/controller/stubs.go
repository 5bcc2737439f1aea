package controller

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Most Services and EndpointSlices of a cluster are named by no route, and the cache keeps
// those as stubs: their name, namespace and resourceVersion, and a slice's service-name label
// (what the watches map events by), nothing else. The cache transform knows which Services are
// named from serviceRefs, which the route informers keep up to date. A Service can be named
// after it was cached as a stub (a route added later, or the routes' informer synced after the
// Services' one); stubResolver, the reader gather and the targets loop read through, replaces a
// stub by the object read from the API server (uncached, trimmed as the cache trims it) and
// remembers it for as long as the stub's resourceVersion is the same. The next change of the
// object puts its full form in the cache, since it is named by then.

// serviceRefs is the set of Services ("namespace/name") that routes name, by route UID.
type serviceRefs struct {
	mu      sync.RWMutex
	byRoute map[string][]string
	count   map[string]int
}

func newServiceRefs() *serviceRefs {
	return &serviceRefs{byRoute: map[string][]string{}, count: map[string]int{}}
}

// referencedServices is shared by the cache transforms of the process; which Services it holds
// only decides what the cache keeps whole, never what a reader sees (stubResolver), so several
// managers in one process may share it.
var referencedServices = newServiceRefs()

// has reports whether a route names the Service key.
func (r *serviceRefs) has(key string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count[key] > 0
}

// set records the Services a route names (none when it is deleted); it returns the Services
// that no route names any more.
func (r *serviceRefs) set(route string, keys []string) (dropped []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		r.count[k]++
	}
	for _, k := range r.byRoute[route] {
		if r.count[k]--; r.count[k] <= 0 {
			delete(r.count, k)
			dropped = append(dropped, k)
		}
	}
	if len(keys) == 0 {
		delete(r.byRoute, route)
	} else {
		r.byRoute[route] = keys
	}
	return dropped
}

// routeRefsHandler keeps refs equal to the Services the routes of one informer name.
func routeRefsHandler(refs *serviceRefs, forget func([]string)) toolscache.ResourceEventHandler {
	update := func(obj any, deleted bool) {
		if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj, deleted = t.Obj, true
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		var keys []string
		if !deleted {
			keys = servicesOfRoute(u)
		}
		if dropped := refs.set(string(u.GetUID()), keys); forget != nil && len(dropped) > 0 {
			forget(dropped)
		}
	}
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { update(obj, false) },
		UpdateFunc: func(_, obj any) { update(obj, false) },
		DeleteFunc: func(obj any) { update(obj, true) },
	}
}

// isStubService and isStubSlice tell stubs: the API server always sets a Service's type and
// requires a slice's address type.
func isStubService(s *corev1.Service) bool          { return s.Spec.Type == "" }
func isStubSlice(s *discoveryv1.EndpointSlice) bool { return s.AddressType == "" }

func stubMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, ResourceVersion: m.ResourceVersion}
}

// cacheService is the Services' cache transform: the trimmed Service if a route names it,
// else a stub.
func cacheService(obj any) (any, error) {
	s, ok := obj.(*corev1.Service)
	if !ok || referencedServices.has(s.Namespace+"/"+s.Name) {
		return slimService(obj)
	}
	return &corev1.Service{TypeMeta: s.TypeMeta, ObjectMeta: stubMeta(s.ObjectMeta)}, nil
}

// cacheEndpointSlice is the EndpointSlices' cache transform: the trimmed slice if a route
// names its Service, else a stub that keeps the service-name label.
func cacheEndpointSlice(obj any) (any, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	svc, labelled := s.Labels[discoveryv1.LabelServiceName]
	if !labelled || referencedServices.has(s.Namespace+"/"+svc) {
		return slimEndpointSlice(obj)
	}
	m := stubMeta(s.ObjectMeta)
	m.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
	return &discoveryv1.EndpointSlice{TypeMeta: s.TypeMeta, ObjectMeta: m}, nil
}

// stubResolver reads from the cache and replaces stubs with the objects they stand for.
type stubResolver struct {
	client.Reader
	api client.Reader

	mu       sync.Mutex
	services map[string]*corev1.Service            // by namespace/name
	slices   map[string]*discoveryv1.EndpointSlice // by namespace/name
	// slicesOf lists the slices remembered per Service, so that they are forgotten with it.
	slicesOf map[string][]string
}

func newStubResolver(cached, api client.Reader) *stubResolver {
	return &stubResolver{Reader: cached, api: api, services: map[string]*corev1.Service{},
		slices: map[string]*discoveryv1.EndpointSlice{}, slicesOf: map[string][]string{}}
}

// forget drops what is remembered of Services no route names any more.
func (r *stubResolver) forget(keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		delete(r.services, k)
		for _, s := range r.slicesOf[k] {
			delete(r.slices, s)
		}
		delete(r.slicesOf, k)
	}
}

func (r *stubResolver) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := r.Reader.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return nil
	}
	k := key.Namespace + "/" + key.Name
	if !isStubService(svc) {
		r.mu.Lock()
		delete(r.services, k)
		r.mu.Unlock()
		return nil
	}
	r.mu.Lock()
	known := r.services[k]
	r.mu.Unlock()
	if known != nil && known.ResourceVersion == svc.ResourceVersion {
		known.DeepCopyInto(svc)
		return nil
	}
	var read corev1.Service
	if err := r.api.Get(ctx, key, &read); err != nil {
		return err
	}
	slim, _ := slimService(&read)
	full := slim.(*corev1.Service)
	full.ResourceVersion = svc.ResourceVersion // the stub's version: remembered until it changes
	r.mu.Lock()
	r.services[k] = full
	r.mu.Unlock()
	full.DeepCopyInto(svc)
	return nil
}

func (r *stubResolver) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := r.Reader.List(ctx, list, opts...); err != nil {
		return err
	}
	sl, ok := list.(*discoveryv1.EndpointSliceList)
	if !ok {
		return nil
	}
	stubs := false
	r.mu.Lock()
	for i := range sl.Items {
		s := &sl.Items[i]
		if !isStubSlice(s) {
			delete(r.slices, s.Namespace+"/"+s.Name)
			continue
		}
		if known := r.slices[s.Namespace+"/"+s.Name]; known != nil && known.ResourceVersion == s.ResourceVersion {
			known.DeepCopyInto(s)
			continue
		}
		stubs = true
	}
	r.mu.Unlock()
	if !stubs {
		return nil
	}
	var read discoveryv1.EndpointSliceList
	if err := r.api.List(ctx, &read, opts...); err != nil {
		return err
	}
	versions := map[string]string{}
	for _, s := range sl.Items {
		versions[s.Name] = s.ResourceVersion
	}
	items := make([]discoveryv1.EndpointSlice, 0, len(read.Items))
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range read.Items {
		slim, _ := slimEndpointSlice(&read.Items[i])
		s := slim.(*discoveryv1.EndpointSlice)
		items = append(items, *s.DeepCopy())
		rv, cached := versions[s.Name]
		svc := s.Labels[discoveryv1.LabelServiceName]
		if !cached || svc == "" {
			continue
		}
		// Remembered under the cached stub's version, until the cache's copy changes.
		s.ResourceVersion = rv
		k := s.Namespace + "/" + s.Name
		if _, seen := r.slices[k]; !seen {
			sk := s.Namespace + "/" + svc
			r.slicesOf[sk] = append(r.slicesOf[sk], k)
		}
		r.slices[k] = s
	}
	sl.Items = items
	return nil
}

// stubChanged passes an update of a cached stub whose version changed: the stub shows nothing
// of the change, and a route may have named the Service since it was cached as one.
func stubChanged(old, new client.Object) bool {
	o, ok1 := old.(*corev1.Service)
	n, ok2 := new.(*corev1.Service)
	return ok1 && ok2 && (isStubService(o) || isStubService(n)) && o.ResourceVersion != n.ResourceVersion
}
