package translate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

const (
	awsGroup        = "gateway.k8s.aws"
	kindLBC         = "LoadBalancerConfiguration"
	gatewayAPIGroup = gwv1.GroupName
)

// lbConfig is the LoadBalancerConfiguration a Gateway gets: its class's and its own, merged.
type lbConfig struct {
	spec awsv1.LoadBalancerConfigurationSpec
	// defaults are the default target group configurations, the winning one first.
	defaults []*awsv1.TargetGroupConfiguration
}

// classConfig finds the configuration a GatewayClass's spec.parametersRef names.
func classConfig(class *gwv1.GatewayClass, lbcs []awsv1.LoadBalancerConfiguration) (*awsv1.LoadBalancerConfiguration, *problem) {
	ref := class.Spec.ParametersRef
	if ref == nil {
		return nil, nil
	}
	field := fmt.Sprintf("GatewayClass %s spec.parametersRef", class.Name)
	if string(ref.Group) != awsGroup || string(ref.Kind) != kindLBC {
		return nil, &problem{string(gwv1.GatewayClassReasonInvalidParameters), fmt.Sprintf(
			"%s: group %q kind %q is not supported; use group %s kind %s", field, ref.Group, ref.Kind, awsGroup, kindLBC)}
	}
	if ref.Namespace == nil || *ref.Namespace == "" {
		return nil, &problem{string(gwv1.GatewayClassReasonInvalidParameters), fmt.Sprintf(
			"%s.namespace: a LoadBalancerConfiguration is namespaced; set the namespace of %s", field, ref.Name)}
	}
	lbc := findLBC(lbcs, string(*ref.Namespace), ref.Name)
	if lbc == nil {
		return nil, &problem{string(gwv1.GatewayClassReasonInvalidParameters), fmt.Sprintf(
			"%s: LoadBalancerConfiguration %s/%s not found; create it or fix the reference", field, *ref.Namespace, ref.Name)}
	}
	return lbc, nil
}

// gatewayConfig finds the configuration a Gateway's spec.infrastructure.parametersRef names,
// in the Gateway's namespace.
func gatewayConfig(gw *gwv1.Gateway, lbcs []awsv1.LoadBalancerConfiguration) (*awsv1.LoadBalancerConfiguration, *problem) {
	if gw.Spec.Infrastructure == nil || gw.Spec.Infrastructure.ParametersRef == nil {
		return nil, nil
	}
	ref := gw.Spec.Infrastructure.ParametersRef
	const field = "spec.infrastructure.parametersRef"
	if string(ref.Group) != awsGroup || string(ref.Kind) != kindLBC {
		return nil, &problem{string(gwv1.GatewayReasonInvalidParameters), fmt.Sprintf(
			"%s: group %q kind %q is not supported; use group %s kind %s", field, ref.Group, ref.Kind, awsGroup, kindLBC)}
	}
	lbc := findLBC(lbcs, gw.Namespace, ref.Name)
	if lbc == nil {
		return nil, &problem{string(gwv1.GatewayReasonInvalidParameters), fmt.Sprintf(
			"%s: LoadBalancerConfiguration %s/%s not found; create it in the Gateway's namespace or fix the name", field, gw.Namespace, ref.Name)}
	}
	return lbc, nil
}

func findLBC(lbcs []awsv1.LoadBalancerConfiguration, namespace, name string) *awsv1.LoadBalancerConfiguration {
	for i := range lbcs {
		if lbcs[i].Namespace == namespace && lbcs[i].Name == name {
			return &lbcs[i]
		}
	}
	return nil
}

// resolveConfig merges the class's and the Gateway's configurations and finds their default
// target group configurations. The class's configuration wins conflicts unless its mergingMode
// is prefer-gateway.
func resolveConfig(s *snapshot.Snapshot) (*lbConfig, *problem) {
	var classLBC *awsv1.LoadBalancerConfiguration
	if s.GatewayClass != nil {
		var p *problem
		if classLBC, p = classConfig(s.GatewayClass, s.LoadBalancerConfigurations); p != nil {
			return nil, &problem{string(gwv1.GatewayReasonInvalidParameters), p.message}
		}
	}
	gwLBC, p := gatewayConfig(s.Gateway, s.LoadBalancerConfigurations)
	if p != nil {
		return nil, p
	}
	high, low := classLBC, gwLBC
	if classLBC != nil && classLBC.Spec.MergingMode != nil && *classLBC.Spec.MergingMode == awsv1.MergingModePreferGateway {
		high, low = gwLBC, classLBC
	}
	cfg := &lbConfig{spec: mergeLBC(specOf(high), specOf(low))}
	for _, lbc := range []*awsv1.LoadBalancerConfiguration{high, low} {
		if lbc == nil || lbc.Spec.DefaultTargetGroupConfiguration == nil {
			continue
		}
		name := lbc.Spec.DefaultTargetGroupConfiguration.Name
		tgc := findTGC(s.TargetGroupConfigurations, lbc.Namespace, name)
		field := fmt.Sprintf("LoadBalancerConfiguration %s/%s spec.defaultTargetGroupConfiguration.name", lbc.Namespace, lbc.Name)
		if tgc == nil {
			return nil, &problem{string(gwv1.GatewayReasonInvalidParameters), fmt.Sprintf(
				"%s: TargetGroupConfiguration %s/%s not found; create it or fix the name", field, lbc.Namespace, name)}
		}
		if tgc.Spec.TargetReference != nil {
			return nil, &problem{string(gwv1.GatewayReasonInvalidParameters), fmt.Sprintf(
				"%s: TargetGroupConfiguration %s/%s has spec.targetReference; a default configuration must not name a target", field, lbc.Namespace, name)}
		}
		cfg.defaults = append(cfg.defaults, tgc)
	}
	return cfg, nil
}

