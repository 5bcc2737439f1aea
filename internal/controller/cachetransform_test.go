package controller

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	toolscache "k8s.io/client-go/tools/cache"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/targets"
)

// fatMeta is the metadata of an object as the API server sends it: managedFields from a
// server-side apply, a last-applied annotation, owner references and finalizers.
func fatMeta(ns, name string) metav1.ObjectMeta {
	now := metav1.Now()
	return metav1.ObjectMeta{
		Namespace: ns, Name: name, UID: "uid-1", ResourceVersion: "42", Generation: 3, GenerateName: name + "-",
		CreationTimestamp: now, DeletionTimestamp: &now,
		Labels:          map[string]string{"app": "web", discoveryv1.LabelServiceName: "web"},
		Annotations:     map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"a big":"copy"}`, "team": "x"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: "web", UID: "uid-0"}},
		Finalizers:      []string{"example.com/keep"},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{}}`)}}},
	}
}

// checkSlimMeta says what slimMeta must keep of fatMeta and what it must drop.
func checkSlimMeta(t *testing.T, got metav1.ObjectMeta, in metav1.ObjectMeta, labels map[string]string) {
	t.Helper()
	if got.Name != in.Name || got.Namespace != in.Namespace || got.UID != in.UID || got.ResourceVersion != in.ResourceVersion ||
		got.Generation != in.Generation || !got.CreationTimestamp.Equal(&in.CreationTimestamp) || !got.DeletionTimestamp.Equal(in.DeletionTimestamp) {
		t.Errorf("identity, version, creation or deletion not kept: %+v", got)
	}
	if !reflect.DeepEqual(got.Labels, labels) {
		t.Errorf("labels %v, want %v", got.Labels, labels)
	}
	if got.ManagedFields != nil || got.OwnerReferences != nil || got.Finalizers != nil || got.GenerateName != "" {
		t.Errorf("managedFields, owner references, finalizers or generateName kept: %+v", got)
	}
	if len(got.Annotations) != 1 || got.Annotations[annotationsDigestKey] == "" {
		t.Errorf("annotations %v, want only %s", got.Annotations, annotationsDigestKey)
	}
}

func TestSlimServiceKeepsWhatTranslationReads(t *testing.T) {
	h2c := "kubernetes.io/h2c"
	in := &corev1.Service{ObjectMeta: fatMeta("a", "web"), Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeLoadBalancer,
		Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, AppProtocol: &h2c, Port: 80,
			TargetPort: intstr.FromString("web"), NodePort: 30080}},
		IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol}, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
		HealthCheckNodePort: 31000,
		ClusterIP:           "10.0.0.1", ClusterIPs: []string{"10.0.0.1"}, Selector: map[string]string{"app": "web"},
		SessionAffinity: corev1.ServiceAffinityClientIP, ExternalIPs: []string{"192.0.2.1"},
	}, Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{Hostname: "x"}}}}}
	want := in.Spec.DeepCopy()
	meta := *in.ObjectMeta.DeepCopy()
	out, err := slimService(in)
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*corev1.Service)
	checkSlimMeta(t, s.ObjectMeta, meta, nil)
	if s.Spec.Type != want.Type || !reflect.DeepEqual(s.Spec.Ports, want.Ports) || !reflect.DeepEqual(s.Spec.IPFamilies, want.IPFamilies) ||
		s.Spec.ExternalTrafficPolicy != want.ExternalTrafficPolicy || s.Spec.HealthCheckNodePort != want.HealthCheckNodePort {
		t.Errorf("spec read by translation not kept: %+v", s.Spec)
	}
	if s.Spec.ClusterIP != "" || s.Spec.ClusterIPs != nil || s.Spec.Selector != nil || s.Spec.SessionAffinity != "" ||
		s.Spec.ExternalIPs != nil || len(s.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("fields nobody reads kept: spec %+v, status %+v", s.Spec, s.Status)
	}
}

