package controller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// The per-Gateway gauges (elbgateway_gateway_*), as a controller exports them.
const (
	gaugeProgrammed  = "elbgateway_gateway_programmed"
	gaugeError       = "elbgateway_gateway_reconcile_error"
	gaugeLastSuccess = "elbgateway_gateway_last_success_timestamp_seconds"
)

// gatewayGauges: the seed Gateway's gauges follow its status. Programmed goes to 0 when
// translation refuses the Gateway (a LoadBalancerConfiguration tag AWS reserves) and back to 1
// when that is fixed, without any reconcile error; an AWS refusal (every ELB call denied) sets
// the error gauge and Programmed=0 until AWS answers again; deleting the Gateway removes its
// series.
func (w *faultWorld) gatewayGauges(t *testing.T) {
	reg := prometheus.NewRegistry()
	co := cloudOptions(w.name, w.vpc.VPCID, w.proxy.URL)
	cloud, err := aws.New(context.Background(), co)
	if err != nil {
		t.Fatal(err)
	}
	o := controllerOptions(w.name, cloud)
	o.VPCID, o.Gates, o.Registerer = w.vpc.VPCID, controller.Gates{NLB: true}, reg
	// A denied call waits out the retry cap before it is tried again.
	o.RetryCap = 2 * time.Second
	startTestController(t, w.cluster.Config, o)

	ns := newNamespaceIn(t, w.client)
	labels := map[string]string{"controller": "gateway-nlb", "gateway_namespace": ns, "gateway_name": "aws-tcp-gateway"}
	applyFiles(t, w.client, ns, seedFiles...)
	w.waitProgrammed(t, ns, "aws-tcp-gateway", time.Minute)
	waitGauges(t, reg, labels, "programmed", map[string]float64{gaugeProgrammed: 1, gaugeError: 0})
	firstSuccess := gauge(reg, gaugeLastSuccess, labels)
	if firstSuccess == nil || *firstSuccess < float64(time.Now().Add(-5*time.Minute).Unix()) {
		t.Fatalf("%s %v, want the time of the last reconcile", gaugeLastSuccess, firstSuccess)
	}

	// Refused by translation: the reconcile succeeds, the Gateway is not programmed.
	setLBCTags(t, w, ns, map[string]any{"aws:owner": "me"})
	waitGauges(t, reg, labels, "refused by translation", map[string]float64{gaugeProgrammed: 0, gaugeError: 0})
	if c, err := w.programmed(ns, "aws-tcp-gateway"); err != nil || c.Status != "False" {
		t.Errorf("the gauge says 0; Programmed %+v (%v), want False", c, err)
	}
	setLBCTags(t, w, ns, nil)
	waitGauges(t, reg, labels, "fixed", map[string]float64{gaugeProgrammed: 1, gaugeError: 0})

	// Refused by AWS: every ELB call denied.
	w.proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Service: "elasticloadbalancing", Code: "AccessDenied", Status: 403})
	defer w.proxy.SetFaults()
	setLBCTags(t, w, ns, map[string]any{"team": "a"})
	waitGauges(t, reg, labels, "denied by AWS", map[string]float64{gaugeProgrammed: 0, gaugeError: 1})
	before := gauge(reg, gaugeLastSuccess, labels)
	w.proxy.SetFaults()
	waitGauges(t, reg, labels, "AWS answers again", map[string]float64{gaugeProgrammed: 1, gaugeError: 0})
	if after := gauge(reg, gaugeLastSuccess, labels); before == nil || after == nil || *after < *before {
		t.Errorf("%s %v after recovering, want at least %v", gaugeLastSuccess, after, before)
	}

	w.deleteGateway(t, ns, "aws-tcp-gateway", time.Minute)
	eventually(t, 10*time.Second, "the deleted Gateway's series removed", func() error {
		for _, name := range []string{gaugeProgrammed, gaugeError, gaugeLastSuccess} {
			if v := gauge(reg, name, labels); v != nil {
				return fmt.Errorf("%s%v is still exported (%g)", name, labels, *v)
			}
		}
		return nil
	})
}

// setLBCTags sets the tags of the seed's LoadBalancerConfiguration in ns (nil removes them).
func setLBCTags(t *testing.T, w *faultWorld, ns string, tags map[string]any) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "gateway.k8s.aws", Version: "v1beta1", Kind: "LoadBalancerConfiguration"})
	eventually(t, 10*time.Second, "LoadBalancerConfiguration updated", func() error {
		if err := w.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "internet-facing-config"}, u); err != nil {
			return err
		}
		if tags == nil {
			unstructured.RemoveNestedField(u.Object, "spec", "tags")
		} else if err := unstructured.SetNestedMap(u.Object, tags, "spec", "tags"); err != nil {
			return err
		}
		return w.client.Update(context.Background(), u)
	})
}

// waitGauges waits until the Gateway's gauges have the wanted values.
func waitGauges(t *testing.T, reg *prometheus.Registry, labels map[string]string, what string, want map[string]float64) {
	t.Helper()
	eventually(t, time.Minute, what+": gauges "+fmt.Sprint(want), func() error {
		for name, v := range want {
			got := gauge(reg, name, labels)
			if got == nil {
				return fmt.Errorf("no %s series", name)
			}
			if *got != v {
				return fmt.Errorf("%s = %g", name, *got)
			}
		}
		return nil
	})
}

// gauge is the value of the series of name with exactly labels, or nil.
func gauge(reg *prometheus.Registry, name string, labels map[string]string) *float64 {
	families, err := reg.Gather()
	if err != nil {
		return nil
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			v := m.GetGauge().GetValue()
			return &v
		}
	}
	return nil
}
