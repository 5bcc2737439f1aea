// Package plan compares a desired stack with the observed one and lists the changes that turn
// one into the other, in an order AWS accepts. It is pure: no I/O, no clock.
package plan

import (
	"fmt"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Op is what a change does.
type Op string

const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Kind is the kind of resource a change touches.
type Kind string

const (
	KindSecurityGroup Kind = "SecurityGroup"
	KindTargetGroup   Kind = "TargetGroup"
	KindLoadBalancer  Kind = "LoadBalancer"
	KindListener      Kind = "Listener"
	KindRule          Kind = "Rule"
	// KindRulePriorities is the priorities of one listener's existing rules, moved together by
	// SetRulePriorities. Its ID is the listener port.
	KindRulePriorities Kind = "RulePriorities"
	// KindCertificate is a certificate the stack imports into ACM from a Secret.
	KindCertificate Kind = "Certificate"
	// KindAddon is one addon of the load balancer (model.Addons): its ID is the configuration
	// field (AddonWebACL, AddonShield, AddonCapacity). An update sets it as desired, a delete
	// removes it.
	KindAddon Kind = "LoadBalancerAddon"
)

// Change is one step of a plan. Desired is set for create and update, Observed for update and
// delete. A replacement is a delete followed (later in the plan) by a create of the same ID, both
// with a reason that starts with "replace:".
type Change struct {
	Op   Op
	Kind Kind
	// ID is the resource's logical ID: the security group or target group ID, "LoadBalancer",
	// the listener port, or "<port>:<priority>" for a rule.
	ID     string
	Reason string

	Desired  Resource
	Observed Resource
	// Update says what an update changes; nil for create and delete.
	Update *Update
}

// Resource points at the one resource of a change (the field of the change's Kind is set).
type Resource struct {
	SecurityGroup *model.SecurityGroup
	TargetGroup   *model.TargetGroup
	LoadBalancer  *model.LoadBalancer
	Listener      *model.Listener
	Rule          *model.Rule
	Certificate   *model.Certificate
	// ListenerPort is the port of the listener a rule (or a rule priority change) belongs to.
	ListenerPort int32
}

// Field names one aspect of a resource an update changes.
type Field string

const (
	FieldTags           Field = "tags"
	FieldAttributes     Field = "attributes"
	FieldIngress        Field = "ingress"
	FieldHealthCheck    Field = "healthCheck"
	FieldSubnets        Field = "subnets"
	FieldSecurityGroups Field = "securityGroups"
	FieldIPAddressType  Field = "ipAddressType"
	// FieldListener covers what ModifyListener sets: protocol, default actions, default
	// certificate, SSL policy and ALPN policy.
	FieldListener     Field = "listener"
	FieldCertificates Field = "certificates"
	// FieldRule covers what ModifyRule sets: conditions, actions and transforms.
	FieldRule Field = "rule"
	// FieldPriorities is the change of a RulePriorities update: Update.PriorityMoves.
	FieldPriorities Field = "priorities"
	// FieldTargets is the targets of a target group of type alb: Update.Register, Deregister.
	FieldTargets Field = "targets"
	// FieldContent is the content of an imported certificate: re-imported under its ARN.
	FieldContent Field = "content"
)

// Update lists what to change on an existing resource.
type Update struct {
	// Fields are the aspects that differ, sorted.
	Fields []Field

	AddTags    model.Tags
	RemoveTags []string
	// SetAttributes are the attributes to write, desired values and AWS defaults of keys that
	// left the configuration.
	SetAttributes map[string]string

	// Register and Deregister are the targets a target group of type alb gains and loses.
	Register, Deregister []model.Target

	AddIngress    []model.IngressRule
	RevokeIngress []model.IngressRule

	// AddCertificates and RemoveCertificates are the listener's extra (non-default) certificates:
	// ARNs, or the stack's imported certificates by logical ID.
	AddCertificates    []model.Ref
	RemoveCertificates []model.Ref

	// PriorityMoves are the steps of a RulePriorities update, one SetRulePriorities call each.
	// A step only moves rules onto priorities that are free before it, so no two rules ever
	// share a priority, on AWS or on emulators that check each target against the listener.
	PriorityMoves [][]PriorityMove
}

// PriorityMove moves one existing rule from one priority to another.
type PriorityMove struct {
	// Rule is the observed rule (its ARN says which); Rule.Priority is where it was observed,
	// From where it is when the step runs (they differ for a rule parked on the way).
	Rule *model.Rule
	From int32
	To   int32
}

// Has reports whether the update changes f.
func (u *Update) Has(f Field) bool {
	if u == nil {
		return false
	}
	for _, x := range u.Fields {
		if x == f {
			return true
		}
	}
	return false
}

// String prints the change on one line: "create TargetGroup ns/gw:x:3000: new".
func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", c.Op, c.Kind, c.ID)
	if c.Reason != "" {
		b.WriteString(": ")
		b.WriteString(c.Reason)
	}
	return b.String()
}

// IsReplace reports whether the change is one half of a replacement.
func (c Change) IsReplace() bool { return strings.HasPrefix(c.Reason, replacePrefix) }

const replacePrefix = "replace: "
