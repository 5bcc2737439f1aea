package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

const (
	lbcFinalizer = "gateway.k8s.aws/loadbalancerconfigurations"
	tgcFinalizer = "gateway.k8s.aws/targetgroupconfigurations"
)

// TestConfigurationFinalizers: a LoadBalancerConfiguration and a TargetGroupConfiguration that a
// Gateway uses get a finalizer. Deleted while in use, each stays (Terminating, with a Warning
// naming its user) and the load balancer keeps its configured scheme; the configuration goes
// once its Gateway lets go of it: the LoadBalancerConfiguration when the Gateway names another
// one, the TargetGroupConfiguration when the Gateway is deleted.
func TestConfigurationFinalizers(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, seedFiles...)
	_, lbARN := programmedGateway(t, env.client, ns, "aws-tcp-gateway")
	lbcKey := types.NamespacedName{Namespace: ns, Name: "internet-facing-config"}
	tgcKey := types.NamespacedName{Namespace: ns, Name: "custom-tg-config"}
	waitFinalizer(t, lbcKey, &awsv1.LoadBalancerConfiguration{}, lbcFinalizer)
	waitFinalizer(t, tgcKey, &awsv1.TargetGroupConfiguration{}, tgcFinalizer)

	// Deleted in use: Terminating, said in an event, and the Gateway keeps its load balancer.
	lbc := &awsv1.LoadBalancerConfiguration{}
	lbc.Namespace, lbc.Name = lbcKey.Namespace, lbcKey.Name
	if err := env.client.Delete(ctx, lbc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*timeoutScale, "a Warning on the LoadBalancerConfiguration naming its Gateway", func() error {
		for _, e := range eventsOn(t, ns, "LoadBalancerConfiguration", lbcKey.Name, "DeletionWaiting") {
			if e.Type == "Warning" && strings.Contains(e.Note, "Gateway "+ns+"/aws-tcp-gateway") {
				return nil
			}
		}
		return fmt.Errorf("no DeletionWaiting event naming the Gateway")
	})
	if err := env.client.Get(ctx, lbcKey, lbc); err != nil {
		t.Fatalf("the LoadBalancerConfiguration in use is gone: %v", err)
	}
	if lbc.DeletionTimestamp == nil || !slices.Contains(lbc.Finalizers, lbcFinalizer) {
		t.Fatalf("LoadBalancerConfiguration deletionTimestamp %v finalizers %v, want Terminating with %s", lbc.DeletionTimestamp, lbc.Finalizers, lbcFinalizer)
	}
	if _, arn := programmedGateway(t, env.client, ns, "aws-tcp-gateway"); arn != lbARN {
		t.Fatalf("deleting the configuration in use replaced the load balancer %s by %s", lbARN, arn)
	}

	// Detached: the Gateway names another configuration (of the same scheme, so the load
	// balancer stays), and the deleted one goes.
	applyYAML(t, env.client, ns, `
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata:
  name: other-config
spec:
  scheme: internet-facing
`)
	gw := &gwv1.Gateway{}
	gw.Namespace, gw.Name = ns, "aws-tcp-gateway"
	if err := env.client.Patch(ctx, gw, client.RawPatch(types.JSONPatchType, []byte(`[{"op":"replace","path":"/spec/infrastructure/parametersRef/name","value":"other-config"}]`))); err != nil {
		t.Fatal(err)
	}
	waitGone(t, lbcKey, &awsv1.LoadBalancerConfiguration{})
	waitFinalizer(t, types.NamespacedName{Namespace: ns, Name: "other-config"}, &awsv1.LoadBalancerConfiguration{}, lbcFinalizer)

	// The target group configuration a route of the Gateway uses stays while the Gateway lives,
	// and goes with it.
	tgc := &awsv1.TargetGroupConfiguration{}
	tgc.Namespace, tgc.Name = tgcKey.Namespace, tgcKey.Name
	if err := env.client.Delete(ctx, tgc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*timeoutScale, "a Warning on the TargetGroupConfiguration naming its route", func() error {
		for _, e := range eventsOn(t, ns, "TargetGroupConfiguration", tgcKey.Name, "DeletionWaiting") {
			if e.Type == "Warning" && strings.Contains(e.Note, "TCPRoute "+ns+"/") {
				return nil
			}
		}
		return fmt.Errorf("no DeletionWaiting event naming the route")
	})
	if err := env.client.Get(ctx, tgcKey, tgc); err != nil || tgc.DeletionTimestamp == nil {
		t.Fatalf("the TargetGroupConfiguration in use: %v, deletionTimestamp %v; want it Terminating", err, tgc.DeletionTimestamp)
	}
	if err := env.client.Delete(ctx, gw); err != nil {
		t.Fatal(err)
	}
	waitGone(t, types.NamespacedName{Namespace: ns, Name: gw.Name}, &gwv1.Gateway{})
	waitGone(t, tgcKey, &awsv1.TargetGroupConfiguration{})
	eventually(t, 30*timeoutScale, "the finalizer off the configuration nothing uses", func() error {
		var other awsv1.LoadBalancerConfiguration
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "other-config"}, &other); err != nil {
			return err
		}
		if len(other.Finalizers) > 0 {
			return fmt.Errorf("finalizers %v", other.Finalizers)
		}
		return nil
	})
}

