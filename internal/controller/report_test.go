package controller

import (
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/status"
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

// TestListenerProgrammedFromTranslationKept: a listener that translation already knows is not
// served (no usable certificate) stays Programmed=False on an active load balancer; the others
// follow their AWS listeners.
func TestListenerProgrammedFromTranslationKept(t *testing.T) {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Generation: 2}, Spec: gwv1.GatewaySpec{Listeners: []gwv1.Listener{
		{Name: "https", Protocol: gwv1.HTTPSProtocolType, Port: 443},
		{Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 80},
	}}}
	accepted := metav1.Condition{Type: "Accepted", Status: metav1.ConditionTrue, ObservedGeneration: 2}
	set := &status.Set{Gateway: &status.Gateway{
		Conditions: []metav1.Condition{accepted},
		Listeners: []gwv1.ListenerStatus{
			{Name: "https", Conditions: []metav1.Condition{accepted,
				{Type: "Programmed", Status: metav1.ConditionFalse, Reason: "Invalid", ObservedGeneration: 2}}},
			{Name: "http", Conditions: []metav1.Condition{accepted}},
		},
	}}
	w := &statusWriter{now: time.Now}
	_, st := w.gatewayStatus(gw, reportInput{gateway: gw, owned: true, statuses: set,
		result: &model.Stack{LoadBalancer: &model.LoadBalancer{State: "active", ARN: "arn:lb"},
			Listeners: []model.Listener{{Port: 80, Protocol: "HTTP", ARN: "arn:listener"}}}})
	want := map[gwv1.SectionName]metav1.ConditionStatus{"https": metav1.ConditionFalse, "http": metav1.ConditionTrue}
	for _, l := range st.Listeners {
		var programmed []metav1.Condition
		for _, c := range l.Conditions {
			if c.Type == "Programmed" {
				programmed = append(programmed, c)
			}
		}
		if len(programmed) != 1 || programmed[0].Status != want[l.Name] || programmed[0].ObservedGeneration != 2 {
			t.Errorf("listener %s: Programmed conditions %+v, want one %s of generation 2", l.Name, programmed, want[l.Name])
		}
	}
}

// TestNotEvaluatedRefreshesStaleConditions: after a failed reconcile, no condition speaks of an
// older generation (or none, as the CRD's defaults do): those become Unknown for the current
// one and say why; current ones stay as they are.
func TestNotEvaluatedRefreshesStaleConditions(t *testing.T) {
	conds := []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionUnknown, Reason: "Pending"}, // the CRD's default
		{Type: "Programmed", Status: metav1.ConditionFalse, Reason: "Pending", ObservedGeneration: 4, Message: "gather: boom"},
		{Type: "Custom", Status: metav1.ConditionTrue, Reason: "Fine", ObservedGeneration: 3},
	}
	got := notEvaluated(conds, 4, errors.New("gather: boom"))
	for _, c := range got {
		if c.ObservedGeneration != 4 {
			t.Errorf("%s: observedGeneration %d, want 4", c.Type, c.ObservedGeneration)
		}
	}
	if got[0].Status != metav1.ConditionUnknown || got[0].Reason != "Pending" || !strings.Contains(got[0].Message, "gather: boom") {
		t.Errorf("defaulted Accepted became %+v, want Unknown/Pending naming the failure", got[0])
	}
	if got[1] != conds[1] {
		t.Errorf("the current Programmed changed: %+v", got[1])
	}
	if got[2].Status != metav1.ConditionUnknown {
		t.Errorf("a condition of generation 3 stays %s at generation 4, want Unknown", got[2].Status)
	}
}
