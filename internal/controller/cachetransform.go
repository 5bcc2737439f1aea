package controller

import (
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unique"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/targets"
)

// The manager's cache keeps only what the controllers read, so that its memory follows the
// objects a Gateway uses rather than the size of the cluster: every cluster-wide Service,
// EndpointSlice, Node and Namespace is cached, and their managedFields, last-applied
// annotations, cluster IPs, selectors, topology and status would otherwise cost kilobytes each.
// Services that no route names, and their EndpointSlices, are not cached at all (narrow.go); the
// fields below are those kept of the Services routes name.
//
// What is read (every field read in internal/ of a cached kind of core or discovery):
//
//   - Service (translate, gather): name, namespace; spec.type (ExternalName is refused),
//     spec.ports[] (port, name, targetPort, nodePort, appProtocol), spec.ipFamilies,
//     spec.externalTrafficPolicy, spec.healthCheckNodePort. (The pod webhook reads the
//     selectors of the few Services it needs from the API server, not from here.) The watch maps a Service to routes
//     by its name; its labels are not read.
//   - EndpointSlice (targets loop): namespace, the kubernetes.io/service-name label (the cache
//     lists slices by it; the other labels, copies of the Service's, are not read), addressType,
//     ports[] (name, port), the addresses of the endpoints whose conditions.ready is not false,
//     and the addresses of the not-ready endpoints that are not terminating (a pod whose
//     readiness gate waits for its target's health is registered while not ready); its
//     predicate compares these, the annotations and the deletion.
//   - Node (targets loop): labels (node selectors, the exclude-from-external-load-balancers
//     label), deletionTimestamp, spec.providerID, and the status of the Ready condition.
//   - Namespace (gather, allowedRoutes selectors): name and labels only, so it is cached as
//     metadata alone.
//   - Secrets are never in this cache (ClientOptions); the per-Secret watches keep their own
//     few keys (oidcKeysOnly, secrets.go).
//   - Pod (targets loop, only with readiness gates on): name, namespace, deletion, our readiness
//     gates, the pod's IPs, and the status of its ContainersReady condition and of our gates'
//     conditions. A pod without a gate of ours keeps its identity only.
//
// Annotations the controllers read: none. Every other kind (Gateways, routes, classes,
// ReferenceGrants, the configurations) is cached whole but for managedFields and annotations.
// Annotations are not dropped outright: an annotation change is the documented way to make the
// controller look again (the predicates compare annotations), so the cache keeps one digest of
// them in their place (annotationsDigestKey) that changes when any of them does. Objects in the
// cache are never written back whole: every write is a merge patch of the difference between a
// cached object and its modified copy, so what the cache leaves out is never sent.

// readAnnotations are the annotations the controllers read, kept as they are in the cache.
var readAnnotations = map[string]bool{}

// annotationsDigestKey is the one annotation the cache keeps in place of those nobody reads: a
// hash of their keys and values. It exists only in the cache.
const annotationsDigestKey = "gateway.k8s.aws/cached-annotations-digest"

// CacheOptions are the manager cache options the controllers expect: the transforms above, and
// Service and EndpointSlice informers that hold only the objects of Services routes name
// (narrow.go).
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: cacheTransform,
		NewInformer:      newNarrowInformer,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Service{}:            {Transform: slimService},
			&discoveryv1.EndpointSlice{}: {Transform: slimEndpointSlice},
			&corev1.Node{}:               {Transform: slimNode},
			&corev1.Namespace{}:          {Transform: slimNamespace},
			&corev1.Pod{}:                {Transform: slimPod},
		},
	}
}

// cacheTransform is stripUnread; of a route, it first records the Services it names
// (narrow.go), before the informer hands the route to any handler, so that no event of a
// Service is dropped after a reconcile read it for the route.
func cacheTransform(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if ok && isRouteObject(u) {
		referencedServices.set(string(u.GetUID()), servicesOfRoute(u))
	}
	out, err := stripUnread(obj)
	if ok {
		u.Object = internMap(u.Object)
	}
	return out, err
}

