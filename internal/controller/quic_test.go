package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func quicGateway(name, config string) string {
	return fmt.Sprintf(`
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata:
  name: %[1]s
spec:
  scheme: internal
%[2]s
  listenerConfigurations:
  - {protocolPort: "UDP:443", quicEnabled: true}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: %[1]s
spec:
  gatewayClassName: aws-nlb-gateway-class
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: %[1]s}
  listeners:
  - {name: quic, protocol: UDP, port: 443}
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata:
  name: %[1]s
spec:
  parentRefs: [{name: %[1]s, sectionName: quic}]
  rules:
  - backendRefs: [{name: backend, port: 3000}]
`, name, config)
}

// TestQUICListener: quicEnabled on the UDP:443 listener configuration of an NLB without security
// groups makes a QUIC listener forwarding to a QUIC target group, whose pod target is registered
// (with its QUIC server ID, which the strict layer requires). Asked of an NLB with security
// groups, AWS would refuse the listener: the Gateway says so, naming the field.
func TestQUICListener(t *testing.T) {
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, "examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/backend-service.yaml")
	applyYAML(t, env.client, ns, ipTargets+"---"+quicGateway("quic", "  disableSecurityGroup: true")+"---"+quicGateway("withsg", ""))
	_, lbARN := programmedGateway(t, env.client, ns, "quic")
	waitListeners(t, lbARN, "QUIC:443")
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 || tgs[0].Protocol != "QUIC" {
		t.Fatalf("target groups %+v, want one QUIC", tgs)
	}
	waitTargets(t, "QUIC target registered", *tgs[0].TargetGroupArn, "192.0.2.10:3000")

	eventually(t, 30*timeoutScale, "the Gateway with security groups refused", func() error {
		var g gwv1.Gateway
		if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "withsg"}, &g); err != nil {
			return err
		}
		c := meta.FindStatusCondition(g.Status.Conditions, "Accepted")
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "InvalidParameters" || !strings.Contains(c.Message, "listenerConfigurations[0].quicEnabled") {
			return fmt.Errorf("conditions %s", conditionsText(g.Status.Conditions))
		}
		return nil
	})
	if left := stackLeftovers(t, ns+"/withsg"); len(left) > 0 {
		t.Errorf("the refused Gateway made %v in AWS", left)
	}
}
