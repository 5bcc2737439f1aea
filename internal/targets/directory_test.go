package targets

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestGateDirectory: the elected replica publishes the ip target groups of the Gateways it has
// reconciled, keeps the entries an earlier one wrote for Gateways it has not, removes a Gateway
// it forgot; a webhook replica reads the entries of one namespace from it.
func TestGateDirectory(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	earlier := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: GateDirectoryName}, Data: map[string]string{
		"other_gw": `[{"namespace":"other","service":"api","targetGroup":"k8s-other-api-1"}]`,
		"gone_gw":  `[{"namespace":"gone","service":"x","targetGroup":"k8s-gone-x-1"}]`,
	}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(earlier).Build()
	reg := NewRegistry()
	reg.Set("web/gw", []Binding{
		{TargetGroupARN: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/k8s-web-a-1/x", TargetType: TargetTypeIP, Backend: model.Backend{Namespace: "web", Service: "a"}},
		{TargetGroupARN: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/k8s-web-b-1/y", TargetType: TargetTypeInstance, Backend: model.Backend{Namespace: "web", Service: "b"}},
	})
	reg.Set("gone/gw", nil)
	ctx2, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := PublishGates(ctx2, c, c, reg, "kube-system", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := c.Get(ctx, types.NamespacedName{Namespace: "kube-system", Name: GateDirectoryName}, &cm); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"other_gw": earlier.Data["other_gw"],
		"web_gw":   `[{"namespace":"web","service":"a","targetGroup":"k8s-web-a-1"}]`,
	}
	if len(cm.Data) != len(want) || cm.Data["other_gw"] != want["other_gw"] || cm.Data["web_gw"] != want["web_gw"] {
		t.Fatalf("directory %v, want %v", cm.Data, want)
	}
	d := NewGateDirectory(c, "kube-system", time.Minute)
	got, err := d.entriesIn(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (gateEntry{Namespace: "web", Service: "a", TargetGroup: "k8s-web-a-1"}) {
		t.Errorf("entries of namespace web %v, want the ip target group of Service a only", got)
	}
}
