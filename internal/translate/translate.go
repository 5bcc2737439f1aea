// Package translate turns one Gateway's snapshot into the AWS stack it should own and the
// statuses of the Gateway, its listeners and its routes. It is a pure function of the
// snapshot: no I/O, no clock, no randomness; equal snapshots give equal output.
//
// The entry point reads as the steps it takes: check the class and the configuration, validate
// the listeners, attach the routes, resolve their backends, then build the load balancer,
// its listeners, target groups and security group, and report.
package translate

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
)

// Controller names of the GatewayClasses this project serves.
const (
	controllerNLB = "gateway.k8s.aws/nlb"
	controllerALB = "gateway.k8s.aws/alb"
)

const (
	invalidReason     = string(gwv1.GatewayReasonInvalid)
	invalidParameters = string(gwv1.GatewayReasonInvalidParameters)
)

// Gateway translates one Gateway of the snapshot. A Gateway with a deletionTimestamp, or whose
// class is not ours or not accepted, yields a stack with no LoadBalancer (= own nothing) and
// statuses as appropriate. So does a Gateway that is not accepted for any other reason (a
// missing LoadBalancerConfiguration, no subnets, no valid listener): the status says why.
//
// status.Set.Routes holds an entry for every route that has, or had, a parentRef naming this
// Gateway; its Parents replace the route's status.parents entries of this controller that name
// this Gateway (an empty list removes them).
func Gateway(s *snapshot.Snapshot) (*model.Stack, *status.Set) {
	set := &status.Set{}
	if s == nil || s.Gateway == nil {
		return &model.Stack{Type: model.Network}, set
	}
	gw := s.Gateway
	stack := &model.Stack{ID: gw.Namespace + "/" + gw.Name, Type: model.Network}
	if s.Settings.ControllerName == controllerALB {
		stack.Type = model.Application
	}
	if s.Settings.ControllerName != controllerNLB && s.Settings.ControllerName != controllerALB || s.GatewayClass == nil ||
		string(s.GatewayClass.Spec.ControllerName) != s.Settings.ControllerName ||
		string(gw.Spec.GatewayClassName) != s.GatewayClass.Name {
		return stack, set
	}
	t := &translator{s: s, gw: gw, stack: stack, set: set, cfg: &lbConfig{}}
	t.run()
	stack.Sort()
	return stack, set
}

// HeldTargetGroups are the target groups, with their backends, that the Gateway's routes have
// when the Gateway is translated as if it were accepted. A Gateway that translation rejects
// keeps what it has in AWS (see the controller's hold); its target groups that exist keep being
// fed from these, also after a restart, so their targets follow the pods.
func HeldTargetGroups(s *snapshot.Snapshot) []model.TargetGroup {
	if s == nil || s.Gateway == nil || s.Gateway.DeletionTimestamp != nil || s.GatewayClass == nil {
		return nil
	}
	stack := &model.Stack{ID: s.Gateway.Namespace + "/" + s.Gateway.Name, Type: model.Network}
	if s.Settings.ControllerName == controllerALB {
		stack.Type = model.Application
	}
	t := &translator{s: s, gw: s.Gateway, stack: stack, set: &status.Set{}, cfg: &lbConfig{}, held: true}
	t.run()
	stack.Sort()
	return stack.TargetGroups
}

// LoadBalancerName returns the deterministic name of a Gateway's load balancer: the
// LoadBalancerConfiguration's loadBalancerName, else k8s-<ns8>-<name8>-<hash10> over the
// cluster name, the Gateway's UID and the scheme. AWS facts are not needed.
func LoadBalancerName(s *snapshot.Snapshot) string {
	if s == nil || s.Gateway == nil {
		return ""
	}
	t := &translator{s: s, gw: s.Gateway, cfg: &lbConfig{}}
	if cfg, p := resolveConfig(s); p == nil {
		t.cfg = cfg
	}
	if n := t.cfg.spec.LoadBalancerName; n != nil && *n != "" {
		return *n
	}
	return loadBalancerName(s.Settings.ClusterName, s.Gateway.Namespace, s.Gateway.Name, string(s.Gateway.UID), t.scheme())
}

