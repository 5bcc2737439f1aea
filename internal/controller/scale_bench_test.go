package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
)

// BenchmarkScale is the scale scenario, on a cluster, VPC and controller of its own whose
// AWS calls all pass through a counting proxy: scaleGateways ALB Gateways with one HTTP
// listener, each with scaleRoutes HTTPRoutes to a Service of their own (ip targets, one
// endpoint in the VPC's first subnet). It reports, for one run:
//
//   - apply-s, apply-calls: from creating every object until all Gateways are Programmed, and
//     the AWS calls until the controller is quiet;
//   - edit-calls: the calls of changing one path of one route of every Gateway (to a path of the
//     same precedence);
//   - restart-calls/gateway: the calls of a new controller process (empty caches) taking over
//     the unchanged Gateways, until quiet, per Gateway;
//   - delete-s, delete-calls: deleting every Gateway until all are gone.
//
// Run it with make bench PKGS=./internal/controller/ BENCHTIME=1x.
func BenchmarkScale(b *testing.B) {
	for b.Loop() {
		runScale(b)
	}
}

const (
	scaleGateways = 20
	scaleRoutes   = 5
)

func runScale(b *testing.B) {
	w := startFaultWorld(b)
	ctx := context.Background()
	stop := w.startALBController(b)
	ns := newNamespaceIn(b, w.client)
	applyYAML(b, w.client, ns, albClass+"---"+albConfig(""))
	var objs strings.Builder
	for j := range scaleRoutes {
		fmt.Fprintf(&objs, "---\n%s---\n%s", scaleService(j), scaleTGC(j))
	}
	applyYAML(b, w.client, ns, objs.String())

	w.proxy.ResetCounts()
	start := time.Now()
	for i := range scaleGateways {
		var text strings.Builder
		text.WriteString(albGateway(fmt.Sprintf("gw-%d", i), "  - {name: http, protocol: HTTP, port: 80}\n"))
		for j := range scaleRoutes {
			fmt.Fprintf(&text, "---\n%s", scaleRoute(i, j, fmt.Sprintf("/r%d", j)))
		}
		applyYAML(b, w.client, ns, text.String())
	}
	w.waitAllProgrammed(b, ns, 5*time.Minute)
	applySeconds := time.Since(start).Seconds()
	applyCalls := w.quietCalls(b)

	w.proxy.ResetCounts()
	for i := range scaleGateways {
		// A path of the same precedence (same length; ties keep their order): the rule keeps its
		// priority, so the edit is one ModifyRule.
		patch := `[{"op":"replace","path":"/spec/rules/0/matches/0/path/value","value":"/e0"}]`
		route := scaleRouteObject(ns, fmt.Sprintf("gw-%d-r0", i))
		if err := w.client.Patch(ctx, route, client.RawPatch(types.JSONPatchType, []byte(patch))); err != nil {
			b.Fatal(err)
		}
	}
	w.waitEdited(b, ns)
	editCalls := w.quietCalls(b)

	stop()
	w.proxy.ResetCounts()
	stop = w.startALBController(b)
	// Until the targets loop has looked at every target group again, then quiet.
	eventually(b, 5*time.Minute, "every target group synced after the restart", func() error {
		if n := w.proxy.ServiceCounts()["elasticloadbalancing:DescribeTargetHealth"]; n < scaleGateways*scaleRoutes {
			return fmt.Errorf("%d target groups synced", n)
		}
		return nil
	})
	restartCalls := w.quietCalls(b)

	w.proxy.ResetCounts()
	start = time.Now()
	for i := range scaleGateways {
		gw := &gwv1.Gateway{}
		gw.Namespace, gw.Name = ns, fmt.Sprintf("gw-%d", i)
		if err := w.client.Delete(ctx, gw); err != nil {
			b.Fatal(err)
		}
	}
	eventually(b, 5*time.Minute, "every Gateway deleted", func() error {
		var list gwv1.GatewayList
		if err := w.client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(list.Items) > 0 {
			return fmt.Errorf("%d Gateways left", len(list.Items))
		}
		return nil
	})
	deleteSeconds := time.Since(start).Seconds()
	deleteCalls := w.quietCalls(b)
	stop()

	b.Logf("apply: %.1f s, %d calls: %s", applySeconds, total(applyCalls), countsText(applyCalls))
	b.Logf("edit: %d calls: %s", total(editCalls), countsText(editCalls))
	b.Logf("cold restart: %d calls: %s", total(restartCalls), countsText(restartCalls))
	b.Logf("delete: %.1f s, %d calls: %s", deleteSeconds, total(deleteCalls), countsText(deleteCalls))
	b.ReportMetric(applySeconds, "apply-s")
	b.ReportMetric(float64(total(applyCalls)), "apply-calls")
	b.ReportMetric(float64(total(editCalls)), "edit-calls")
	b.ReportMetric(float64(total(restartCalls)), "restart-calls")
	b.ReportMetric(float64(total(restartCalls))/scaleGateways, "restart-calls/gateway")
	b.ReportMetric(deleteSeconds, "delete-s")
	b.ReportMetric(float64(total(deleteCalls)), "delete-calls")
}

