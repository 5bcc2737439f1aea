package translate_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/translate"
)

// The scale benchmarks translate generated snapshots: an ALB Gateway with 10 HTTP listeners and
// 1, 100 or 1000 HTTPRoutes, and an NLB Gateway with 50 TCP listeners (the hard NLB limit).
// Every route has its own hostname, three rules with two matches each (a path prefix, and an
// exact path with a header) and one Service backend, so translation expands six rules per
// route before the ALB limits (100 rules per listener, 100 target groups per load balancer)
// cut the surplus, which is reported on the routes.

const (
	benchNamespace   = "bench"
	benchALBListener = 10
	benchServices    = 20
	benchNLBListener = model.MaxListenersPerLoadBalancer
)

var benchEpoch = time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)

func BenchmarkTranslateALB(b *testing.B) {
	for _, routes := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", routes), func(b *testing.B) {
			s := albScaleSnapshot(routes)
			var stack *model.Stack
			for b.Loop() {
				stack, _ = translate.Gateway(s)
			}
			// A listener without routes has nothing to program; the routes fill the listeners round-robin.
			if want := min(routes, benchALBListener); stack.LoadBalancer == nil || len(stack.Listeners) != want {
				b.Fatalf("translation of %d routes gave load balancer %v and %d listeners, want %d listeners",
					routes, stack.LoadBalancer != nil, len(stack.Listeners), want)
			}
			rules := countRules(stack)
			if want := min(6*routes, model.DefaultRulesPerLoadBalancer); rules == 0 || rules > want {
				b.Fatalf("translation of %d routes gave %d rules, want 1..%d", routes, rules, want)
			}
			b.ReportMetric(float64(rules), "rules/op")
			b.ReportMetric(float64(len(stack.TargetGroups)), "targetgroups/op")
		})
	}
}

func BenchmarkTranslateNLB(b *testing.B) {
	s := nlbScaleSnapshot(benchNLBListener)
	var stack *model.Stack
	for b.Loop() {
		stack, _ = translate.Gateway(s)
	}
	if stack.LoadBalancer == nil || len(stack.Listeners) != benchNLBListener || len(stack.TargetGroups) != benchNLBListener {
		b.Fatalf("translation gave load balancer %v, %d listeners and %d target groups, want %d of each",
			stack.LoadBalancer != nil, len(stack.Listeners), len(stack.TargetGroups), benchNLBListener)
	}
	b.ReportMetric(float64(len(stack.Listeners)), "listeners/op")
	b.ReportMetric(float64(countRules(stack)), "rules/op")
	b.ReportMetric(float64(len(stack.TargetGroups)), "targetgroups/op")
}

func countRules(s *model.Stack) int {
	n := 0
	for _, l := range s.Listeners {
		n += len(l.Rules)
	}
	return n
}

// albScaleSnapshot is an ALB Gateway with benchALBListener HTTP listeners and routes HTTPRoutes
// spread over them round-robin.
func albScaleSnapshot(routes int) *snapshot.Snapshot {
	s := scaleSnapshot("gateway.k8s.aws/alb", "bench-alb")
	for i := range benchALBListener {
		s.Gateway.Spec.Listeners = append(s.Gateway.Spec.Listeners, gwv1.Listener{
			Name: gwv1.SectionName(fmt.Sprintf("http-%d", i)), Protocol: gwv1.HTTPProtocolType, Port: gwv1.PortNumber(8000 + i)})
	}
	s.Services = scaleServices(benchServices, 8080)
	for i := range routes {
		s.HTTPRoutes = append(s.HTTPRoutes, scaleHTTPRoute(i))
	}
	return s
}

