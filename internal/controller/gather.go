package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/translate"
)

// gatherer builds one Gateway's snapshot from the informer cache and AWS facts. Objects that do
// not exist are left out: translation reports them as status conditions.
type gatherer struct {
	reader     client.Reader
	cloud      FactsSource
	apis       APIs
	settings   snapshot.Settings
	controller string
	// secrets reads OIDC client Secrets through per-Secret watches; nil reads none.
	secrets *secretWatcher
}

// gather reads everything translate.Gateway may need.
func (g *gatherer) gather(ctx context.Context, gw *gwv1.Gateway, class *gwv1.GatewayClass) (*snapshot.Snapshot, error) {
	s := &snapshot.Snapshot{Settings: g.settings, GatewayClass: class, Gateway: gw, Now: metav1.NewTime(time.Now().Truncate(time.Second))}
	steps := []func(context.Context, *snapshot.Snapshot) error{
		g.loadBalancerConfigurations,
		g.listenerSets,
		g.routes,
		g.namespaces,
		g.mergeListenerSets,
		g.services,
		g.backendGateways,
		g.referenceGrants,
		g.targetGroupConfigurations,
		g.listenerRuleConfigurations,
		g.oidcSecrets,
		g.tlsSecrets,
		g.facts,
	}
	for _, step := range steps {
		if err := step(ctx, s); err != nil {
			return s, err // what was read so far, for the routes' statuses
		}
	}
	return s, nil
}

// loadBalancerConfigurations reads the class's and the Gateway's configurations.
func (g *gatherer) loadBalancerConfigurations(ctx context.Context, s *snapshot.Snapshot) error {
	keys := lbcOfGateway(s.Gateway)
	if s.GatewayClass != nil {
		keys = append(keys, lbcOfClass(s.GatewayClass)...)
	}
	for _, k := range dedupeStrings(keys) {
		var lbc awsv1.LoadBalancerConfiguration
		ok, err := g.get(ctx, k, &lbc)
		if err != nil {
			return err
		}
		if ok {
			s.LoadBalancerConfigurations = append(s.LoadBalancerConfigurations, lbc)
		}
	}
	return nil
}

