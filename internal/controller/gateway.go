package controller

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
	"github.com/elbgateway/elbgateway/internal/targets"
	"github.com/elbgateway/elbgateway/internal/translate"
)

// gatewayReconciler reconciles the Gateways of one controller name.
type gatewayReconciler struct {
	controller string
	reader     client.Reader // the informer cache
	cloud      Cloud
	gatherer   *gatherer
	writer     *statusWriter
	registry   *targets.Registry
	opts       Options
	backoff    *backoff
	// fresh picks the resync passes, which read AWS afresh (aws.FreshPasses).
	fresh *aws.FreshPasses
}

// Reconcile is the whole life of one Gateway, in numbered steps.
func (r *gatewayReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	gw, class, err := r.load(ctx, req.NamespacedName)
	key, fp := req.String(), ""
	if err != nil || gw == nil {
		if err == nil {
			r.fresh.Forget(key)
		}
		return reconcile.Result{}, err
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("controller", r.controller))
	//    Once a resync period, a pass reads the stack from AWS rather than from what this
	//    process remembers of it, and so repairs drift (aws/fresh.go).
	ctx = r.fresh.Context(ctx, key)

	// 0. hand-over: a stack the AWS Load Balancer Controller's bindings still feed stays
	//    LBC's, untouched, until they are gone (lbc.go).
	if bindings, err := r.lbcBindings(ctx, gw); err != nil || len(bindings) > 0 {
		if err != nil {
			return reconcile.Result{}, err
		}
		return r.writer.leftToLBC(ctx, gw, bindings, r.backoff == nil || r.backoff.warn(key, "NotAdopted", strings.Join(bindings, ",")))
	}
	// 1. gather: the Gateway's world from the cache, and AWS facts.
	//    Every failure below still gives the Gateway's routes a status (failedWith).
	snap, err := r.gatherer.gather(ctx, gw, class)
	if err != nil {
		return r.failed(ctx, gw, translate.Unreconciled(snap, err.Error()), key, fp, "gather", err)
	}
	//    The shared backend security group is made sure of here, the one AWS write before
	//    apply: it belongs to the cluster, not to the stack (see backendsg.go).
	if err := r.ensureBackendSecurityGroup(ctx, snap, class); err != nil {
		return r.failed(ctx, gw, translate.Unreconciled(snap, err.Error()), key, fp, "backend security group", err)
	}
	// 2. translate: pure.
	desired, statuses := translate.Gateway(snap)
	//    A Gateway backing off after a failure calls AWS again only when its pause is over or
	//    what it asks of AWS changed (backoff.go).
	if fp = fingerprint(desired); r.backoff != nil {
		if wait := r.backoff.waiting(key, fp); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
	}
	// 3. observe what the stack has in AWS.
	observed, known, err := r.observe(ctx, gw, desired, fp)
	if err != nil {
		return r.failed(ctx, gw, statuses, key, fp, "observe", err)
	}
	//    A load balancer tagged as this Gateway's for another cluster is not taken over: say
	//    so before a new one is made (lbc.go).
	if observed.LoadBalancer == nil && desired.LoadBalancer != nil && gw.DeletionTimestamp == nil {
		r.noteForeign(gw, key, desired)
	}
	// 4. plan: pure. A rejected live Gateway keeps what it has (see hold).
	desired = r.hold(gw, class, desired, observed)
	changes := plan.Diff(desired, observed)
	if known {
		changes = nil
	}
	//    A stack that goes away stops feeding its targets' security groups before its own
	//    security groups are deleted.
	if desired.LoadBalancer == nil && desired != observed {
		r.registry.Set(desired.ID, nil)
	}
	// 5. apply the changes (the only AWS writes). A change AWS refuses does not stop the
	//    others (aws.ApplyError): what was applied is reported and bound like a success.
	result, applyErr := r.apply(ctx, gw, desired, observed, changes)
	failures := failuresOf(applyErr)
	if applyErr != nil && failures == nil {
		return r.failed(ctx, gw, statuses, key, fp, "apply", applyErr)
	}
	//    Only a stack applied in full is recorded as such (restart.go).
	if applyErr == nil && desired != observed {
		r.recordApplied(ctx, gw, desired, result, fp)
	}
	//    The last Gateway to go releases the shared backend security group.
	if failures == nil {
		if err := r.releaseBackendSecurityGroup(ctx, gw, desired); err != nil {
			return r.failed(ctx, gw, statuses, key, fp, "backend security group", err)
		}
	}
	// 6. report: statuses (with the targets loop's worker-node problems), finalizer, events.
	ingress := translate.NodeIngress(snap, desired)
	res, err := r.writer.report(ctx, reportInput{gateway: gw, owned: r.owns(class), statuses: statuses, desired: desired, result: result,
		nodeRules: ingress.Managed(), nodeRuleProblems: r.registry.Problems(gw.Namespace + "/" + gw.Name), failures: failures,
		refusedTargets: r.registry.Refused(gw.Namespace + "/" + gw.Name)})
	// 7. targets: hand the target groups that exist to the targets loop.
	r.bindTargets(snap, desired, observed, result)
	if err == nil && applyErr != nil {
		// Refused changes are on their objects' status now; the Gateway backs off like any
		// failure until the pause is over or what it asks of AWS changes.
		return r.partlyFailed(key, fp, applyErr)
	}
	if err == nil && r.backoff != nil {
		r.backoff.succeeded(key)
	}
	return retryConflict(res, err)
}

