package controller

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/status"
)

// TestListenerSetAwaitsCertificate: a ListenerSet listener without certificateRefs that found
// no ACM certificate makes the Gateway look again soon (as its own listeners do); one whose
// certificateRefs are bad does not (a Secret change reconciles it), nor a resolved one.
func TestListenerSetAwaitsCertificate(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	ls := &gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "shop"}, Spec: gwv1.ListenerSetSpec{
		ParentRef: gwv1.ParentGatewayReference{Name: "gw"},
		Listeners: []gwv1.ListenerEntry{
			{Name: "discover", Port: 443, Protocol: gwv1.HTTPSProtocolType},
			{Name: "secret", Port: 8443, Protocol: gwv1.HTTPSProtocolType,
				TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "tls"}}}},
		},
	}}
	w := &statusWriter{reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(ls).Build()}
	set := func(entry string, resolved metav1.ConditionStatus, reason string) *status.Set {
		return &status.Set{ListenerSets: []status.ListenerSet{{Namespace: "team", Name: "shop", Status: gwv1.ListenerSetStatus{
			Listeners: []gwv1.ListenerEntryStatus{{Name: gwv1.SectionName(entry), Conditions: []metav1.Condition{
				{Type: "ResolvedRefs", Status: resolved, Reason: reason}}}}}}}}
	}
	for _, tt := range []struct {
		entry    string
		resolved metav1.ConditionStatus
		reason   string
		want     bool
	}{
		{"discover", metav1.ConditionFalse, "InvalidCertificateRef", true},
		{"discover", metav1.ConditionTrue, "ResolvedRefs", false},
		{"secret", metav1.ConditionFalse, "InvalidCertificateRef", false},
		{"discover", metav1.ConditionFalse, "RefNotPermitted", false},
	} {
		if got := w.listenerSetAwaitsCertificate(context.Background(), set(tt.entry, tt.resolved, tt.reason)); got != tt.want {
			t.Errorf("%s ResolvedRefs=%s %s: awaits %v, want %v", tt.entry, tt.resolved, tt.reason, got, tt.want)
		}
	}
	if w.listenerSetAwaitsCertificate(context.Background(), nil) {
		t.Error("no statuses: awaits")
	}
}
