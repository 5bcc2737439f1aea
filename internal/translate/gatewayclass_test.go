package translate

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

func TestGatewayClass(t *testing.T) {
	ns := gwv1.Namespace("infra")
	class := func(ref *gwv1.ParametersReference) *gwv1.GatewayClass {
		return &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "nlb", Generation: 7},
			Spec: gwv1.GatewayClassSpec{ControllerName: controllerNLB, ParametersRef: ref}}
	}
	lbcs := []awsv1.LoadBalancerConfiguration{{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "cfg"}}}
	cases := []struct {
		name   string
		ref    *gwv1.ParametersReference
		ok     bool
		reason string
		field  string
	}{
		{"no parameters", nil, true, "Accepted", ""},
		{"found", &gwv1.ParametersReference{Group: awsGroup, Kind: kindLBC, Name: "cfg", Namespace: &ns}, true, "Accepted", ""},
		{"missing", &gwv1.ParametersReference{Group: awsGroup, Kind: kindLBC, Name: "nope", Namespace: &ns}, false, "InvalidParameters", "spec.parametersRef"},
		{"no namespace", &gwv1.ParametersReference{Group: awsGroup, Kind: kindLBC, Name: "cfg"}, false, "InvalidParameters", "spec.parametersRef.namespace"},
		{"wrong kind", &gwv1.ParametersReference{Group: "", Kind: "ConfigMap", Name: "cfg", Namespace: &ns}, false, "InvalidParameters", "spec.parametersRef"},
	}
	for _, c := range cases {
		st := GatewayClass(class(c.ref), lbcs)
		if len(st.Conditions) != 1 {
			t.Fatalf("%s: %d conditions, want 1", c.name, len(st.Conditions))
		}
		got := st.Conditions[0]
		if (got.Status == metav1.ConditionTrue) != c.ok || got.Reason != c.reason || got.ObservedGeneration != 7 || st.Generation != 7 {
			t.Errorf("%s: got %s %s gen %d, want ok=%v %s gen 7", c.name, got.Status, got.Reason, got.ObservedGeneration, c.ok, c.reason)
		}
		if !strings.Contains(got.Message, c.field) {
			t.Errorf("%s: message %q does not name %s", c.name, got.Message, c.field)
		}
	}
}
