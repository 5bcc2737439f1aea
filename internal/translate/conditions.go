package translate

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// condition builds a condition without lastTransitionTime: the status writer sets it when the
// status, reason or message changes, so translation stays free of the clock.
func condition(typ string, ok bool, reason, message string, generation int64) metav1.Condition {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	return metav1.Condition{
		Type:               typ,
		Status:             st,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: generation,
	}
}

// problem is a rejected input: a Gateway API reason and a message naming the field and the fix.
type problem struct {
	reason  string
	message string
}

// joinProblems returns the reason of the first problem and all messages joined.
func joinProblems(ps []problem) (string, string) {
	if len(ps) == 0 {
		return "", ""
	}
	msg := ""
	for i, p := range ps {
		if i > 0 {
			msg += "; "
		}
		msg += p.message
	}
	return ps[0].reason, msg
}
