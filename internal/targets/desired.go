package targets

import (
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Target types of a target group this loop fills.
const (
	TargetTypeIP       = "ip"
	TargetTypeInstance = "instance"
)

// ExcludeFromLoadBalancersLabel on a Node keeps it out of every instance target group.
const ExcludeFromLoadBalancersLabel = "node.kubernetes.io/exclude-from-external-load-balancers"

// LegacyExcludeBalancerLabel is the older exclusion label the Kubernetes service controller and
// the AWS Load Balancer Controller still honour; it keeps a Node out the same way.
const LegacyExcludeBalancerLabel = "alpha.service-controller.kubernetes.io/exclude-balancer"

// Taints that mark a Node as about to go away: the cluster autoscaler's scale-down taint and
// Karpenter's disruption taints (karpenter.sh/disrupted, and before it karpenter.sh/disruption
// with the value "disrupting"). A Node carrying one is deregistered so that connections drain
// before the instance is terminated.
const (
	ClusterAutoscalerDeletionTaint = "ToBeDeletedByClusterAutoscaler"
	KarpenterDisruptedTaint        = "karpenter.sh/disrupted"
	KarpenterLegacyDisruptionTaint = "karpenter.sh/disruption"
)

// DeletionTaint reports whether a taint marks its Node as being drained for deletion.
func DeletionTaint(t corev1.Taint) bool {
	switch t.Key {
	case ClusterAutoscalerDeletionTaint, KarpenterDisruptedTaint:
		return true
	case KarpenterLegacyDisruptionTaint:
		return t.Value == "disrupting"
	}
	return false
}

// FromEndpointSlices returns the ip targets of a backend: the address and port of every ready
// endpoint of the Service's EndpointSlices. Terminating endpoints (serving but not ready) are
// left out. The port is the endpoint port whose name is the Service port's name; a slice with a
// single unnamed port serves a Service with a single port.
func FromEndpointSlices(b model.Backend, slices []discoveryv1.EndpointSlice) []model.Target {
	return fromEndpointSlices(b, slices, nil)
}

// fromEndpointSlices is FromEndpointSlices that also takes the endpoints that are not ready
// (and not terminating) whose address is in alsoNotReady: pods whose readiness gates wait for
// their target's health (readinessgate.go).
func fromEndpointSlices(b model.Backend, slices []discoveryv1.EndpointSlice, alsoNotReady map[string]bool) []model.Target {
	seen := map[model.Target]bool{}
	for i := range slices {
		s := &slices[i]
		if s.Labels[discoveryv1.LabelServiceName] != b.Service || s.Namespace != b.Namespace {
			continue
		}
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(s.Ports, b.PortName)
		if !ok {
			continue
		}
		for _, ep := range s.Endpoints {
			ready := endpointReady(ep)
			if !ready && (len(alsoNotReady) == 0 || ep.Conditions.Terminating != nil && *ep.Conditions.Terminating) {
				continue
			}
			for _, addr := range ep.Addresses {
				if ready || alsoNotReady[addr] {
					seen[model.Target{ID: addr, Port: port}] = true
				}
			}
		}
	}
	return sortedTargets(seen)
}

// OfFamily keeps the ip targets a target group of ipAddressType takes: RegisterTargets refuses
// the whole call for a target whose family is not the group's (CreateTargetGroup
// IpAddressType: "The IP address type. The default value is ipv4"; a dual-stack Service has
// endpoints of both families). An empty type keeps every target.
func OfFamily(targets []model.Target, ipAddressType string) []model.Target {
	if ipAddressType == "" {
		return targets
	}
	want6 := ipAddressType == "ipv6"
	out := targets[:0:0]
	for _, t := range targets {
		addr, err := netip.ParseAddr(t.ID)
		if err != nil || addr.Unmap().Is6() == want6 {
			out = append(out, t)
		}
	}
	return out
}

// slicePort finds the port of a slice that carries the Service port called name.
func slicePort(ports []discoveryv1.EndpointPort, name string) (int32, bool) {
	for _, p := range ports {
		if p.Port == nil {
			continue
		}
		if p.Name != nil && *p.Name == name || p.Name == nil && name == "" {
			return *p.Port, true
		}
	}
	return 0, false
}

// endpointReady is true for an endpoint that should receive new connections. A nil Ready means
// ready, as the EndpointSlice API documents.
func endpointReady(ep discoveryv1.Endpoint) bool {
	return ep.Conditions.Ready == nil || *ep.Conditions.Ready
}

// FromNodes returns the instance targets of a backend: the EC2 instance of every Ready node
// that is not excluded from load balancers and matches the backend's node selector, on the
// Service's node port. Nodes without an AWS provider ID are skipped. The targets carry no
// availability zone: AWS refuses one for instance target groups.
func FromNodes(b model.Backend, nodes []corev1.Node) []model.Target {
	if b.NodePort == 0 {
		return nil
	}
	selector := labels.SelectorFromSet(b.NodeSelector)
	seen := map[model.Target]bool{}
	for i := range nodes {
		n := &nodes[i]
		if !nodeEligible(n) || !selector.Matches(labels.Set(n.Labels)) {
			continue
		}
		_, id, ok := ParseProviderID(n.Spec.ProviderID)
		if !ok {
			continue
		}
		seen[model.Target{ID: id, Port: b.NodePort}] = true
	}
	return sortedTargets(seen)
}

func nodeEligible(n *corev1.Node) bool {
	if _, excluded := n.Labels[ExcludeFromLoadBalancersLabel]; excluded {
		return false
	}
	if _, excluded := n.Labels[LegacyExcludeBalancerLabel]; excluded {
		return false
	}
	for _, t := range n.Spec.Taints {
		if DeletionTaint(t) {
			return false
		}
	}
	if !n.DeletionTimestamp.IsZero() {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ParseProviderID reads an AWS node provider ID, aws:///<availability-zone>/<instance-id>, and
// returns its zone and instance ID.
func ParseProviderID(providerID string) (zone, instanceID string, ok bool) {
	rest, found := strings.CutPrefix(providerID, "aws://")
	if !found {
		return "", "", false
	}
	parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	if len(parts) != 2 || !strings.HasPrefix(parts[1], "i-") {
		return "", "", false
	}
	return parts[0], parts[1], true
}

func sortedTargets(set map[model.Target]bool) []model.Target {
	out := make([]model.Target, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	SortTargets(out)
	return out
}

// SortTargets orders targets by ID, then port.
func SortTargets(ts []model.Target) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].ID != ts[j].ID {
			return ts[i].ID < ts[j].ID
		}
		return ts[i].Port < ts[j].Port
	})
}
