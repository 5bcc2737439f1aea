package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

// mapper turns events on related objects into the keys of the Gateways they concern, through
// the cache's field indexes.
type mapper struct {
	reader     client.Reader
	routeKinds []schema.GroupVersionKind
	// listenerSets says ListenerSets are served (and cached).
	listenerSets bool
}

func (m *mapper) gatewayClass(ctx context.Context, o client.Object) []reconcile.Request {
	return m.gatewaysBy(ctx, indexClass, o.GetName())
}

func (m *mapper) route(_ context.Context, o client.Object) []reconcile.Request {
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	return keysToRequests(resolveListenerSetKeys(context.Background(), m.reader, m.listenerSets, gatewaysOfRoute(u)))
}

func (m *mapper) service(ctx context.Context, o client.Object) []reconcile.Request {
	return m.routesBy(ctx, client.MatchingFields{indexService: o.GetNamespace() + "/" + o.GetName()})
}

// backendGateway brings back the Gateways whose routes forward to a Gateway (NLB to ALB
// chaining) when it changes, its Programmed condition (the load balancer's ARN) included.
func (m *mapper) backendGateway(ctx context.Context, o client.Object) []reconcile.Request {
	return m.routesBy(ctx, client.MatchingFields{indexBackendGateway: o.GetNamespace() + "/" + o.GetName()})
}

func (m *mapper) namespace(ctx context.Context, o client.Object) []reconcile.Request {
	out := m.routesBy(ctx, client.InNamespace(o.GetName()))
	// A Gateway's allowedListeners may select the namespace of its ListenerSets by label.
	return dedupe(append(out, m.listenerSetsIn(ctx, o.GetName())...))
}

// referenceGrant maps a ReferenceGrant (of either served version) to the Gateways it can
// change: those of its from namespaces whose listeners' certificateRefs name Secrets in its
// namespace (granted or revoked, the certificate must follow at once), the parents of the
// ListenerSets of its from namespaces (their entries' certificateRefs), and those that routes
// of its from namespaces attach to (their cross-namespace backends).
func (m *mapper) referenceGrant(ctx context.Context, o client.Object) []reconcile.Request {
	spec, ok := referenceGrantSpec(o)
	if !ok {
		return nil
	}
	set := map[string]bool{}
	var out []reconcile.Request
	for _, from := range spec.From {
		ns := string(from.Namespace)
		if string(from.Group) == gwv1.GroupName && from.Kind == "Gateway" {
			out = append(out, m.gatewaysBy(ctx, indexCertificateNamespace, o.GetNamespace(), client.InNamespace(ns))...)
		}
		if string(from.Group) == gwv1.GroupName && from.Kind == "ListenerSet" {
			out = append(out, m.listenerSetsIn(ctx, ns)...)
		}
		if set[ns] {
			continue
		}
		set[ns] = true
		out = append(out, m.routesBy(ctx, client.InNamespace(ns))...)
	}
	return dedupe(out)
}

func (m *mapper) loadBalancerConfiguration(ctx context.Context, o client.Object) []reconcile.Request {
	key := o.GetNamespace() + "/" + o.GetName()
	out := m.gatewaysBy(ctx, indexLBC, key)
	var classes gwv1.GatewayClassList
	if err := m.reader.List(ctx, &classes, client.MatchingFields{indexLBC: key}); err != nil {
		log.FromContext(ctx).Error(err, "listing GatewayClasses by LoadBalancerConfiguration", "lbc", key)
	}
	for _, c := range classes.Items {
		out = append(out, m.gatewaysBy(ctx, indexClass, c.Name)...)
	}
	return dedupe(out)
}

func (m *mapper) targetGroupConfiguration(ctx context.Context, o client.Object) []reconcile.Request {
	tgc, ok := o.(*awsv1.TargetGroupConfiguration)
	if !ok {
		return nil
	}
	ref := tgc.Spec.TargetReference
	if ref != nil && (ref.Kind == nil || *ref.Kind == "Service") {
		return m.routesBy(ctx, client.MatchingFields{indexService: tgc.Namespace + "/" + ref.Name})
	}
	if ref != nil {
		// Other target kinds (Gateway backends) re-evaluate every route of the namespace.
		return m.routesBy(ctx, client.InNamespace(tgc.Namespace))
	}
	var lbcs awsv1.LoadBalancerConfigurationList
	if err := m.reader.List(ctx, &lbcs, client.MatchingFields{indexDefaultTGC: tgc.Namespace + "/" + tgc.Name}); err != nil {
		log.FromContext(ctx).Error(err, "listing LoadBalancerConfigurations by default TargetGroupConfiguration")
		return nil
	}
	var out []reconcile.Request
	for i := range lbcs.Items {
		out = append(out, m.loadBalancerConfiguration(ctx, &lbcs.Items[i])...)
	}
	return dedupe(out)
}

// routesBy returns the Gateways of the routes (of every served kind) that match opts.
func (m *mapper) routesBy(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	set := map[string]bool{}
	for _, gvk := range m.routeKinds {
		list := newRouteList(gvk)
		if err := m.reader.List(ctx, list, opts...); err != nil {
			log.FromContext(ctx).Error(err, "listing routes", "kind", gvk.Kind)
			continue
		}
		for i := range list.Items {
			for _, k := range resolveListenerSetKeys(ctx, m.reader, m.listenerSets, gatewaysOfRoute(&list.Items[i])) {
				set[k] = true
			}
		}
	}
	return keysToRequests(sortedKeys(set))
}

func (m *mapper) gatewaysBy(ctx context.Context, index, value string, opts ...client.ListOption) []reconcile.Request {
	var gws gwv1.GatewayList
	if err := m.reader.List(ctx, &gws, append(opts, client.MatchingFields{index: value})...); err != nil {
		log.FromContext(ctx).Error(err, "listing Gateways", "index", index, "value", value)
		return nil
	}
	out := make([]reconcile.Request, 0, len(gws.Items))
	for _, g := range gws.Items {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Name}})
	}
	return out
}

func keysToRequests(keys []string) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(keys))
	for _, k := range keys {
		ns, name := splitKey(k)
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
	}
	return out
}

func splitKey(k string) (namespace, name string) {
	for i := 0; i < len(k); i++ {
		if k[i] == '/' {
			return k[:i], k[i+1:]
		}
	}
	return "", k
}

func dedupe(rs []reconcile.Request) []reconcile.Request {
	seen := map[reconcile.Request]bool{}
	out := rs[:0]
	for _, r := range rs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// namespaceLabelsChanged passes Namespace creations and label changes: they can change which
// routes a listener's allowedRoutes selector admits.
func namespaceLabelsChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Namespace)
			n, ok2 := e.ObjectNew.(*corev1.Namespace)
			return !ok1 || !ok2 || !labelsEqual(o.Labels, n.Labels)
		},
		DeleteFunc: func(event.DeleteEvent) bool { return false },
	}
}

func labelsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
