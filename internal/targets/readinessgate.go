package targets

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
)

// Pod readiness gates. A pod in a namespace labelled ReadinessGateInjectLabel=enabled that a
// Service behind one of our ip target groups selects gets, when it is created, one readiness
// gate per such target group (webhook.go): condition type ReadinessGatePrefix + the target
// group's name. Kubernetes counts the pod Ready only when every gate's condition is True, so a
// rolling update waits until the new pod's target is healthy in every target group before it
// takes an old pod away.
//
// The conditions are written here, by the targets loop, and nowhere else: after registering a
// target group's targets, the loop reads DescribeTargetHealth for it while some pod carrying its
// gate is not True yet, at most once per GatePoll per target group, and writes True for a pod
// whose target is healthy, False (with AWS's reason) otherwise. Once every gate of the group is
// True, the group's health is not read again. A read that fails (throttled, refused) waits
// twice as long each time, up to GateBackoffCap, so its cost per minute stays bounded.
//
// A pod carrying a gate is not Ready until the gate is True, so its EndpointSlice endpoint is
// not ready either; such a pod is registered anyway once its containers are ready (as the AWS
// Load Balancer Controller does), otherwise its target could never become healthy.
const (
	// ReadinessGateInjectLabel on a Namespace, with the value "enabled", lets the webhook add
	// readiness gates to the pods created in it.
	ReadinessGateInjectLabel = "elbgateway.k8s.aws/pod-readiness-gate-inject"
	// ReadinessGatePrefix starts the condition type of each gate; the target group's name ends it.
	ReadinessGatePrefix = "target-health.elbgateway.k8s.aws/"
)

// Reasons of the gate conditions the loop writes (besides AWS's own reason codes).
const (
	ReasonTargetHealthy       = "TargetHealthy"
	ReasonTargetNotRegistered = "TargetNotRegistered"
	// ReasonTargetGroupRemoved: the target group the gate waited for is no longer ours; nothing
	// is left to wait for.
	ReasonTargetGroupRemoved = "TargetGroupRemoved"
	// ReasonTargetNotHealthy is used when AWS gives a target that is not healthy no reason code.
	ReasonTargetNotHealthy = "TargetNotHealthy"
	// ReasonTargetRefused: AWS refused to register the pod's target (InvalidTarget).
	ReasonTargetRefused = "TargetRefused"
)

// Defaults of GatePoll and GateBackoffCap.
const (
	DefaultGatePoll       = 15 * time.Second
	DefaultGateBackoffCap = 5 * time.Minute
)

// indexPodGates indexes pods by the condition types of their readiness gates of ours.
const indexPodGates = "elbgateway.readinessGates"

// HealthReader reads the health of a target group's targets (DescribeTargetHealth).
type HealthReader interface {
	TargetHealth(ctx context.Context, targetGroupARN string) ([]aws.TargetHealth, error)
}

// TargetGroupName is the name part of a target group ARN
// (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>).
func TargetGroupName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":targetgroup/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// GateConditionType is the condition type of the readiness gate of a target group.
func GateConditionType(targetGroupARN string) corev1.PodConditionType {
	return corev1.PodConditionType(ReadinessGatePrefix + TargetGroupName(targetGroupARN))
}

// podGates returns the condition types of the pod's readiness gates of ours.
func podGates(p *corev1.Pod) []string {
	var out []string
	for _, g := range p.Spec.ReadinessGates {
		if strings.HasPrefix(string(g.ConditionType), ReadinessGatePrefix) {
			out = append(out, string(g.ConditionType))
		}
	}
	return out
}

// indexGates is the field index function of indexPodGates.
func indexGates(o client.Object) []string {
	p, ok := o.(*corev1.Pod)
	if !ok {
		return nil
	}
	return podGates(p)
}

// podCondition returns the pod's condition of type t.
func podCondition(p *corev1.Pod, t corev1.PodConditionType) (corev1.PodCondition, bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c, true
		}
	}
	return corev1.PodCondition{}, false
}

// containersReady is true when the pod's containers are ready and the pod is not being deleted:
// its target may be registered although the pod is not Ready (its gates are pending).
func containersReady(p *corev1.Pod) bool {
	c, ok := podCondition(p, corev1.ContainersReady)
	return ok && c.Status == corev1.ConditionTrue && p.DeletionTimestamp.IsZero()
}

// gatedPods lists the pods of a binding's namespace that carry the binding's gate.
func (r *Reconciler) gatedPods(ctx context.Context, b Binding) ([]corev1.Pod, error) {
	if b.TargetType != TargetTypeIP || r.health == nil {
		return nil, nil
	}
	var pods corev1.PodList
	if err := r.reader.List(ctx, &pods, client.InNamespace(b.Backend.Namespace),
		client.MatchingFields{indexPodGates: string(GateConditionType(b.TargetGroupARN))}); err != nil {
		return nil, fmt.Errorf("listing the pods with the readiness gate of %s: %w", b.TargetGroupARN, err)
	}
	return pods.Items, nil
}

