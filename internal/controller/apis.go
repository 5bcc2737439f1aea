package controller

import (
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// Group names.
const (
	gatewayGroup = "gateway.networking.k8s.io"
	awsGroup     = "gateway.k8s.aws"
)

// Route kinds by controller.
var (
	l4RouteKinds = []string{"TCPRoute", "TLSRoute", "UDPRoute"}
	l7RouteKinds = []string{"GRPCRoute", "HTTPRoute"}
)

// routeVersions are the versions a route kind may be served in, preferred first.
var routeVersions = map[string][]string{
	"TCPRoute":  {"v1", "v1alpha2"},
	"UDPRoute":  {"v1", "v1alpha2"},
	"TLSRoute":  {"v1", "v1alpha3", "v1alpha2"},
	"HTTPRoute": {"v1"},
	"GRPCRoute": {"v1"},
}

// APIs are the kinds the cluster serves, found with discovery at start-up.
type APIs struct {
	// Routes maps each served route kind to the version to watch and write.
	Routes map[string]schema.GroupVersionKind
	// Gateway, GatewayClass, ReferenceGrant (v1 or v1beta1) and the gateway.k8s.aws
	// configuration kinds are served.
	Gateway, GatewayClass, ReferenceGrant bool
	// ReferenceGrantV1 is true when ReferenceGrant is served in v1 (Gateway API v1.5 and
	// later): grants are then read and watched in v1, else in v1beta1.
	ReferenceGrantV1          bool
	LoadBalancerConfiguration bool
	TargetGroupConfiguration  bool
	// ListenerRuleConfiguration is served: ALB routes' ExtensionRef filters are read and watched.
	ListenerRuleConfiguration bool
	// TargetGroupBinding (elbv2.k8s.aws/v1beta1, the AWS Load Balancer Controller's) is served:
	// the bindings LBC made for a Gateway's target groups are watched (lbc.go).
	TargetGroupBinding bool
	// ListenerSet (gateway.networking.k8s.io/v1) is served: ListenerSets are read, watched and
	// their listeners merged into their parent Gateways.
	ListenerSet bool
}

// DetectAPIs asks the API server which Gateway API and gateway.k8s.aws kinds it serves.
func DetectAPIs(d discovery.DiscoveryInterface) (APIs, error) {
	kinds := map[string]map[string]bool{} // group/version → kind → served
	for _, gv := range []string{
		gatewayGroup + "/v1", gatewayGroup + "/v1beta1", gatewayGroup + "/v1alpha3", gatewayGroup + "/v1alpha2",
		awsGroup + "/v1", lbcBindingGroupVersion,
	} {
		list, err := d.ServerResourcesForGroupVersion(gv)
		if err != nil {
			if apierrors.IsNotFound(err) || discovery.IsGroupDiscoveryFailedError(err) {
				continue
			}
			return APIs{}, fmt.Errorf("discovering %s: %w", gv, err)
		}
		kinds[gv] = map[string]bool{}
		for _, r := range list.APIResources {
			if !strings.Contains(r.Name, "/") {
				kinds[gv][r.Kind] = true
			}
		}
	}
	a := APIs{
		Routes:                    map[string]schema.GroupVersionKind{},
		Gateway:                   kinds[gatewayGroup+"/v1"]["Gateway"],
		GatewayClass:              kinds[gatewayGroup+"/v1"]["GatewayClass"],
		ReferenceGrant:            kinds[gatewayGroup+"/v1"]["ReferenceGrant"] || kinds[gatewayGroup+"/v1beta1"]["ReferenceGrant"],
		ReferenceGrantV1:          kinds[gatewayGroup+"/v1"]["ReferenceGrant"],
		LoadBalancerConfiguration: kinds[awsGroup+"/v1"]["LoadBalancerConfiguration"],
		TargetGroupConfiguration:  kinds[awsGroup+"/v1"]["TargetGroupConfiguration"],
		ListenerRuleConfiguration: kinds[awsGroup+"/v1"]["ListenerRuleConfiguration"],
		TargetGroupBinding:        kinds[lbcBindingGroupVersion][lbcBindingKind],
		ListenerSet:               kinds[gatewayGroup+"/v1"]["ListenerSet"],
	}
	for kind, versions := range routeVersions {
		for _, v := range versions {
			if kinds[gatewayGroup+"/"+v][kind] {
				a.Routes[kind] = schema.GroupVersionKind{Group: gatewayGroup, Version: v, Kind: kind}
				break
			}
		}
	}
	return a, nil
}

// Restrict switches off the gates whose kinds the cluster does not serve and says why, one
// message per gate switched off or kind skipped, sorted.
func (a APIs) Restrict(g Gates) (Gates, []string) {
	var notes []string
	var base []string
	for _, k := range []struct {
		served bool
		name   string
	}{
		{a.Gateway, "gateways." + gatewayGroup + "/v1"},
		{a.GatewayClass, "gatewayclasses." + gatewayGroup + "/v1"},
		{a.LoadBalancerConfiguration, "loadbalancerconfigurations." + awsGroup + "/v1"},
		{a.TargetGroupConfiguration, "targetgroupconfigurations." + awsGroup + "/v1"},
	} {
		if !k.served {
			base = append(base, k.name)
		}
	}
	check := func(on *bool, gate string, routeKinds []string) {
		if !*on {
			return
		}
		missing := append([]string(nil), base...)
		var served int
		for _, k := range routeKinds {
			if _, ok := a.Routes[k]; ok {
				served++
			} else {
				notes = append(notes, fmt.Sprintf("%s: %s is not served by any known version; its routes are ignored (install the Gateway API CRDs to use it)", gate, k))
			}
		}
		if served == 0 {
			for _, k := range routeKinds {
				missing = append(missing, strings.ToLower(k)+"s."+gatewayGroup)
			}
		}
		if len(missing) > 0 {
			*on = false
			sort.Strings(missing)
			notes = append(notes, fmt.Sprintf("%s switched off: the cluster does not serve %s (install these CRDs and restart)", gate, strings.Join(missing, ", ")))
		}
	}
	check(&g.NLB, GateNLB, l4RouteKinds)
	check(&g.ALB, GateALB, l7RouteKinds)
	if !a.ReferenceGrant && (g.NLB || g.ALB) {
		notes = append(notes, "referencegrants."+gatewayGroup+" is not served (neither v1 nor v1beta1): cross-namespace backend and certificate references are refused")
	}
	sort.Strings(notes)
	return g, notes
}

// RouteKinds returns every served route kind, each at the version the controller reads it,
// the NLB's then the ALB's: a Gateway reads those of the other load balancer type too, to tell
// them no listener admits them.
func (a APIs) RouteKinds() []schema.GroupVersionKind {
	return append(a.routeKindsOf(ControllerNLB), a.routeKindsOf(ControllerALB)...)
}

// routeKindsOf returns the served route kinds of a controller, sorted.
func (a APIs) routeKindsOf(controllerName string) []schema.GroupVersionKind {
	kinds := l4RouteKinds
	if controllerName == ControllerALB {
		kinds = l7RouteKinds
	}
	var out []schema.GroupVersionKind
	for _, k := range kinds {
		if gvk, ok := a.Routes[k]; ok {
			out = append(out, gvk)
		}
	}
	return out
}
