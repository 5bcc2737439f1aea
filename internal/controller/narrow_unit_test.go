package controller

import (
	"context"
	"reflect"
	"sort"
	"sync/atomic"
	"testing"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// The set of named Services counts every route that names one, says which no route names any
// more when a route changes or goes, and gives a Service named again after a gap a new
// generation.
func TestServiceRefsCountRoutes(t *testing.T) {
	r := newServiceRefs()
	if d := r.set("a", []string{"ns/x", "ns/y"}); d != nil {
		t.Errorf("dropped %v on a first route", d)
	}
	r.set("b", []string{"ns/y"})
	if !r.has("ns/x") || !r.has("ns/y") || r.has("ns/z") {
		t.Fatalf("named: x %v, y %v, z %v; want x and y", r.has("ns/x"), r.has("ns/y"), r.has("ns/z"))
	}
	genY := r.gen("ns/y")
	if d := r.set("a", []string{"ns/z"}); !reflect.DeepEqual(d, []string{"ns/x"}) {
		t.Errorf("route a moved from x and y to z: dropped %v, want [ns/x] (b still names y)", d)
	}
	if r.gen("ns/y") != genY {
		t.Errorf("y, named all along, changed generation %d → %d", genY, r.gen("ns/y"))
	}
	if d := r.set("b", nil); !reflect.DeepEqual(d, []string{"ns/y"}) || r.has("ns/y") || !r.has("ns/z") {
		t.Errorf("route b deleted: dropped %v, y named %v, z named %v", d, r.has("ns/y"), r.has("ns/z"))
	}
	if len(r.byRoute) != 1 {
		t.Errorf("routes remembered: %v, want only a", r.byRoute)
	}
	r.set("c", []string{"ns/y"})
	if g := r.gen("ns/y"); g == 0 || g == genY {
		t.Errorf("y named again after a gap: generation %d, want a new one (was %d)", g, genY)
	}
}

// fakeLW is a list and watch of fixed objects and a watch the test feeds.
type fakeLW struct {
	list runtime.Object
	w    *watch.FakeWatcher
	opts metav1.ListOptions
}

func (f *fakeLW) ListWithContext(context.Context, metav1.ListOptions) (runtime.Object, error) {
	return f.list.DeepCopyObject(), nil
}

func (f *fakeLW) WatchWithContext(_ context.Context, o metav1.ListOptions) (watch.Interface, error) {
	f.opts = o
	f.w = watch.NewFakeWithChanSize(16, false)
	return f.w, nil
}

var _ toolscache.ListerWatcherWithContext = &fakeLW{}

// inAll says the store holds every object the filter passed.
func inAll(string) bool { return true }

func svcObj(ns, name, rv string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{{Port: 80}}}}
}

func sliceObj(ns, name, svc string, addrs ...string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}, AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: addrs}}}
}

func namesOf(t *testing.T, list runtime.Object) []string {
	t.Helper()
	var out []string
	switch l := list.(type) {
	case *corev1.ServiceList:
		for _, s := range l.Items {
			out = append(out, s.Name)
		}
	case *discoveryv1.EndpointSliceList:
		for _, s := range l.Items {
			out = append(out, s.Name)
		}
	default:
		t.Fatalf("list %T", list)
	}
	sort.Strings(out)
	return out
}

// A list passes the objects of named Services only (and slices of no Service), and the store
// then answers alone for the Services named at that time.
func TestNarrowingListsNamedServicesOnly(t *testing.T) {
	refs := newServiceRefs()
	refs.set("route", []string{"ns/web"})
	lw := &fakeLW{list: &discoveryv1.EndpointSliceList{Items: []discoveryv1.EndpointSlice{
		*sliceObj("ns", "web-1", "web", "192.0.2.1"), *sliceObj("ns", "web-2", "web", "192.0.2.2"),
		*sliceObj("ns", "other-1", "other", "192.0.2.3"), *sliceObj("other-ns", "web-1", "web", "192.0.2.4"),
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "unlabelled"}},
	}}}
	n := newNarrowing(refs, sliceKeyOf, lw)
	out, err := n.List(metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := namesOf(t, out), []string{"unlabelled", "web-1", "web-2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	if known := n.read("ns/web", inAll).known; !known {
		t.Error("a Service named at the list is not answered by the store alone")
	}
	if known := n.read("ns/other", inAll).known; known {
		t.Error("a Service named by nobody is said to be answered by the store")
	}
	refs.set("route", nil)
	refs.set("route", []string{"ns/web"})
	if known := n.read("ns/web", inAll).known; known {
		t.Error("a Service unnamed and named again since the list is still answered by the store alone")
	}
}

