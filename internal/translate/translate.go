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
	"net/netip"

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
	stack    *model.Stack
	set      *status.Set
	// imported are the certificates the listeners' certificateRefs resolved to, by logical ID.
	imported map[string]model.Certificate
	// l7Candidates are the target groups of the ALB listeners built so far, before the
	// load balancer's limits pick the rules that keep theirs (l7listeners.go).
	l7Candidates []model.TargetGroup
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
	for _, r := range t.routes {
		r.parents = t.attach(r.l4Route)
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
	if t.rejected == nil {
		t.buildStack()
	}
	t.reportGateway()
	t.reportRoutes()
}

// checkConfig checks the class and resolves the configuration and the subnets; any failure
// rejects the Gateway.
func (t *translator) checkConfig(class status.GatewayClass) {
	if p := classAccepted(class); p != nil {
		t.rejected = &problem{invalidReason, fmt.Sprintf("spec.gatewayClassName: GatewayClass %s is not accepted: %s",
			t.s.GatewayClass.Name, p.message)}
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
	if s := t.scheme(); s != string(awsv1.LoadBalancerSchemeInternal) && s != string(awsv1.LoadBalancerSchemeInternetFacing) {
		return &problem{invalidParameters, fmt.Sprintf(
			"LoadBalancerConfiguration spec.scheme: %q is not a scheme; use internal or internet-facing", s)}
	}
	switch t.ipAddressType() {
	case "ipv4", "dualstack", "dualstack-without-public-ipv4":
	default:
		return &problem{invalidParameters, fmt.Sprintf(
			"LoadBalancerConfiguration spec.ipAddressType: %q is not supported; use ipv4 or dualstack", t.ipAddressType())}
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
	if p != nil {
		t.rejected = p
		return
	}
	if t.alb() {
		if p := t.albSubnetsOK(subnets); p != nil {
			t.rejected = p
			return
		}
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
