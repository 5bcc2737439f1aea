package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// scenario is a Gateway with the given listeners in namespace ns, an internet-facing
// configuration, the seed's class, and a backend Service with one ready endpoint.
func scenario(t *testing.T, ns, listenersYAML string) {
	t.Helper()
	scenarioIn(t, env.client, ns, listenersYAML)
}

// scenarioIn is scenario in the cluster c reaches.
func scenarioIn(t *testing.T, c client.Client, ns, listenersYAML string) {
	t.Helper()
	applyFiles(t, c, ns, "examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/lbconfig.yaml", "examples/seed-l4/backend-service.yaml")
	applyYAML(t, c, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  gatewayClassName: aws-nlb-gateway-class
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: internet-facing-config}
  listeners:
`+listenersYAML)
}

const ipTargets = `
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata:
  name: backend-ip
spec:
  targetReference: {name: backend}
  defaultConfiguration: {targetType: ip}
`

func route(kind, name, section, backendNS, backend string, port int) string {
	ref := fmt.Sprintf("{name: %s, port: %d}", backend, port)
	if backendNS != "" {
		ref = fmt.Sprintf("{name: %s, namespace: %s, port: %d}", backend, backendNS, port)
	}
	hostnames := ""
	if kind == "TLSRoute" {
		hostnames = "\n  hostnames: [app.example.com]"
	}
	return fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: %s
metadata:
  name: %s
spec:
  parentRefs: [{name: gw, sectionName: %s}]%s
  rules:
  - backendRefs: [%s]
`, kind, name, section, hostnames, ref)
}

// waitListeners waits for the load balancer's listeners and returns its target groups.
func waitListeners(t *testing.T, lbARN, want string) {
	t.Helper()
	eventually(t, 30*timeoutScale, "listeners "+want, func() error {
		if got := listenerSummary(listeners(t, lbARN)); got != want {
			return fmt.Errorf("listeners %q", got)
		}
		return nil
	})
}

func TestUDPRoute(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: dns, protocol: UDP, port: 53}\n")
	applyYAML(t, env.client, ns, ipTargets+"---"+route("UDPRoute", "dns", "dns", "", "backend", 3000))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	waitListeners(t, lbARN, "UDP:53")
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 || tgs[0].Protocol != "UDP" {
		t.Fatalf("target groups %+v, want one UDP", tgs)
	}
	waitTargets(t, "target registered", *tgs[0].TargetGroupArn, "192.0.2.10:3000")
}

func TestTLSRoute(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tls, protocol: TLS, port: 443, hostname: app.example.com, tls: {mode: Passthrough}}\n")
	applyYAML(t, env.client, ns, ipTargets+"---"+route("TLSRoute", "tls", "tls", "", "backend", 3000))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	waitListeners(t, lbARN, "TCP:443")
}

func TestTCPAndUDPOnOnePort(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 5353}\n  - {name: udp, protocol: UDP, port: 5353}\n")
	applyYAML(t, env.client, ns, ipTargets+"---"+route("TCPRoute", "tcp", "tcp", "", "backend", 3000)+"---"+route("UDPRoute", "udp", "udp", "", "backend", 3000))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	waitListeners(t, lbARN, "TCP_UDP:5353")
}

func TestInstanceTargets(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 9000}\n")
	applyYAML(t, env.client, ns, `
apiVersion: v1
kind: Service
metadata:
  name: nodeport
spec:
  type: NodePort
  ports: [{name: http, port: 80, targetPort: 3000}]
  selector: {app: backend}
`+"---"+route("TCPRoute", "tcp", "tcp", "", "nodeport", 80))
	nodeName := ns + "-node"
	// A running instance: AWS refuses to register one that does not exist.
	instance := runTestInstance(t, env.vpc.PrivateSubnets[0])
	applyYAML(t, env.client, "", fmt.Sprintf(`
apiVersion: v1
kind: Node
metadata:
  name: %s
spec:
  providerID: aws:///%s/%s
`, nodeName, env.vpc.Zones[0], instance))
	markNodeReady(t, nodeName)
	t.Cleanup(func() {
		_ = env.client.Delete(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}})
	})
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	waitListeners(t, lbARN, "TCP:9000")
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 || tgs[0].TargetType != "instance" {
		t.Fatalf("target groups %+v, want one instance target group", tgs)
	}
	eventually(t, 30*timeoutScale, "the node registered", func() error {
		got := targetSummary(t, *tgs[0].TargetGroupArn)
		if !strings.HasPrefix(got, instance+":") || strings.Contains(got, ",") {
			return fmt.Errorf("targets %q", got)
		}
		return nil
	})
	registered := targetSummary(t, *tgs[0].TargetGroupArn)

	// Karpenter starts draining the node: it leaves the target group; the taint going away
	// brings it back. Only the taint changes, so the node predicate must pass taint updates.
	setNodeTaints(t, nodeName, corev1.Taint{Key: "karpenter.sh/disrupted", Effect: corev1.TaintEffectNoSchedule})
	waitTargets(t, "the disrupted node deregistered", *tgs[0].TargetGroupArn, "")
	setNodeTaints(t, nodeName)
	waitTargets(t, "the node registered again", *tgs[0].TargetGroupArn, registered)
	// The cluster autoscaler's scale-down taint does the same.
	setNodeTaints(t, nodeName, corev1.Taint{Key: "ToBeDeletedByClusterAutoscaler", Value: "1733490000", Effect: corev1.TaintEffectNoSchedule})
	waitTargets(t, "the node being scaled down deregistered", *tgs[0].TargetGroupArn, "")
}

