package targets

import (
	"sort"
	"sync"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Binding says that a target group belongs to a Gateway and where its targets come from.
type Binding struct {
	// TargetGroupARN identifies the target group.
	TargetGroupARN string
	// TargetType is ip or instance; other types (alb) are not filled by this loop.
	TargetType string
	// IPAddressType is the target group's (ipv4 or ipv6): ip targets of the other family are
	// left out, AWS refuses them. Empty: no filter.
	IPAddressType string
	Backend       model.Backend
	// Network, if set, is where the target group's traffic comes from: the worker-node
	// security groups of its targets get rules for it (see securitygroups.go).
	Network *Network
}

// Registry holds the bindings of every Gateway. It is safe for concurrent use. Each change
// is announced on Changes() as the ARNs whose binding was added, changed or removed.
type Registry struct {
	mu        sync.RWMutex
	byGateway map[string]map[string]Binding // gateway key → ARN → binding
	byARN     map[string]Binding
	changes   chan []string
	// problems and subscribers: see problems.go.
	problems    map[string][]Problem
	subscribers []chan string
	// refused holds the targets AWS refused, by target group ARN (refused.go).
	refused map[string][]Problem
	// heard are the Gateways Set was called for since the start (directory.go).
	heard map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byGateway: map[string]map[string]Binding{},
		byARN:     map[string]Binding{},
		changes:   make(chan []string, 1024),
		problems:  map[string][]Problem{},
		refused:   map[string][]Problem{},
		heard:     map[string]bool{},
	}
}

// Set replaces the bindings of one Gateway (its namespace/name). Bindings without an ARN, or
// of a target type this loop does not fill, are ignored. An empty list forgets the Gateway.
func (r *Registry) Set(gateway string, bindings []Binding) {
	next := map[string]Binding{}
	for _, b := range bindings {
		if b.TargetGroupARN == "" || (b.TargetType != TargetTypeIP && b.TargetType != TargetTypeInstance) {
			continue
		}
		next[b.TargetGroupARN] = b
	}
	r.mu.Lock()
	r.heard[gateway] = true
	prev := r.byGateway[gateway]
	var changed []string
	for arn, b := range next {
		if old, ok := prev[arn]; !ok || !sameBinding(old, b) {
			changed = append(changed, arn)
		}
		r.byARN[arn] = b
	}
	for arn := range prev {
		if _, ok := next[arn]; !ok {
			delete(r.byARN, arn)
			delete(r.refused, arn)
			changed = append(changed, arn)
		}
	}
	if len(next) == 0 {
		delete(r.byGateway, gateway)
	} else {
		r.byGateway[gateway] = next
	}
	r.mu.Unlock()
	if len(changed) > 0 {
		sort.Strings(changed)
		select {
		case r.changes <- changed:
		default: // the periodic resync repairs what a full queue drops
		}
	}
}

// SourceInUse says whether a bound target group still takes traffic from security group id.
func (r *Registry) SourceInUse(id string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, b := range r.byARN {
		if b.Network != nil && b.Network.SourceGroupID == id {
			return true
		}
	}
	return false
}

// Get returns the binding of a target group.
func (r *Registry) Get(arn string) (Binding, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b, ok := r.byARN[arn]
	return b, ok
}

// ForService returns the ARNs of the ip target groups fed by a Service, sorted.
func (r *Registry) ForService(namespace, name string) []string {
	return r.match(func(b Binding) bool {
		return b.TargetType == TargetTypeIP && b.Backend.Namespace == namespace && b.Backend.Service == name
	})
}

// ForTargetGroupName returns the ARNs of the bound target groups called name (one, unless
// several regions or accounts share a registry), sorted.
func (r *Registry) ForTargetGroupName(name string) []string {
	return r.match(func(b Binding) bool { return TargetGroupName(b.TargetGroupARN) == name })
}

// ForNodes returns the ARNs of every instance target group, sorted.
func (r *Registry) ForNodes() []string {
	return r.match(func(b Binding) bool { return b.TargetType == TargetTypeInstance })
}

// All returns every bound ARN, sorted.
func (r *Registry) All() []string {
	return r.match(func(Binding) bool { return true })
}

// Changes announces the ARNs whose bindings changed.
func (r *Registry) Changes() <-chan []string { return r.changes }

func (r *Registry) match(keep func(Binding) bool) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for arn, b := range r.byARN {
		if keep(b) {
			out = append(out, arn)
		}
	}
	sort.Strings(out)
	return out
}

func sameBinding(a, b Binding) bool {
	if a.TargetGroupARN != b.TargetGroupARN || a.TargetType != b.TargetType || a.IPAddressType != b.IPAddressType || !sameNetwork(a.Network, b.Network) {
		return false
	}
	x, y := a.Backend, b.Backend
	if x.Namespace != y.Namespace || x.Service != y.Service || x.Port != y.Port ||
		x.PortName != y.PortName || x.NodePort != y.NodePort || len(x.NodeSelector) != len(y.NodeSelector) {
		return false
	}
	for k, v := range x.NodeSelector {
		if y.NodeSelector[k] != v {
			return false
		}
	}
	return true
}