// A watch passes the events of named Services' objects, drops the others, turns the next event
// of an object the store holds whose Service nobody names any more into its deletion, and a
// streamed relist makes the store answer alone once its initial events end.
func TestNarrowingWatchFollowsNamedServices(t *testing.T) {
	refs := newServiceRefs()
	refs.set("route", []string{"ns/a"})
	lw := &fakeLW{list: &corev1.ServiceList{}}
	n := newNarrowing(refs, serviceKeyOf, lw)
	yes := true
	w, err := n.Watch(metav1.ListOptions{SendInitialEvents: &yes})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	next := func() watch.Event {
		t.Helper()
		e, ok := <-w.ResultChan()
		if !ok {
			t.Fatal("watch closed")
		}
		return e
	}
	lw.w.Add(svcObj("ns", "b", "1"))
	lw.w.Add(svcObj("ns", "a", "2"))
	if e := next(); e.Type != watch.Added || e.Object.(*corev1.Service).Name != "a" {
		t.Fatalf("first event passed %s %v, want a's addition (b is named by nobody)", e.Type, e.Object)
	}
	if known := n.read("ns/a", inAll).known; known {
		t.Error("store said to answer alone before the initial events ended")
	}
	end := &corev1.Service{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "3",
		Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}
	lw.w.Action(watch.Bookmark, end)
	if e := next(); e.Type != watch.Bookmark {
		t.Fatalf("event %s, want the bookmark passed", e.Type)
	}
	if known := n.read("ns/a", inAll).known; !known {
		t.Error("store not answering alone for a Service named through the whole relist")
	}

	refs.set("other-route", []string{"ns/b"})
	lw.w.Modify(svcObj("ns", "b", "4"))
	if e := next(); e.Type != watch.Modified || e.Object.(*corev1.Service).Name != "b" {
		t.Fatalf("event %s %v, want b's change now that it is named", e.Type, e.Object)
	}
	refs.set("route", nil)
	lw.w.Modify(svcObj("ns", "a", "5"))
	if e := next(); e.Type != watch.Deleted || e.Object.(*corev1.Service).Name != "a" {
		t.Fatalf("event %s %v, want a's change passed as its deletion (nobody names it)", e.Type, e.Object)
	}
	lw.w.Modify(svcObj("ns", "a", "6"))
	lw.w.Delete(svcObj("ns", "b", "7"))
	if e := next(); e.Type != watch.Deleted || e.Object.(*corev1.Service).Name != "b" {
		t.Fatalf("event %s %v, want b's deletion (a's second change dropped)", e.Type, e.Object)
	}
	if n.held["ns/a"] != "" || n.held["ns/b"] != "" {
		t.Errorf("store said to hold %v, want nothing", n.held)
	}
}

// countingAPI is an API server that counts reads and can run something after a read, before
// its answer arrives.
func countingAPI(during *func(), objs ...client.Object) (client.Client, *atomic.Int32) {
	var reads atomic.Int32
	c := fake.NewClientBuilder().WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			reads.Add(1)
			err := c.Get(ctx, key, obj, opts...)
			if *during != nil {
				(*during)()
			}
			return err
		},
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			reads.Add(1)
			err := c.List(ctx, list, opts...)
			if *during != nil {
				(*during)()
			}
			return err
		},
	}).Build()
	return c, &reads
}