func TestCrossNamespaceBackend(t *testing.T) {
	ns := newNamespace(t)
	other := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 7000}\n")
	applyFiles(t, env.client, other, "examples/seed-l4/backend-service.yaml")
	applyYAML(t, env.client, other, ipTargets)
	applyYAML(t, env.client, ns, route("TCPRoute", "tcp", "tcp", other, "backend", 3000))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")

	eventually(t, 30*timeoutScale, "RefNotPermitted without a ReferenceGrant", func() error {
		c, err := routeCondition(env.client, "gateway.networking.k8s.io/v1", "TCPRoute", ns, "tcp", "ResolvedRefs")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != string(gwv1.RouteReasonRefNotPermitted) {
			return fmt.Errorf("ResolvedRefs %s/%s", c.Status, c.Reason)
		}
		return nil
	})
	if got := listenerSummary(listeners(t, lbARN)); got != "" {
		t.Errorf("listeners %q without a permitted backend, want none", got)
	}

	applyYAML(t, env.client, other, fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata:
  name: allow
spec:
  from: [{group: gateway.networking.k8s.io, kind: TCPRoute, namespace: %s}]
  to: [{group: "", kind: Service}]
`, ns))
	waitListeners(t, lbARN, "TCP:7000")
	eventually(t, 30*timeoutScale, "ResolvedRefs after the grant", func() error {
		c, err := routeCondition(env.client, "gateway.networking.k8s.io/v1", "TCPRoute", ns, "tcp", "ResolvedRefs")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue {
			return fmt.Errorf("ResolvedRefs %s/%s", c.Status, c.Reason)
		}
		return nil
	})
}

func TestMissingBackend(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 7100}\n")
	applyYAML(t, env.client, ns, route("TCPRoute", "tcp", "tcp", "", "nothing-here", 3000))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	eventually(t, 30*timeoutScale, "BackendNotFound", func() error {
		c, err := routeCondition(env.client, "gateway.networking.k8s.io/v1", "TCPRoute", ns, "tcp", "ResolvedRefs")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != string(gwv1.RouteReasonBackendNotFound) {
			return fmt.Errorf("ResolvedRefs %s/%s", c.Status, c.Reason)
		}
		return nil
	})
	if tgs := targetGroups(t, lbARN); len(tgs) != 0 {
		t.Errorf("%d target groups for a missing backend, want none", len(tgs))
	}
}

func TestBadGatewayNextToGoodOne(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 7200}\n")
	applyYAML(t, env.client, ns, `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bad
spec:
  gatewayClassName: aws-nlb-gateway-class
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: does-not-exist}
  listeners:
  - {name: tcp, protocol: TCP, port: 7200}
`)
	programmedGateway(t, env.client, ns, "gw")
	eventually(t, 30*timeoutScale, "the bad Gateway is not accepted", func() error {
		var gw gwv1.Gateway
		if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "bad"}, &gw); err != nil {
			return err
		}
		acc := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionAccepted))
		prog := meta.FindStatusCondition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
		if acc == nil || acc.Status != metav1.ConditionFalse || !strings.Contains(acc.Message, "does-not-exist") ||
			prog == nil || prog.Status != metav1.ConditionFalse {
			return fmt.Errorf("conditions %s", conditionsText(gw.Status.Conditions))
		}
		return nil
	})
	if left := stackLeftovers(t, ns+"/bad"); len(left) != 0 {
		t.Errorf("the bad Gateway owns %v, want nothing", left)
	}
}