func waitFinalizer(t *testing.T, key types.NamespacedName, o client.Object, f string) {
	t.Helper()
	eventually(t, 30*timeoutScale, fmt.Sprintf("%T %s has finalizer %s", o, key, f), func() error {
		if err := env.client.Get(context.Background(), key, o); err != nil {
			return err
		}
		if !slices.Contains(o.GetFinalizers(), f) {
			return fmt.Errorf("finalizers %v", o.GetFinalizers())
		}
		return nil
	})
}

func waitGone(t *testing.T, key types.NamespacedName, o client.Object) {
	t.Helper()
	eventually(t, 120*timeoutScale, fmt.Sprintf("%T %s gone", o, key), func() error {
		err := env.client.Get(context.Background(), key, o)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("still there, deletionTimestamp %v, finalizers %v", o.GetDeletionTimestamp(), o.GetFinalizers())
	})
}

// TestListenerSetTargetGroupConfigFinalizer: a TargetGroupConfiguration whose Service only a
// route attached through a ListenerSet sends to is in use: it gets the finalizer, stays
// Terminating while the route lives (a Warning names the route), and goes with the route.
func TestListenerSetTargetGroupConfigFinalizer(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, "examples/seed-l4/gwc-nlb.yaml", "examples/seed-l4/lbconfig.yaml")
	applyYAML(t, env.client, ns, `
apiVersion: v1
kind: Service
metadata:
  name: ls-backend
spec:
  ports:
  - {name: tcp, port: 3000, targetPort: 3000}
  selector: {app: ls-backend}
---`+listenerSetGateway(7300)+"---"+testenv.ListenerSetYAML("extra", "gw", "{name: db, protocol: TCP, port: 7301}")+`---
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata:
  name: ls-backend-tg
spec:
  targetReference: {name: ls-backend}
  defaultConfiguration: {targetType: ip}
---`+testenv.ListenerSetRouteYAML("TCPRoute", "db", "extra", "db", "ls-backend", 3000))
	tgcKey := types.NamespacedName{Namespace: ns, Name: "ls-backend-tg"}
	waitFinalizer(t, tgcKey, &awsv1.TargetGroupConfiguration{}, tgcFinalizer)

	tgc := &awsv1.TargetGroupConfiguration{}
	tgc.Namespace, tgc.Name = ns, tgcKey.Name
	if err := env.client.Delete(ctx, tgc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*timeoutScale, "a Warning on the TargetGroupConfiguration naming the ListenerSet's route", func() error {
		for _, e := range eventsOn(t, ns, "TargetGroupConfiguration", tgcKey.Name, "DeletionWaiting") {
			if e.Type == "Warning" && strings.Contains(e.Note, "TCPRoute "+ns+"/db") {
				return nil
			}
		}
		return fmt.Errorf("no DeletionWaiting event naming the route")
	})
	if err := env.client.Get(ctx, tgcKey, tgc); err != nil || tgc.DeletionTimestamp == nil {
		t.Fatalf("the TargetGroupConfiguration in use: %v, deletionTimestamp %v; want it Terminating", err, tgc.DeletionTimestamp)
	}
	route := &unstructured.Unstructured{}
	route.SetAPIVersion("gateway.networking.k8s.io/v1")
	route.SetKind("TCPRoute")
	route.SetNamespace(ns)
	route.SetName("db")
	if err := env.client.Delete(ctx, route); err != nil {
		t.Fatal(err)
	}
	waitGone(t, tgcKey, &awsv1.TargetGroupConfiguration{})
}
