package controller

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// FactsSource is the part of Cloud that gather reads: what translation needs to know of AWS.
// `elbgateway plan` passes synthetic facts, or a Cloud when it looks at a real account.
type FactsSource interface {
	Facts(ctx context.Context, req aws.FactsRequest) (snapshot.AWSFacts, error)
}

// OfflineOptions configure Snapshots.
type OfflineOptions struct {
	// Settings are the controller settings (cluster name, VPC, defaults); ControllerName is
	// set per Gateway from its class.
	Settings snapshot.Settings
	// Gates select the controller names whose Gateways are planned.
	Gates Gates
	// Facts answer the AWS questions of gather.
	Facts FactsSource
}

// Snapshots builds the snapshot of every Gateway in objs whose GatewayClass belongs to an
// enabled controller, with the gather step the controller runs, reading objs instead of an
// informer cache. objs hold the kinds of NewScheme in their scheme versions; routes are
// unstructured objects of gateway.networking.k8s.io/v1. The snapshots are sorted by Gateway
// namespace/name.
func Snapshots(ctx context.Context, objs []client.Object, o OfflineOptions) ([]*snapshot.Snapshot, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	apis := offlineAPIs()
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...)
	var kinds []schema.GroupVersionKind
	for _, k := range sortedRouteKinds(apis) {
		kinds = append(kinds, apis.Routes[k])
	}
	if err := addIndexes(ctx, builderIndexer{b}, kinds); err != nil {
		return nil, err
	}
	if err := addListenerSetIndex(ctx, builderIndexer{b}); err != nil {
		return nil, err
	}
	reader := b.Build()

	var gateways gwv1.GatewayList
	if err := reader.List(ctx, &gateways); err != nil {
		return nil, err
	}
	sort.Slice(gateways.Items, func(i, j int) bool {
		a, b := &gateways.Items[i], &gateways.Items[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	enabled := map[string]bool{ControllerNLB: o.Gates.NLB, ControllerALB: o.Gates.ALB}
	var out []*snapshot.Snapshot
	for i := range gateways.Items {
		gw := &gateways.Items[i]
		var class gwv1.GatewayClass
		ok, err := (&gatherer{reader: reader}).get(ctx, string(gw.Spec.GatewayClassName), &class)
		if err != nil {
			return nil, err
		}
		if !ok || !enabled[string(class.Spec.ControllerName)] {
			continue
		}
		settings := o.Settings
		settings.ControllerName = string(class.Spec.ControllerName)
		g := &gatherer{reader: reader, cloud: o.Facts, apis: apis, controller: settings.ControllerName, settings: settings}
		s, err := g.gather(ctx, gw, &class)
		if err != nil {
			return nil, fmt.Errorf("Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// RouteGVK is the group, version and kind Snapshots expects routes of a kind in; false for a
// kind that is not a route.
func RouteGVK(kind string) (schema.GroupVersionKind, bool) {
	if _, ok := routeVersions[kind]; !ok {
		return schema.GroupVersionKind{}, false
	}
	return schema.GroupVersionKind{Group: gatewayGroup, Version: "v1", Kind: kind}, true
}

// offlineAPIs are the APIs of a cluster that serves every kind in its newest version.
func offlineAPIs() APIs {
	a := APIs{Routes: map[string]schema.GroupVersionKind{}, Gateway: true, GatewayClass: true, ReferenceGrant: true,
		LoadBalancerConfiguration: true, TargetGroupConfiguration: true, ListenerRuleConfiguration: true, ListenerSet: true}
	for kind := range routeVersions {
		a.Routes[kind], _ = RouteGVK(kind)
	}
	return a
}

func sortedRouteKinds(a APIs) []string {
	out := make([]string, 0, len(a.Routes))
	for k := range a.Routes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// builderIndexer registers the controller's field indexes with a fake client builder.
type builderIndexer struct{ b *fake.ClientBuilder }

func (i builderIndexer) IndexField(_ context.Context, obj client.Object, field string, fn client.IndexerFunc) error {
	i.b.WithIndex(obj, field, fn)
	return nil
}
