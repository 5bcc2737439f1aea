package controller

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

func TestKeepTimes(t *testing.T) {
	then := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	w := &statusWriter{now: func() time.Time { return now }}
	old := []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, LastTransitionTime: then},
		{Type: "Programmed", Status: metav1.ConditionUnknown, LastTransitionTime: then},
	}
	got := w.keepTimes(old, []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, Message: "new message"},
		{Type: "Programmed", Status: metav1.ConditionTrue},
	})
	if !got[0].LastTransitionTime.Equal(&then) {
		t.Errorf("unchanged status: lastTransitionTime %v, want kept %v", got[0].LastTransitionTime, then)
	}
	if !got[1].LastTransitionTime.Time.Equal(now) {
		t.Errorf("changed status: lastTransitionTime %v, want %v", got[1].LastTransitionTime, now)
	}
}

func TestProgrammedCondition(t *testing.T) {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	accepted := []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue}}
	for _, tt := range []struct {
		name   string
		conds  []metav1.Condition
		result *model.Stack
		status metav1.ConditionStatus
		reason string
	}{
		{"active", accepted, &model.Stack{LoadBalancer: &model.LoadBalancer{State: "active", ARN: "arn:lb"}}, metav1.ConditionTrue, "Programmed"},
		{"active_impaired", accepted, &model.Stack{LoadBalancer: &model.LoadBalancer{State: "active_impaired"}}, metav1.ConditionTrue, "Programmed"},
		{"provisioning", accepted, &model.Stack{LoadBalancer: &model.LoadBalancer{State: "provisioning"}}, metav1.ConditionUnknown, "Pending"},
		{"no load balancer yet", accepted, &model.Stack{}, metav1.ConditionUnknown, "Pending"},
		{"not accepted", []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionFalse, Message: "bad"}}, &model.Stack{}, metav1.ConditionFalse, "Invalid"},
	} {
		c := programmedCondition(gw, tt.conds, tt.result)
		if c.Status != tt.status || c.Reason != tt.reason || c.ObservedGeneration != 3 {
			t.Errorf("%s: %s/%s gen %d, want %s/%s gen 3", tt.name, c.Status, c.Reason, c.ObservedGeneration, tt.status, tt.reason)
		}
	}
	held := programmedCondition(gw, []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionFalse, Message: "bad"}},
		&model.Stack{LoadBalancer: &model.LoadBalancer{State: "active", ARN: "arn:lb"}})
	if held.Status != metav1.ConditionFalse || !strings.Contains(held.Message, "arn:lb keeps what it has") {
		t.Errorf("held Gateway: Programmed %s %q, want False saying its load balancer keeps what it has", held.Status, held.Message)
	}
	c := programmedCondition(gw, accepted, &model.Stack{LoadBalancer: &model.LoadBalancer{State: "active", ARN: "arn:lb"}})
	if c.Message != "arn:lb" {
		t.Errorf("programmed message %q, want the load balancer ARN (Gateway chaining reads it)", c.Message)
	}
}

func TestBindingsPairDesiredBackendsWithARNs(t *testing.T) {
	b := &model.Backend{Namespace: "ns", Service: "svc", Port: 80}
	desired := &model.Stack{TargetGroups: []model.TargetGroup{
		{ID: "a", TargetType: "ip", Backend: b},
		{ID: "b", TargetType: "ip", Backend: b},
		{ID: "external", TargetType: "ip"},
	}}
	result := &model.Stack{TargetGroups: []model.TargetGroup{{ID: "a", ARN: "arn:a"}, {ID: "external", ARN: "arn:x"}}}
	got := bindings(desired, result)
	if len(got) != 1 || got[0].TargetGroupARN != "arn:a" || got[0].Backend.Service != "svc" {
		t.Errorf("bindings %+v, want only arn:a with its backend", got)
	}
}
