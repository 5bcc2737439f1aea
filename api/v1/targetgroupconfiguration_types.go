package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TargetType is how targets are registered: by instance ID and node port, or by pod IP.
// +kubebuilder:validation:Enum=instance;ip
type TargetType string

const (
	TargetTypeInstance TargetType = "instance"
	TargetTypeIP       TargetType = "ip"
)

// TargetGroupIPAddressType is the IP address type of a target group.
// +kubebuilder:validation:Enum=ipv4;ipv6
type TargetGroupIPAddressType string

// Protocol is a target group protocol.
// +kubebuilder:validation:Enum=HTTP;HTTPS;TCP;TLS;UDP;TCP_UDP
type Protocol string

// ProtocolVersion is the HTTP version spoken to ALB targets.
// +kubebuilder:validation:Enum=HTTP1;HTTP2;GRPC
type ProtocolVersion string

// TargetGroupHealthCheckProtocol is the protocol of health checks.
// +kubebuilder:validation:Enum=HTTP;HTTPS;TCP
type TargetGroupHealthCheckProtocol string

// HealthCheckMatcher says which answers count as healthy: HTTP codes or gRPC codes.
// +kubebuilder:validation:XValidation:rule="!(has(self.httpCode) && has(self.grpcCode))",message="set httpCode or grpcCode, not both"
type HealthCheckMatcher struct {
	// HTTPCode is a code, a list (200,202) or a range (200-299).
	// +optional
	HTTPCode *string `json:"httpCode,omitempty"`
	// GRPCCode is a code, a list or a range, from 0 to 99.
	// +optional
	GRPCCode *string `json:"grpcCode,omitempty"`
}

// HealthCheckConfiguration configures the health checks of a target group.
type HealthCheckConfiguration struct {
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=10
	// +optional
	HealthyThresholdCount *int32 `json:"healthyThresholdCount,omitempty"`
	// HealthCheckInterval in seconds.
	// +kubebuilder:validation:Minimum=5
	// +kubebuilder:validation:Maximum=300
	// +optional
	HealthCheckInterval *int32 `json:"healthCheckInterval,omitempty"`
	// +optional
	HealthCheckPath *string `json:"healthCheckPath,omitempty"`
	// HealthCheckPort is a port number, a named port of the Service, or traffic-port.
	// +optional
	HealthCheckPort *intstr.IntOrString `json:"healthCheckPort,omitempty"`
	// +optional
	HealthCheckProtocol *TargetGroupHealthCheckProtocol `json:"healthCheckProtocol,omitempty"`
	// HealthCheckTimeout in seconds.
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=120
	// +optional
	HealthCheckTimeout *int32 `json:"healthCheckTimeout,omitempty"`
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=10
	// +optional
	UnhealthyThresholdCount *int32 `json:"unhealthyThresholdCount,omitempty"`
	// +optional
	Matcher *HealthCheckMatcher `json:"matcher,omitempty"`
}

// TargetGroupAttribute is one ELB target group attribute.
type TargetGroupAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TargetGroupProps are the settings of a target group.
type TargetGroupProps struct {
	// TargetGroupName overrides the generated name.
	// +kubebuilder:validation:MaxLength=32
	// +optional
	TargetGroupName *string `json:"targetGroupName,omitempty"`
	// +optional
	IPAddressType *TargetGroupIPAddressType `json:"ipAddressType,omitempty"`
	// +optional
	HealthCheckConfig *HealthCheckConfiguration `json:"healthCheckConfig,omitempty"`
	// NodeSelector narrows the nodes registered as instance targets.
	// +optional
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	// +optional
	TargetGroupAttributes []TargetGroupAttribute `json:"targetGroupAttributes,omitempty"`
	// TargetType is instance (the default) or ip.
	// +optional
	TargetType *TargetType `json:"targetType,omitempty"`
	// +optional
	Protocol *Protocol `json:"protocol,omitempty"`
	// +optional
	ProtocolVersion *ProtocolVersion `json:"protocolVersion,omitempty"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	TargetControlPort *int32 `json:"targetControlPort,omitempty"`
	// +optional
	EnableMultiCluster *bool `json:"enableMultiCluster,omitempty"`
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
}

// Reference names the object a TargetGroupConfiguration configures: a Service (default) or a Gateway.
type Reference struct {
	// +kubebuilder:default=""
	// +optional
	Group *string `json:"group,omitempty"`
	// +kubebuilder:default=Service
	// +kubebuilder:validation:Enum=Service;Gateway
	// +optional
	Kind *string `json:"kind,omitempty"`
	Name string  `json:"name"`
}

// RouteKind is a route kind a per-route configuration applies to.
// +kubebuilder:validation:Enum=HTTPRoute;GRPCRoute;TCPRoute;UDPRoute;TLSRoute
type RouteKind string

// RouteIdentifier selects routes by kind, and optionally namespace and name.
type RouteIdentifier struct {
	RouteKind string `json:"kind"`
	// +optional
	RouteNamespace string `json:"namespace,omitempty"`
	// +optional
	RouteName string `json:"name,omitempty"`
}

// RouteConfiguration overrides target group settings for the routes it identifies.
type RouteConfiguration struct {
	RouteIdentifier  RouteIdentifier  `json:"routeIdentifier"`
	TargetGroupProps TargetGroupProps `json:"targetGroupProps"`
}

// TargetGroupConfigurationSpec holds the target group settings of a Service's (or Gateway's) backends.
type TargetGroupConfigurationSpec struct {
	// TargetReference names the Service or Gateway configured. Without it, the configuration
	// serves only as a LoadBalancerConfiguration's defaultTargetGroupConfiguration.
	// +optional
	TargetReference *Reference `json:"targetReference,omitempty"`
	// DefaultConfiguration applies to every target group of the target.
	// +optional
	DefaultConfiguration TargetGroupProps `json:"defaultConfiguration,omitempty"`
	// RouteConfigurations override the defaults for particular routes.
	// +optional
	RouteConfigurations []RouteConfiguration `json:"routeConfigurations,omitempty"`
}

// TargetGroupConfigurationStatus is the observed state of a TargetGroupConfiguration.
type TargetGroupConfigurationStatus struct {
	// +optional
	ObservedGatewayClassConfigurationGeneration *int64 `json:"observedGatewayClassConfigurationGeneration,omitempty"`
	// +optional
	ObservedGatewayConfigurationGeneration *int64 `json:"observedGatewayConfigurationGeneration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=tgconfig
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetReference.name`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.defaultConfiguration.targetType`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// TargetGroupConfiguration holds the AWS target group settings of the Service it references.
type TargetGroupConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TargetGroupConfigurationSpec   `json:"spec,omitempty"`
	Status TargetGroupConfigurationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// TargetGroupConfigurationList is a list of TargetGroupConfiguration.
type TargetGroupConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TargetGroupConfiguration `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TargetGroupConfiguration{}, &TargetGroupConfigurationList{})
}
