package translate

import (
	"cmp"
	"slices"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

func findTGC(tgcs []awsv1.TargetGroupConfiguration, namespace, name string) *awsv1.TargetGroupConfiguration {
	for i := range tgcs {
		if tgcs[i].Namespace == namespace && tgcs[i].Name == name {
			return &tgcs[i]
		}
	}
	return nil
}

// serviceTGC is the TargetGroupConfiguration whose targetReference names the Service, in the
// Service's namespace. When several do, the oldest (then the first by name) wins.
func serviceTGC(tgcs []awsv1.TargetGroupConfiguration, namespace, service string) *awsv1.TargetGroupConfiguration {
	var found []*awsv1.TargetGroupConfiguration
	for i := range tgcs {
		t := &tgcs[i]
		ref := t.Spec.TargetReference
		if t.Namespace != namespace || ref == nil || ref.Name != service {
			continue
		}
		if ref.Kind != nil && *ref.Kind != "Service" {
			continue
		}
		if ref.Group != nil && *ref.Group != "" {
			continue
		}
		found = append(found, t)
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, func(a, b *awsv1.TargetGroupConfiguration) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Name, b.Name))
	})
	return found[0]
}

// routeProps returns the configuration's props for a route: the best matching route
// configuration (kind+namespace+name, then kind+namespace, then kind) over the defaults.
func routeProps(tgc *awsv1.TargetGroupConfiguration, r *l4Route) awsv1.TargetGroupProps {
	if tgc == nil {
		return awsv1.TargetGroupProps{}
	}
	best, bestScore := -1, 0
	for i, rc := range tgc.Spec.RouteConfigurations {
		id := rc.RouteIdentifier
		if id.RouteKind != r.kind {
			continue
		}
		score := 0
		switch {
		case id.RouteNamespace == r.namespace && id.RouteName == r.name:
			score = 3
		case id.RouteNamespace == r.namespace && id.RouteName == "":
			score = 2
		case id.RouteNamespace == "" && id.RouteName == "":
			score = 1
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return tgc.Spec.DefaultConfiguration
	}
	return mergeProps(tgc.Spec.RouteConfigurations[best].TargetGroupProps, tgc.Spec.DefaultConfiguration)
}

// mergeProps merges target group props field by field; high wins. Tags and attributes merge
// per key; the health check configuration is taken whole.
func mergeProps(high, low awsv1.TargetGroupProps) awsv1.TargetGroupProps {
	return awsv1.TargetGroupProps{
		TargetGroupName:       pick(high.TargetGroupName, low.TargetGroupName),
		IPAddressType:         pick(high.IPAddressType, low.IPAddressType),
		HealthCheckConfig:     pick(high.HealthCheckConfig, low.HealthCheckConfig),
		NodeSelector:          pick(high.NodeSelector, low.NodeSelector),
		TargetGroupAttributes: mergeTGAttributes(high.TargetGroupAttributes, low.TargetGroupAttributes),
		TargetType:            pick(high.TargetType, low.TargetType),
		Protocol:              pick(high.Protocol, low.Protocol),
		ProtocolVersion:       pick(high.ProtocolVersion, low.ProtocolVersion),
		TargetControlPort:     pick(high.TargetControlPort, low.TargetControlPort),
		EnableMultiCluster:    pick(high.EnableMultiCluster, low.EnableMultiCluster),
		Tags:                  mergeTags(low.Tags, high.Tags),
	}
}

func mergeTGAttributes(high, low []awsv1.TargetGroupAttribute) []awsv1.TargetGroupAttribute {
	return mergeAttributes(high, low, func(a awsv1.TargetGroupAttribute) (string, string) { return a.Key, a.Value },
		func(k, v string) awsv1.TargetGroupAttribute { return awsv1.TargetGroupAttribute{Key: k, Value: v} })
}

// backendProps are the props of a Service backend of a route: the Service's configuration
// over the Gateway's defaults (class and Gateway default configurations merged, the winning
// one's route configurations applied).
func (c *lbConfig) backendProps(svcTGC *awsv1.TargetGroupConfiguration, r *l4Route) awsv1.TargetGroupProps {
	var defaults awsv1.TargetGroupProps
	for i := len(c.defaults) - 1; i >= 0; i-- {
		defaults = mergeProps(c.defaults[i].Spec.DefaultConfiguration, defaults)
	}
	if len(c.defaults) > 0 {
		defaults = mergeProps(routeProps(c.defaults[0], r), defaults)
	}
	if svcTGC == nil {
		return defaults
	}
	return mergeProps(routeProps(svcTGC, r), defaults)
}