// load reads the Gateway and its class. It returns a nil Gateway when there is nothing to do:
// the Gateway is gone, or neither belongs to this controller nor carries its finalizer.
func (r *gatewayReconciler) load(ctx context.Context, key types.NamespacedName) (*gwv1.Gateway, *gwv1.GatewayClass, error) {
	var gw gwv1.Gateway
	if err := r.reader.Get(ctx, key, &gw); err != nil {
		if apierrors.IsNotFound(err) {
			r.registry.Set(key.String(), nil)
			r.gatherer.secrets.forget(key.String())
			r.writer.metrics.forget(r.controller, key.Namespace, key.Name)
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var class gwv1.GatewayClass
	classPtr := &class
	if err := r.reader.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, &class); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, nil, err
		}
		classPtr = nil
	}
	if !r.owns(classPtr) && !hasFinalizer(&gw, finalizer(r.controller)) {
		r.gatherer.secrets.forget(key.String())
		r.writer.metrics.forget(r.controller, key.Namespace, key.Name)
		return nil, nil, nil
	}
	return &gw, classPtr, nil
}

func (r *gatewayReconciler) owns(class *gwv1.GatewayClass) bool {
	return class != nil && string(class.Spec.ControllerName) == r.controller
}

// hold decides the stack to plan for. A live Gateway of ours that translation rejected (a
// missing configuration, no subnets) keeps what it has in AWS until it is fixed, so a typo never
// deletes a load balancer. Only a Gateway being deleted, or one that left this controller,
// gives up its stack.
func (r *gatewayReconciler) hold(gw *gwv1.Gateway, class *gwv1.GatewayClass, desired, observed *model.Stack) *model.Stack {
	if desired.LoadBalancer == nil && gw.DeletionTimestamp == nil && r.owns(class) {
		return observed
	}
	return desired
}

// apply runs the plan. The finalizer goes on before the first write that creates anything.
func (r *gatewayReconciler) apply(ctx context.Context, gw *gwv1.Gateway, desired, observed *model.Stack, changes []plan.Change) (*model.Stack, error) {
	if len(changes) == 0 {
		return observed, nil
	}
	if desired.LoadBalancer != nil {
		if err := r.writer.addFinalizer(ctx, gw, finalizer(r.controller)); err != nil {
			return nil, err
		}
	}
	result, err := r.cloud.Apply(ctx, desired, observed, changes)
	if r.applyWarned(gw.Namespace+"/"+gw.Name, err) {
		r.writer.applied(ctx, gw, changes, err)
	}
	if result == nil && err == nil {
		return nil, errors.New("applying the plan returned no stack")
	}
	if err != nil && (result == nil || failuresOf(err) == nil) {
		return nil, err
	}
	return result, err
}