// routes reads the routes that name the Gateway or carry a status entry for it, of every kind:
// those of the other load balancer type are told that no listener admits them.
func (g *gatherer) routes(ctx context.Context, s *snapshot.Snapshot) error {
	key := s.Gateway.Namespace + "/" + s.Gateway.Name
	keys := []string{key}
	for _, ls := range s.ListenerSets {
		keys = append(keys, listenerSetKeyPrefix+ls.Namespace+"/"+ls.Name)
	}
	for _, gvk := range g.apis.RouteKinds() {
		list := newRouteList(gvk)
		seen := map[string]bool{}
		for _, k := range keys {
			part := newRouteList(gvk)
			if err := g.reader.List(ctx, part, client.MatchingFields{indexGateway: k}); err != nil {
				return fmt.Errorf("listing %ss of Gateway %s: %w", gvk.Kind, key, err)
			}
			for _, r := range part.Items {
				if id := r.GetNamespace() + "/" + r.GetName(); !seen[id] {
					seen[id] = true
					list.Items = append(list.Items, r)
				}
			}
		}
		sort.Slice(list.Items, func(i, j int) bool {
			a, b := &list.Items[i], &list.Items[j]
			return a.GetNamespace()+"/"+a.GetName() < b.GetNamespace()+"/"+b.GetName()
		})
		for i := range list.Items {
			if err := addRoute(s, &list.Items[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// namespaces reads the namespaces of the Gateway, its routes and its ListenerSets, for
// allowedRoutes and allowedListeners selectors.
func (g *gatherer) namespaces(ctx context.Context, s *snapshot.Snapshot) error {
	set := map[string]bool{s.Gateway.Namespace: true}
	for _, r := range routeObjects(s) {
		set[r.namespace] = true
	}
	for _, ls := range s.ListenerSets {
		set[ls.Namespace] = true
	}
	for _, name := range sortedKeys(set) {
		var ns corev1.Namespace
		ok, err := g.get(ctx, name, &ns)
		if err != nil {
			return err
		}
		if ok {
			s.Namespaces = append(s.Namespaces, ns)
		}
	}
	return nil
}

// mergeListenerSets works out once which ListenerSet entries join the Gateway's listeners,
// for the steps below that read the listeners' certificates and for translation. It needs the
// namespaces (allowedListeners selectors), and reads nothing itself.
func (g *gatherer) mergeListenerSets(_ context.Context, s *snapshot.Snapshot) error {
	if len(s.ListenerSets) > 0 {
		s.ListenerSetMerge = translate.MergeListenerSets(s)
	}
	return nil
}

// services reads the Services the routes name.
func (g *gatherer) services(ctx context.Context, s *snapshot.Snapshot) error {
	for _, k := range serviceKeys(s) {
		var svc corev1.Service
		ok, err := g.get(ctx, k, &svc)
		if err != nil {
			return err
		}
		if ok {
			s.Services = append(s.Services, svc)
		}
	}
	return nil
}

// referenceGrants reads the grants in the namespaces that routes refer into from elsewhere.
func (g *gatherer) referenceGrants(ctx context.Context, s *snapshot.Snapshot) error {
	if !g.apis.ReferenceGrant {
		return nil
	}
	set := map[string]bool{}
	for _, r := range routeObjects(s) {
		for _, b := range r.backends {
			if b.Namespace != r.namespace {
				set[b.Namespace] = true
			}
		}
	}
	for _, ns := range sortedKeys(set) {
		grants, err := listReferenceGrants(ctx, g.reader, g.apis, ns)
		if err != nil {
			return err
		}
		s.ReferenceGrants = append(s.ReferenceGrants, grants...)
	}
	return nil
}

// targetGroupConfigurations reads the configurations in the backends' namespaces and the
// default configurations the load balancer configurations name.
func (g *gatherer) targetGroupConfigurations(ctx context.Context, s *snapshot.Snapshot) error {
	set := map[string]bool{}
	for _, k := range serviceKeys(s) {
		ns, _ := splitKey(k)
		set[ns] = true
	}
	for _, lbc := range s.LoadBalancerConfigurations {
		if lbc.Spec.DefaultTargetGroupConfiguration != nil {
			set[lbc.Namespace] = true
		}
	}
	for _, ns := range sortedKeys(set) {
		var list awsv1.TargetGroupConfigurationList
		if err := g.reader.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("listing TargetGroupConfigurations in %s: %w", ns, err)
		}
		sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
		s.TargetGroupConfigurations = append(s.TargetGroupConfigurations, list.Items...)
	}
	return nil
}

// facts reads what translation needs from AWS.
func (g *gatherer) facts(ctx context.Context, s *snapshot.Snapshot) error {
	req := aws.FactsRequest{
		StackID:          s.Gateway.Namespace + "/" + s.Gateway.Name,
		Type:             lbType(g.controller),
		LoadBalancerName: translate.LoadBalancerName(s),
	}
	set := map[string]bool{}
	for _, r := range routeObjects(s) {
		for _, b := range r.backends {
			if b.Kind == "TargetGroupName" {
				set[b.Name] = true
			}
		}
	}
	req.TargetGroupNames = sortedKeys(set)
	req.Certificates = needsCertificateDiscovery(s)
	req.CertificateARNs = configuredCertificateARNs(s)
	req.SecurityGroupNames = translate.SecurityGroupNames(s)
	req.VPCCIDRs = translate.NeedsVPCCIDRs(s)
	facts, err := g.cloud.Facts(ctx, req)
	if err != nil {
		return fmt.Errorf("reading AWS facts (subnets, load balancer, target groups): %w", err)
	}
	s.AWS = facts
	return nil
}

// backendGateways reads the Gateways the TCPRoutes forward to (NLB to ALB chaining): their
// class's controller, their load balancer's ARN (the message of Programmed=True) and ports.
func (g *gatherer) backendGateways(ctx context.Context, s *snapshot.Snapshot) error {
	seen := map[string]bool{}
	for _, r := range s.TCPRoutes {
		for _, rule := range r.Spec.Rules {
			for _, b := range rule.BackendRefs {
				if b.Kind == nil || *b.Kind != "Gateway" {
					continue
				}
				ns := r.Namespace
				if b.Namespace != nil && *b.Namespace != "" {
					ns = string(*b.Namespace)
				}
				key := ns + "/" + string(b.Name)
				if seen[key] {
					continue
				}
				seen[key] = true
				var gw gwv1.Gateway
				ok, err := g.get(ctx, key, &gw)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				bg := snapshot.BackendGateway{Namespace: ns, Name: gw.Name}
				var class gwv1.GatewayClass
				if ok, err := g.get(ctx, string(gw.Spec.GatewayClassName), &class); err != nil {
					return err
				} else if ok {
					bg.ControllerName = string(class.Spec.ControllerName)
				}
				if c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)); c != nil &&
					c.Status == metav1.ConditionTrue && strings.HasPrefix(c.Message, "arn:") {
					bg.ARN = c.Message
				}
				// Only listeners that exist in AWS: an NLB target group of type alb takes an
				// ALB only with a listener on its port. A listener without a route with a usable
				// backend is programmed and has none (ConditionAWSListener=False).
				for _, l := range gw.Spec.Listeners {
					for _, ls := range gw.Status.Listeners {
						if ls.Name == l.Name && meta.IsStatusConditionTrue(ls.Conditions, string(gwv1.ListenerConditionProgrammed)) &&
							!meta.IsStatusConditionFalse(ls.Conditions, ConditionAWSListener) {
							bg.Ports = append(bg.Ports, int32(l.Port))
						}
					}
				}
				s.BackendGateways = append(s.BackendGateways, bg)
			}
		}
	}
	return nil
}

// get reads one object by namespace/name (or name) from the cache; a missing object is not
// an error.
func (g *gatherer) get(ctx context.Context, key string, obj client.Object) (bool, error) {
	ns, name := splitKey(key)
	err := g.reader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	return true, nil
}

// routeObject is what gather needs to know of a route in the snapshot.
type routeObject struct {
	namespace string
	backends  []backendRef
}

func routeObjects(s *snapshot.Snapshot) []routeObject {
	var out []routeObject
	add := func(ns string, rules [][]gwv1.BackendRef) {
		r := routeObject{namespace: ns}
		for _, refs := range rules {
			for _, b := range refs {
				ref := backendRef{Kind: "Service", Namespace: ns, Name: string(b.Name)}
				if b.Kind != nil {
					ref.Kind = string(*b.Kind)
				}
				if b.Namespace != nil && *b.Namespace != "" {
					ref.Namespace = string(*b.Namespace)
				}
				r.backends = append(r.backends, ref)
			}
		}
		out = append(out, r)
	}
	for _, r := range s.TCPRoutes {
		add(r.Namespace, rulesOf(r.Spec.Rules, func(x gwv1.TCPRouteRule) []gwv1.BackendRef { return x.BackendRefs }))
	}
	for _, r := range s.UDPRoutes {
		add(r.Namespace, rulesOf(r.Spec.Rules, func(x gwv1.UDPRouteRule) []gwv1.BackendRef { return x.BackendRefs }))
	}
	for _, r := range s.TLSRoutes {
		add(r.Namespace, rulesOf(r.Spec.Rules, func(x gwv1.TLSRouteRule) []gwv1.BackendRef { return x.BackendRefs }))
	}
	for _, r := range s.HTTPRoutes {
		add(r.Namespace, rulesOf(r.Spec.Rules, func(x gwv1.HTTPRouteRule) []gwv1.BackendRef {
			var out []gwv1.BackendRef
			for _, b := range x.BackendRefs {
				out = append(out, b.BackendRef)
			}
			return out
		}))
	}
	for _, r := range s.GRPCRoutes {
		add(r.Namespace, rulesOf(r.Spec.Rules, func(x gwv1.GRPCRouteRule) []gwv1.BackendRef {
			var out []gwv1.BackendRef
			for _, b := range x.BackendRefs {
				out = append(out, b.BackendRef)
			}
			return out
		}))
	}
	return out
}

func rulesOf[R any](rules []R, refs func(R) []gwv1.BackendRef) [][]gwv1.BackendRef {
	out := make([][]gwv1.BackendRef, 0, len(rules))
	for _, r := range rules {
		out = append(out, refs(r))
	}
	return out
}

// serviceKeys returns the namespace/name of every Service the snapshot's routes name, sorted.
func serviceKeys(s *snapshot.Snapshot) []string {
	set := map[string]bool{}
	for _, r := range routeObjects(s) {
		for _, b := range r.backends {
			if b.Kind == "Service" {
				set[b.Namespace+"/"+b.Name] = true
			}
		}
	}
	return sortedKeys(set)
}

func dedupeStrings(in []string) []string {
	set := map[string]bool{}
	for _, s := range in {
		set[s] = true
	}
	return sortedKeys(set)
}