// gateAddresses are the IPs of the gated pods whose containers are ready: their endpoints are
// registered even when not ready.
func gateAddresses(pods []corev1.Pod) map[string]bool {
	out := map[string]bool{}
	for i := range pods {
		if !containersReady(&pods[i]) {
			continue
		}
		for _, ip := range pods[i].Status.PodIPs {
			out[ip.IP] = true
		}
		if ip := pods[i].Status.PodIP; ip != "" {
			out[ip] = true
		}
	}
	return out
}

// gateBudget spaces the DescribeTargetHealth reads of each target group: at most one per poll
// while some gate is pending, and after a failed read twice the previous pause, up to the cap.
type gateBudget struct {
	mu      sync.Mutex
	poll    time.Duration
	cap     time.Duration
	next    map[string]time.Time
	failure map[string]time.Duration
}

func newGateBudget(poll, cap time.Duration) *gateBudget {
	if poll <= 0 {
		poll = DefaultGatePoll
	}
	if cap < poll {
		cap = max(DefaultGateBackoffCap, poll)
	}
	return &gateBudget{poll: poll, cap: cap, next: map[string]time.Time{}, failure: map[string]time.Duration{}}
}

// wait says how long a read of arn must still wait at now (zero: read now).
func (g *gateBudget) wait(arn string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n, ok := g.next[arn]; ok && now.Before(n) {
		return n.Sub(now)
	}
	return 0
}

// read records a read of arn at now and returns the pause before the next one.
func (g *gateBudget) read(arn string, now time.Time, failed bool) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	pause := g.poll
	if failed {
		pause = min(max(g.failure[arn]*2, g.poll), g.cap)
		g.failure[arn] = pause
	} else {
		delete(g.failure, arn)
	}
	g.next[arn] = now.Add(pause)
	return pause
}

// forget drops what is remembered of arn (its gates are all True, or it is gone).
func (g *gateBudget) forget(arn string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.next, arn)
	delete(g.failure, arn)
}

// syncGates writes the gate conditions of a target group's pods from its targets' health and
// returns how soon the group should be looked at again (zero: no gate pending).
// A pod whose target AWS refused (held) waits for that, not for AWS's health: its gate says so,
// and it is no reason to read the health until the registration is tried again.
func (r *Reconciler) syncGates(ctx context.Context, b Binding, pods []corev1.Pod, desired []model.Target, held *refusal) time.Duration {
	arn := b.TargetGroupARN
	cond := GateConditionType(arn)
	logger := log.FromContext(ctx).WithValues("targetGroup", arn)
	// Pending gates of pods that are no target (their containers are not ready, the Service's
	// endpoints do not list them yet) say so; AWS has nothing to tell about them, so they are
	// not a reason to read the health. Their pod's next change brings the loop back.
	var waiting []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if !p.DeletionTimestamp.IsZero() {
			continue
		}
		if c, ok := podCondition(p, cond); ok && c.Status == corev1.ConditionTrue {
			continue
		}
		mine := podTargets(p, desired)
		if held != nil {
			if i := slices.IndexFunc(mine, func(t model.Target) bool { return held.targets[t] }); i >= 0 {
				r.setGate(ctx, p, refusedGateCondition(cond, mine[i], held))
				continue
			}
		}
		if len(mine) > 0 {
			waiting = append(waiting, p)
			continue
		}
		r.setGate(ctx, p, gateCondition(p, cond, nil, nil))
	}
	if len(waiting) == 0 {
		r.gates.forget(arn)
		return 0
	}
	now := r.now()
	if w := r.gates.wait(arn, now); w > 0 {
		return w
	}
	health, err := r.health.TargetHealth(ctx, arn)
	if err != nil {
		pause := r.gates.read(arn, now, true)
		logger.Info("reading target health for readiness gates failed; trying again later", "error", err.Error(), "after", pause.String())
		return pause
	}
	pause := r.gates.read(arn, now, false)
	byTarget := map[model.Target]aws.TargetHealth{}
	for _, h := range health {
		byTarget[model.Target{ID: h.ID, Port: h.Port}] = h
	}
	stillPending := false
	for _, p := range waiting {
		next := gateCondition(p, cond, desired, byTarget)
		if written := r.setGate(ctx, p, next); !written || next.Status != corev1.ConditionTrue {
			stillPending = true
		}
	}
	if !stillPending {
		r.gates.forget(arn)
		return 0
	}
	return pause
}

// setGate writes a gate condition unless the pod has it already; false when the write failed.
func (r *Reconciler) setGate(ctx context.Context, p *corev1.Pod, next corev1.PodCondition) bool {
	if old, ok := podCondition(p, next.Type); ok && old.Status == next.Status && old.Reason == next.Reason && old.Message == next.Message {
		return true
	}
	if err := r.writeGate(ctx, p, next); err != nil {
		log.FromContext(ctx).Info("writing a readiness gate condition failed", "pod", p.Namespace+"/"+p.Name, "error", err.Error())
		return false
	}
	return true
}

