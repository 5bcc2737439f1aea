package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// BenchmarkHealthyBesideRefused: how long the seed NLB Gateway takes to be Programmed alone,
// and created beside seven Gateways whose CreateLoadBalancer AWS refuses (ValidationError,
// injected by the proxy for their namespaces only) once they have been refused. Reports
// alone-s, beside-s, their ratio, and the CreateLoadBalancer calls from the first refused
// Gateway's creation to the healthy one's programming. The goal is a ratio within 1.5: refused
// Gateways back off and do not share a write funnel with healthy ones.
func BenchmarkHealthyBesideRefused(b *testing.B) {
	w := startFaultWorld(b)
	for b.Loop() {
		stop := w.startALBController(b)
		w.timeSeedGateway(b, "warm-up") // the first Gateway also lists the region and makes the shared groups
		alone := w.timeSeedGateway(b, "alone")

		w.proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Action: "CreateLoadBalancer", Code: "ValidationError", BodyContains: "refused-"})
		w.proxy.ResetCounts()
		var refused []string
		for i := range 7 {
			ns := w.namespace(b, fmt.Sprintf("refused-%d", i))
			applyFiles(b, w.client, ns, seedFiles...)
			refused = append(refused, ns)
		}
		// The seven exist and have been refused (as broken Gateways in a cluster are): the healthy
		// one is created beside them.
		for _, ns := range refused {
			eventually(b, 2*time.Minute, "Gateway "+ns+" refused", func() error {
				c, err := w.programmed(ns, "aws-tcp-gateway")
				if err != nil {
					return err
				}
				if !strings.Contains(c.Message, "ValidationError") {
					return fmt.Errorf("Programmed %s %q", c.Status, c.Message)
				}
				return nil
			})
		}
		w.quietCalls(b) // their first attempts are over; they back off
		beside := w.timeSeedGateway(b, "beside")
		counts := w.proxy.ServiceCounts()
		w.proxy.SetFaults()
		for _, ns := range refused {
			w.deleteGateway(b, ns, "aws-tcp-gateway", 2*time.Minute)
		}
		stop()

		b.Logf("alone %.1f s, beside seven refused %.1f s; calls meanwhile: %s", alone, beside, countsText(counts))
		b.ReportMetric(alone, "alone-s")
		b.ReportMetric(beside, "beside-s")
		b.ReportMetric(beside/alone, "beside/alone")
		b.ReportMetric(float64(counts["elasticloadbalancing:CreateLoadBalancer"]), "createLoadBalancer-calls")
	}
}

// timeSeedGateway creates the seed NLB Gateway in a new namespace, returns the seconds until it
// is Programmed, and deletes it.
func (w *faultWorld) timeSeedGateway(tb testing.TB, prefix string) float64 {
	tb.Helper()
	ns := w.namespace(tb, prefix)
	start := time.Now()
	applyFiles(tb, w.client, ns, seedFiles...)
	w.waitProgrammed(tb, ns, "aws-tcp-gateway", 3*time.Minute)
	took := time.Since(start).Seconds()
	w.deleteGateway(tb, ns, "aws-tcp-gateway", 2*time.Minute)
	return took
}

// namespace creates a namespace named prefix-<nanoseconds>.
func (w *faultWorld) namespace(tb testing.TB, prefix string) string {
	tb.Helper()
	name := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1000000)
	if err := w.client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		tb.Fatal(err)
	}
	return name
}