func specOf(lbc *awsv1.LoadBalancerConfiguration) awsv1.LoadBalancerConfigurationSpec {
	if lbc == nil {
		return awsv1.LoadBalancerConfigurationSpec{}
	}
	return lbc.Spec
}

func pick[T any](high, low *T) *T {
	if high != nil {
		return high
	}
	return low
}

func pickSlice[T any](high, low []T) []T {
	if len(high) > 0 {
		return high
	}
	return low
}

// mergeLBC merges two configurations field by field; high wins. Tags and attributes merge per
// key, listener configurations per PROTOCOL:PORT.
func mergeLBC(high, low awsv1.LoadBalancerConfigurationSpec) awsv1.LoadBalancerConfigurationSpec {
	return awsv1.LoadBalancerConfigurationSpec{
		MergingMode:      pick(high.MergingMode, low.MergingMode),
		LoadBalancerName: pick(high.LoadBalancerName, low.LoadBalancerName),
		Scheme:           pick(high.Scheme, low.Scheme),
		IpAddressType:    pick(high.IpAddressType, low.IpAddressType),
		EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: pick(high.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic,
			low.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic),
		CustomerOwnedIpv4Pool:           pick(high.CustomerOwnedIpv4Pool, low.CustomerOwnedIpv4Pool),
		IPv4IPAMPoolId:                  pick(high.IPv4IPAMPoolId, low.IPv4IPAMPoolId),
		LoadBalancerSubnets:             pickSlice(high.LoadBalancerSubnets, low.LoadBalancerSubnets),
		LoadBalancerSubnetsSelector:     pickMap(high.LoadBalancerSubnetsSelector, low.LoadBalancerSubnetsSelector),
		ListenerConfigurations:          mergeListenerConfigurations(high.ListenerConfigurations, low.ListenerConfigurations),
		DisableSecurityGroup:            pick(high.DisableSecurityGroup, low.DisableSecurityGroup),
		SecurityGroups:                  pickSlice(high.SecurityGroups, low.SecurityGroups),
		SecurityGroupPrefixes:           pickSlice(high.SecurityGroupPrefixes, low.SecurityGroupPrefixes),
		SourceRanges:                    pickSlice(high.SourceRanges, low.SourceRanges),
		LoadBalancerAttributes:          mergeLBAttributes(high.LoadBalancerAttributes, low.LoadBalancerAttributes),
		Tags:                            mergeTags(low.Tags, high.Tags),
		EnableICMP:                      pick(high.EnableICMP, low.EnableICMP),
		ManageBackendSecurityGroupRules: pick(high.ManageBackendSecurityGroupRules, low.ManageBackendSecurityGroupRules),
		MinimumLoadBalancerCapacity:     pick(high.MinimumLoadBalancerCapacity, low.MinimumLoadBalancerCapacity),
		WAFv2:                           pick(high.WAFv2, low.WAFv2),
		ShieldAdvanced:                  pick(high.ShieldAdvanced, low.ShieldAdvanced),
		DefaultTargetGroupConfiguration: pick(high.DefaultTargetGroupConfiguration, low.DefaultTargetGroupConfiguration),
	}
}

func pickMap[K comparable, V any](high, low map[K]V) map[K]V {
	if len(high) > 0 {
		return high
	}
	return low
}

// mergeTags returns the union of the maps; later maps win.
func mergeTags(maps ...map[string]string) map[string]string {
	var out map[string]string
	for _, m := range maps {
		for k, v := range m {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func mergeLBAttributes(high, low []awsv1.LoadBalancerAttribute) []awsv1.LoadBalancerAttribute {
	return mergeAttributes(high, low, func(a awsv1.LoadBalancerAttribute) (string, string) { return a.Key, a.Value },
		func(k, v string) awsv1.LoadBalancerAttribute { return awsv1.LoadBalancerAttribute{Key: k, Value: v} })
}

// mergeAttributes merges two lists of key-value attributes, high's value winning for a key both
// hold, sorted by key.
func mergeAttributes[T any](high, low []T, split func(T) (string, string), join func(k, v string) T) []T {
	byKey := map[string]string{}
	for _, a := range low {
		k, v := split(a)
		byKey[k] = v
	}
	for _, a := range high {
		k, v := split(a)
		byKey[k] = v
	}
	var out []T
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, join(k, byKey[k]))
	}
	return out
}

func mergeListenerConfigurations(high, low []awsv1.ListenerConfiguration) []awsv1.ListenerConfiguration {
	byKey := map[string]awsv1.ListenerConfiguration{}
	for _, lc := range low {
		byKey[strings.ToUpper(string(lc.ProtocolPort))] = lc
	}
	for _, lc := range high {
		byKey[strings.ToUpper(string(lc.ProtocolPort))] = lc
	}
	var out []awsv1.ListenerConfiguration
	for _, lc := range byKey {
		out = append(out, lc)
	}
	slices.SortFunc(out, func(a, b awsv1.ListenerConfiguration) int {
		return cmp.Compare(strings.ToUpper(string(a.ProtocolPort)), strings.ToUpper(string(b.ProtocolPort)))
	})
	return out
}

// listenerConfig returns the listener configuration for an AWS listener, matched on
// PROTOCOL:PORT case-insensitively with the listener's effective protocol.
func (c *lbConfig) listenerConfig(protocol string, port int32) *awsv1.ListenerConfiguration {
	key := fmt.Sprintf("%s:%d", protocol, port)
	for i := range c.spec.ListenerConfigurations {
		if strings.EqualFold(string(c.spec.ListenerConfigurations[i].ProtocolPort), key) {
			return &c.spec.ListenerConfigurations[i]
		}
	}
	return nil
}
