package controller

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestGatewayMetricsForgetOnlyTheirGateway: the gauges of two Gateways, one forgotten; a second
// registration of the gauges (a second manager in one process) shares the series; a nil
// *gatewayMetrics records nothing and does not panic.
func TestGatewayMetricsForgetOnlyTheirGateway(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newGatewayMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := newGatewayMetrics(reg)
	if err != nil {
		t.Fatalf("registering the gauges twice: %v", err)
	}
	a := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}}
	b := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "b"}}
	programmed := gwv1.GatewayStatus{Conditions: []metav1.Condition{{Type: "Programmed", Status: metav1.ConditionTrue}}}
	m.status(ControllerNLB, a, programmed)
	m.outcome(ControllerNLB, a, false, time.Unix(1000, 0))
	again.status(ControllerALB, b, gwv1.GatewayStatus{})
	again.outcome(ControllerALB, b, true, time.Unix(2000, 0))

	if got := value(t, reg, "elbgateway_gateway_programmed", "gateway-nlb", "a"); got != 1 {
		t.Errorf("programmed of a = %g, want 1", got)
	}
	if got := value(t, reg, "elbgateway_gateway_last_success_timestamp_seconds", "gateway-nlb", "a"); got != 1000 {
		t.Errorf("last success of a = %g, want 1000", got)
	}
	if got := value(t, reg, "elbgateway_gateway_reconcile_error", "gateway-alb", "b"); got != 1 {
		t.Errorf("reconcile error of b = %g, want 1 (recorded through the second registration)", got)
	}
	if got := value(t, reg, "elbgateway_gateway_last_success_timestamp_seconds", "gateway-alb", "b"); got != 0 {
		t.Errorf("last success of b = %g, want 0 (never succeeded)", got)
	}
	m.forget(ControllerNLB, "ns", "a")
	if n := seriesCount(t, reg); n != 3 {
		t.Errorf("%d series after forgetting a, want b's 3", n)
	}
	var none *gatewayMetrics
	none.status(ControllerNLB, a, programmed)
	none.outcome(ControllerNLB, a, true, time.Now())
	none.forget(ControllerNLB, "ns", "a")
}

// value is the gauge of Gateway ns/name of a controller in reg, or -1 when there is none.
func value(t *testing.T, reg *prometheus.Registry, metric, controller, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if got["controller"] == controller && got["gateway_namespace"] == "ns" && got["gateway_name"] == name {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func seriesCount(t *testing.T, reg *prometheus.Registry) int {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		n += len(f.GetMetric())
	}
	return n
}
