package controller

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/targets"
)

// ConditionTargetsRegistered is the Gateway condition that names the targets AWS refused to
// register (RegisterTargets answered InvalidTarget: an instance that is not running or does
// not exist). The targets loop registers the other targets regardless. The condition is
// present, False, only while some target is refused.
const ConditionTargetsRegistered = "gateway.k8s.aws/TargetsRegistered"

// targetsRegisteredCondition turns the refused targets of a Gateway into its condition; nil
// when there are none.
func targetsRegisteredCondition(gen int64, refused []targets.Problem) *metav1.Condition {
	if len(refused) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(refused))
	for _, p := range refused {
		msgs = append(msgs, p.Message)
	}
	return &metav1.Condition{Type: ConditionTargetsRegistered, Status: metav1.ConditionFalse, ObservedGeneration: gen,
		Reason:  targets.ReasonInvalidTarget,
		Message: truncate(fmt.Sprintf("AWS refused %d target(s); the others are registered: %s", len(refused), strings.Join(msgs, "; ")))}
}

// targetsRegisteredEvent emits a Warning when the condition appears or says something new.
func (w *statusWriter) targetsRegisteredEvent(gw *gwv1.Gateway, old, next []metav1.Condition) {
	was := meta.FindStatusCondition(old, ConditionTargetsRegistered)
	now := meta.FindStatusCondition(next, ConditionTargetsRegistered)
	if now != nil && (was == nil || was.Message != now.Message) {
		w.events.Eventf(gw, nil, corev1.EventTypeWarning, now.Reason, "RegisterTargets", "%s", now.Message)
	}
}
