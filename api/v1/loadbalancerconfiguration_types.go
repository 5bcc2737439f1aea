package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LoadBalancerScheme says whether a load balancer is reachable from the internet.
// +kubebuilder:validation:Enum=internal;internet-facing
type LoadBalancerScheme string

const (
	LoadBalancerSchemeInternal       LoadBalancerScheme = "internal"
	LoadBalancerSchemeInternetFacing LoadBalancerScheme = "internet-facing"
)

// LoadBalancerIPAddressType is the IP address type of a load balancer.
// +kubebuilder:validation:Enum=ipv4;dualstack;dualstack-without-public-ipv4
type LoadBalancerIPAddressType string

const (
	LoadBalancerIPAddressTypeIPv4                       LoadBalancerIPAddressType = "ipv4"
	LoadBalancerIPAddressTypeDualstack                  LoadBalancerIPAddressType = "dualstack"
	LoadBalancerIPAddressTypeDualstackWithoutPublicIPv4 LoadBalancerIPAddressType = "dualstack-without-public-ipv4"
)

// MergingMode decides which of a GatewayClass's and a Gateway's configuration wins a conflict.
// +kubebuilder:validation:Enum=prefer-gateway-class;prefer-gateway
type MergingMode string

const (
	MergingModePreferGatewayClass MergingMode = "prefer-gateway-class"
	MergingModePreferGateway      MergingMode = "prefer-gateway"
)

// SubnetConfiguration names one subnet of the load balancer and its NLB-only allocations.
type SubnetConfiguration struct {
	// Identifier is a subnet ID (subnet-…) or the value of the subnet's Name tag.
	Identifier string `json:"identifier"`
	// EIPAllocation is an Elastic IP allocation ID for this subnet (NLB, internet-facing).
	// +optional
	EIPAllocation *string `json:"eipAllocation,omitempty"`
	// PrivateIPv4Allocation is a private IPv4 address inside the subnet (NLB, internal).
	// +optional
	PrivateIPv4Allocation *string `json:"privateIPv4Allocation,omitempty"`
	// IPv6Allocation is an IPv6 address inside the subnet (NLB, dualstack).
	// +optional
	IPv6Allocation *string `json:"ipv6Allocation,omitempty"`
	// SourceNatIPv6Prefix is a /80 prefix or auto_assigned (NLB, dualstack).
	// +optional
	SourceNatIPv6Prefix *string `json:"sourceNatIPv6Prefix,omitempty"`
}

// ProtocolPort identifies a listener as PROTOCOL:PORT, for example HTTPS:443 or TCP:8080.
// +kubebuilder:validation:Pattern="^(HTTP|HTTPS|TLS|TCP|UDP|TCP_UDP)?:(6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3})?$"
type ProtocolPort string

// ALPNPolicy is the ALPN policy of an NLB TLS listener.
// +kubebuilder:validation:Enum=HTTP1Only;HTTP2Only;HTTP2Optional;HTTP2Preferred;None
type ALPNPolicy string

// MutualAuthenticationMode is the mTLS mode of an ALB HTTPS listener.
// +kubebuilder:validation:Enum=off;passthrough;verify
type MutualAuthenticationMode string

// AdvertiseTrustStoreCaNamesEnum says whether the trust store's CA names are advertised.
// +kubebuilder:validation:Enum=on;off
type AdvertiseTrustStoreCaNamesEnum string

// MutualAuthenticationAttributes configures mutual TLS on an ALB HTTPS listener.
// +kubebuilder:validation:XValidation:rule="self.mode != 'verify' || has(self.trustStore)",message="trustStore is required when mode is verify"
type MutualAuthenticationAttributes struct {
	// +kubebuilder:default=off
	Mode MutualAuthenticationMode `json:"mode"`
	// TrustStore is a trust store name or ARN; required for verify.
	// +optional
	TrustStore *string `json:"trustStore,omitempty"`
	// +optional
	IgnoreClientCertificateExpiry *bool `json:"ignoreClientCertificateExpiry,omitempty"`
	// +optional
	AdvertiseTrustStoreCaNames *AdvertiseTrustStoreCaNamesEnum `json:"advertiseTrustStoreCaNames,omitempty"`
}

