package targets

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
)

// Cloud is what the loop needs from AWS.
type Cloud interface {
	// Targets returns the targets registered in a target group of a target type (draining
	// ones excluded).
	Targets(ctx context.Context, targetGroupARN, targetType string) ([]model.Target, error)
	RegisterTargets(ctx context.Context, targetGroupARN string, targets []model.Target) error
	DeregisterTargets(ctx context.Context, targetGroupARN string, targets []model.Target) error
}

// Options configure the loop.
type Options struct {
	Cloud    Cloud
	Registry *Registry
	// Resync is how often every target group is compared with AWS even without events
	// (default 10 minutes, with up to 10% jitter).
	Resync time.Duration
	// NodeRules configure the worker-node security group rules (securitygroups.go).
	NodeRules NodeRuleOptions
	// Health, when set, turns on pod readiness gates (readinessgate.go): the loop watches pods
	// and writes the conditions of the gates they carry. Writer writes them.
	Health HealthReader
	Writer client.Client
	// GatePoll is how often a target group's health is read while some gate of it is pending
	// (default DefaultGatePoll); GateBackoffCap bounds the pause after failed reads (default
	// DefaultGateBackoffCap).
	GatePoll, GateBackoffCap time.Duration
	// Reader reads EndpointSlices and Nodes (default: the manager's cache).
	Reader client.Reader
	// BorrowedRecheck is how soon the security-group pass looks again while a rule the targets
	// need is another owner's (default BorrowedRuleRecheck).
	BorrowedRecheck time.Duration
}

// withDefaults fills in the defaults of the durations left unset.
func (o Options) withDefaults() Options {
	if o.Resync == 0 {
		o.Resync = 10 * time.Minute
	}
	if o.BorrowedRecheck <= 0 {
		o.BorrowedRecheck = BorrowedRuleRecheck
	}
	return o
}

// Reconciler registers and deregisters the targets of one target group per request; the
// request's Name is the target group ARN.
type Reconciler struct {
	reader   client.Reader
	cloud    Cloud
	registry *Registry
	resync   time.Duration
	// borrowedRecheck is Options.BorrowedRecheck (defaulted).
	borrowedRecheck time.Duration
	// fresh picks the resync passes of each target group, which read its targets from AWS
	// rather than from what the Cloud remembers (aws.FreshPasses).
	fresh *aws.FreshPasses

	nodeRules NodeRuleOptions
	sg        sgState
	// refusals remembers the targets AWS refused, by target group (refused.go).
	refusals refusals

	// Readiness gates (readinessgate.go); health is nil when they are off.
	health HealthReader
	writer client.Client
	gates  *gateBudget
	now    func() time.Time
	// kick asks for a security-group pass.
	kick func()
}

// Setup registers the loop with a manager: it watches EndpointSlices and Nodes, and the
// registry's changes.
func Setup(mgr ctrl.Manager, o Options) error {
	if o.Cloud == nil || o.Registry == nil {
		return fmt.Errorf("targets: Cloud and Registry are required")
	}
	o = o.withDefaults()
	if o.Reader == nil {
		o.Reader = mgr.GetCache()
	}
	r := &Reconciler{reader: o.Reader, cloud: o.Cloud, registry: o.Registry, resync: o.Resync, borrowedRecheck: o.BorrowedRecheck, nodeRules: o.NodeRules,
		health: o.Health, writer: o.Writer, gates: newGateBudget(o.GatePoll, o.GateBackoffCap), now: time.Now,
		fresh: aws.NewFreshPasses(o.Resync)}
	if r.health != nil && r.writer == nil {
		r.writer = mgr.GetClient()
	}
	kicks := make(chan event.TypedGenericEvent[string], 1)
	r.kick = newKick(kicks)
	r.sg = sgState{groups: map[string]bool{}, sources: map[string]bool{}}

	bindings := make(chan event.TypedGenericEvent[string], 64)
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		forwardChanges(ctx, o.Registry.Changes(), bindings)
		return nil
	})); err != nil {
		return err
	}
	b := builder.ControllerManagedBy(mgr).
		Named("targets").
		WatchesRawSource(source.TypedChannel(bindings, enqueueARN())).
		WatchesRawSource(source.TypedChannel(kicks, enqueueARN())).
		Watches(&discoveryv1.EndpointSlice{}, handler.EnqueueRequestsFromMapFunc(r.mapEndpointSlice), builder.WithPredicates(endpointSliceChanged())).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.mapNode), builder.WithPredicates(nodeChanged()))
	if r.health != nil {
		if err := mgr.GetFieldIndexer().IndexField(context.Background(), &corev1.Pod{}, indexPodGates, indexGates); err != nil {
			return fmt.Errorf("indexing pods by readiness gate: %w", err)
		}
		b = b.Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.mapPod), builder.WithPredicates(podChanged()))
	}
	return b.Complete(r)
}