// bindTargets tells the targets loop which target groups the Gateway has and what feeds them:
// every target group that exists, also when apply failed in part. A held stack (see hold) binds
// the target groups it has in AWS to the backends its routes name now, so its targets follow
// the pods also after a restart.
func (r *gatewayReconciler) bindTargets(snap *snapshot.Snapshot, desired, observed, result *model.Stack) {
	if result == nil {
		return
	}
	if desired == observed {
		desired = heldStack(translate.HeldTargetGroups(snap), observed)
	}
	ingress := translate.NodeIngress(snap, desired)
	r.registry.Set(desired.ID, withNetwork(bindings(desired, result), desired, result, ingress))
}

// heldStack is the observed stack with the backends of the target groups the routes still
// have, for binding; a target group keeps the target type AWS has.
func heldStack(translated []model.TargetGroup, observed *model.Stack) *model.Stack {
	held := *observed
	held.TargetGroups = nil
	byID := map[string]model.TargetGroup{}
	for _, tg := range translated {
		byID[tg.ID] = tg
	}
	for _, tg := range observed.TargetGroups {
		if t, ok := byID[tg.ID]; ok && t.Backend != nil {
			tg.Backend = t.Backend
		}
		held.TargetGroups = append(held.TargetGroups, tg)
	}
	return &held
}

// bindings pairs the desired target groups (which know their backends) with the ARNs AWS
// assigned them.
func bindings(desired, result *model.Stack) []targets.Binding {
	if desired == nil || result == nil {
		return nil
	}
	arns := map[string]string{}
	for _, tg := range result.TargetGroups {
		arns[tg.ID] = tg.ARN
	}
	var out []targets.Binding
	for _, tg := range desired.TargetGroups {
		if tg.Backend == nil || arns[tg.ID] == "" {
			continue
		}
		out = append(out, targets.Binding{TargetGroupARN: arns[tg.ID], TargetType: tg.TargetType, IPAddressType: tg.IPAddressType, Backend: *tg.Backend})
	}
	return out
}

// retryConflict turns a write conflict (the cache was behind) into a quick retry.
func retryConflict(res reconcile.Result, err error) (reconcile.Result, error) {
	if apierrors.IsConflict(errors.Unwrap(err)) || apierrors.IsConflict(err) {
		return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	return res, err
}

// stackEmpty is true when AWS holds nothing of a stack.
func stackEmpty(s *model.Stack) bool {
	return s == nil || s.LoadBalancer == nil && len(s.Listeners) == 0 && len(s.TargetGroups) == 0 && len(s.SecurityGroups) == 0
}

func hasFinalizer(o client.Object, f string) bool {
	for _, x := range o.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}

// jitter returns d plus up to 10%.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// reportInput is what the report step writes.
type reportInput struct {
	gateway *gwv1.Gateway
	// owned is true when the Gateway's class belongs to this controller.
	owned    bool
	statuses *status.Set
	result   *model.Stack
	// nodeRules is true when the targets loop manages the Gateway's worker-node security group
	// rules; nodeRuleProblems are what it could not do (see nodesecuritygroups.go).
	nodeRules        bool
	nodeRuleProblems []targets.Problem
	// desired is the stack asked of AWS (nil when translation did not run).
	desired *model.Stack
	// failures are the changes of the plan that did not happen.
	failures applyFailures
	// refusedTargets are the targets AWS refused to register (see targetsregistered.go).
	refusedTargets []targets.Problem
}

// recorder is the part of an event recorder the writer uses.
type recorder = events.EventRecorder
