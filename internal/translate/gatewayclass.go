package translate

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/status"
)

// GatewayClass decides a GatewayClass's Accepted condition: True, or False with reason
// InvalidParameters when spec.parametersRef does not name an existing LoadBalancerConfiguration
// (group gateway.k8s.aws, kind LoadBalancerConfiguration, with a namespace).
func GatewayClass(class *gwv1.GatewayClass, lbcs []awsv1.LoadBalancerConfiguration) status.GatewayClass {
	if class == nil {
		return status.GatewayClass{Conditions: []metav1.Condition{}}
	}
	st := status.GatewayClass{Name: class.Name, Generation: class.Generation}
	accepted := condition(string(gwv1.GatewayClassConditionStatusAccepted), true,
		string(gwv1.GatewayClassReasonAccepted), "GatewayClass is accepted", class.Generation)
	if _, p := classConfig(class, lbcs); p != nil {
		accepted = condition(string(gwv1.GatewayClassConditionStatusAccepted), false, p.reason, p.message, class.Generation)
	}
	st.Conditions = []metav1.Condition{accepted}
	return st
}

// classAccepted returns the problem that keeps a class from being accepted, or nil.
func classAccepted(st status.GatewayClass) *problem {
	for _, c := range st.Conditions {
		if c.Type == string(gwv1.GatewayClassConditionStatusAccepted) && c.Status != metav1.ConditionTrue {
			return &problem{c.Reason, c.Message}
		}
	}
	return nil
}