func scaleHTTPRoute(i int) gwv1.HTTPRoute {
	backend := []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
		Name: gwv1.ObjectName(serviceName(i % benchServices)), Port: ptr(gwv1.PortNumber(8080))}}}}
	var rules []gwv1.HTTPRouteRule
	for j := range 3 {
		rules = append(rules, gwv1.HTTPRouteRule{
			Matches: []gwv1.HTTPRouteMatch{
				{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr(fmt.Sprintf("/app%d/part%d", i, j))}},
				{
					Path:    &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr(fmt.Sprintf("/exact%d/part%d", i, j))},
					Headers: []gwv1.HTTPHeaderMatch{{Name: "x-tenant", Value: fmt.Sprintf("tenant-%d", j)}},
				},
			},
			BackendRefs: backend,
		})
	}
	return gwv1.HTTPRoute{
		ObjectMeta: scaleMeta(fmt.Sprintf("route-%04d", i), i),
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{
				Name: "bench-alb", SectionName: ptr(gwv1.SectionName(fmt.Sprintf("http-%d", i%benchALBListener)))}}},
			Hostnames: []gwv1.Hostname{gwv1.Hostname(fmt.Sprintf("app%04d.example.com", i))},
			Rules:     rules,
		},
	}
}

// nlbScaleSnapshot is an NLB Gateway with n TCP listeners, each with its own TCPRoute and Service.
func nlbScaleSnapshot(n int) *snapshot.Snapshot {
	s := scaleSnapshot("gateway.k8s.aws/nlb", "bench-nlb")
	s.Services = scaleServices(n, 3000)
	for i := range n {
		section := gwv1.SectionName(fmt.Sprintf("tcp-%d", i))
		s.Gateway.Spec.Listeners = append(s.Gateway.Spec.Listeners, gwv1.Listener{
			Name: section, Protocol: gwv1.TCPProtocolType, Port: gwv1.PortNumber(10000 + i)})
		s.TCPRoutes = append(s.TCPRoutes, gwv1.TCPRoute{
			ObjectMeta: scaleMeta(fmt.Sprintf("tcp-%04d", i), i),
			Spec: gwv1.TCPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "bench-nlb", SectionName: &section}}},
				Rules: []gwv1.TCPRouteRule{{BackendRefs: []gwv1.BackendRef{{BackendObjectReference: gwv1.BackendObjectReference{
					Name: gwv1.ObjectName(serviceName(i)), Port: ptr(gwv1.PortNumber(3000))}}}}},
			},
		})
	}
	return s
}

func scaleSnapshot(controller, gateway string) *snapshot.Snapshot {
	class := "bench-" + controller[len("gateway.k8s.aws/"):]
	s := &snapshot.Snapshot{
		Settings: snapshot.Settings{ControllerName: controller, ClusterName: "bench", VPCID: "vpc-0123456789abcdef0"},
		GatewayClass: &gwv1.GatewayClass{
			ObjectMeta: metav1.ObjectMeta{Name: class, Generation: 1},
			Spec:       gwv1.GatewayClassSpec{ControllerName: gwv1.GatewayController(controller)},
		},
		Gateway: &gwv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Name: gateway, Namespace: benchNamespace, Generation: 1,
				UID: types.UID("00000000-0000-4000-8000-0000000be4c7")},
			Spec: gwv1.GatewaySpec{GatewayClassName: gwv1.ObjectName(class)},
		},
	}
	for i, az := range []string{"a", "b", "c"} {
		s.AWS.Subnets = append(s.AWS.Subnets, snapshot.Subnet{
			ID: fmt.Sprintf("subnet-0%s%d", az, i), AvailabilityZone: "eu-west-1" + az, VPCID: s.Settings.VPCID, AvailableIPs: 250,
			Tags: map[string]string{"kubernetes.io/role/internal-elb": "1"},
		})
	}
	return s
}

func scaleServices(n int, port int32) []corev1.Service {
	out := make([]corev1.Service, 0, n)
	for i := range n {
		out = append(out, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: serviceName(i), Namespace: benchNamespace},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeNodePort,
				Selector: map[string]string{"app": serviceName(i)},
				Ports: []corev1.ServicePort{{Name: "main", Port: port, Protocol: corev1.ProtocolTCP,
					TargetPort: intstr.FromInt32(port), NodePort: 30000 + int32(i)}},
			},
		})
	}
	return out
}

func serviceName(i int) string { return fmt.Sprintf("svc-%02d", i) }

// scaleMeta names a route in the bench namespace; older routes come first.
func scaleMeta(name string, i int) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: benchNamespace, Generation: 1,
		CreationTimestamp: metav1.NewTime(benchEpoch.Add(time.Duration(i) * time.Second))}
}

func ptr[T any](v T) *T { return &v }
