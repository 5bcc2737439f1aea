package controller_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/targets"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestPodReadinessGate runs the pod webhook on a real API server (installed from
// config/webhook) and the gate's condition against moto's target health through the strict
// layer: a pod created in a labelled namespace behind an ip target group gets the group's gate;
// once its containers are ready its target is registered although the pod is not Ready, the
// gate is False while the target is initial and True once it is healthy. A pod the Service does
// not select, and a pod created after the namespace lost its label, get no gate.
func TestPodReadinessGate(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	ctx := context.Background()
	cluster := startTestCluster(t, testenv.ClusterOptions{Webhooks: true})
	o := ownControllerOptions(t, "readiness-gates")
	o.ReadinessGates = controller.ReadinessGateOptions{Enabled: true, Poll: time.Second, Namespace: "default"}
	stop, c, _, err := startManagerWithCache(ctx, cluster.Config, o, controller.CacheOptions(), func(mo *ctrl.Options) {
		mo.WebhookServer = webhook.NewServer(webhook.Options{Host: cluster.WebhookHost, Port: cluster.WebhookPort, CertDir: cluster.WebhookCertDir})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)

	ns := newNamespaceIn(t, c)
	setNamespaceLabel(t, c, ns, "enabled")
	// The seed's backend (one ready endpoint, 192.0.2.10, a pod without a gate) behind an ip
	// target group.
	scenarioIn(t, c, ns, "  - {name: tcp, protocol: TCP, port: 8000}\n")
	applyYAML(t, c, ns, ipTargets+"---"+route("TCPRoute", "tcp", "tcp", "", "backend", 3000))
	_, lbARN := programmedGateway(t, c, ns, "gw")
	var tgARN string
	eventually(t, 30*timeoutScale, "the ip target group", func() error {
		tgs := targetGroups(t, lbARN)
		if len(tgs) != 1 {
			return fmt.Errorf("target groups %d", len(tgs))
		}
		tgARN = *tgs[0].TargetGroupArn
		return nil
	})
	gate := corev1.PodConditionType(targets.ReadinessGatePrefix + targets.TargetGroupName(tgARN))
	// The webhook of every replica learns the target groups from the directory the elected one
	// publishes, not from its own memory.
	eventually(t, 30*timeoutScale, "the readiness gate directory lists the target group", func() error {
		var cm corev1.ConfigMap
		if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: targets.GateDirectoryName}, &cm); err != nil {
			return err
		}
		if got := cm.Data[ns+"_gw"]; !strings.Contains(got, targets.TargetGroupName(tgARN)) || !strings.Contains(got, `"service":"backend"`) {
			return fmt.Errorf("directory entry of %s/gw: %q", ns, got)
		}
		return nil
	})
	const podIP = "192.0.2.20"
	// AWS reports a new target initial while its first health checks run; moto says healthy
	// at once, so the strict layer's side door says initial until the test says otherwise.
	setHealth(t, tgARN, podIP, 3000, "initial", "Elb.RegistrationInProgress")

	web := createPod(t, c, ns, "web-1", map[string]string{"app": "backend"})
	if got := gates(web); len(got) != 1 || got[0] != gate {
		t.Fatalf("pod behind the ip target group has readiness gates %v, want [%s]", got, gate)
	}
	if got := gates(createPod(t, c, ns, "db-1", map[string]string{"app": "db"})); len(got) != 0 {
		t.Errorf("pod no Service of ours selects has readiness gates %v, want none", got)
	}

	// The kubelet's part: the pod has its IP and its containers are ready, but it is not Ready
	// (its gate is pending), so its endpoint is not ready either.
	// (A strategic merge patch, as the kubelet's: the controller may have written the gate's
	// condition, TargetNotRegistered, already.)
	before := web.DeepCopy()
	web.Status.Phase, web.Status.PodIP, web.Status.PodIPs = corev1.PodRunning, podIP, []corev1.PodIP{{IP: podIP}}
	web.Status.Conditions = []corev1.PodCondition{{Type: corev1.ContainersReady, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	if err := c.Status().Patch(ctx, web, client.StrategicMergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	no, yes := false, true
	port, portName := int32(3000), "http"
	if err := c.Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "backend-2", Labels: map[string]string{discoveryv1.LabelServiceName: "backend"}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{podIP}, Conditions: discoveryv1.EndpointConditions{Ready: &no, Serving: &yes, Terminating: &no},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "web-1"}}},
	}); err != nil {
		t.Fatal(err)
	}
	waitTargets(t, "the not-ready pod whose gate is pending registered", tgARN, "192.0.2.10:3000,"+podIP+":3000")
	waitGate(t, c, ns, "web-1", gate, corev1.ConditionFalse, "Elb.RegistrationInProgress")

	setHealth(t, tgARN, podIP, 3000, "healthy", "")
	waitGate(t, c, ns, "web-1", gate, corev1.ConditionTrue, targets.ReasonTargetHealthy)

	// Without the label, the API server does not call the webhook: no gate.
	setNamespaceLabel(t, c, ns, "")
	if got := gates(createPod(t, c, ns, "web-2", map[string]string{"app": "backend"})); len(got) != 0 {
		t.Errorf("pod created in an unlabelled namespace has readiness gates %v, want none", got)
	}
}

func setNamespaceLabel(t *testing.T, c client.Client, ns, value string) {
	t.Helper()
	var n corev1.Namespace
	if err := c.Get(context.Background(), types.NamespacedName{Name: ns}, &n); err != nil {
		t.Fatal(err)
	}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	if value == "" {
		delete(n.Labels, targets.ReadinessGateInjectLabel)
	} else {
		n.Labels[targets.ReadinessGateInjectLabel] = value
	}
	if err := c.Update(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
}

func createPod(t *testing.T, c client.Client, ns, name string, labels map[string]string) *corev1.Pod {
	t.Helper()
	off := false
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{AutomountServiceAccountToken: &off, Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}}}
	if err := c.Create(context.Background(), p); err != nil {
		t.Fatalf("creating pod %s/%s: %v", ns, name, err)
	}
	return p
}

func gates(p *corev1.Pod) []corev1.PodConditionType {
	var out []corev1.PodConditionType
	for _, g := range p.Spec.ReadinessGates {
		out = append(out, g.ConditionType)
	}
	return out
}

// setHealth sets, through the strict layer's side door, what DescribeTargetHealth says of one
// target.
func setHealth(t *testing.T, tgARN, id string, port int32, state, reason string) {
	t.Helper()
	body, err := json.Marshal(testenv.TargetHealthReport{Region: region, TargetGroupARN: tgARN,
		Targets: []testenv.TargetHealthOverride{{ID: id, Port: port, State: state, Reason: reason}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(env.moto.Strict.URL+testenv.TargetHealthPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("target health side door answered %s", resp.Status)
	}
}

func waitGate(t *testing.T, c client.Client, ns, name string, gate corev1.PodConditionType, status corev1.ConditionStatus, reason string) {
	t.Helper()
	eventually(t, 30*timeoutScale, fmt.Sprintf("pod %s/%s %s=%s/%s", ns, name, gate, status, reason), func() error {
		var p corev1.Pod
		if err := c.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &p); err != nil {
			return err
		}
		var seen []string
		for _, cond := range p.Status.Conditions {
			if cond.Type == gate && cond.Status == status && cond.Reason == reason {
				return nil
			}
			seen = append(seen, fmt.Sprintf("%s=%s/%s (%s)", cond.Type, cond.Status, cond.Reason, cond.Message))
		}
		return fmt.Errorf("conditions %s", strings.Join(seen, ", "))
	})
}