// Reconcile makes one target group's targets equal to what its backend provides.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	arn := req.Name
	if arn == SecurityGroupsRequest {
		borrowed, err := r.syncSecurityGroups(ctx)
		if err != nil {
			return reconcile.Result{}, fmt.Errorf("worker-node security group rules: %w", err)
		}
		return reconcile.Result{RequeueAfter: jitter(r.nextSecurityGroupPass(borrowed))}, nil
	}
	defer r.kick()
	b, ok := r.registry.Get(arn)
	if !ok {
		// No Gateway owns it (any more): the pods still waiting for its gate are let go.
		r.fresh.Forget(arn)
		return reconcile.Result{}, r.releaseGates(ctx, arn)
	}
	ctx = r.fresh.Context(ctx, arn)
	gated, err := r.gatedPods(ctx, b)
	if err != nil {
		return reconcile.Result{}, err
	}
	desired, err := r.desired(ctx, b, gateAddresses(gated))
	if err != nil {
		return reconcile.Result{}, err
	}
	registered, err := r.cloud.Targets(ctx, arn, b.TargetType)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("reading the targets of %s: %w", arn, err)
	}
	add, remove := Diff(desired, registered)
	logger := log.FromContext(ctx).WithValues("targetGroup", arn)
	// Targets AWS refused for these same desired targets are not sent again before the
	// resync: a pass that only polls readiness gates would otherwise repeat the refused call.
	held := r.refusals.held(arn, desired, r.clock())
	var refused []Problem
	if held != nil {
		add = slices.DeleteFunc(add, func(t model.Target) bool { return held.targets[t] })
		refused = held.problems
	}
	if len(add) > 0 {
		err := r.cloud.RegisterTargets(ctx, arn, add)
		var invalid *aws.InvalidTargetsError
		switch {
		case errors.As(err, &invalid):
			// The others are registered; the refused ones are reported on the Gateway and
			// tried again when nodes or endpoints change, or at the next resync.
			var ids []string
			for _, t := range invalid.Targets {
				ids = append(ids, fmt.Sprintf("%s:%d", t.ID, t.Port))
			}
			refused = refusedProblems(arn, ids, invalid.Message)
			held = r.refusals.hold(arn, desired, invalid.Targets, refused, r.clock().Add(r.resync))
			logger.Info("AWS refused targets", "targets", ids, "reason", invalid.Message)
		case err != nil:
			return reconcile.Result{}, fmt.Errorf("registering %d targets in %s: %w", len(add), arn, err)
		default:
			logger.Info("registered targets", "targets", add)
		}
	}
	r.registry.SetRefused(arn, refused)
	if len(remove) > 0 {
		if err := r.cloud.DeregisterTargets(ctx, arn, remove); err != nil {
			return reconcile.Result{}, fmt.Errorf("deregistering %d targets from %s: %w", len(remove), arn, err)
		}
		logger.Info("deregistered targets", "targets", remove)
	}
	next := jitter(r.resync)
	if len(gated) > 0 {
		if pending := r.syncGates(ctx, b, gated, desired, held); pending > 0 && pending < next {
			next = pending
		}
	}
	return reconcile.Result{RequeueAfter: next}, nil
}

// desired reads the endpoints or nodes behind a binding from the cache; the not-ready ip
// endpoints at gated (pods whose readiness gates wait for their health) are taken too.
func (r *Reconciler) desired(ctx context.Context, b Binding, gated map[string]bool) ([]model.Target, error) {
	if b.TargetType == TargetTypeInstance {
		var nodes corev1.NodeList
		if err := r.reader.List(ctx, &nodes); err != nil {
			return nil, err
		}
		return FromNodes(b.Backend, nodes.Items), nil
	}
	var slices discoveryv1.EndpointSliceList
	if err := r.reader.List(ctx, &slices, client.InNamespace(b.Backend.Namespace),
		client.MatchingLabels{discoveryv1.LabelServiceName: b.Backend.Service}); err != nil {
		return nil, err
	}
	return OfFamily(fromEndpointSlices(b.Backend, slices.Items, gated), b.IPAddressType), nil
}

func (r *Reconciler) mapEndpointSlice(_ context.Context, o client.Object) []reconcile.Request {
	svc := o.GetLabels()[discoveryv1.LabelServiceName]
	if svc == "" {
		return nil
	}
	return r.changed(r.registry.ForService(o.GetNamespace(), svc))
}

