package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/metric"
)

// Per-Gateway gauges, set by the status writer as it reports and removed when the Gateway is
// gone or leaves the controller, so a deleted Gateway leaves no series behind. Their labels:
// controller (gateway-nlb or gateway-alb, as controller-runtime's own metrics name the
// reconciler), gateway_namespace and gateway_name. The Gateway's labels are not called
// "namespace" and "name": Prometheus gives its scrape targets a namespace label, which would
// rename ours.
var gatewayLabels = []string{"controller", "gateway_namespace", "gateway_name"}

// gatewayMetrics are the per-Gateway gauges of one process, shared by both controllers. A nil
// *gatewayMetrics records nothing.
type gatewayMetrics struct {
	// programmed is 1 while the Gateway's Programmed condition is True, 0 otherwise.
	programmed *prometheus.GaugeVec
	// reconcileError is 1 while the Gateway's last reconcile ended in an error (a failed
	// step, or a change AWS refused), 0 once a reconcile succeeds.
	reconcileError *prometheus.GaugeVec
	// lastSuccess is the Unix time of the Gateway's last reconcile that ended without error.
	lastSuccess *prometheus.GaugeVec
}

// newGatewayMetrics makes the gauges and registers them with reg (nil: kept unexported).
func newGatewayMetrics(reg prometheus.Registerer) (*gatewayMetrics, error) {
	m := &gatewayMetrics{
		programmed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "elbgateway_gateway_programmed",
			Help: "1 while the Gateway's Programmed condition is True, 0 otherwise.",
		}, gatewayLabels),
		reconcileError: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "elbgateway_gateway_reconcile_error",
			Help: "1 while the Gateway's last reconcile ended in an error (a failed step or a change AWS refused), 0 once one succeeds.",
		}, gatewayLabels),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "elbgateway_gateway_last_success_timestamp_seconds",
			Help: "Unix time of the Gateway's last reconcile that ended without error.",
		}, gatewayLabels),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	for _, g := range []**prometheus.GaugeVec{&m.programmed, &m.reconcileError, &m.lastSuccess} {
		if *g, err = metric.Register(reg, *g); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// reconcilerName is how controller-runtime's metrics name the reconciler of a controller name.
func reconcilerName(controllerName string) string {
	return "gateway-" + controllerName[len("gateway.k8s.aws/"):]
}

// status sets the programmed gauge from the status the writer holds for the Gateway.
func (m *gatewayMetrics) status(controllerName string, gw *gwv1.Gateway, st gwv1.GatewayStatus) {
	if m == nil {
		return
	}
	v := 0.0
	if meta.IsStatusConditionTrue(st.Conditions, string(gwv1.GatewayConditionProgrammed)) {
		v = 1
	}
	m.programmed.WithLabelValues(reconcilerName(controllerName), gw.Namespace, gw.Name).Set(v)
}

// outcome records how the Gateway's reconcile ended.
func (m *gatewayMetrics) outcome(controllerName string, gw *gwv1.Gateway, failed bool, now time.Time) {
	if m == nil {
		return
	}
	labels := []string{reconcilerName(controllerName), gw.Namespace, gw.Name}
	if failed {
		m.reconcileError.WithLabelValues(labels...).Set(1)
		// A Gateway that never succeeded shows 0, so comparisons with it have a series.
		m.lastSuccess.WithLabelValues(labels...).Add(0)
		return
	}
	m.reconcileError.WithLabelValues(labels...).Set(0)
	m.lastSuccess.WithLabelValues(labels...).Set(float64(now.Unix()))
}

// forget removes the Gateway's series.
func (m *gatewayMetrics) forget(controllerName, namespace, name string) {
	if m == nil {
		return
	}
	for _, g := range []*prometheus.GaugeVec{m.programmed, m.reconcileError, m.lastSuccess} {
		g.DeleteLabelValues(reconcilerName(controllerName), namespace, name)
	}
}