// Objects cached as unstructured maps (the routes) each hold their own copy of every key and
// value decoded: a thousand routes hold a thousand copies of "type", "status", "True",
// "gateway.networking.k8s.io" and their conditions' messages. The cache keeps one copy of each
// key, and of each value but those that name one object alone (uniqueValueKeys), which would
// only cost the table an entry.

// uniqueValueKeys are the keys whose values differ from object to object.
var uniqueValueKeys = map[string]bool{"uid": true, "resourceVersion": true, "creationTimestamp": true,
	"lastTransitionTime": true, "name": true}

func internMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok && uniqueValueKeys[k] {
			out[unique.Make(k).Value()] = s
			continue
		}
		out[unique.Make(k).Value()] = internValue(v)
	}
	return out
}

func internValue(v any) any {
	switch t := v.(type) {
	case string:
		return unique.Make(t).Value()
	case map[string]any:
		return internMap(t)
	case []any:
		for i := range t {
			t[i] = internValue(t[i])
		}
		return t
	}
	return v
}

// isRouteObject tells the Gateway API's route kinds.
func isRouteObject(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == gwv1.GroupName && strings.HasSuffix(gvk.Kind, "Route")
}

// stripUnread drops the managedFields of any object and replaces the annotations nobody reads
// with their digest. Anything that is not an object (a tombstone) passes unchanged.
func stripUnread(obj any) (any, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return obj, nil
	}
	if m.GetManagedFields() != nil {
		m.SetManagedFields(nil)
	}
	if a := m.GetAnnotations(); len(a) > 0 {
		m.SetAnnotations(slimAnnotations(a))
	}
	return obj, nil
}

// slimAnnotations keeps the read annotations and one digest of the others. It is idempotent:
// the digest of annotations already reduced to it stays the same.
func slimAnnotations(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := map[string]string{}
	h := fnv.New64a()
	digested := false
	for _, k := range slices.Sorted(maps.Keys(in)) {
		switch {
		case k == annotationsDigestKey:
		case readAnnotations[k]:
			out[k] = in[k]
		default:
			_, _ = h.Write([]byte(k))
			_, _ = h.Write([]byte{0})
			_, _ = h.Write([]byte(in[k]))
			_, _ = h.Write([]byte{0})
			digested = true
		}
	}
	switch d, ok := in[annotationsDigestKey]; {
	case digested:
		out[annotationsDigestKey] = strconv.FormatUint(h.Sum64(), 16)
	case ok:
		out[annotationsDigestKey] = d
	}
	return out
}

// slimMeta keeps the metadata the controllers read of Services, EndpointSlices, Nodes and
// Namespaces: identity, version, labels, creation and deletion, and the slimmed annotations.
// Owner references, finalizers, generateName and managedFields are dropped.
func slimMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, CreationTimestamp: m.CreationTimestamp,
		DeletionTimestamp: m.DeletionTimestamp, Labels: m.Labels, Annotations: slimAnnotations(m.Annotations),
	}
}

// slimService keeps of a Service what translation reads (see above); not its labels.
func slimService(obj any) (any, error) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil
	}
	m := slimMeta(s.ObjectMeta)
	m.Labels = nil // nothing reads a Service's labels
	return &corev1.Service{TypeMeta: s.TypeMeta, ObjectMeta: m, Spec: corev1.ServiceSpec{
		Type: s.Spec.Type, Ports: s.Spec.Ports, IPFamilies: s.Spec.IPFamilies,
		ExternalTrafficPolicy: s.Spec.ExternalTrafficPolicy, HealthCheckNodePort: s.Spec.HealthCheckNodePort,
	}}, nil
}