// podTargets are the targets of the pod (by its IPs) among a target group's.
func podTargets(p *corev1.Pod, desired []model.Target) []model.Target {
	ips := map[string]bool{}
	if p.Status.PodIP != "" {
		ips[p.Status.PodIP] = true
	}
	for _, ip := range p.Status.PodIPs {
		ips[ip.IP] = true
	}
	var mine []model.Target
	for _, t := range desired {
		if ips[t.ID] {
			mine = append(mine, t)
		}
	}
	return mine
}

// gateCondition is the condition a gated pod's target deserves: True when every target of the
// pod in the group is healthy, else False with what AWS says (or that it is not registered).
func gateCondition(p *corev1.Pod, cond corev1.PodConditionType, desired []model.Target, health map[model.Target]aws.TargetHealth) corev1.PodCondition {
	mine := podTargets(p, desired)
	name := strings.TrimPrefix(string(cond), ReadinessGatePrefix)
	out := corev1.PodCondition{Type: cond, Status: corev1.ConditionFalse}
	if len(mine) == 0 {
		out.Reason = ReasonTargetNotRegistered
		out.Message = fmt.Sprintf("the pod is not a target of target group %s yet (its containers are not ready, or the Service's endpoints do not list it)", name)
		return out
	}
	for _, t := range mine {
		h, ok := health[model.Target{ID: t.ID, Port: t.Port}]
		switch {
		case !ok:
			out.Reason = ReasonTargetNotRegistered
			out.Message = fmt.Sprintf("target %s:%d is not registered in target group %s yet", t.ID, t.Port, name)
			return out
		case h.State != "healthy":
			out.Reason = h.Reason
			if out.Reason == "" {
				out.Reason = ReasonTargetNotHealthy
			}
			out.Message = fmt.Sprintf("target %s:%d of target group %s is %s", t.ID, t.Port, name, h.State)
			return out
		}
	}
	out.Status = corev1.ConditionTrue
	out.Reason = ReasonTargetHealthy
	out.Message = fmt.Sprintf("healthy in target group %s", name)
	return out
}

// refusedGateCondition is the gate of a pod whose target t AWS refused to register.
func refusedGateCondition(cond corev1.PodConditionType, t model.Target, held *refusal) corev1.PodCondition {
	msg := fmt.Sprintf("AWS refused to register target %s:%d in target group %s; tried again when the Service's endpoints change or at the next resync",
		t.ID, t.Port, strings.TrimPrefix(string(cond), ReadinessGatePrefix))
	for _, p := range held.problems {
		if strings.Contains(p.Message, fmt.Sprintf("%s:%d ", t.ID, t.Port)) {
			msg = p.Message
		}
	}
	return corev1.PodCondition{Type: cond, Status: corev1.ConditionFalse, Reason: ReasonTargetRefused, Message: msg}
}

// writeGate patches one condition of a pod's status. A strategic merge patch merges the pod's
// conditions by type, so the others (written by the kubelet) are left as they are.
func (r *Reconciler) writeGate(ctx context.Context, p *corev1.Pod, c corev1.PodCondition) error {
	now := metav1.NewTime(r.now())
	c.LastProbeTime = now
	c.LastTransitionTime = now
	if old, ok := podCondition(p, c.Type); ok && old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{c}}})
	if err != nil {
		return err
	}
	target := &corev1.Pod{}
	target.Namespace, target.Name = p.Namespace, p.Name
	return r.writer.Status().Patch(ctx, target, client.RawPatch(types.StrategicMergePatchType, patch))
}

// releaseGates sets True the gates of a target group that left the registry (its route or
// Gateway was deleted, or it was replaced by one of another name), on the pods where it is not
// True yet: they would otherwise never become Ready. A group of the same name that is bound
// again keeps its gates.
func (r *Reconciler) releaseGates(ctx context.Context, arn string) error {
	r.gates.forget(arn)
	if r.health == nil || len(r.registry.ForTargetGroupName(TargetGroupName(arn))) > 0 {
		return nil
	}
	cond := GateConditionType(arn)
	var pods corev1.PodList
	if err := r.reader.List(ctx, &pods, client.MatchingFields{indexPodGates: string(cond)}); err != nil {
		return fmt.Errorf("listing the pods with the readiness gate of %s: %w", arn, err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if c, ok := podCondition(p, cond); (ok && c.Status == corev1.ConditionTrue) || !p.DeletionTimestamp.IsZero() {
			continue
		}
		next := corev1.PodCondition{Type: cond, Status: corev1.ConditionTrue, Reason: ReasonTargetGroupRemoved,
			Message: fmt.Sprintf("target group %s is no longer part of any Gateway; nothing to wait for", TargetGroupName(arn))}
		if err := r.writeGate(ctx, p, next); err != nil {
			return fmt.Errorf("releasing the readiness gate of pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return nil
}

// mapPod reconciles the target groups whose gates a pod carries.
func (r *Reconciler) mapPod(_ context.Context, o client.Object) []reconcile.Request {
	p, ok := o.(*corev1.Pod)
	if !ok {
		return nil
	}
	var arns []string
	for _, g := range podGates(p) {
		arns = append(arns, r.registry.ForTargetGroupName(strings.TrimPrefix(g, ReadinessGatePrefix))...)
	}
	slices.Sort(arns)
	return requests(slices.Compact(arns))
}
