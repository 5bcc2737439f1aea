package controller_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// markNodeReady sets a Node's Ready condition, as a kubelet would.
func markNodeReady(t *testing.T, name string) {
	t.Helper()
	var n corev1.Node
	if err := env.client.Get(context.Background(), types.NamespacedName{Name: name}, &n); err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	if err := env.client.Status().Update(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
}

// setNodeTaints replaces a Node's taints, as the cluster autoscaler or Karpenter would.
func setNodeTaints(t *testing.T, name string, taints ...corev1.Taint) {
	t.Helper()
	var n corev1.Node
	if err := env.client.Get(context.Background(), types.NamespacedName{Name: name}, &n); err != nil {
		t.Fatal(err)
	}
	n.Spec.Taints = taints
	if err := env.client.Update(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
}
