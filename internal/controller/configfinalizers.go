package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

// The finalizers a LoadBalancerConfiguration and a TargetGroupConfiguration carry while a
// Gateway uses them: the AWS Load Balancer Controller's names, so that either controller
// honours the other's during a migration. Deleting a configuration in use leaves it
// Terminating (and says why in an event) until its last user lets go of it; the Gateway keeps
// its load balancer as configured meanwhile, instead of falling back to defaults.
const (
	lbcFinalizer = "gateway.k8s.aws/loadbalancerconfigurations"
	tgcFinalizer = "gateway.k8s.aws/targetgroupconfigurations"
)

// indexTGCService indexes TargetGroupConfigurations by the namespace/name of the Service their
// targetReference names.
const indexTGCService = "elbgateway.tgcservice"

// ourControllers are the controller names whose Gateways hold configurations. Both count
// whichever gates this process has open, so that an NLB-only and an ALB-only controller
// agree on when a configuration is in use.
var ourControllers = []string{ControllerNLB, ControllerALB}

// setupConfigFinalizers registers the two reconcilers that add and remove the configurations'
// finalizers. They read the cache only and write nothing but finalizers and events.
func setupConfigFinalizers(mgr ctrl.Manager, apis APIs, ev recorder) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &awsv1.TargetGroupConfiguration{}, indexTGCService,
		func(o client.Object) []string {
			if k := tgcService(o.(*awsv1.TargetGroupConfiguration)); k != "" {
				return []string{k}
			}
			return nil
		}); err != nil {
		return fmt.Errorf("adding field indexes: %w", err)
	}
	u := &configUsers{reader: mgr.GetCache(), routeKinds: apis.RouteKinds(), listenerSets: apis.ListenerSet}
	if err := builder.ControllerManagedBy(mgr).Named("loadbalancerconfiguration").
		For(&awsv1.LoadBalancerConfiguration{}, builder.WithPredicates(specChanged())).
		Watches(&gwv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(u.lbcsOfGateway), builder.WithPredicates(specChanged())).
		Watches(&gwv1.GatewayClass{}, handler.EnqueueRequestsFromMapFunc(u.lbcsOfClass), builder.WithPredicates(specChanged())).
		Complete(&configFinalizer{client: mgr.GetClient(), events: ev, kind: lbcKind, finalizer: lbcFinalizer,
			newObject: func() client.Object { return &awsv1.LoadBalancerConfiguration{} }, users: u.ofLBC}); err != nil {
		return err
	}
	b := builder.ControllerManagedBy(mgr).Named("targetgroupconfiguration").
		For(&awsv1.TargetGroupConfiguration{}, builder.WithPredicates(specChanged())).
		Watches(&awsv1.LoadBalancerConfiguration{}, handler.EnqueueRequestsFromMapFunc(u.tgcsOfLBC), builder.WithPredicates(specChanged())).
		Watches(&gwv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(u.tgcsOfGateway), builder.WithPredicates(specChanged())).
		Watches(&gwv1.GatewayClass{}, handler.EnqueueRequestsFromMapFunc(u.tgcsOfClass), builder.WithPredicates(specChanged()))
	for _, gvk := range u.routeKinds {
		b = b.Watches(newRoute(gvk), handler.EnqueueRequestsFromMapFunc(u.tgcsOfRoute), builder.WithPredicates(specChanged()))
	}
	if u.listenerSets {
		b = b.Watches(&gwv1.ListenerSet{}, handler.EnqueueRequestsFromMapFunc(u.tgcsOfListenerSet), builder.WithPredicates(specChanged()))
	}
	return b.Complete(&configFinalizer{client: mgr.GetClient(), events: ev, kind: "TargetGroupConfiguration", finalizer: tgcFinalizer,
		newObject: func() client.Object { return &awsv1.TargetGroupConfiguration{} }, users: u.ofTGC})
}

