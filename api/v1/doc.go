// Package v1 holds the gateway.k8s.aws configuration kinds: LoadBalancerConfiguration,
// TargetGroupConfiguration and ListenerRuleConfiguration. The same schema is also served as
// v1beta1 (see config/crd), so manifests written for either version apply unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=gateway.k8s.aws
package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the storage version of these kinds.
	GroupVersion = schema.GroupVersion{Group: "gateway.k8s.aws", Version: "v1"}

	// SchemeBuilder registers the kinds of this package with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this package to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