func TestSlimEndpointSliceKeepsReadyAddresses(t *testing.T) {
	yes, no := true, false
	name, port := "http", int32(8080)
	zone, node := "us-east-1a", "n1"
	in := &discoveryv1.EndpointSlice{ObjectMeta: fatMeta("a", "web-abc"), AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.0.1.5"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes, Serving: &yes, Terminating: &no},
				NodeName: &node, Zone: &zone, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "web-1", UID: "p1"},
				Hints: &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: zone}}}},
			{Addresses: []string{"10.0.1.6"}, Conditions: discoveryv1.EndpointConditions{Ready: &no, Serving: &yes, Terminating: &yes}},
			{Addresses: []string{"10.0.1.7"}},
		}}
	meta := *in.ObjectMeta.DeepCopy()
	backend := model.Backend{Namespace: "a", Service: "web", PortName: "http"}
	whole := targets.FromEndpointSlices(backend, []discoveryv1.EndpointSlice{*in.DeepCopy()})
	out, err := slimEndpointSlice(in)
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*discoveryv1.EndpointSlice)
	checkSlimMeta(t, s.ObjectMeta, meta, map[string]string{discoveryv1.LabelServiceName: "web"})
	if s.AddressType != discoveryv1.AddressTypeIPv4 || !reflect.DeepEqual(s.Ports, in.Ports) {
		t.Errorf("address type or ports not kept: %s %+v", s.AddressType, s.Ports)
	}
	// The ready endpoints' addresses (a nil Ready is ready), folded into one endpoint.
	want := []discoveryv1.Endpoint{{Addresses: []string{"10.0.1.5", "10.0.1.7"}}}
	if !reflect.DeepEqual(s.Endpoints, want) {
		t.Errorf("endpoints %+v, want the ready addresses only %+v", s.Endpoints, want)
	}
	// Target registration reads the same targets from the cached slice as from the whole one.
	if got := targets.FromEndpointSlices(backend, []discoveryv1.EndpointSlice{*s}); len(whole) != 2 || !reflect.DeepEqual(got, whole) {
		t.Errorf("targets of the cached slice %v, of the whole slice %v", got, whole)
	}
	// A not-ready endpoint that is not terminating (a pod waiting for its readiness gate) is
	// kept as not ready, so plain registration still leaves it out; a terminating one is dropped.
	waiting, err := slimEndpointSlice(&discoveryv1.EndpointSlice{ObjectMeta: fatMeta("a", "web-def"),
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.0.1.8"}, Conditions: discoveryv1.EndpointConditions{Ready: &no}},
			{Addresses: []string{"10.0.1.9"}, Conditions: discoveryv1.EndpointConditions{Ready: &no, Terminating: &yes}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	eps := waiting.(*discoveryv1.EndpointSlice).Endpoints
	if len(eps) != 1 || !reflect.DeepEqual(eps[0].Addresses, []string{"10.0.1.8"}) || eps[0].Conditions.Ready == nil || *eps[0].Conditions.Ready {
		t.Errorf("a slice without ready endpoints cached with endpoints %+v, want only 10.0.1.8, not ready", eps)
	}
	if got := targets.FromEndpointSlices(backend, []discoveryv1.EndpointSlice{*waiting.(*discoveryv1.EndpointSlice)}); len(got) != 0 {
		t.Errorf("targets of a slice without ready endpoints: %v, want none", got)
	}
}

func TestSlimPodKeepsGatesOnly(t *testing.T) {
	gate := corev1.PodConditionType(targets.ReadinessGatePrefix + "k8s-web-0123456789")
	in := &corev1.Pod{ObjectMeta: fatMeta("a", "web-1"),
		Spec: corev1.PodSpec{NodeName: "n1", ReadinessGates: []corev1.PodReadinessGate{{ConditionType: gate}, {ConditionType: "example.com/other"}},
			Containers: []corev1.Container{{Name: "web", Image: "web"}}},
		Status: corev1.PodStatus{PodIP: "10.0.1.5", PodIPs: []corev1.PodIP{{IP: "10.0.1.5"}}, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionFalse}, {Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
			{Type: gate, Status: corev1.ConditionFalse, Reason: "Elb.RegistrationInProgress"}}}}
	out, err := slimPod(in)
	if err != nil {
		t.Fatal(err)
	}
	p := out.(*corev1.Pod)
	if p.Name != "web-1" || p.Namespace != "a" || p.Labels != nil || len(p.Spec.Containers) != 0 || p.Spec.NodeName != "" {
		t.Errorf("pod metadata or spec not slimmed: %+v", p)
	}
	if len(p.Spec.ReadinessGates) != 1 || p.Spec.ReadinessGates[0].ConditionType != gate {
		t.Errorf("readiness gates %+v, want only ours", p.Spec.ReadinessGates)
	}
	if len(p.Status.Conditions) != 2 || p.Status.Conditions[0].Type != corev1.ContainersReady || p.Status.Conditions[1].Reason != "Elb.RegistrationInProgress" ||
		p.Status.PodIP != "10.0.1.5" || len(p.Status.PodIPs) != 1 {
		t.Errorf("status %+v, want the IPs, ContainersReady and our gate's condition", p.Status)
	}
	plain, err := slimPod(&corev1.Pod{ObjectMeta: fatMeta("a", "db-1"), Status: in.Status})
	if err != nil {
		t.Fatal(err)
	}
	if pp := plain.(*corev1.Pod); pp.Name != "db-1" || pp.Status.PodIP != "" || pp.Status.Conditions != nil {
		t.Errorf("a pod without our gate cached as %+v, want its identity only", pp)
	}
}

func TestSlimNodeKeepsEligibilityAndProviderID(t *testing.T) {
	in := &corev1.Node{ObjectMeta: fatMeta("", "n1"), Spec: corev1.NodeSpec{ProviderID: "aws:///us-east-1a/i-1", PodCIDR: "10.1.0.0/24",
		Taints: []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status",
					LastHeartbeatTime: metav1.Now()},
			},
			Images:    []corev1.ContainerImage{{Names: []string{"registry.example/app@sha256:0"}, SizeBytes: 1}},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.9"}},
		}}
	meta := *in.ObjectMeta.DeepCopy()
	out, err := slimNode(in)
	if err != nil {
		t.Fatal(err)
	}
	n := out.(*corev1.Node)
	checkSlimMeta(t, n.ObjectMeta, meta, meta.Labels)
	if n.Spec.ProviderID != "aws:///us-east-1a/i-1" || n.Spec.PodCIDR != "" || n.Spec.Taints != nil {
		t.Errorf("spec %+v, want the provider ID only (no taint that does not mark deletion)", n.Spec)
	}
	want := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	if !reflect.DeepEqual(n.Status.Conditions, want) || n.Status.Images != nil || n.Status.Addresses != nil {
		t.Errorf("status %+v, want the Ready condition's status only", n.Status)
	}
	in.DeletionTimestamp = nil
	out, _ = slimNode(in)
	b := model.Backend{NodePort: 30080, NodeSelector: map[string]string{"app": "web"}}
	if got, want := targets.FromNodes(b, []corev1.Node{*out.(*corev1.Node)}), targets.FromNodes(b, []corev1.Node{*in}); len(got) != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("instance targets of the slimmed node %v, of the node %v", got, want)
	}
	// The deletion taint is what keeps the slimmed node out, as it keeps the node out.
	in.Spec.Taints = append(in.Spec.Taints, corev1.Taint{Key: "karpenter.sh/disrupted", Effect: corev1.TaintEffectNoSchedule})
	out, _ = slimNode(in)
	if got := targets.FromNodes(b, []corev1.Node{*out.(*corev1.Node)}); len(got) != 0 {
		t.Errorf("instance targets of the slimmed disrupted node %v, want none", got)
	}
}

