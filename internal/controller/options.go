// Package controller wires elbgateway into controller-runtime: the GatewayClass reconciler, one
// Gateway reconciler per enabled controller name, the watches and field indexes that map events
// to Gateways, and the status writer. Reconcile is gather → translate → observe → plan → apply →
// report → bind targets; only gather reads the outside world, only apply and report change it.
package controller

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/targets"
)

// Controller names of the two Gateway controllers.
const (
	ControllerNLB = "gateway.k8s.aws/nlb"
	ControllerALB = "gateway.k8s.aws/alb"
)

// Feature gate names, as the AWS Load Balancer Controller spells them.
const (
	GateNLB = "NLBGatewayAPI"
	GateALB = "ALBGatewayAPI"
)

// Gates are the feature gates that switch the Gateway controllers on.
type Gates struct {
	NLB bool
	ALB bool
}

// Cloud is what the controller needs from AWS: facts for translation, the observed stack, the
// writes of a plan, and the targets of target groups.
type Cloud interface {
	Facts(ctx context.Context, req aws.FactsRequest) (snapshot.AWSFacts, error)
	// ObserveFor reads the stack in full; it lists ACM only when the stack may import certificates.
	ObserveFor(ctx context.Context, desired *model.Stack) (*model.Stack, error)
	// ObserveApplied and RecordApplied let a new process skip reading stacks that are exactly
	// as desired (see restart.go).
	ObserveApplied(ctx context.Context, desired *model.Stack, hash string) (*model.Stack, bool, error)
	RecordApplied(ctx context.Context, result *model.Stack, hash string) error
	// ObserveForDelete reads only what deleting the stack needs.
	ObserveForDelete(ctx context.Context, stackID string, t model.LoadBalancerType) (*model.Stack, error)
	Apply(ctx context.Context, desired, observed *model.Stack, changes []plan.Change) (*model.Stack, error)
	// ForeignLoadBalancers are the load balancers tagged as the stack's for another cluster,
	// from the last region listing (no AWS call): never taken over (lbc.go).
	ForeignLoadBalancers(stackID string, t model.LoadBalancerType) []aws.ForeignLoadBalancer
	targets.Cloud
	// The shared backend security group and the worker-node rules (backendsg.go).
	BackendSecurityGroups
	targets.NodeNetwork
}

// Options configure the controllers.
type Options struct {
	ClusterName string
	VPCID       string
	Region      string
	Gates       Gates

	DefaultScheme     string
	DefaultTargetType string
	DefaultSSLPolicy  string
	DefaultTags       map[string]string
	// Quotas are the account's load balancer quotas (zero fields: AWS's defaults).
	Quotas snapshot.Quotas

	Cloud Cloud
	// SecurityGroups configure the shared backend security group and the worker-node rules.
	SecurityGroups SecurityGroupOptions
	// Targets receives the target groups of each Gateway; Setup creates one when nil.
	Targets *targets.Registry

	// Resync is how often each Gateway is reconciled without events, to repair drift
	// (default 10 minutes, with up to 10% jitter).
	Resync time.Duration
	// Workers is how many Gateways of each controller are reconciled at once (default
	// DefaultWorkers each), so one Gateway waiting on a throttled AWS call or on its family's
	// client-side bucket does not hold up the others. AWS calls are bounded by those buckets,
	// not by the number of workers.
	Workers Workers
	// PendingRequeue is how soon a Gateway whose load balancer is not active yet is looked at
	// again (default 15 seconds).
	PendingRequeue time.Duration
	// Registerer receives the per-Gateway gauges (metrics.go); nil keeps them unexported.
	Registerer prometheus.Registerer
	// ReadinessGates turn on pod readiness gates: the pod webhook (served by the manager's
	// webhook server) and the gates' conditions (internal/targets/readinessgate.go).
	ReadinessGates ReadinessGateOptions
	// RetryCap is the longest pause of a failing Gateway before it calls AWS again, and the
	// pause of a refusal AWS will repeat (see backoff.go; default 5 minutes).
	RetryCap time.Duration
	// BorrowedRuleRecheck is how soon worker-node rules are looked at again while one the
	// targets need is another owner's (default targets.BorrowedRuleRecheck).
	BorrowedRuleRecheck time.Duration
	// CertificateRecheck is how soon a listener that found no ACM certificate for its hostname
	// looks again (default one minute, the time the account's certificate list is reused).
	CertificateRecheck time.Duration
}

// ReadinessGateOptions configure pod readiness gates.
type ReadinessGateOptions struct {
	Enabled bool
	// Namespace holds the directory ConfigMap through which the elected replica tells every
	// replica's webhook which ip target groups exist (targets.GateDirectoryName); required.
	Namespace string
	// Poll is how often a target group's health is read while a gate of it is pending (default
	// targets.DefaultGatePoll); BackoffCap bounds the pause after failed reads.
	Poll, BackoffCap time.Duration
}

// Workers is a number of concurrent reconciles per controller.
type Workers struct{ NLB, ALB int }

// DefaultWorkers is the default of Workers.NLB and Workers.ALB.
const DefaultWorkers = 10

func (o *Options) defaults() {
	if o.Workers.NLB <= 0 {
		o.Workers.NLB = DefaultWorkers
	}
	if o.Workers.ALB <= 0 {
		o.Workers.ALB = DefaultWorkers
	}
	if o.Resync == 0 {
		o.Resync = 10 * time.Minute
	}
	if o.PendingRequeue == 0 {
		o.PendingRequeue = 15 * time.Second
	}
	if o.RetryCap <= 0 {
		o.RetryCap = backoffCap
	}
	if o.CertificateRecheck <= 0 {
		o.CertificateRecheck = certificateRecheck
	}
	if o.Targets == nil {
		o.Targets = targets.NewRegistry()
	}
}

// lbType is the load balancer type a controller name builds.
func lbType(controllerName string) model.LoadBalancerType {
	if controllerName == ControllerALB {
		return model.Application
	}
	return model.Network
}

// finalizer is the Gateway finalizer of a controller: its controller name.
func finalizer(controllerName string) string { return controllerName }
