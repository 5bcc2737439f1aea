package plan

import (
	"sort"
	"strconv"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Diff lists the changes that turn observed into desired, in this order:
//
//  1. deletes that must come first because a replacement cannot live next to the old resource
//     (a load balancer; a target group whose replacement keeps its name, with the listeners and
//     rules that use it) and the rules of a listener that stays which no desired rule becomes
//     (so a full listener has room and moves find their slots free),
//     Rule → Listener → LoadBalancer → TargetGroup → SecurityGroup;
//  2. creates, Certificate (imported from a Secret) → SecurityGroup → TargetGroup → LoadBalancer → Listener → RulePriorities (the
//     moves of a listener's existing rules, before the creates that take the slots they free)
//     → Rule;
//  3. updates, in the same order;
//  4. deletes, Rule → Listener → LoadBalancer → TargetGroup → SecurityGroup → Certificate
//     (after the listener updates that stop using it).
//
// observed may be nil. A desired stack without a LoadBalancer deletes everything observed.
// Deleting a load balancer deletes its listeners and rules, so those get no changes of their own.
func Diff(desired, observed *model.Stack) []Change {
	d := newDiffer(desired, observed)
	d.securityGroups()
	d.targetGroups()
	d.loadBalancer()
	d.addons()
	d.certificates()
	d.listeners()
	return d.ordered()
}

// phase is one of the four groups of a plan, in plan order.
type phase int

const (
	phaseEarlyDelete phase = iota
	phaseCreate
	phaseUpdate
	phaseDelete
)

type entry struct {
	phase  phase
	change Change
	// key sorts changes of one kind: IDs, listener ports and rule priorities numerically.
	key sortKey
}

type sortKey struct {
	port     int32
	priority int32
	id       string
}

type differ struct {
	stackType model.LoadBalancerType
	desired   stackView
	observed  stackView
	entries   []entry

	// lbRecreated is set when the load balancer is created or replaced: every listener is new.
	lbRecreated bool
	// lbDeleted is set when the load balancer goes away for good.
	lbDeleted bool
	// recreateUsers names target groups replaced under the same name: the listeners and rules
	// that forward to them are deleted first and created again.
	recreateUsers map[string]bool
	// repointUsers names target groups replaced under a new name: the listeners and rules that
	// forward to them are modified to the new ARN.
	repointUsers map[string]bool
}

// stackView is a stack with nil treated as empty and nothing desired without a load balancer.
type stackView struct {
	lb        *model.LoadBalancer
	sgs       []model.SecurityGroup
	tgs       []model.TargetGroup
	listeners []model.Listener
	certs     []model.Certificate
	typ       model.LoadBalancerType
}

func viewOf(s *model.Stack, desired bool) stackView {
	if s == nil {
		return stackView{}
	}
	if desired && s.LoadBalancer == nil {
		return stackView{typ: s.Type}
	}
	return stackView{lb: s.LoadBalancer, sgs: s.SecurityGroups, tgs: s.TargetGroups, listeners: s.Listeners, certs: s.Certificates, typ: s.Type}
}

func newDiffer(desired, observed *model.Stack) *differ {
	d := &differ{
		desired:       viewOf(desired, true),
		observed:      viewOf(observed, false),
		recreateUsers: map[string]bool{},
		repointUsers:  map[string]bool{},
	}
	d.stackType = d.desired.typ
	if d.stackType == "" {
		d.stackType = d.observed.typ
	}
	return d
}

func (d *differ) add(p phase, k sortKey, c Change) {
	d.entries = append(d.entries, entry{phase: p, change: c, key: k})
}

var createOrder = map[Kind]int{KindCertificate: -1, KindSecurityGroup: 0, KindTargetGroup: 1, KindLoadBalancer: 2, KindListener: 3, KindRulePriorities: 4, KindRule: 5, KindAddon: 6}

func (d *differ) ordered() []Change {
	sort.SliceStable(d.entries, func(i, j int) bool {
		a, b := d.entries[i], d.entries[j]
		if a.phase != b.phase {
			return a.phase < b.phase
		}
		ka, kb := createOrder[a.change.Kind], createOrder[b.change.Kind]
		if ka != kb {
			if a.phase == phaseEarlyDelete || a.phase == phaseDelete {
				return ka > kb
			}
			return ka < kb
		}
		if a.key.port != b.key.port {
			return a.key.port < b.key.port
		}
		if a.key.priority != b.key.priority {
			return a.key.priority < b.key.priority
		}
		return a.key.id < b.key.id
	})
	out := make([]Change, 0, len(d.entries))
	for _, e := range d.entries {
		out = append(out, e.change)
	}
	return out
}

func portID(port int32) string { return strconv.Itoa(int(port)) }

func ruleID(port, priority int32) string { return portID(port) + ":" + strconv.Itoa(int(priority)) }