func (r *Reconciler) mapNode(context.Context, client.Object) []reconcile.Request {
	return r.changed(r.registry.ForNodes())
}

// changed asks for passes of target groups whose endpoints or nodes changed: what AWS refused
// of them is tried again at once.
func (r *Reconciler) changed(arns []string) []reconcile.Request {
	r.refusals.forget(arns...)
	return requests(arns)
}

func requests(arns []string) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(arns))
	for _, a := range arns {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: a}})
	}
	return out
}

// nodeChanged passes Node events that can change instance targets: creation, deletion, and
// updates of labels, provider ID, readiness or deletion; heartbeats are dropped.
func nodeChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*corev1.Node)
		n, ok2 := e.ObjectNew.(*corev1.Node)
		if !ok1 || !ok2 {
			return true
		}
		return !maps.Equal(o.Labels, n.Labels) || o.Spec.ProviderID != n.Spec.ProviderID ||
			nodeEligible(o) != nodeEligible(n)
	}}
}

// endpointSliceChanged passes EndpointSlice events that can change targets: creation, deletion,
// and updates of the endpoints, ports, address type or labels (the Service a slice belongs to),
// or of its annotations (a deliberate nudge to look again); an update that changes none of
// these (a re-list) is dropped.
func endpointSliceChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*discoveryv1.EndpointSlice)
		n, ok2 := e.ObjectNew.(*discoveryv1.EndpointSlice)
		if !ok1 || !ok2 {
			return true
		}
		return o.AddressType != n.AddressType || !maps.Equal(o.Labels, n.Labels) || !maps.Equal(o.Annotations, n.Annotations) ||
			!equality.Semantic.DeepEqual(o.Endpoints, n.Endpoints) || !equality.Semantic.DeepEqual(o.Ports, n.Ports) ||
			!o.DeletionTimestamp.Equal(n.DeletionTimestamp)
	}}
}

// podChanged passes the Pod events that can change a readiness gate: creation, deletion, and
// updates of the pod's IPs, its readiness gates, the readiness of its containers, or the
// conditions of its gates; other updates are dropped.
func podChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return gatedPod(e.Object) },
		DeleteFunc: func(e event.DeleteEvent) bool { return gatedPod(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Pod)
			n, ok2 := e.ObjectNew.(*corev1.Pod)
			if !ok1 || !ok2 {
				return true
			}
			if len(podGates(n)) == 0 && len(podGates(o)) == 0 {
				return false
			}
			return !equality.Semantic.DeepEqual(o.Status.PodIPs, n.Status.PodIPs) || o.Status.PodIP != n.Status.PodIP ||
				!slices.Equal(podGates(o), podGates(n)) || containersReady(o) != containersReady(n) ||
				!equality.Semantic.DeepEqual(gateConditions(o), gateConditions(n))
		},
		GenericFunc: func(e event.GenericEvent) bool { return gatedPod(e.Object) },
	}
}

func gatedPod(o client.Object) bool {
	p, ok := o.(*corev1.Pod)
	return !ok || len(podGates(p)) > 0
}

// gateConditions are the statuses of a pod's conditions of our gates.
func gateConditions(p *corev1.Pod) map[corev1.PodConditionType]corev1.ConditionStatus {
	out := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, g := range podGates(p) {
		if c, ok := podCondition(p, corev1.PodConditionType(g)); ok {
			out[c.Type] = c.Status
		}
	}
	return out
}

func forwardChanges(ctx context.Context, in <-chan []string, out chan<- event.TypedGenericEvent[string]) {
	for {
		select {
		case <-ctx.Done():
			return
		case arns := <-in:
			for _, a := range arns {
				select {
				case out <- event.TypedGenericEvent[string]{Object: a}:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

func enqueueARN() handler.TypedEventHandler[string, reconcile.Request] {
	return handler.TypedFuncs[string, reconcile.Request]{
		GenericFunc: func(_ context.Context, e event.TypedGenericEvent[string], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: e.Object}})
		},
	}
}

// jitter returns d plus up to 10%.
// clock is the time of the loop (now; a test's clock when it sets one).
func (r *Reconciler) clock() time.Time {
	if r.now == nil {
		return time.Now()
	}
	return r.now()
}

// nextSecurityGroupPass is the pause before the next security-group pass, jitter left out: the
// resync period, or the borrowed-rule recheck when a rule the targets need is another owner's
// and the recheck is sooner.
func (r *Reconciler) nextSecurityGroupPass(borrowed bool) time.Duration {
	if borrowed && r.resync > r.borrowedRecheck {
		return r.borrowedRecheck
	}
	return r.resync
}

func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}
