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

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// listenerSetCondition reads a condition of a ListenerSet.
func listenerSetCondition(ns, name, typ string) (*gwv1.ListenerSet, *metav1.Condition, error) {
	var ls gwv1.ListenerSet
	if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &ls); err != nil {
		return nil, nil, err
	}
	c := meta.FindStatusCondition(ls.Status.Conditions, typ)
	if c == nil {
		return &ls, nil, fmt.Errorf("ListenerSet %s/%s has no %s condition yet", ns, name, typ)
	}
	return &ls, c, nil
}

// listenerSetGateway is an NLB Gateway gw of the seed's class and configuration with a TCP
// listener tcp on port, allowing the ListenerSets of its namespace.
func listenerSetGateway(port int) string {
	return testenv.AllowListenerSets(fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  gatewayClassName: aws-nlb-gateway-class
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: internet-facing-config}
  listeners:
  - {name: tcp, protocol: TCP, port: %d}
`, port))
}

// TestListenerSet: a ListenerSet adds a TCP listener to an NLB Gateway that allows it; a
// TCPRoute attached to the ListenerSet is served on it; a ListenerSet of a namespace the
// Gateway does not allow is refused (NotAllowed) and adds nothing; deleting the ListenerSet
// removes its listener; a ListenerSet whose parentRef moves away is handed over by its old
// parent.
func TestListenerSet(t *testing.T) {
	ns := newNamespace(t)
	other := newNamespace(t)
	applyFiles(t, env.client, ns, "examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/lbconfig.yaml", "examples/seed-l4/backend-service.yaml")
	applyYAML(t, env.client, ns, listenerSetGateway(7200)+"---"+
		testenv.ListenerSetYAML("extra", "gw", "{name: db, protocol: TCP, port: 7201}")+"---"+
		ipTargets+"---"+route("TCPRoute", "tcp", "tcp", "", "backend", 3000)+"---"+
		testenv.ListenerSetRouteYAML("TCPRoute", "db", "extra", "db", "backend", 3000))
	applyYAML(t, env.client, other, testenv.ListenerSetYAML("intruder", ns+"/gw", "{name: db, protocol: TCP, port: 7202}"))
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	waitListeners(t, lbARN, "TCP:7200,TCP:7201")

	eventually(t, 30*timeoutScale, "ListenerSet accepted and programmed", func() error {
		ls, c, err := listenerSetCondition(ns, "extra", "Programmed")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue {
			return fmt.Errorf("Programmed %s/%s: %s", c.Status, c.Reason, c.Message)
		}
		if a := meta.FindStatusCondition(ls.Status.Conditions, "Accepted"); a == nil || a.Status != metav1.ConditionTrue {
			return fmt.Errorf("Accepted %+v", a)
		}
		if len(ls.Status.Listeners) != 1 || ls.Status.Listeners[0].AttachedRoutes != 1 {
			return fmt.Errorf("listeners status %+v, want db with one route", ls.Status.Listeners)
		}
		return nil
	})
	eventually(t, 30*timeoutScale, "route through the ListenerSet accepted", func() error {
		c, err := routeCondition(env.client, "gateway.networking.k8s.io/v1", "TCPRoute", ns, "db", "Accepted")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue {
			return fmt.Errorf("Accepted %s/%s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	eventually(t, 30*timeoutScale, "ListenerSet of another namespace NotAllowed", func() error {
		_, c, err := listenerSetCondition(other, "intruder", "Accepted")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != string(gwv1.ListenerSetReasonNotAllowed) {
			return fmt.Errorf("Accepted %s/%s", c.Status, c.Reason)
		}
		return nil
	})
	eventually(t, 30*timeoutScale, "Gateway attachedListenerSets 1", func() error {
		var g gwv1.Gateway
		if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "gw"}, &g); err != nil {
			return err
		}
		if g.Status.AttachedListenerSets == nil || *g.Status.AttachedListenerSets != 1 {
			return fmt.Errorf("attachedListenerSets %v", g.Status.AttachedListenerSets)
		}
		if len(g.Status.Listeners) != 1 {
			return fmt.Errorf("Gateway status.listeners %d, want its own only", len(g.Status.Listeners))
		}
		return nil
	})

	ls := &gwv1.ListenerSet{}
	if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "extra"}, ls); err != nil {
		t.Fatal(err)
	}
	if err := env.client.Delete(context.Background(), ls); err != nil {
		t.Fatal(err)
	}
	waitListeners(t, lbARN, "TCP:7200")

	// allowedListeners by namespace label: once the Gateway selects namespaces by label,
	// labelling the namespace is enough to bring its ListenerSet in (the namespace watch).
	var g gwv1.Gateway
	if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "gw"}, &g); err != nil {
		t.Fatal(err)
	}
	patched := g.DeepCopy()
	from := gwv1.NamespacesFromSelector
	patched.Spec.AllowedListeners.Namespaces = &gwv1.ListenerNamespaces{From: &from,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"shared-gateway": "yes"}}}
	if err := env.client.Patch(context.Background(), patched, client.MergeFrom(&g)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*timeoutScale, "ListenerSet refused by the selector first", func() error {
		_, c, err := listenerSetCondition(other, "intruder", "Accepted")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "shared-gateway=yes") {
			return fmt.Errorf("Accepted %s/%s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	var n corev1.Namespace
	if err := env.client.Get(context.Background(), types.NamespacedName{Name: other}, &n); err != nil {
		t.Fatal(err)
	}
	labelled := n.DeepCopy()
	if labelled.Labels == nil {
		labelled.Labels = map[string]string{}
	}
	labelled.Labels["shared-gateway"] = "yes"
	if err := env.client.Patch(context.Background(), labelled, client.MergeFrom(&n)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*timeoutScale, "labelled namespace's ListenerSet accepted", func() error {
		_, c, err := listenerSetCondition(other, "intruder", "Accepted")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue {
			return fmt.Errorf("Accepted %s/%s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	// (No AWS listener for 7202: a port gets one only with an attached route.)

	// Its parentRef moved to a Gateway no controller serves: the old parent hands over, so no
	// Accepted=True stays behind; the status is a new object's (Unknown, Pending).
	var moved gwv1.ListenerSet
	if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: other, Name: "intruder"}, &moved); err != nil {
		t.Fatal(err)
	}
	repointed := moved.DeepCopy()
	repointed.Spec.ParentRef.Name = "nowhere"
	if err := env.client.Patch(context.Background(), repointed, client.MergeFrom(&moved)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*timeoutScale, "moved ListenerSet handed over", func() error {
		ls, c, err := listenerSetCondition(other, "intruder", "Accepted")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionUnknown || c.Reason != string(gwv1.ListenerSetReasonPending) || !strings.Contains(c.Message, ns+"/gw") {
			return fmt.Errorf("Accepted %s/%s: %s", c.Status, c.Reason, c.Message)
		}
		if len(ls.Status.Listeners) != 0 {
			return fmt.Errorf("status.listeners %+v left by the old parent", ls.Status.Listeners)
		}
		return nil
	})
}