func TestSlimNamespaceKeepsMetadataOnly(t *testing.T) {
	in := &corev1.Namespace{ObjectMeta: fatMeta("", "team-a"), Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	meta := *in.ObjectMeta.DeepCopy()
	out, err := slimNamespace(in)
	if err != nil {
		t.Fatal(err)
	}
	ns := out.(*corev1.Namespace)
	checkSlimMeta(t, ns.ObjectMeta, meta, meta.Labels)
	if ns.Spec.Finalizers != nil || ns.Status.Phase != "" {
		t.Errorf("spec %+v, status %+v, want none", ns.Spec, ns.Status)
	}
}

// Every other kind, typed or unstructured, loses its managedFields and its unread annotations
// (to their digest), and keeps everything else.
func TestStripUnreadKeepsAllButManagedFieldsAndAnnotations(t *testing.T) {
	gw := &gwv1.Gateway{ObjectMeta: fatMeta("a", "gw"), Spec: gwv1.GatewaySpec{GatewayClassName: "alb",
		Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}}}
	want := gw.DeepCopy()
	if _, err := stripUnread(gw); err != nil {
		t.Fatal(err)
	}
	if gw.ManagedFields != nil || len(gw.Annotations) != 1 || gw.Annotations[annotationsDigestKey] == "" {
		t.Errorf("managedFields %v, annotations %v: want none and the digest only", gw.ManagedFields, gw.Annotations)
	}
	gw.ManagedFields, gw.Annotations = want.ManagedFields, want.Annotations
	if !reflect.DeepEqual(gw, want) {
		t.Errorf("more than managedFields and annotations changed:\n%+v\nwant\n%+v", gw, want)
	}

	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "r", "namespace": "a", "annotations": map[string]any{"team": "x"},
			"managedFields": []any{map[string]any{"manager": "kubectl", "operation": "Apply"}}},
		"spec": map[string]any{"hostnames": []any{"a.example"}}}}
	if _, err := stripUnread(u); err != nil {
		t.Fatal(err)
	}
	if u.GetManagedFields() != nil || len(u.GetAnnotations()) != 1 || u.GetAnnotations()[annotationsDigestKey] == "" {
		t.Errorf("route metadata %v, want no managedFields and the digest only", u.Object["metadata"])
	}
	if h, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "hostnames"); len(h) != 1 {
		t.Errorf("route spec lost: %v", u.Object["spec"])
	}

	tomb := toolscache.DeletedFinalStateUnknown{Key: "a/gw", Obj: gw}
	if out, err := stripUnread(tomb); err != nil || !reflect.DeepEqual(out, tomb) {
		t.Errorf("a tombstone changed: %v, %v", out, err)
	}
}

