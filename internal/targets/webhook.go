package targets

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// WebhookPath is where the webhook server serves the pod mutating webhook.
const WebhookPath = "/mutate-v1-pod"

// PodMutator is the mutating admission webhook that adds our readiness gates to a pod being
// created: one per ip target group of ours fed by a Service of the pod's namespace that selects
// the pod, when the namespace is labelled ReadinessGateInjectLabel=enabled. Pods behind no such
// target group (instance targets, other Services, other controllers) are left as they are, as
// the AWS Load Balancer Controller leaves them, so nothing waits for a gate no one writes.
//
// It reads the Namespace and the candidate Services from reader (the API server: the cache
// keeps no selectors) and only when the directory lists an ip target group in the pod's
// namespace; the directory itself is read at most once every few seconds. It never refuses a pod: on a failed
// read it lets the pod through without gates and says so in a warning.
type PodMutator struct {
	directory *GateDirectory
	reader    client.Reader
	decoder   admission.Decoder
}

// NewPodMutator returns the webhook's handler: it learns the ip target groups from directory
// (directory.go), the Namespaces and Services from reader.
func NewPodMutator(scheme *runtime.Scheme, directory *GateDirectory, reader client.Reader) *PodMutator {
	return &PodMutator{directory: directory, reader: reader, decoder: admission.NewDecoder(scheme)}
}

// Handle adds the readiness gates a new pod should carry.
func (m *PodMutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create {
		return admission.Allowed("")
	}
	var pod corev1.Pod
	if err := m.decoder.Decode(req, &pod); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	namespace := req.Namespace
	if namespace == "" {
		namespace = pod.Namespace
	}
	gates, err := m.gatesFor(ctx, namespace, &pod)
	if err != nil {
		return admission.Allowed("").WithWarnings("elbgateway: no readiness gate added: " + err.Error())
	}
	var added bool
	for _, g := range gates {
		if !slices.ContainsFunc(pod.Spec.ReadinessGates, func(r corev1.PodReadinessGate) bool { return r.ConditionType == g }) {
			pod.Spec.ReadinessGates = append(pod.Spec.ReadinessGates, corev1.PodReadinessGate{ConditionType: g})
			added = true
		}
	}
	if !added {
		return admission.Allowed("")
	}
	raw, err := json.Marshal(&pod)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, raw)
}

// gatesFor returns the gates of the ip target groups whose Services select the pod, sorted.
func (m *PodMutator) gatesFor(ctx context.Context, namespace string, pod *corev1.Pod) ([]corev1.PodConditionType, error) {
	entries, err := m.directory.entriesIn(ctx, namespace)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	var ns corev1.Namespace
	if err := m.reader.Get(ctx, types.NamespacedName{Name: namespace}, &ns); err != nil {
		return nil, err
	}
	if ns.Labels[ReadinessGateInjectLabel] != "enabled" {
		return nil, nil
	}
	selects := map[string]bool{}
	var out []corev1.PodConditionType
	for _, e := range entries {
		ok, seen := selects[e.Service]
		if !seen {
			var svc corev1.Service
			err := m.reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: e.Service}, &svc)
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return nil, err
			default:
				ok = len(svc.Spec.Selector) > 0 && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels))
			}
			selects[e.Service] = ok
		}
		if ok && e.TargetGroup != "" {
			out = append(out, corev1.PodConditionType(ReadinessGatePrefix+e.TargetGroup))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