// translator holds one translation's state.
type translator struct {
	s         *snapshot.Snapshot
	gw        *gwv1.Gateway
	cfg       *lbConfig
	listeners []*listenerState
	routes    []*routeState
	// rejected is why the Gateway is not accepted, if it is not.
	rejected *problem
	// unusable is why the Gateway's spec.addresses cannot be programmed (Programmed=False
	// AddressNotUsable); nothing of the load balancer is asked of AWS then.
	unusable *problem
	// subnetChoice tells which subnets were chosen by route table (see subnets).
	subnetChoice string
	stack        *model.Stack
	set          *status.Set
	// imported are the certificates the listeners' certificateRefs resolved to, by logical ID.
	imported map[string]model.Certificate
	// l7Candidates are the target groups of the ALB listeners built so far, before the
	// load balancer's limits pick the rules that keep theirs (l7listeners.go).
	l7Candidates []model.TargetGroup
	// merge is how the ListenerSets join the Gateway's listeners (mergeListenerSets).
	merge *snapshot.ListenerSetMerge
	// listenerSets holds, for each ListenerSet (namespace/name) whose parentRef names the
	// Gateway, whether it is accepted.
	listenerSets map[string]bool
	// held builds the stack even when the Gateway is rejected, for its target groups only
	// (see HeldTargetGroups).
	held bool
	// l7CandidateByID and l7CandidateByName index l7Candidates (1-based).
	l7CandidateByID, l7CandidateByName map[string]int
}

// run is the translation, step by step.
func (t *translator) run() {
	class := GatewayClass(t.s.GatewayClass, t.s.LoadBalancerConfigurations)
	t.set.GatewayClass = &class
	t.collectRoutes()
	if t.gw.DeletionTimestamp != nil {
		t.reportRoutes()
		return
	}
	t.listeners = validateListeners(t.gw, t.alb())
	t.checkConfig(class)
	t.mergeListenerSets() // before the certificates: ListenerSet entries name Secrets too
	t.checkCertificateRefs()
	for _, r := range t.routes {
		r.parents = t.attach(r.l4Route)
		if r.foreign {
			t.refuseForeign(r)
			continue
		}
		if t.alb() {
			t.compileL7Route(r)
			continue
		}
		r.backends, r.problems = t.resolveBackends(r.l4Route)
	}
	if t.rejected == nil && !t.anyListenerAccepted() {
		t.rejected = &problem{string(gwv1.GatewayReasonListenersNotValid),
			"spec.listeners: no listener is valid; see each listener's conditions for the fix"}
	}
	if t.rejected == nil || t.held {
		t.buildStack()
	}
	t.reportGateway()
	t.reportRoutes()
}

// checkConfig checks the class and resolves the configuration and the subnets; any failure
// rejects the Gateway.
func (t *translator) checkConfig(class status.GatewayClass) {
	if p := classAccepted(class); p != nil {
		reason := invalidReason
		if p.reason == invalidParameters {
			reason = invalidParameters // the class's parametersRef: the Gateway's parameters too
		}
		t.rejected = &problem{reason, fmt.Sprintf("spec.gatewayClassName: GatewayClass %s is not accepted: %s",
			t.s.GatewayClass.Name, p.message)}
		return
	}
	if p := t.checkAddressTypes(); p != nil {
		t.rejected = p
		return
	}
	cfg, p := resolveConfig(t.s)
	if p != nil {
		t.rejected = p
		return
	}
	t.cfg = cfg
	if p := t.checkSpec(); p != nil {
		t.rejected = p
	}
}

