package controller

import (
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

// NewScheme returns a scheme with the kinds the controller reads and writes: core Kubernetes,
// Gateway API v1 and v1beta1 (ReferenceGrant), and gateway.k8s.aws/v1. Routes served in other
// versions are handled as unstructured objects.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, gwv1.Install, gwv1beta1.Install, awsv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}
