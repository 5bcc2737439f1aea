package controller

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// ListenerRuleConfigurations reach a Gateway through the ExtensionRef filters of its HTTPRoutes
// and GRPCRoutes (same namespace as the route). Gather reads the ones the Gateway's routes name,
// and an index of routes by the configurations they name maps configuration events to Gateways.

// indexLRC indexes routes by the namespace/name of the ListenerRuleConfigurations their rules'
// ExtensionRef filters name.
const indexLRC = "elbgateway.lrc"

const lrcKind = "ListenerRuleConfiguration"

// extensionRefShape is the part of an L7 route the LRC index reads.
type extensionRefShape struct {
	Spec struct {
		Rules []struct {
			Filters []struct {
				ExtensionRef *gwv1.LocalObjectReference `json:"extensionRef,omitempty"`
			} `json:"filters,omitempty"`
		} `json:"rules,omitempty"`
	} `json:"spec"`
}

// addLRCIndex indexes the routes of every kind by the ListenerRuleConfigurations they name.
func addLRCIndex(ctx context.Context, idx client.FieldIndexer, routeKinds []schema.GroupVersionKind) error {
	for _, gvk := range routeKinds {
		if err := idx.IndexField(ctx, newRoute(gvk), indexLRC, func(o client.Object) []string {
			return lrcsOfRoute(o.(*unstructured.Unstructured))
		}); err != nil {
			return err
		}
	}
	return nil
}

// lrcsOfRoute returns the namespace/name of every ListenerRuleConfiguration a route's rule
// filters name, sorted.
func lrcsOfRoute(u *unstructured.Unstructured) []string {
	var s extensionRefShape
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &s); err != nil {
		return nil
	}
	set := map[string]bool{}
	for _, r := range s.Spec.Rules {
		for _, f := range r.Filters {
			if isLRCRef(f.ExtensionRef) {
				set[u.GetNamespace()+"/"+string(f.ExtensionRef.Name)] = true
			}
		}
	}
	return sortedKeys(set)
}

func isLRCRef(ref *gwv1.LocalObjectReference) bool {
	return ref != nil && string(ref.Group) == awsGroup && string(ref.Kind) == lrcKind && ref.Name != ""
}

// lrcKeys returns the namespace/name of every ListenerRuleConfiguration the snapshot's routes
// name, sorted.
func lrcKeys(s *snapshot.Snapshot) []string {
	set := map[string]bool{}
	for _, r := range s.HTTPRoutes {
		for _, rule := range r.Spec.Rules {
			for _, f := range rule.Filters {
				if isLRCRef(f.ExtensionRef) {
					set[r.Namespace+"/"+string(f.ExtensionRef.Name)] = true
				}
			}
		}
	}
	for _, r := range s.GRPCRoutes {
		for _, rule := range r.Spec.Rules {
			for _, f := range rule.Filters {
				if isLRCRef(f.ExtensionRef) {
					set[r.Namespace+"/"+string(f.ExtensionRef.Name)] = true
				}
			}
		}
	}
	return sortedKeys(set)
}

// listenerRuleConfigurations reads the configurations the Gateway's routes name.
func (g *gatherer) listenerRuleConfigurations(ctx context.Context, s *snapshot.Snapshot) error {
	if !g.apis.ListenerRuleConfiguration {
		return nil
	}
	for _, k := range lrcKeys(s) {
		var lrc awsv1.ListenerRuleConfiguration
		ok, err := g.get(ctx, k, &lrc)
		if err != nil {
			return err
		}
		if ok {
			s.ListenerRuleConfigurations = append(s.ListenerRuleConfigurations, lrc)
		}
	}
	sort.Slice(s.ListenerRuleConfigurations, func(i, j int) bool {
		a, b := &s.ListenerRuleConfigurations[i], &s.ListenerRuleConfigurations[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	return nil
}

// oidcSecretKeys returns the namespace/name of every Secret an authenticate-oidc action of the
// snapshot's ListenerRuleConfigurations names (in the configuration's namespace), sorted.
func oidcSecretKeys(lrcs []awsv1.ListenerRuleConfiguration) []string {
	set := map[string]bool{}
	for _, lrc := range lrcs {
		if k := oidcSecretKey(&lrc); k != "" {
			set[k] = true
		}
	}
	return sortedKeys(set)
}

// oidcSecretKey is the namespace/name of the Secret a configuration's authenticate-oidc action
// names; "" when it names none.
func oidcSecretKey(lrc *awsv1.ListenerRuleConfiguration) string {
	for _, a := range lrc.Spec.Actions {
		o := a.AuthenticateOIDCConfig
		if a.Type == awsv1.ActionTypeAuthenticateOIDC && o != nil && o.Secret != nil && o.Secret.Name != "" {
			return lrc.Namespace + "/" + o.Secret.Name
		}
	}
	return ""
}

// oidcSecrets reads the client ID and secret of the Secrets the Gateway's configurations name,
// through the per-Secret watches (never a cluster-wide Secret cache), and makes those watches
// follow what the Gateway names now. A Gateway being deleted names none.
func (g *gatherer) oidcSecrets(ctx context.Context, s *snapshot.Snapshot) error {
	if g.secrets == nil {
		return nil
	}
	var keys []string
	if s.Gateway.DeletionTimestamp == nil {
		keys = oidcSecretKeys(s.ListenerRuleConfigurations)
	}
	if err := g.secrets.track(s.Gateway.Namespace+"/"+s.Gateway.Name, keys); err != nil {
		return err
	}
	for _, k := range keys {
		c, ok, err := g.secrets.oidcClient(ctx, k)
		if err != nil {
			return fmt.Errorf("reading the OIDC client of Secret %s: %w", k, err)
		}
		if !ok {
			continue
		}
		if s.OIDCSecrets == nil {
			s.OIDCSecrets = map[string]snapshot.OIDCClient{}
		}
		s.OIDCSecrets[k] = c
	}
	return nil
}

// listenerRuleConfiguration maps a configuration to the Gateways of the routes that name it.
func (m *mapper) listenerRuleConfiguration(ctx context.Context, o client.Object) []reconcile.Request {
	return m.routesBy(ctx, client.MatchingFields{indexLRC: o.GetNamespace() + "/" + o.GetName()})
}
