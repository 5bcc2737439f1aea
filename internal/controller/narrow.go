package controller

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Most Services and EndpointSlices of a cluster are named by no route, and the cache does not
// hold them at all: the list and watch of the Services' and EndpointSlices' informers pass only
// the objects of the Services routes name (narrowing), so that the controller's memory follows
// the Services in use, not the size of the cluster. Which Services are named is serviceRefs,
// which the route informers keep up to date.
//
// What the store holds is always current, or nothing: an event of an object the store holds
// whose Service no route names any more reaches the informer as a deletion. A Service named
// after the last (re)list, whose objects have not changed since, is not in the store; the
// reader gather and the targets loop read through (narrowReader) reads it from the API server
// (uncached, trimmed as the cache trims it) and remembers it until an event of one of its
// objects passes, which puts the object in the store, or until a relist. A Service named since
// the last list (complete) is answered by the store alone, its absence included.

// serviceRefs is the set of Services ("namespace/name") that routes name, by route UID. Each
// named Service has a generation that changes whenever it becomes named again after a time
// nobody named it, so that what was learnt of it while it was named is not trusted after such
// a gap, in which its events were not passed.
type serviceRefs struct {
	mu      sync.RWMutex
	byRoute map[string][]string
	count   map[string]int
	gens    map[string]uint64
	next    uint64
}

func newServiceRefs() *serviceRefs {
	return &serviceRefs{byRoute: map[string][]string{}, count: map[string]int{}, gens: map[string]uint64{}}
}

// referencedServices is shared by the informers of the process; what a narrowing learns of it is
// checked against the generations, so several managers in one process may share it.
var referencedServices = newServiceRefs()

// has reports whether a route names the Service key.
func (r *serviceRefs) has(key string) bool { return r.gen(key) != 0 }

// gen is the Service's generation, 0 when no route names it.
func (r *serviceRefs) gen(key string) uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.gens[key]
}

// snapshot is every named Service with its generation.
func (r *serviceRefs) snapshot() map[string]uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]uint64, len(r.gens))
	for k, g := range r.gens {
		out[k] = g
	}
	return out
}