// startALBController starts a controller with both gates on the world's cluster, calling AWS
// through the proxy with a fresh aws.Cloud (empty caches, as a new process).
func (w *faultWorld) startALBController(tb testing.TB) (stop func()) {
	tb.Helper()
	cloud, err := aws.New(context.Background(), cloudOptions(w.name, w.vpc.VPCID, w.proxy.URL))
	if err != nil {
		tb.Fatal(err)
	}
	o := controllerOptions(w.name, cloud)
	o.VPCID, o.Gates = w.vpc.VPCID, controller.Gates{NLB: true, ALB: true}
	stop, _ = startTestController(tb, w.cluster.Config, o)
	return stop
}

// waitAllProgrammed waits until every Gateway in ns is Programmed=True.
func (w *faultWorld) waitAllProgrammed(tb testing.TB, ns string, timeout time.Duration) {
	tb.Helper()
	eventually(tb, timeout, "every Gateway programmed", func() error {
		var list gwv1.GatewayList
		if err := w.client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return err
		}
		n := 0
		for _, gw := range list.Items {
			if c := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)); c != nil && c.Status == metav1.ConditionTrue {
				n++
			}
		}
		if n < scaleGateways {
			return fmt.Errorf("%d of %d programmed", n, scaleGateways)
		}
		return nil
	})
}

// waitEdited waits until AWS holds the edited path of every Gateway.
func (w *faultWorld) waitEdited(tb testing.TB, ns string) {
	tb.Helper()
	eventually(tb, 2*time.Minute, "every edited path in AWS", func() error {
		counts := w.proxy.ServiceCounts()
		if counts["elasticloadbalancing:ModifyRule"]+counts["elasticloadbalancing:CreateRule"] < scaleGateways {
			return fmt.Errorf("%d rules changed", counts["elasticloadbalancing:ModifyRule"]+counts["elasticloadbalancing:CreateRule"])
		}
		return nil
	})
}

// quietCalls waits until the proxy has seen no call for 5 s and returns the counts.
func (w *faultWorld) quietCalls(tb testing.TB) map[string]int {
	tb.Helper()
	last, since := total(w.proxy.ServiceCounts()), time.Now()
	eventually(tb, 5*time.Minute, "AWS calls to stop", func() error {
		if n := total(w.proxy.ServiceCounts()); n != last {
			last, since = n, time.Now()
		}
		if time.Since(since) < 5*time.Second {
			return fmt.Errorf("%d calls so far", last)
		}
		return nil
	})
	return w.proxy.ServiceCounts()
}

func total(counts map[string]int) int {
	n := 0
	for _, v := range counts {
		n += v
	}
	return n
}

func scaleService(j int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: backend-%[1]d
spec:
  ports: [{name: http, port: 3000, targetPort: 3000}]
  selector: {app: backend-%[1]d}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-%[1]d-1
  labels: {kubernetes.io/service-name: backend-%[1]d}
addressType: IPv4
ports: [{name: http, port: 3000, protocol: TCP}]
endpoints:
- addresses: [10.0.0.%[2]d]
  conditions: {ready: true, serving: true, terminating: false}
`, j, 10+j)
}

func scaleTGC(j int) string {
	return fmt.Sprintf(`apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata:
  name: backend-%[1]d-ip
spec:
  targetReference: {name: backend-%[1]d}
  defaultConfiguration: {targetType: ip}
`, j)
}

func scaleRoute(i, j int, path string) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: gw-%[1]d-r%[2]d
spec:
  parentRefs: [{name: gw-%[1]d, sectionName: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: %[3]s}}]
    backendRefs: [{name: backend-%[2]d, port: 3000}]
`, i, j, path)
}

func scaleRouteObject(ns, name string) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{}
	r.Namespace, r.Name = ns, name
	return r
}
