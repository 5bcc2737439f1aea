package targets

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

func podRequest(t *testing.T, ns string, p *corev1.Pod) admission.Request {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: admissionv1.Create, Namespace: ns,
		Object: runtime.RawExtension{Raw: raw}}}
}

// TestPodMutator: the gate of each ip target group whose Service selects the pod, once; none
// for a pod no such Service selects, a namespace without the label, or a Service that is gone;
// and a failed read lets the pod through without gates, with a warning, rather than refusing it.
func TestPodMutator(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	dir := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: GateDirectoryName}, Data: map[string]string{
		"web_gw": `[{"namespace":"web","service":"a","targetGroup":"k8s-web-a-1"},{"namespace":"web","service":"a","targetGroup":"k8s-web-a-2"},` +
			`{"namespace":"web","service":"gone","targetGroup":"k8s-web-gone-1"}]`,
		"plain_gw": `[{"namespace":"plain","service":"a","targetGroup":"k8s-plain-a-1"}]`,
	}}
	objs := []client.Object{dir,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{ReadinessGateInjectLabel: "enabled"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "a"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "a"}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "plain", Name: "a"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "a"}}},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	m := NewPodMutator(scheme, NewGateDirectory(c, "kube-system", time.Minute), c)
	ctx := context.Background()
	pod := func(labels map[string]string, gates ...corev1.PodConditionType) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: labels}}
		for _, g := range gates {
			p.Spec.ReadinessGates = append(p.Spec.ReadinessGates, corev1.PodReadinessGate{ConditionType: g})
		}
		return p
	}
	added := func(resp admission.Response) []string {
		var out []string
		for _, op := range resp.Patches {
			raw, _ := json.Marshal(op.Value)
			out = append(out, op.Operation+" "+op.Path+" "+string(raw))
		}
		return out
	}

	resp := m.Handle(ctx, podRequest(t, "web", pod(map[string]string{"app": "a"}, ReadinessGatePrefix+"k8s-web-a-2")))
	got := strings.Join(added(resp), "; ")
	if !resp.Allowed || !strings.Contains(got, ReadinessGatePrefix+"k8s-web-a-1") || strings.Count(got, ReadinessGatePrefix) != 1 {
		t.Errorf("selected pod already carrying one gate: patches %q, want only the gate of k8s-web-a-1 added", got)
	}
	for name, req := range map[string]admission.Request{
		"pod no Service selects": podRequest(t, "web", pod(map[string]string{"app": "b"})),
		"unlabelled namespace":   podRequest(t, "plain", pod(map[string]string{"app": "a"})),
		"namespace with nothing": podRequest(t, "empty", pod(map[string]string{"app": "a"})),
	} {
		if resp := m.Handle(ctx, req); !resp.Allowed || len(resp.Patches) != 0 {
			t.Errorf("%s: allowed %v, patches %v; want allowed, no patch", name, resp.Allowed, added(resp))
		}
	}

	failing := interceptor.NewClient(c, interceptor.Funcs{Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if _, ok := obj.(*corev1.Service); ok {
			return errors.New("the server is currently unable to handle the request")
		}
		return cl.Get(ctx, key, obj, opts...)
	}})
	m = NewPodMutator(scheme, NewGateDirectory(failing, "kube-system", time.Minute), failing)
	resp = m.Handle(ctx, podRequest(t, "web", pod(map[string]string{"app": "a"})))
	if !resp.Allowed || len(resp.Patches) != 0 || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "unable to handle") {
		t.Errorf("failed Service read: allowed %v, patches %v, warnings %v; want allowed without gates and one warning", resp.Allowed, added(resp), resp.Warnings)
	}
}