// set records the Services a route names (none when it is deleted); it returns the Services
// that no route names any more.
func (r *serviceRefs) set(route string, keys []string) (dropped []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if r.count[k]++; r.count[k] == 1 {
			r.next++
			r.gens[k] = r.next
		}
	}
	for _, k := range r.byRoute[route] {
		if r.count[k]--; r.count[k] <= 0 {
			delete(r.count, k)
			delete(r.gens, k)
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

// narrowings are the narrowings of the Service and EndpointSlice informers of the process, by
// informer, for the reader of each manager to find its own.
var narrowings sync.Map

// newNarrowInformer is the cache's informer constructor: the Services' and EndpointSlices'
// informers list and watch through a narrowing, the others as they are.
func newNarrowInformer(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
	var keyOf func(runtime.Object) (string, string, bool)
	switch obj.(type) {
	case *corev1.Service:
		keyOf = serviceKeyOf
	case *discoveryv1.EndpointSlice:
		keyOf = sliceKeyOf
	default:
		return toolscache.NewSharedIndexInformer(lw, obj, resync, indexers)
	}
	n := newNarrowing(referencedServices, keyOf, toolscache.ToListerWatcherWithContext(lw))
	inf := toolscache.NewSharedIndexInformer(n, obj, resync, indexers)
	narrowings.Store(inf, n)
	return inf
}

// serviceKeyOf and sliceKeyOf give an object's key and the key of the Service it belongs to; a
// slice without the service-name label belongs to no Service and always passes.
func serviceKeyOf(o runtime.Object) (string, string, bool) {
	s, ok := o.(*corev1.Service)
	if !ok {
		return "", "", false
	}
	k := s.Namespace + "/" + s.Name
	return k, k, true
}

func sliceKeyOf(o runtime.Object) (string, string, bool) {
	s, ok := o.(*discoveryv1.EndpointSlice)
	if !ok {
		return "", "", false
	}
	svc := ""
	if name, ok := s.Labels[discoveryv1.LabelServiceName]; ok {
		svc = s.Namespace + "/" + name
	}
	return s.Namespace + "/" + s.Name, svc, true
}

// narrowing is the list and watch of one informer (Services or EndpointSlices) filtered to the
// objects of named Services, and what was read past it.
type narrowing struct {
	lw    toolscache.ListerWatcherWithContext
	refs  *serviceRefs
	keyOf func(runtime.Object) (obj, svc string, ok bool)

	mu sync.Mutex
	// passed is the objects the informer's store holds (by "namespace/name").
	passed map[string]bool
	// complete is the Services, with their generation then, named when the store was last
	// filled: every event of their objects has passed since, so the store alone answers for them.
	complete map[string]uint64
	// pending is complete for a relist streamed as watch events, until its initial events end;
	// listing is it for a list that comes in pages, until its last page.
	pending map[string]uint64
	listing map[string]uint64
	// epoch counts the events passed and the relists; touched is the epoch of the last event
	// passed of each Service's objects, relisted that of the last relist. A read from the API
	// server is remembered only if neither is later than the epoch it started at.
	epoch    uint64
	touched  map[string]uint64
	relisted uint64
	// What was read past the store, by Service: the Service (nil: it does not exist) or its
	// slices by name, with the Service's generation at the read.
	services map[string]rememberedService
	slices   map[string]rememberedSlices
}

type rememberedService struct {
	gen uint64
	svc *corev1.Service
}

type rememberedSlices struct {
	gen   uint64
	items map[string]*discoveryv1.EndpointSlice
}

func newNarrowing(refs *serviceRefs, keyOf func(runtime.Object) (string, string, bool), lw toolscache.ListerWatcherWithContext) *narrowing {
	return &narrowing{lw: lw, refs: refs, keyOf: keyOf, passed: map[string]bool{}, complete: map[string]uint64{},
		touched: map[string]uint64{}, services: map[string]rememberedService{}, slices: map[string]rememberedSlices{}}
}

func (n *narrowing) List(opts metav1.ListOptions) (runtime.Object, error) {
	return n.ListWithContext(context.Background(), opts)
}

func (n *narrowing) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return n.WatchWithContext(context.Background(), opts)
}

// ListWithContext lists the objects of the Services named when the list started; the store is
// replaced by them. A list may come in pages: the first starts the relist, the last completes it.
func (n *narrowing) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	out, err := n.lw.ListWithContext(ctx, opts)
	if err != nil {
		return out, err
	}
	items, err := meta.ExtractList(out)
	if err != nil {
		return out, err
	}
	list, err := meta.ListAccessor(out)
	if err != nil {
		return out, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if opts.Continue == "" || n.listing == nil {
		n.relist()
		n.listing = n.refs.snapshot()
	}
	kept := items[:0]
	for _, o := range items {
		obj, svc, ok := n.keyOf(o)
		if !ok || svc == "" || n.listing[svc] != 0 {
			kept = append(kept, o)
			if ok {
				n.passed[obj] = true
			}
		}
	}
	if list.GetContinue() == "" {
		n.complete, n.listing = n.listing, nil
	}
	return out, meta.SetList(out, kept)
}

// WatchWithContext watches the objects of named Services. A watch that sends the initial
// objects (a relist streamed as events) replaces the store when they end.
func (n *narrowing) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	w, err := n.lw.WatchWithContext(ctx, opts)
	if err != nil {
		return w, err
	}
	if opts.SendInitialEvents != nil && *opts.SendInitialEvents {
		named := n.refs.snapshot()
		n.mu.Lock()
		n.relist()
		n.pending = named
		n.mu.Unlock()
	}
	nw := &narrowWatch{in: w, out: make(chan watch.Event), stop: make(chan struct{}), filter: n.filter}
	go nw.loop()
	return nw, nil
}

