package controller

import (
	"context"
	"slices"
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

// routeRefsHandler keeps refs equal to the Services the routes of one informer name. The cache
// transform names a route's Services first (cacheTransform); the handler sees deletions,
// tombstones included, and tells what no route names any more.
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
//
// The informer's store lags behind the filter: a list or an event changes it only once the
// informer has processed it. What the filter passed is held; a reader that finds a held object
// missing from the store reads the API server instead, and does not remember what it read.
type narrowing struct {
	lw    toolscache.ListerWatcherWithContext
	refs  *serviceRefs
	keyOf func(runtime.Object) (obj, svc string, ok bool)
	slim  func(runtime.Object) runtime.Object

	mu sync.Mutex
	// held is the objects ("namespace/name") the filter passed to the store, with the key of
	// their Service; heldBy the same by Service.
	held   map[string]string
	heldBy map[string]map[string]bool
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
	// memos is what was read past the store, by Service: the objects that have had no event
	// since (an event puts the object in the store), with the Service's generation at the read.
	memos map[string]*memo
	// prune is the number of memos past which those of Services nobody names are dropped.
	prune int
}

// memo is a Service's objects read past the store (one Service, or its few slices: a slice is
// smaller than a map).
type memo struct {
	gen  uint64
	objs []memoObj
}

type memoObj struct {
	key string
	obj runtime.Object
}

// drop forgets the object key.
func (m *memo) drop(key string) {
	m.objs = slices.DeleteFunc(m.objs, func(o memoObj) bool { return o.key == key })
}

func newNarrowing(refs *serviceRefs, keyOf func(runtime.Object) (string, string, bool), lw toolscache.ListerWatcherWithContext) *narrowing {
	n := &narrowing{lw: lw, refs: refs, keyOf: keyOf, slim: slimObject}
	n.relist()
	return n
}

// slimObject trims a Service or an EndpointSlice as the cache does.
func slimObject(o runtime.Object) runtime.Object {
	var out any = o
	switch o.(type) {
	case *corev1.Service:
		out, _ = slimService(o)
	case *discoveryv1.EndpointSlice:
		out, _ = slimEndpointSlice(o)
	}
	return out.(runtime.Object)
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
				n.hold(obj, svc)
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
	nw := &narrowWatch{in: w, out: make(chan watch.Event), stop: make(chan struct{}), n: n}
	go nw.loop()
	return nw, nil
}

// relist forgets what the previous store held and what was read past it. Callers hold mu.
func (n *narrowing) relist() {
	n.epoch++
	n.relisted = n.epoch
	n.held = map[string]string{}
	n.heldBy = map[string]map[string]bool{}
	n.touched = map[string]uint64{}
	n.memos = map[string]*memo{}
	n.complete = map[string]uint64{}
	n.pending, n.listing = nil, nil
	n.prune = 64
}

// hold and release keep held and heldBy. Callers hold mu.
func (n *narrowing) hold(obj, svc string) {
	if prev, ok := n.held[obj]; ok && prev != svc {
		n.release(obj)
	}
	n.held[obj] = svc
	if n.heldBy[svc] == nil {
		n.heldBy[svc] = map[string]bool{}
	}
	n.heldBy[svc][obj] = true
}

func (n *narrowing) release(obj string) {
	svc, ok := n.held[obj]
	if !ok {
		return
	}
	delete(n.held, obj)
	if delete(n.heldBy[svc], obj); len(n.heldBy[svc]) == 0 {
		delete(n.heldBy, svc)
	}
}

// filter passes the events of named Services' objects, turns an event of an object the store
// holds whose Service nobody names any more into its deletion, and drops the others and
// whatever a stopped watch still had.
func (n *narrowing) filter(w *narrowWatch, e watch.Event) (watch.Event, bool) {
	var obj, svc string
	ok := false
	if e.Type != watch.Bookmark && e.Type != watch.Error {
		obj, svc, ok = n.keyOf(e.Object)
	}
	named := !ok || svc == "" || n.refs.has(svc)
	n.mu.Lock()
	defer n.mu.Unlock()
	if w.stopped {
		return e, false
	}
	switch e.Type {
	case watch.Bookmark:
		if m, err := meta.Accessor(e.Object); err == nil && m.GetAnnotations()[metav1.InitialEventsAnnotationKey] == "true" && n.pending != nil {
			n.complete, n.pending = n.pending, nil
		}
		return e, true
	case watch.Error:
		return e, true
	}
	if !ok {
		return e, true
	}
	prev, held := n.held[obj]
	if !named && !held {
		return e, false
	}
	if !named {
		e = watch.Event{Type: watch.Deleted, Object: e.Object}
	}
	if e.Type == watch.Deleted {
		n.release(obj)
	} else {
		n.hold(obj, svc)
	}
	// From now on the store answers for this object, once it has processed the event.
	n.epoch++
	for _, s := range []string{svc, prev} {
		n.touched[s] = n.epoch
		if m := n.memos[s]; m != nil {
			m.drop(obj)
		}
	}
	return e, true
}

// forget drops what was read past the store of Services no route names any more.
func (n *narrowing) forget(keys []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, k := range keys {
		if n.refs.gen(k) == 0 {
			delete(n.memos, k)
		}
	}
}

// answer is what the store and the reads past it know of a named Service's objects.
type answer struct {
	// known: the store (with memo) answers; else the API server must be read, at token and gen.
	known bool
	// memo is the objects read past the store that have had no event since, to add to its.
	memo []runtime.Object
	// remember says whether a read from the API server may be remembered.
	remember   bool
	token, gen uint64
}

// read says what is known of a named Service's objects; inStore tells the objects the store
// holds of it.
func (n *narrowing) read(svc string, inStore func(obj string) bool) answer {
	gen := n.refs.gen(svc)
	n.mu.Lock()
	defer n.mu.Unlock()
	for obj := range n.heldBy[svc] {
		if !inStore(obj) {
			// The store has not processed what the filter passed.
			return answer{token: n.epoch, gen: gen}
		}
	}
	if gen != 0 && n.complete[svc] == gen {
		return answer{known: true}
	}
	if m := n.memos[svc]; m != nil && m.gen == gen && gen != 0 {
		a := answer{known: true}
		for _, o := range m.objs {
			if !inStore(o.key) {
				a.memo = append(a.memo, o.obj)
			}
		}
		return a
	}
	return answer{remember: true, token: n.epoch, gen: gen}
}

// remember keeps what a read from the API server that started at a.token found of the
// Service's objects, unless the Service was named anew or an event of its objects passed since.
func (n *narrowing) remember(svc string, a answer, objs []runtime.Object) {
	if !a.remember {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if a.gen == 0 || n.refs.gen(svc) != a.gen || n.relisted > a.token || n.touched[svc] > a.token {
		return
	}
	m := &memo{gen: a.gen, objs: make([]memoObj, 0, len(objs))}
	for _, o := range objs {
		if obj, _, ok := n.keyOf(o); ok {
			m.objs = append(m.objs, memoObj{key: obj, obj: o})
		}
	}
	n.memos[svc] = m
	if len(n.memos) > n.prune {
		for k, m := range n.memos {
			if n.refs.gen(k) != m.gen {
				delete(n.memos, k)
			}
		}
		n.prune = 2*len(n.memos) + 64
	}
}

// narrowWatch is a watch whose events pass through a narrowing's filter.
type narrowWatch struct {
	in   watch.Interface
	out  chan watch.Event
	stop chan struct{}
	once sync.Once
	n    *narrowing
	// stopped (under n.mu) drops what the watch still delivers after Stop: the informer may
	// have started a relist since.
	stopped bool
}

func (w *narrowWatch) ResultChan() <-chan watch.Event { return w.out }

func (w *narrowWatch) Stop() {
	w.once.Do(func() {
		w.n.mu.Lock()
		w.stopped = true
		w.n.mu.Unlock()
		close(w.stop)
		w.in.Stop()
	})
}

func (w *narrowWatch) loop() {
	defer close(w.out)
	for e := range w.in.ResultChan() {
		e, keep := w.n.filter(w, e)
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
	a := r.services.read(svc, func(string) bool { return false })
	if a.known {
		if len(a.memo) == 0 {
			return err
		}
		a.memo[0].(*corev1.Service).DeepCopyInto(out)
		return nil
	}
	var read corev1.Service
	if rerr := r.api.Get(ctx, key, &read); rerr != nil {
		if apierrors.IsNotFound(rerr) {
			r.services.remember(svc, a, nil)
		}
		return rerr
	}
	s := slimObject(&read).(*corev1.Service)
	r.services.remember(svc, a, []runtime.Object{s})
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
	inStore := make(map[string]bool, len(sl.Items))
	for _, s := range sl.Items {
		inStore[s.Namespace+"/"+s.Name] = true
	}
	a := r.slices.read(svc, func(obj string) bool { return inStore[obj] })
	if a.known {
		for _, o := range a.memo {
			sl.Items = append(sl.Items, *o.(*discoveryv1.EndpointSlice).DeepCopy())
		}
		return nil
	}
	var read discoveryv1.EndpointSliceList
	if err := r.api.List(ctx, &read, opts...); err != nil {
		return err
	}
	objs := make([]runtime.Object, 0, len(read.Items))
	sl.Items = sl.Items[:0]
	for i := range read.Items {
		s := slimObject(&read.Items[i]).(*discoveryv1.EndpointSlice)
		objs = append(objs, s)
		sl.Items = append(sl.Items, *s.DeepCopy())
	}
	r.slices.remember(svc, a, objs)
	return nil
}