// slimEndpointSlice keeps of an EndpointSlice what target registration reads: the
// service-name label, the address type, the ports, and the addresses of its ready endpoints,
// folded into one endpoint (its readiness unset, which means ready). Target registration
// takes every address of every ready endpoint and nothing else of them, so one endpoint of
// five addresses serves it as five endpoints do, in a fifth of the structs: at 10,000 slices
// of 5 endpoints, about 4 MB less heap. The addresses of the endpoints that are neither ready
// nor terminating are folded the same way into a second endpoint marked not ready (readiness
// gates register them); terminating endpoints are left out.
func slimEndpointSlice(obj any) (any, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	m := slimMeta(s.ObjectMeta)
	m.Labels = nil
	if svc, ok := s.Labels[discoveryv1.LabelServiceName]; ok {
		// The one label read; the others are copies of the Service's.
		m.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
	}
	out := &discoveryv1.EndpointSlice{TypeMeta: s.TypeMeta, ObjectMeta: m, AddressType: s.AddressType, Ports: s.Ports}
	n := 0
	for _, ep := range s.Endpoints {
		if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
			n += len(ep.Addresses)
		}
	}
	if n > 0 {
		ready := make([]string, 0, n)
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				ready = append(ready, ep.Addresses...)
			}
		}
		out.Endpoints = []discoveryv1.Endpoint{{Addresses: ready}}
	}
	var waiting []string
	for _, ep := range s.Endpoints {
		if ep.Conditions.Ready != nil && !*ep.Conditions.Ready && (ep.Conditions.Terminating == nil || !*ep.Conditions.Terminating) {
			waiting = append(waiting, ep.Addresses...)
		}
	}
	if len(waiting) > 0 {
		notReady := false
		out.Endpoints = append(out.Endpoints, discoveryv1.Endpoint{Addresses: waiting, Conditions: discoveryv1.EndpointConditions{Ready: &notReady}})
	}
	return out, nil
}

// slimPod keeps of a Pod what readiness gates read (see above). The pods of the cluster are
// cached only when readiness gates are on; most carry no gate and keep their identity alone.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	m := slimMeta(p.ObjectMeta)
	m.Labels, m.Annotations = nil, nil
	out := &corev1.Pod{TypeMeta: p.TypeMeta, ObjectMeta: m}
	keep := map[corev1.PodConditionType]bool{}
	for _, g := range p.Spec.ReadinessGates {
		if strings.HasPrefix(string(g.ConditionType), targets.ReadinessGatePrefix) {
			out.Spec.ReadinessGates = append(out.Spec.ReadinessGates, g)
			keep[g.ConditionType] = true
		}
	}
	if len(keep) == 0 {
		return out, nil
	}
	keep[corev1.ContainersReady] = true
	out.Status.PodIP, out.Status.PodIPs = p.Status.PodIP, p.Status.PodIPs
	for _, c := range p.Status.Conditions {
		if keep[c.Type] {
			out.Status.Conditions = append(out.Status.Conditions, corev1.PodCondition{Type: c.Type, Status: c.Status,
				Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime})
		}
	}
	return out, nil
}

// slimNode keeps of a Node what instance targets read: labels, deletion, provider ID, the taints
// that mark it for deletion and the status of its Ready condition (no other taints, heartbeat
// times, images, addresses or capacity).
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	out := &corev1.Node{TypeMeta: n.TypeMeta, ObjectMeta: slimMeta(n.ObjectMeta),
		Spec: corev1.NodeSpec{ProviderID: n.Spec.ProviderID}}
	for _, t := range n.Spec.Taints {
		if targets.DeletionTaint(t) {
			out.Spec.Taints = append(out.Spec.Taints, corev1.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			out.Status.Conditions = []corev1.NodeCondition{{Type: c.Type, Status: c.Status}}
			break
		}
	}
	return out, nil
}

// slimNamespace keeps a Namespace's metadata only: its name and labels are all that is read.
func slimNamespace(obj any) (any, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return obj, nil
	}
	return &corev1.Namespace{TypeMeta: ns.TypeMeta, ObjectMeta: slimMeta(ns.ObjectMeta)}, nil
}