// relist forgets what the previous store held and what was read past it. Callers hold mu.
func (n *narrowing) relist() {
	n.epoch++
	n.relisted = n.epoch
	n.passed = map[string]bool{}
	n.touched = map[string]uint64{}
	n.services = map[string]rememberedService{}
	n.slices = map[string]rememberedSlices{}
	n.complete = map[string]uint64{}
	n.pending, n.listing = nil, nil
}

// filter passes the events of named Services' objects, turns an event of an object the store
// holds whose Service nobody names any more into its deletion, and drops the others.
func (n *narrowing) filter(e watch.Event) (watch.Event, bool) {
	switch e.Type {
	case watch.Bookmark:
		if m, err := meta.Accessor(e.Object); err == nil && m.GetAnnotations()[metav1.InitialEventsAnnotationKey] == "true" {
			n.mu.Lock()
			if n.pending != nil {
				n.complete, n.pending = n.pending, nil
			}
			n.mu.Unlock()
		}
		return e, true
	case watch.Error:
		return e, true
	}
	obj, svc, ok := n.keyOf(e.Object)
	if !ok {
		return e, true
	}
	named := svc == "" || n.refs.has(svc)
	n.mu.Lock()
	defer n.mu.Unlock()
	if !named && !n.passed[obj] {
		return e, false
	}
	if !named {
		e = watch.Event{Type: watch.Deleted, Object: e.Object}
	}
	if e.Type == watch.Deleted {
		delete(n.passed, obj)
	} else {
		n.passed[obj] = true
	}
	// From now on the store answers for this object.
	n.epoch++
	n.touched[svc] = n.epoch
	delete(n.services, svc)
	if r, ok := n.slices[svc]; ok {
		delete(r.items, obj)
	}
	return e, true
}

// forget drops what was read past the store of Services no route names any more.
func (n *narrowing) forget(keys []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, k := range keys {
		delete(n.services, k)
		delete(n.slices, k)
		delete(n.touched, k)
	}
}

// read says what the store and the reads past it know of a named Service: known is true when
// the store alone answers (complete), or when rs or rl holds what was read (remembered). When
// nothing is known, token and gen are what a read from the API server must give remember.
func (n *narrowing) read(svc string) (rs rememberedService, rl rememberedSlices, known bool, token, gen uint64) {
	gen = n.refs.gen(svc)
	n.mu.Lock()
	defer n.mu.Unlock()
	if gen != 0 && n.complete[svc] == gen {
		return rs, rl, true, 0, gen
	}
	if r, ok := n.services[svc]; ok && r.gen == gen && gen != 0 {
		return r, rl, true, 0, gen
	}
	if r, ok := n.slices[svc]; ok && r.gen == gen && gen != 0 {
		return rs, r, true, 0, gen
	}
	return rs, rl, false, n.epoch, gen
}

// fresh reports whether a read of the Service's objects that started at token may be
// remembered: the Service is named as it was then, and no event of its objects passed since.
// Callers hold mu.
func (n *narrowing) fresh(svc string, token, gen uint64) bool {
	return gen != 0 && n.refs.gen(svc) == gen && n.relisted <= token && n.touched[svc] <= token
}

func (n *narrowing) rememberService(svc string, s *corev1.Service, token, gen uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fresh(svc, token, gen) {
		n.services[svc] = rememberedService{gen: gen, svc: s}
	}
}

func (n *narrowing) rememberSlices(svc string, items map[string]*discoveryv1.EndpointSlice, token, gen uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fresh(svc, token, gen) {
		n.slices[svc] = rememberedSlices{gen: gen, items: items}
	}
}

// narrowWatch is a watch whose events pass through a filter.
type narrowWatch struct {
	in     watch.Interface
	out    chan watch.Event
	stop   chan struct{}
	once   sync.Once
	filter func(watch.Event) (watch.Event, bool)
}

func (w *narrowWatch) ResultChan() <-chan watch.Event { return w.out }

func (w *narrowWatch) Stop() {
	w.once.Do(func() {
		close(w.stop)
		w.in.Stop()
	})
}

