package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// eventsOn lists the events in ns about one object of a kind, with a reason.
func eventsOn(t *testing.T, ns, kind, name, reason string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := env.client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// TestMissingBackendWarnsOnTheRouteOnce: a route whose backend is missing gets one Warning
// BackendNotFound that names the backendRef, and reconciles that write the same status again
// do not repeat it.
func TestMissingBackendWarnsOnTheRouteOnce(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 7300}\n")
	applyYAML(t, env.client, ns, route("TCPRoute", "tcp", "tcp", "", "nothing-here", 3000))
	programmedGateway(t, env.client, ns, "gw")
	eventually(t, 30*timeoutScale, "a BackendNotFound event on the route", func() error {
		if es := eventsOn(t, ns, "TCPRoute", "tcp", "BackendNotFound"); len(es) == 0 {
			return fmt.Errorf("no BackendNotFound event on TCPRoute tcp")
		}
		return nil
	})
	// Reconcile the Gateway a few more times: each writes the same route status.
	for i := range 3 {
		var gw gwv1.Gateway
		if err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gw"}, &gw); err != nil {
			t.Fatal(err)
		}
		if gw.Labels == nil {
			gw.Labels = map[string]string{}
		}
		gw.Labels["resync"] = fmt.Sprint(i)
		if err := env.client.Update(ctx, &gw); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
	es := eventsOn(t, ns, "TCPRoute", "tcp", "BackendNotFound")
	if len(es) != 1 {
		t.Fatalf("%d BackendNotFound events on the route, want 1", len(es))
	}
	e := es[0]
	if e.Type != "Warning" || !strings.Contains(e.Note, "backendRefs[0]") || !strings.Contains(e.Note, "nothing-here") {
		t.Errorf("event %s %q, want a Warning naming spec.rules[0].backendRefs[0] and the Service", e.Type, e.Note)
	}
	if e.Series != nil {
		t.Errorf("the event repeated %d times, want once", e.Series.Count)
	}
	if e.Regarding.APIVersion != "gateway.networking.k8s.io/v1" || e.Regarding.UID == "" {
		t.Errorf("the event regards %+v, want the TCPRoute in its served version with its UID", e.Regarding)
	}
}

// TestRuleCreationIsAnEventOnItsHTTPRoute: the ALB rule and target group made for an HTTPRoute
// are Normal events on that route, naming its Gateway.
func TestRuleCreationIsAnEventOnItsHTTPRoute(t *testing.T) {
	ns := newNamespace(t)
	albScenario(t, ns, "", "  - {name: http, protocol: HTTP, port: 80}\n")
	applyYAML(t, env.client, ns, pathRoute("web", "/web"))
	programmedGateway(t, env.client, ns, "gw")
	for _, reason := range []string{"CreatedRule", "CreatedTargetGroup"} {
		eventually(t, 30*timeoutScale, reason+" on the HTTPRoute", func() error {
			es := eventsOn(t, ns, "HTTPRoute", "web", reason)
			if len(es) == 0 {
				return fmt.Errorf("no %s event on HTTPRoute web", reason)
			}
			if e := es[0]; e.Type != "Normal" || !strings.Contains(e.Note, "Gateway "+ns+"/gw") {
				return fmt.Errorf("event %s %q", e.Type, e.Note)
			}
			return nil
		})
	}
}