// configFinalizer keeps one kind's finalizer on the configurations that have users, and takes
// it off those that have none.
type configFinalizer struct {
	client    client.Client
	events    recorder
	kind      string
	finalizer string
	newObject func() client.Object
	// users returns who uses the configuration ("Gateway ns/name", …), sorted.
	users func(ctx context.Context, key types.NamespacedName) ([]string, error)
}

func (r *configFinalizer) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := r.newObject()
	if err := r.client.Get(ctx, req.NamespacedName, obj); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	users, err := r.users(ctx, req.NamespacedName)
	if err != nil {
		return reconcile.Result{}, err
	}
	deleting := obj.GetDeletionTimestamp() != nil
	switch {
	case len(users) > 0 && !deleting:
		// The API server refuses a new finalizer on an object being deleted: one deleted before
		// its first user was seen goes at once, and its Gateway reports it missing.
		_, err = setFinalizer(ctx, r.client, obj, r.finalizer, true)
	case len(users) > 0 && hasFinalizer(obj, r.finalizer):
		r.events.Eventf(obj, nil, corev1.EventTypeWarning, "DeletionWaiting", "Delete",
			"%s %s is deleted once nothing uses it; still used by %s", r.kind, req.Name, strings.Join(users, ", "))
	case len(users) == 0:
		_, err = setFinalizer(ctx, r.client, obj, r.finalizer, false)
	}
	return retryConflict(reconcile.Result{}, err)
}

// setFinalizer adds (on) or removes a finalizer with an optimistic-lock patch and says whether
// it changed anything. An object already gone counts as done.
func setFinalizer(ctx context.Context, c client.Client, o client.Object, f string, on bool) (bool, error) {
	if hasFinalizer(o, f) == on {
		return false, nil
	}
	next, ok := o.DeepCopyObject().(client.Object)
	if !ok {
		return false, fmt.Errorf("copying %T", o)
	}
	fs := slices.DeleteFunc(slices.Clone(o.GetFinalizers()), func(x string) bool { return x == f })
	if on {
		fs = append(fs, f)
	}
	next.SetFinalizers(fs)
	if err := c.Patch(ctx, next, client.MergeFromWithOptions(o, client.MergeFromWithOptimisticLock{})); err != nil {
		if !on && apierrors.IsNotFound(err) {
			return false, nil
		}
		verb := "adding"
		if !on {
			verb = "removing"
		}
		return false, fmt.Errorf("%s finalizer %s: %w", verb, f, err)
	}
	o.SetFinalizers(next.GetFinalizers())
	o.SetResourceVersion(next.GetResourceVersion())
	return true, nil
}

// configUsers finds, in the cache, who uses a configuration.
type configUsers struct {
	reader     client.Reader
	routeKinds []schema.GroupVersionKind
	// listenerSets says ListenerSets are served: a route attached to one uses its parent Gateway.
	listenerSets bool
}