// checkSpec rejects configuration values the CRD schema lets through but AWS would not take.
func (t *translator) checkSpec() *problem {
	spec := t.cfg.spec
	if _, p := t.lbName(); p != nil {
		return p
	}
	if p := t.checkSecurityGroups(); p != nil {
		return p
	}
	if p := t.checkAllocations(); p != nil {
		return p
	}
	if p := t.checkQUIC(); p != nil {
		return p
	}
	if s := t.scheme(); s != string(awsv1.LoadBalancerSchemeInternal) && s != string(awsv1.LoadBalancerSchemeInternetFacing) {
		return &problem{invalidParameters, fmt.Sprintf(
			"LoadBalancerConfiguration spec.scheme: %q is not a scheme; use internal or internet-facing", s)}
	}
	switch t.ipAddressType() {
	case "ipv4", "dualstack":
	case "dualstack-without-public-ipv4":
		// CreateLoadBalancer IpAddressType: "[Network Load Balancers and Gateway Load Balancers]
		// The possible values are ipv4 (IPv4 addresses) and dualstack".
		if !t.alb() {
			return &problem{invalidParameters,
				"LoadBalancerConfiguration spec.ipAddressType: dualstack-without-public-ipv4 is for Application Load Balancers only; use ipv4 or dualstack"}
		}
	default:
		return &problem{invalidParameters, fmt.Sprintf(
			"LoadBalancerConfiguration spec.ipAddressType: %q is not supported; use ipv4 or dualstack", t.ipAddressType())}
	}
	for i, a := range spec.LoadBalancerAttributes {
		if err := model.CheckLoadBalancerAttribute(t.stack.Type, a.Key, a.Value); err != nil {
			return &problem{invalidParameters, fmt.Sprintf("LoadBalancerConfiguration spec.loadBalancerAttributes[%d]: %v", i, err)}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Tags)) {
		if err := model.CheckTagKey(k); err != nil {
			return &problem{invalidParameters, fmt.Sprintf("LoadBalancerConfiguration spec.tags: %v", err)}
		}
	}
	if err := model.CheckAddons(t.stack.Type, t.addons()); err != nil {
		return &problem{invalidParameters, fmt.Sprintf("LoadBalancerConfiguration spec.%v", err)}
	}
	for i, r := range spec.SourceRanges {
		if _, err := netip.ParsePrefix(r); err != nil {
			return &problem{invalidParameters, fmt.Sprintf(
				"LoadBalancerConfiguration spec.sourceRanges[%d]: %q is not a CIDR; write it like 10.0.0.0/8", i, r)}
		}
	}
	return nil
}

// alb says whether the Gateway becomes an Application Load Balancer.
func (t *translator) alb() bool { return t.s.Settings.ControllerName == controllerALB }

// controller is the controller name this translation writes route statuses as.
func (t *translator) controller() string {
	if t.alb() {
		return controllerALB
	}
	return controllerNLB
}

func (t *translator) anyListenerAccepted() bool {
	for _, l := range t.listeners {
		if l.accepted() {
			return true
		}
	}
	return false
}

// buildStack builds the load balancer and everything hanging off it.
func (t *translator) buildStack() {
	name, _ := t.lbName()
	subnets, p := t.subnets(t.scheme())
	if p != nil && !t.held {
		t.rejected = p
		return
	}
	if t.alb() && !t.held {
		if p := t.albSubnetsOK(subnets); p != nil {
			t.rejected = p
			return
		}
	}
	if withAddresses, p := t.staticAddresses(subnets); p == nil {
		subnets = withAddresses
	} else if !t.held {
		t.unusable = p
		return
	}
	t.stack.LoadBalancer = t.loadBalancer(name, subnets)
	if t.alb() {
		t.buildL7Listeners()
	} else {
		t.buildListeners()
	}
	t.limitCertificates()
	t.keepImportedCertificates()
	t.securityGroups()
}

// refuseForeign refuses every parentRef of a route whose kind the Gateway's load balancer type
// cannot serve, naming the class it needs.
func (t *translator) refuseForeign(r *routeState) {
	lb, kinds, other := "a Network Load Balancer", "TCPRoute, UDPRoute and TLSRoute", controllerALB
	if t.alb() {
		lb, kinds, other = "an Application Load Balancer", "HTTPRoute and GRPCRoute", controllerNLB
	}
	for i := range r.parents {
		p := &r.parents[i]
		p.listeners = nil
		p.accepted = &problem{string(gwv1.RouteReasonNotAllowedByListeners), fmt.Sprintf(
			"spec.parentRefs[%d]: Gateway %s/%s is %s, whose listeners take %s only; attach the %s to a Gateway whose GatewayClass has controllerName %s",
			p.index, t.gw.Namespace, t.gw.Name, lb, kinds, r.kind, other)}
	}
}