func (w *narrowWatch) loop() {
	defer close(w.out)
	for e := range w.in.ResultChan() {
		e, keep := w.filter(e)
		if !keep {
			continue
		}
		select {
		case w.out <- e:
		case <-w.stop:
			return
		}
	}
}

// narrowReader reads from the cache and, for named Services the store does not answer for,
// from the API server: gather reads Services and the targets loop a Service's slices through it.
type narrowReader struct {
	client.Reader
	api      client.Reader
	services *narrowing
	slices   *narrowing
}

// newNarrowReader reads through the narrowings of the cache's informers; a cache built without
// them (CacheOptions) holds every object, and is read as it is.
func newNarrowReader(ctx context.Context, cached cache.Cache, api client.Reader) (*narrowReader, error) {
	r := &narrowReader{Reader: cached, api: api}
	for _, o := range []struct {
		obj client.Object
		to  **narrowing
	}{{&corev1.Service{}, &r.services}, {&discoveryv1.EndpointSlice{}, &r.slices}} {
		inf, err := cached.GetInformer(ctx, o.obj)
		if err != nil {
			return nil, err
		}
		if n, ok := narrowings.Load(inf); ok {
			*o.to = n.(*narrowing)
		}
	}
	return r, nil
}

// forget drops what was read past the cache of Services no route names any more.
func (r *narrowReader) forget(keys []string) {
	for _, n := range []*narrowing{r.services, r.slices} {
		if n != nil {
			n.forget(keys)
		}
	}
}

func (r *narrowReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := r.Reader.Get(ctx, key, obj, opts...)
	out, ok := obj.(*corev1.Service)
	if !ok || r.services == nil || !apierrors.IsNotFound(err) {
		return err
	}
	svc := key.Namespace + "/" + key.Name
	rs, _, known, token, gen := r.services.read(svc)
	if known {
		if rs.svc == nil {
			return err
		}
		rs.svc.DeepCopyInto(out)
		return nil
	}
	var read corev1.Service
	if rerr := r.api.Get(ctx, key, &read); rerr != nil {
		if apierrors.IsNotFound(rerr) {
			r.services.rememberService(svc, nil, token, gen)
		}
		return rerr
	}
	slim, _ := slimService(&read)
	s := slim.(*corev1.Service)
	r.services.rememberService(svc, s, token, gen)
	s.DeepCopyInto(out)
	return nil
}

// List adds to a Service's slices in the cache (a list in one namespace by the service-name
// label, as the targets loop lists them) those the store does not hold.
func (r *narrowReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := r.Reader.List(ctx, list, opts...); err != nil {
		return err
	}
	sl, ok := list.(*discoveryv1.EndpointSliceList)
	if !ok || r.slices == nil {
		return nil
	}
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	if lo.Namespace == "" || lo.LabelSelector == nil || lo.FieldSelector != nil {
		return nil
	}
	name, ok := lo.LabelSelector.RequiresExactMatch(discoveryv1.LabelServiceName)
	if !ok {
		return nil
	}
	svc := lo.Namespace + "/" + name
	_, rl, known, token, gen := r.slices.read(svc)
	items := rl.items
	if !known {
		var read discoveryv1.EndpointSliceList
		if err := r.api.List(ctx, &read, opts...); err != nil {
			return err
		}
		items = make(map[string]*discoveryv1.EndpointSlice, len(read.Items))
		for i := range read.Items {
			slim, _ := slimEndpointSlice(&read.Items[i])
			s := slim.(*discoveryv1.EndpointSlice)
			items[s.Namespace+"/"+s.Name] = s
		}
		r.slices.rememberSlices(svc, items, token, gen)
	}
	if len(items) == 0 {
		return nil
	}
	inCache := make(map[string]bool, len(sl.Items))
	for _, s := range sl.Items {
		inCache[s.Namespace+"/"+s.Name] = true
	}
	r.slices.mu.Lock()
	defer r.slices.mu.Unlock()
	for k, s := range items {
		if !inCache[k] {
			sl.Items = append(sl.Items, *s.DeepCopy())
		}
	}
	return nil
}
