package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// refusedCreate: AWS refuses CreateLoadBalancer with ValidationError, which translation cannot
// foresee. The Gateway says so in Programmed with the code, gets one Warning per distinct
// failure, and costs at most 10 AWS calls in the minute after the failure (AWS would refuse
// the same request again: it waits the 5-minute cap). Changing the Gateway retries at once.
func (w *faultWorld) refusedCreate(t *testing.T) {
	w.proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Action: "CreateLoadBalancer", Code: "ValidationError"})
	defer w.proxy.SetFaults()
	w.startController(t, 0)
	ns := newNamespaceIn(t, w.client)
	w.proxy.ResetCounts()
	applyFiles(t, w.client, ns, seedFiles...)
	eventually(t, 2*time.Minute, "the refusal reported on the Gateway", func() error {
		c, err := w.programmed(ns, "aws-tcp-gateway")
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "ValidationError") {
			return fmt.Errorf("Programmed %s/%s %q, want False naming ValidationError", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	first := w.proxy.ServiceCounts()
	if got := first["elasticloadbalancing:CreateLoadBalancer"]; got != 1 {
		t.Errorf("CreateLoadBalancer called %d times before the refusal was reported, want 1", got)
	}
	w.proxy.ResetCounts()
	// A minute of the Gateway's life after the failure: what it costs, not how fast it is.
	time.Sleep(time.Minute)
	after := w.proxy.ServiceCounts()
	t.Logf("calls in the minute after the refusal: %s", countsText(after))
	if n := total(after); n > 10 {
		t.Errorf("%d AWS calls in the minute after a refused CreateLoadBalancer, want at most 10: %s", n, countsText(after))
	}
	if got := after["elasticloadbalancing:CreateLoadBalancer"]; got != 0 {
		t.Errorf("CreateLoadBalancer retried %d times within a minute of a ValidationError", got)
	}
	// The refused change is a Warning of its own; the rest of the reconcile went on, so there is
	// no FailedApply for the step.
	for reason, want := range map[string]int{"FailedCreateLoadBalancer": 1, "FailedApply": 0} {
		if got := w.events(t, ns, "aws-tcp-gateway", reason); len(got) != want {
			t.Errorf("%d %s events on the Gateway, want %d (one per distinct failure)", len(got), reason, want)
		}
	}

	// Changing what the Gateway asks of AWS retries at once; without the fault it is programmed.
	w.proxy.SetFaults()
	gw := &gwv1.Gateway{}
	gw.Namespace, gw.Name = ns, "aws-tcp-gateway"
	patch := []byte(`[{"op":"replace","path":"/spec/listeners/0/port","value":8081}]`)
	if err := w.client.Patch(context.Background(), gw, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		t.Fatal(err)
	}
	w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	w.deleteGateway(t, ns, "aws-tcp-gateway", 2*time.Minute)
}

// events lists the events in ns about the Gateway name with a reason.
func (w *faultWorld) events(t *testing.T, ns, name, reason string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := w.client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "Gateway" && e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}