// A Service named after the store was filled is read from the API server once and remembered
// until an event of its objects passes; while the store has not processed an event the filter
// passed, the API server is read and nothing remembered; a read during which an event passed is
// not remembered; a Service the store answers for costs no read.
func TestNarrowReaderReadsPastTheStoreOnce(t *testing.T) {
	ctx := context.Background()
	refs := newServiceRefs()
	refs.set("early", []string{"ns/early"})
	var during func()
	api, reads := countingAPI(&during, svcObj("ns", "late", ""), svcObj("ns", "late2", ""),
		sliceObj("ns", "late-1", "late", "192.0.2.1"), sliceObj("ns", "late-2", "late", "192.0.2.2"), svcObj("ns", "early", ""))
	store := fake.NewClientBuilder().Build() // the informers' store: filled before "late" was named
	svcs := newNarrowing(refs, serviceKeyOf, &fakeLW{list: &corev1.ServiceList{}})
	slices := newNarrowing(refs, sliceKeyOf, &fakeLW{list: &discoveryv1.EndpointSliceList{}})
	for _, n := range []*narrowing{svcs, slices} {
		if _, err := n.List(metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	svcWatch, sliceWatch := &narrowWatch{n: svcs}, &narrowWatch{n: slices}
	r := &narrowReader{Reader: store, api: api, services: svcs, slices: slices}
	refs.set("late-route", []string{"ns/late", "ns/late2"})

	get := func(name string) error {
		var s corev1.Service
		err := r.Get(ctx, types.NamespacedName{Namespace: "ns", Name: name}, &s)
		if err == nil && (s.Name != name || len(s.Spec.Ports) != 1 || s.ResourceVersion == "") {
			t.Errorf("read %+v", s)
		}
		return err
	}
	if err := get("early"); !apierrors.IsNotFound(err) || reads.Load() != 0 {
		t.Errorf("Service named before the list and absent from the store: %v after %d API reads, want NotFound and none", err, reads.Load())
	}
	for range 3 {
		if err := get("late"); err != nil {
			t.Fatal(err)
		}
	}
	if reads.Load() != 1 {
		t.Errorf("3 reads of a Service named after the list cost %d API reads, want 1", reads.Load())
	}
	// An event of it passes; until the store has processed it, the API server answers.
	changed := svcObj("ns", "late", "")
	changed.Spec.Ports[0].Port = 81
	svcWatch.n.filter(svcWatch, watch.Event{Type: watch.Modified, Object: changed})
	for range 2 {
		if err := get("late"); err != nil {
			t.Fatal(err)
		}
	}
	if reads.Load() != 3 {
		t.Errorf("reads while the store lags an event: %d API reads in all, want 3 (none remembered)", reads.Load())
	}
	if err := store.Create(ctx, changed.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if err := get("late"); err != nil || reads.Load() != 3 {
		t.Errorf("once the store has it: %v, %d API reads in all, want 3", err, reads.Load())
	}

	// A read overtaken by an event is not remembered: late2 is deleted after the API server
	// answered a read of it and before the answer arrived; what the read found must not come
	// back.
	gone := svcObj("ns", "late2", "")
	during = func() {
		during = nil
		if err := api.Delete(ctx, gone.DeepCopy()); err != nil {
			t.Error(err)
		}
		svcs.filter(svcWatch, watch.Event{Type: watch.Deleted, Object: gone})
	}
	if err := get("late2"); err != nil {
		t.Fatal(err)
	}
	if err := get("late2"); !apierrors.IsNotFound(err) {
		t.Errorf("a deleted Service read as %v, want NotFound (a read overtaken by its deletion remembered)", err)
	}

	// Slices: read once, added to those the store holds.
	list := func() []string {
		var l discoveryv1.EndpointSliceList
		if err := r.List(ctx, &l, client.InNamespace("ns"), client.MatchingLabels{discoveryv1.LabelServiceName: "late"}); err != nil {
			t.Fatal(err)
		}
		for _, s := range l.Items {
			if s.AddressType == "" || len(s.Endpoints) != 1 {
				t.Errorf("slice read %+v", s)
			}
		}
		return namesOf(t, &l)
	}
	reads.Store(0)
	for range 2 {
		if got := list(); !reflect.DeepEqual(got, []string{"late-1", "late-2"}) {
			t.Errorf("slices %v, want late-1 and late-2", got)
		}
	}
	if reads.Load() != 1 {
		t.Errorf("2 lists of the slices of a Service named after the list: %d API reads, want 1", reads.Load())
	}
	moved := sliceObj("ns", "late-2", "late", "192.0.2.9")
	slices.filter(sliceWatch, watch.Event{Type: watch.Modified, Object: moved})
	if got := list(); !reflect.DeepEqual(got, []string{"late-1", "late-2"}) || reads.Load() != 2 {
		t.Errorf("while the store lags late-2's change: %v after %d API reads, want both slices and a read", got, reads.Load())
	}
	if err := store.Create(ctx, moved.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	removed := sliceObj("ns", "late-1", "late")
	slices.filter(sliceWatch, watch.Event{Type: watch.Deleted, Object: removed})
	if err := api.Delete(ctx, removed.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	if got := list(); !reflect.DeepEqual(got, []string{"late-2"}) || reads.Load() != 2 {
		t.Errorf("after late-2 changed into the store and late-1 was deleted: %v after %d API reads, want [late-2] and 2", got, reads.Load())
	}

	// Named again after a gap: what was read then is not trusted.
	refs.set("late-route", nil)
	refs.set("late-route", []string{"ns/late"})
	list()
	if reads.Load() != 3 {
		t.Errorf("slices of a Service named again: %d API reads, want a new read", reads.Load())
	}

	// A stopped watch's late events change nothing.
	svcWatch.stopped = true
	if _, keep := svcs.filter(svcWatch, watch.Event{Type: watch.Added, Object: svcObj("ns", "late", "")}); keep {
		t.Error("an event of a stopped watch passed")
	}
}

// pagedLW lists in two pages.
type pagedLW struct{ fakeLW }

func (p *pagedLW) ListWithContext(_ context.Context, o metav1.ListOptions) (runtime.Object, error) {
	if o.Continue == "" {
		return &discoveryv1.EndpointSliceList{ListMeta: metav1.ListMeta{Continue: "page-2"},
			Items: []discoveryv1.EndpointSlice{*sliceObj("ns", "a-1", "a", "192.0.2.1"), *sliceObj("ns", "b-1", "b", "192.0.2.2")}}, nil
	}
	return &discoveryv1.EndpointSliceList{Items: []discoveryv1.EndpointSlice{*sliceObj("ns", "a-2", "a", "192.0.2.3")}}, nil
}

// A list in pages keeps what every page passes, and the store answers alone only once the last
// page is in.
func TestNarrowingListInPages(t *testing.T) {
	refs := newServiceRefs()
	refs.set("route", []string{"ns/a"})
	n := newNarrowing(refs, sliceKeyOf, &pagedLW{})
	first, err := n.ListWithContext(context.Background(), metav1.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := namesOf(t, first); !reflect.DeepEqual(got, []string{"a-1"}) {
		t.Errorf("first page passed %v, want [a-1]", got)
	}
	if known := n.read("ns/a", inAll).known; known {
		t.Error("store said to answer alone before the last page")
	}
	second, err := n.ListWithContext(context.Background(), metav1.ListOptions{Limit: 2, Continue: "page-2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := namesOf(t, second); !reflect.DeepEqual(got, []string{"a-2"}) {
		t.Errorf("second page passed %v, want [a-2]", got)
	}
	if known := n.read("ns/a", inAll).known; !known {
		t.Error("store not answering alone after the last page")
	}
	if n.held["ns/a-1"] == "" || n.held["ns/a-2"] == "" || n.held["ns/b-1"] != "" {
		t.Errorf("store said to hold %v, want a-1 and a-2", n.held)
	}
}

// The cache transform names a route's Services before any handler sees the route.
func TestCacheTransformNamesRouteServices(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "r", "namespace": "transform-ns", "uid": "transform-route-uid"},
		"spec": map[string]any{"rules": []any{map[string]any{"backendRefs": []any{
			map[string]any{"name": "web", "port": int64(80)},
			map[string]any{"name": "api", "namespace": "other-ns", "port": int64(80)},
		}}}},
	}}
	defer referencedServices.set("transform-route-uid", nil)
	if _, err := cacheTransform(u); err != nil {
		t.Fatal(err)
	}
	if !referencedServices.has("transform-ns/web") || !referencedServices.has("other-ns/api") {
		t.Errorf("after the transform: web named %v, api named %v; want both", referencedServices.has("transform-ns/web"), referencedServices.has("other-ns/api"))
	}
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c", "namespace": "transform-ns", "uid": "transform-cm-uid"}}}
	if _, err := cacheTransform(cm); err != nil {
		t.Fatal(err)
	}
	if len(referencedServices.byRoute["transform-cm-uid"]) != 0 {
		t.Error("a ConfigMap recorded as a route")
	}
}

// Routes cached by the transform share one copy of their keys and of their common values.
func TestCacheTransformSharesRouteStrings(t *testing.T) {
	route := func(uid string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		// Decoded from JSON, as the cache receives it: each object holds its own strings.
		if err := u.UnmarshalJSON([]byte(`{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
"metadata":{"name":"r-` + uid + `","namespace":"intern-ns","uid":"` + uid + `"},
"status":{"parents":[{"conditions":[{"type":"Accepted","status":"True","reason":"Accepted","message":"Route is accepted"}]}]}}`)); err != nil {
			t.Fatal(err)
		}
		defer referencedServices.set(uid, nil)
		out, err := cacheTransform(u)
		if err != nil {
			t.Fatal(err)
		}
		return out.(*unstructured.Unstructured)
	}
	a, b := route("intern-a"), route("intern-b")
	condition := func(u *unstructured.Unstructured) map[string]any {
		parents, _, _ := unstructured.NestedSlice(u.Object, "status", "parents")
		return parents[0].(map[string]any)["conditions"].([]any)[0].(map[string]any)
	}
	ca, cb := condition(a), condition(b)
	for _, k := range []string{"type", "status", "message"} {
		va, vb := ca[k].(string), cb[k].(string)
		if va != vb || unsafe.StringData(va) != unsafe.StringData(vb) {
			t.Errorf("%s: %q and %q held apart", k, va, vb)
		}
	}
	keyOf := func(m map[string]any, want string) string {
		for k := range m {
			if k == want {
				return k
			}
		}
		t.Fatalf("no key %s in %v", want, m)
		return ""
	}
	if ka, kb := keyOf(ca, "message"), keyOf(cb, "message"); unsafe.StringData(ka) != unsafe.StringData(kb) {
		t.Error(`key "message" held apart`)
	}
	if a.GetName() != "r-intern-a" || a.GetUID() != "intern-a" || b.GetName() != "r-intern-b" {
		t.Errorf("names and uids changed: %s %s %s", a.GetName(), a.GetUID(), b.GetName())
	}
}