// ofLBC: the GatewayClasses of ours whose parametersRef names the configuration, and the
// Gateways whose infrastructure names it and that are ours (by class, or by our finalizer while
// their load balancer is being deleted).
func (u *configUsers) ofLBC(ctx context.Context, key types.NamespacedName) ([]string, error) {
	k := key.Namespace + "/" + key.Name
	var out []string
	var classes gwv1.GatewayClassList
	if err := u.reader.List(ctx, &classes, client.MatchingFields{indexLBC: k}); err != nil {
		return nil, err
	}
	for _, c := range classes.Items {
		if slices.Contains(ourControllers, string(c.Spec.ControllerName)) {
			out = append(out, "GatewayClass "+c.Name)
		}
	}
	var gws gwv1.GatewayList
	if err := u.reader.List(ctx, &gws, client.MatchingFields{indexLBC: k}); err != nil {
		return nil, err
	}
	for i := range gws.Items {
		ours, err := u.ours(ctx, &gws.Items[i])
		if err != nil {
			return nil, err
		}
		if ours {
			out = append(out, "Gateway "+gws.Items[i].Namespace+"/"+gws.Items[i].Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ofTGC: the LoadBalancerConfigurations in use that name it as their default, and, for one
// whose targetReference names a Service, the routes of our Gateways that send to that Service.
func (u *configUsers) ofTGC(ctx context.Context, key types.NamespacedName) ([]string, error) {
	var out []string
	var lbcs awsv1.LoadBalancerConfigurationList
	if err := u.reader.List(ctx, &lbcs, client.MatchingFields{indexDefaultTGC: key.Namespace + "/" + key.Name}); err != nil {
		return nil, err
	}
	for _, lbc := range lbcs.Items {
		users, err := u.ofLBC(ctx, types.NamespacedName{Namespace: lbc.Namespace, Name: lbc.Name})
		if err != nil {
			return nil, err
		}
		if len(users) > 0 {
			out = append(out, lbcKind+" "+lbc.Name)
		}
	}
	var tgc awsv1.TargetGroupConfiguration
	if err := u.reader.Get(ctx, key, &tgc); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if svc := tgcService(&tgc); svc != "" {
		for _, gvk := range u.routeKinds {
			list := newRouteList(gvk)
			if err := u.reader.List(ctx, list, client.MatchingFields{indexService: svc}); err != nil {
				return nil, err
			}
			for i := range list.Items {
				route := &list.Items[i]
				used, err := u.anyOurs(ctx, resolveListenerSetKeys(ctx, u.reader, u.listenerSets, gatewaysOfRoute(route)))
				if err != nil {
					return nil, err
				}
				if used {
					out = append(out, gvk.Kind+" "+route.GetNamespace()+"/"+route.GetName())
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func (u *configUsers) anyOurs(ctx context.Context, gatewayKeys []string) (bool, error) {
	for _, k := range gatewayKeys {
		ns, name := splitKey(k)
		var gw gwv1.Gateway
		if err := u.reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return false, err
		}
		if ours, err := u.ours(ctx, &gw); ours || err != nil {
			return ours, err
		}
	}
	return false, nil
}

// ours is true for a Gateway of one of our classes, or one that still carries our finalizer
// (its load balancer is being deleted, or its class is gone).
func (u *configUsers) ours(ctx context.Context, gw *gwv1.Gateway) (bool, error) {
	for _, c := range ourControllers {
		if hasFinalizer(gw, finalizer(c)) {
			return true, nil
		}
	}
	var class gwv1.GatewayClass
	if err := u.reader.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, &class); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return slices.Contains(ourControllers, string(class.Spec.ControllerName)), nil
}

// tgcService is the namespace/name of the Service a TargetGroupConfiguration targets, or "".
func tgcService(tgc *awsv1.TargetGroupConfiguration) string {
	ref := tgc.Spec.TargetReference
	if ref == nil || ref.Kind != nil && *ref.Kind != "Service" {
		return ""
	}
	return tgc.Namespace + "/" + ref.Name
}

func (u *configUsers) lbcsOfGateway(_ context.Context, o client.Object) []reconcile.Request {
	gw, ok := o.(*gwv1.Gateway)
	if !ok {
		return nil
	}
	return keysToRequests(lbcOfGateway(gw))
}

func (u *configUsers) lbcsOfClass(_ context.Context, o client.Object) []reconcile.Request {
	c, ok := o.(*gwv1.GatewayClass)
	if !ok {
		return nil
	}
	return keysToRequests(lbcOfClass(c))
}

// tgcsOfLBC: a configuration's default TargetGroupConfiguration.
func (u *configUsers) tgcsOfLBC(_ context.Context, o client.Object) []reconcile.Request {
	lbc, ok := o.(*awsv1.LoadBalancerConfiguration)
	if !ok || lbc.Spec.DefaultTargetGroupConfiguration == nil {
		return nil
	}
	return keysToRequests([]string{lbc.Namespace + "/" + lbc.Spec.DefaultTargetGroupConfiguration.Name})
}

// tgcsOfGateway: the default TargetGroupConfigurations of the Gateway's configurations (its own
// and its class's), and those of the Services its routes send to, directly or through its
// ListenerSets.
func (u *configUsers) tgcsOfGateway(ctx context.Context, o client.Object) []reconcile.Request {
	gw, ok := o.(*gwv1.Gateway)
	if !ok {
		return nil
	}
	keys := lbcOfGateway(gw)
	var class gwv1.GatewayClass
	if err := u.reader.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, &class); err == nil {
		keys = append(keys, lbcOfClass(&class)...)
	}
	var out []reconcile.Request
	for _, k := range keys {
		out = append(out, u.defaultTGCOf(ctx, k)...)
	}
	out = append(out, u.tgcsOfParent(ctx, gw.Namespace+"/"+gw.Name)...)
	if u.listenerSets {
		var sets gwv1.ListenerSetList
		if err := u.reader.List(ctx, &sets, client.MatchingFields{indexListenerSetGateway: gw.Namespace + "/" + gw.Name}); err == nil {
			for i := range sets.Items {
				out = append(out, u.tgcsOfParent(ctx, listenerSetKeyPrefix+sets.Items[i].Namespace+"/"+sets.Items[i].Name)...)
			}
		}
	}
	return dedupe(out)
}

// tgcsOfListenerSet: the TargetGroupConfigurations of the Services the routes attached to the
// ListenerSet send to (the ListenerSet brings them to, or takes them from, its Gateway).
func (u *configUsers) tgcsOfListenerSet(ctx context.Context, o client.Object) []reconcile.Request {
	ls, ok := o.(*gwv1.ListenerSet)
	if !ok {
		return nil
	}
	return dedupe(u.tgcsOfParent(ctx, listenerSetKeyPrefix+ls.Namespace+"/"+ls.Name))
}

// tgcsOfParent: the TargetGroupConfigurations of the Services the routes indexed under a parent
// key (a Gateway's, or a ListenerSet's with listenerSetKeyPrefix) send to.
func (u *configUsers) tgcsOfParent(ctx context.Context, key string) []reconcile.Request {
	var out []reconcile.Request
	for _, gvk := range u.routeKinds {
		list := newRouteList(gvk)
		if err := u.reader.List(ctx, list, client.MatchingFields{indexGateway: key}); err != nil {
			continue
		}
		for i := range list.Items {
			out = append(out, u.tgcsOfRoute(ctx, &list.Items[i])...)
		}
	}
	return out
}

func (u *configUsers) tgcsOfClass(ctx context.Context, o client.Object) []reconcile.Request {
	c, ok := o.(*gwv1.GatewayClass)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	for _, k := range lbcOfClass(c) {
		out = append(out, u.defaultTGCOf(ctx, k)...)
	}
	return out
}

func (u *configUsers) defaultTGCOf(ctx context.Context, lbcKey string) []reconcile.Request {
	ns, name := splitKey(lbcKey)
	var lbc awsv1.LoadBalancerConfiguration
	if err := u.reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &lbc); err != nil {
		return nil
	}
	return u.tgcsOfLBC(ctx, &lbc)
}

// tgcsOfRoute: the TargetGroupConfigurations of the Services a route sends to.
func (u *configUsers) tgcsOfRoute(ctx context.Context, o client.Object) []reconcile.Request {
	route, ok := o.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	var out []reconcile.Request
	for _, svc := range servicesOfRoute(route) {
		var list awsv1.TargetGroupConfigurationList
		if err := u.reader.List(ctx, &list, client.MatchingFields{indexTGCService: svc}); err != nil {
			continue
		}
		for _, t := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: t.Namespace, Name: t.Name}})
		}
	}
	return out
}
