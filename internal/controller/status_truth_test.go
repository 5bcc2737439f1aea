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
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Truthful status on the real API server: each object says what AWS has of it.

// waitCondition polls a condition until it has the status and reason, and returns it.
func waitCondition(t *testing.T, what string, status metav1.ConditionStatus, reason string, get func() (*metav1.Condition, error)) metav1.Condition {
	t.Helper()
	var got metav1.Condition
	eventually(t, 30*timeoutScale, what, func() error {
		c, err := get()
		if err != nil {
			return err
		}
		if c.Status != status || c.Reason != reason {
			return fmt.Errorf("%s %s %q", c.Status, c.Reason, c.Message)
		}
		got = *c
		return nil
	})
	return got
}

// gatewayCondition reads a Gateway condition, or one of a listener's when listener is set.
func gatewayCondition(ns, name, listener, typ string) func() (*metav1.Condition, error) {
	return func() (*metav1.Condition, error) {
		var gw gwv1.Gateway
		if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
			return nil, err
		}
		conds := gw.Status.Conditions
		if listener != "" {
			conds = nil
			for _, l := range gw.Status.Listeners {
				if string(l.Name) == listener {
					conds = l.Conditions
				}
			}
		}
		if c := meta.FindStatusCondition(conds, typ); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("no %s condition yet: %s", typ, conditionsText(conds))
	}
}

func routeParentCondition(controllerName, kind, ns, name, typ string) func() (*metav1.Condition, error) {
	return func() (*metav1.Condition, error) {
		return parentConditionOf(env.client, controllerName, routeRef{apiVersion: "gateway.networking.k8s.io/v1", kind: kind, ns: ns, name: name}, typ)
	}
}

// An HTTPS listener without a certificate has no AWS listener: it is not Programmed, while the
// HTTP listener beside it is.
func TestListenerProgrammedOnlyWithItsAWSListener(t *testing.T) {
	ns := newNamespace(t)
	albScenario(t, ns, "", "  - {name: http, protocol: HTTP, port: 80}\n  - {name: https, protocol: HTTPS, port: 443}\n")
	applyYAML(t, env.client, ns, pathRoute("web", "/")+"---"+strings.Replace(pathRoute("secure", "/"), "sectionName: http}", "sectionName: https}", 1))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	waitListeners(t, lbARN, "HTTP:80")
	waitCondition(t, "listener http Programmed", metav1.ConditionTrue, "Programmed", gatewayCondition(ns, "gw", "http", "Programmed"))
	c := waitCondition(t, "listener https Programmed", metav1.ConditionFalse, "Invalid", gatewayCondition(ns, "gw", "https", "Programmed"))
	if !strings.Contains(c.Message, "no AWS listener") || !strings.Contains(c.Message, "certificate") {
		t.Errorf("https Programmed message %q: want it to say there is no AWS listener and why", c.Message)
	}
}

// Routes of the other layer's kinds get a status from the Gateway they name.
func TestCrossLayerRoutesNotAllowed(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 8080}\n")
	applyYAML(t, env.client, ns, ipTargets+"---"+route("TCPRoute", "tcp", "tcp", "", "backend", 3000)+"---"+
		strings.Replace(pathRoute("web-on-nlb", "/"), "sectionName: http}", "sectionName: tcp}", 1))
	c := waitCondition(t, "HTTPRoute on an NLB Gateway", metav1.ConditionFalse, "NotAllowedByListeners",
		routeParentCondition("gateway.k8s.aws/nlb", "HTTPRoute", ns, "web-on-nlb", "Accepted"))
	if !strings.Contains(c.Message, "gateway.k8s.aws/alb") {
		t.Errorf("message %q does not name the class the route needs", c.Message)
	}
	waitCondition(t, "TCPRoute beside it", metav1.ConditionTrue, "Accepted", routeParentCondition("gateway.k8s.aws/nlb", "TCPRoute", ns, "tcp", "Accepted"))

	alb := newNamespace(t)
	albScenario(t, alb, "", "  - {name: http, protocol: HTTP, port: 80}\n")
	applyYAML(t, env.client, alb, route("TCPRoute", "tcp-on-alb", "http", "", "backend", 3000))
	waitCondition(t, "TCPRoute on an ALB Gateway", metav1.ConditionFalse, "NotAllowedByListeners",
		routeParentCondition(albController, "TCPRoute", alb, "tcp-on-alb", "Accepted"))
}

// A GatewayClass whose parametersRef names nothing: InvalidParameters on the class and on its
// Gateway.
func TestClassParametersRefMissing(t *testing.T) {
	ns := newNamespace(t)
	class := fmt.Sprintf("missing-params-%d", time.Now().UnixNano()%100000)
	applyYAML(t, env.client, ns, fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: %s
spec:
  controllerName: gateway.k8s.aws/nlb
  parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: nowhere, namespace: %s}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  gatewayClassName: %s
  listeners: [{name: tcp, protocol: TCP, port: 8080}]
`, class, ns, class))
	waitCondition(t, "GatewayClass Accepted", metav1.ConditionFalse, "InvalidParameters", func() (*metav1.Condition, error) {
		var gc gwv1.GatewayClass
		if err := env.client.Get(context.Background(), types.NamespacedName{Name: class}, &gc); err != nil {
			return nil, err
		}
		if c := meta.FindStatusCondition(gc.Status.Conditions, "Accepted"); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("no Accepted yet")
	})
	c := waitCondition(t, "Gateway Accepted", metav1.ConditionFalse, "InvalidParameters", gatewayCondition(ns, "gw", "", "Accepted"))
	if !strings.Contains(c.Message, "spec.parametersRef") {
		t.Errorf("Gateway Accepted message %q does not name the field", c.Message)
	}
}

// An ExternalName Service cannot be a target: the route says so, the rest of it is programmed.
func TestExternalNameServiceUnsupported(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 8080}\n")
	applyYAML(t, env.client, ns, `
apiVersion: v1
kind: Service
metadata:
  name: external
spec:
  type: ExternalName
  externalName: example.com
  ports: [{port: 3000}]
`+"---"+route("TCPRoute", "tcp", "tcp", "", "external", 3000))
	c := waitCondition(t, "route to an ExternalName Service", metav1.ConditionFalse, "UnsupportedValue",
		routeParentCondition("gateway.k8s.aws/nlb", "TCPRoute", ns, "tcp", "ResolvedRefs"))
	if !strings.Contains(c.Message, "ExternalName") {
		t.Errorf("ResolvedRefs message %q does not say why", c.Message)
	}
}