// ListenerAttribute is one ELB listener attribute.
type ListenerAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ListenerConfiguration configures the load balancer listener with the same PROTOCOL:PORT.
type ListenerConfiguration struct {
	// ProtocolPort selects the listener, for example HTTPS:443.
	ProtocolPort ProtocolPort `json:"protocolPort"`
	// DefaultCertificate is the ARN of the listener's default certificate.
	// +optional
	DefaultCertificate *string `json:"defaultCertificate,omitempty"`
	// Certificates are ARNs of further certificates; set, they turn certificate discovery off.
	// +optional
	Certificates []string `json:"certificates,omitempty"`
	// SslPolicy is the security policy of an HTTPS or TLS listener.
	// +optional
	SslPolicy *string `json:"sslPolicy,omitempty"`
	// ALPNPolicy of an NLB TLS listener.
	// +kubebuilder:default=None
	// +optional
	ALPNPolicy *ALPNPolicy `json:"alpnPolicy,omitempty"`
	// TargetGroupStickiness turns on target group stickiness of an NLB forward action.
	// +optional
	TargetGroupStickiness *bool `json:"targetGroupStickiness,omitempty"`
	// MutualAuthentication configures mTLS of an ALB HTTPS listener.
	// +optional
	MutualAuthentication *MutualAuthenticationAttributes `json:"mutualAuthentication,omitempty"`
	// ListenerAttributes are set on the listener.
	// +optional
	ListenerAttributes []ListenerAttribute `json:"listenerAttributes,omitempty"`
	// QuicEnabled turns NLB UDP listeners into QUIC and TCP_UDP into TCP_QUIC.
	// +optional
	QuicEnabled *bool `json:"quicEnabled,omitempty"`
}

// LoadBalancerAttribute is one ELB load balancer attribute.
type LoadBalancerAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SecurityGroupPrefix is the ID of a managed prefix list.
type SecurityGroupPrefix string

// MinimumLoadBalancerCapacity reserves load balancer capacity.
type MinimumLoadBalancerCapacity struct {
	CapacityUnits int32 `json:"capacityUnits"`
}

// WAFv2Configuration associates a WAFv2 web ACL with an ALB.
type WAFv2Configuration struct {
	// ACL is the web ACL ARN.
	ACL string `json:"webACL"`
}

// ShieldConfiguration turns on Shield Advanced protection of an ALB.
type ShieldConfiguration struct {
	Enabled bool `json:"enabled"`
}

// DefaultTargetGroupConfigurationReference names a TargetGroupConfiguration, in the same
// namespace and without a targetReference, whose settings are the defaults for every target group.
type DefaultTargetGroupConfigurationReference struct {
	Name string `json:"name"`
}

