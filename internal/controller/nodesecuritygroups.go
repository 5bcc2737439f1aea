package controller

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/targets"
)

// The worker-node security group condition. The targets loop writes the rules that let a load
// balancer reach its targets into one security group of each target's network interface, and
// records per Gateway the targets it could not place (targets.Problem). It never writes status:
// it tells the Gateway controllers, which reconcile the Gateway, and the report step shows the
// problems as a condition of the Gateway (and a Warning event when they change).

// ConditionWorkerNodeSecurityGroups is the Gateway condition that says whether the worker-node
// security group rules of every target could be written. It is present only when the Gateway's
// node rules are managed (a managed or shared backend security group, or an NLB without
// security groups).
const ConditionWorkerNodeSecurityGroups = "gateway.k8s.aws/WorkerNodeSecurityGroups"

// ReasonResolved is the reason of a true ConditionWorkerNodeSecurityGroups; the false reasons
// are the targets package's (NoSecurityGroup, AmbiguousSecurityGroup, NoNetworkInterface).
const ReasonResolved = "Resolved"

// reasonOrder ranks the reasons of problems: the condition's reason is the first one present.
var reasonOrder = []string{targets.ReasonAmbiguousSecurityGroup, targets.ReasonNoSecurityGroup, targets.ReasonNoNetworkInterface}

// nodeSecurityGroupCondition turns a Gateway's problems into its condition.
func nodeSecurityGroupCondition(gen int64, problems []targets.Problem) metav1.Condition {
	c := metav1.Condition{Type: ConditionWorkerNodeSecurityGroups, ObservedGeneration: gen}
	if len(problems) == 0 {
		c.Status, c.Reason = metav1.ConditionTrue, ReasonResolved
		c.Message = "The worker-node security group of every target has the load balancer's rules"
		return c
	}
	c.Status, c.Reason = metav1.ConditionFalse, problems[0].Reason
	for _, r := range reasonOrder {
		if hasReason(problems, r) {
			c.Reason = r
			break
		}
	}
	msgs := make([]string, 0, len(problems))
	for _, p := range problems {
		msgs = append(msgs, p.Message)
	}
	c.Message = truncate(fmt.Sprintf("Worker-node security group rules are missing for %d target(s): %s", len(problems), strings.Join(msgs, "; ")))
	return c
}

func hasReason(ps []targets.Problem, reason string) bool {
	for _, p := range ps {
		if p.Reason == reason {
			return true
		}
	}
	return false
}

// nodeSecurityGroupEvent emits a Warning when the condition turns false or says something new,
// and a Normal event when it turns true again, after the status carrying it was written.
func (w *statusWriter) nodeSecurityGroupEvent(gw *gwv1.Gateway, old, next []metav1.Condition) {
	was := meta.FindStatusCondition(old, ConditionWorkerNodeSecurityGroups)
	now := meta.FindStatusCondition(next, ConditionWorkerNodeSecurityGroups)
	switch {
	case now == nil:
	case now.Status == metav1.ConditionFalse && (was == nil || was.Status != now.Status || was.Reason != now.Reason || was.Message != now.Message):
		w.events.Eventf(gw, nil, corev1.EventTypeWarning, now.Reason, "ReconcileSecurityGroups", "%s", now.Message)
	case now.Status == metav1.ConditionTrue && was != nil && was.Status == metav1.ConditionFalse:
		w.events.Eventf(gw, nil, corev1.EventTypeNormal, now.Reason, "ReconcileSecurityGroups", "%s", now.Message)
	}
}

// problemSource queues a Gateway whenever the targets loop changes its problems.
func problemSource(reg *targets.Registry) source.Source {
	changed := reg.SubscribeProblems()
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case key := <-changed:
					ns, name, _ := strings.Cut(key, "/")
					q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
				}
			}
		}()
		return nil
	})
}