// The digest stands for the annotations: it changes when any of them does (an annotation is a
// nudge to look again), not when their order does, and slimming twice changes nothing.
func TestAnnotationsDigest(t *testing.T) {
	a := slimAnnotations(map[string]string{"x": "1", "y": "2"})
	if b := slimAnnotations(map[string]string{"y": "2", "x": "1"}); !reflect.DeepEqual(a, b) {
		t.Errorf("same annotations, different digests: %v, %v", a, b)
	}
	for _, changed := range []map[string]string{{"x": "1", "y": "3"}, {"x": "1"}, {"x": "1", "y": "2", "z": ""}, {"x": "1\x00y"}} {
		if b := slimAnnotations(changed); reflect.DeepEqual(a, b) {
			t.Errorf("%v has the digest of x=1,y=2", changed)
		}
	}
	if again := slimAnnotations(a); !reflect.DeepEqual(again, a) {
		t.Errorf("slimming twice: %v, then %v", a, again)
	}
	if got := slimAnnotations(nil); got != nil {
		t.Errorf("no annotations became %v", got)
	}
	readAnnotations["read.example/kept"] = true
	defer delete(readAnnotations, "read.example/kept")
	got := slimAnnotations(map[string]string{"read.example/kept": "v"})
	if !reflect.DeepEqual(got, map[string]string{"read.example/kept": "v"}) {
		t.Errorf("a read annotation alone became %v", got)
	}
}