// LoadBalancerConfigurationSpec holds the AWS settings of the load balancer of a Gateway.
type LoadBalancerConfigurationSpec struct {
	// MergingMode, on a GatewayClass's configuration, decides whether it or the Gateway's wins.
	// +kubebuilder:default=prefer-gateway-class
	// +optional
	MergingMode *MergingMode `json:"mergingMode,omitempty"`
	// LoadBalancerName overrides the generated name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=32
	// +optional
	LoadBalancerName *string `json:"loadBalancerName,omitempty"`
	// Scheme is internal (the default) or internet-facing.
	// +optional
	Scheme *LoadBalancerScheme `json:"scheme,omitempty"`
	// IpAddressType is ipv4 (the default), dualstack or dualstack-without-public-ipv4.
	// +optional
	IpAddressType *LoadBalancerIPAddressType `json:"ipAddressType,omitempty"`
	// EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic is on or off (NLB).
	// +optional
	EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic *string `json:"enforceSecurityGroupInboundRulesOnPrivateLinkTraffic,omitempty"`
	// CustomerOwnedIpv4Pool is an Outposts pool (ALB).
	// +optional
	CustomerOwnedIpv4Pool *string `json:"customerOwnedIpv4Pool,omitempty"`
	// IPv4IPAMPoolId is an IPAM pool (ALB).
	// +optional
	IPv4IPAMPoolId *string `json:"ipv4IPAMPoolId,omitempty"`
	// LoadBalancerSubnets lists the subnets explicitly.
	// +optional
	LoadBalancerSubnets []SubnetConfiguration `json:"loadBalancerSubnets,omitempty"`
	// LoadBalancerSubnetsSelector selects subnets by tag; one per availability zone is used.
	// +optional
	LoadBalancerSubnetsSelector map[string][]string `json:"loadBalancerSubnetsSelector,omitempty"`
	// ListenerConfigurations configure listeners by PROTOCOL:PORT.
	// +optional
	ListenerConfigurations []ListenerConfiguration `json:"listenerConfigurations,omitempty"`
	// DisableSecurityGroup creates an NLB without security groups.
	// +optional
	DisableSecurityGroup *bool `json:"disableSecurityGroup,omitempty"`
	// SecurityGroups are IDs or Name tags of security groups used instead of a managed one.
	// +optional
	SecurityGroups []string `json:"securityGroups,omitempty"`
	// SecurityGroupPrefixes are prefix lists allowed in on the listener ports.
	// +optional
	SecurityGroupPrefixes []string `json:"securityGroupPrefixes,omitempty"`
	// SourceRanges are CIDRs allowed in on the listener ports (default 0.0.0.0/0).
	// +optional
	SourceRanges []string `json:"sourceRanges,omitempty"`
	// LoadBalancerAttributes are set on the load balancer.
	// +optional
	LoadBalancerAttributes []LoadBalancerAttribute `json:"loadBalancerAttributes,omitempty"`
	// Tags are put on the load balancer, its security group and listeners.
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// EnableICMP allows path-MTU discovery ICMP in (NLB).
	// +optional
	EnableICMP *bool `json:"enableICMP,omitempty"`
	// ManageBackendSecurityGroupRules manages worker-node rules also with explicit securityGroups.
	// +optional
	ManageBackendSecurityGroupRules *bool `json:"manageBackendSecurityGroupRules,omitempty"`
	// MinimumLoadBalancerCapacity reserves capacity.
	// +optional
	MinimumLoadBalancerCapacity *MinimumLoadBalancerCapacity `json:"minimumLoadBalancerCapacity,omitempty"`
	// WAFv2 associates a web ACL (ALB).
	// +optional
	WAFv2 *WAFv2Configuration `json:"wafV2,omitempty"`
	// ShieldAdvanced turns on Shield Advanced protection (ALB).
	// +optional
	ShieldAdvanced *ShieldConfiguration `json:"shieldConfiguration,omitempty"`
	// DefaultTargetGroupConfiguration names the TargetGroupConfiguration used as default.
	// +optional
	DefaultTargetGroupConfiguration *DefaultTargetGroupConfigurationReference `json:"defaultTargetGroupConfiguration,omitempty"`
}

// LoadBalancerConfigurationStatus is the observed state of a LoadBalancerConfiguration.
type LoadBalancerConfigurationStatus struct {
	// +optional
	ObservedGatewayClassConfigurationGeneration *int64 `json:"observedGatewayClassConfigurationGeneration,omitempty"`
	// +optional
	ObservedGatewayConfigurationGeneration *int64 `json:"observedGatewayConfigurationGeneration,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:resource:shortName=lbconfig
// +kubebuilder:printcolumn:name="Scheme",type=string,JSONPath=`.spec.scheme`
// +kubebuilder:printcolumn:name="Name",type=string,JSONPath=`.spec.loadBalancerName`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// LoadBalancerConfiguration holds the AWS settings of the load balancer that a Gateway (through
// spec.infrastructure.parametersRef) or a GatewayClass (through spec.parametersRef) becomes.
type LoadBalancerConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   LoadBalancerConfigurationSpec   `json:"spec,omitempty"`
	Status LoadBalancerConfigurationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// LoadBalancerConfigurationList is a list of LoadBalancerConfiguration.
type LoadBalancerConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LoadBalancerConfiguration `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LoadBalancerConfiguration{}, &LoadBalancerConfigurationList{})
}
