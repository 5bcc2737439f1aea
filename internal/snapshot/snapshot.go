// Package snapshot is everything one Gateway's translation may read, as plain data that loads
// from YAML. The controller gathers it from the informer cache and AWS; golden tests and
// `elbgateway plan` load it from files. Nothing in here talks to anything.
package snapshot

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

// Snapshot is the input of translate.Gateway.
type Snapshot struct {
	// Settings are the controller's flags that shape translation.
	Settings Settings `json:"settings"`

	GatewayClass *gwv1.GatewayClass `json:"gatewayClass,omitempty"`
	Gateway      *gwv1.Gateway      `json:"gateway,omitempty"`

	// LoadBalancerConfigurations holds the configurations the class and the Gateway refer to
	// (and may hold others; translation picks by reference).
	LoadBalancerConfigurations []awsv1.LoadBalancerConfiguration `json:"loadBalancerConfigurations,omitempty"`
	// TargetGroupConfigurations holds the configurations in the namespaces of the backends and
	// the ones named as defaults.
	TargetGroupConfigurations []awsv1.TargetGroupConfiguration `json:"targetGroupConfigurations,omitempty"`
	// ListenerRuleConfigurations holds the configurations the routes' ExtensionRef filters name.
	ListenerRuleConfigurations []awsv1.ListenerRuleConfiguration `json:"listenerRuleConfigurations,omitempty"`
	// OIDCSecrets holds, by namespace/name, the client ID and secret of each Secret that an
	// authenticate-oidc action of those ListenerRuleConfigurations names.
	OIDCSecrets map[string]OIDCClient `json:"oidcSecrets,omitempty"`
	// TLSSecrets holds, by namespace/name, the Secrets the Gateway's listeners name in
	// tls.certificateRefs (only those; a Secret that does not exist is left out).
	TLSSecrets map[string]TLSSecret `json:"tlsSecrets,omitempty"`

	// ListenerSets holds the ListenerSets whose spec.parentRef names the Gateway.
	ListenerSets []gwv1.ListenerSet `json:"listenerSets,omitempty"`
	// ListenerSetMerge is how those ListenerSets join the Gateway's listeners, as
	// translate.MergeListenerSets works it out of the Gateway, the ListenerSets and the
	// namespaces. It is derived, not read: gather works it out once, after reading those, for
	// its own reads and for translation. It is not printed; a snapshot without it (loaded from a
	// file) has translation work it out.
	ListenerSetMerge *ListenerSetMerge `json:"-"`

	// Namespaces holds the namespaces of the routes, with their labels, for allowedRoutes selectors.
	Namespaces []corev1.Namespace `json:"namespaces,omitempty"`

	// Routes whose parentRefs name this Gateway, whatever API version the cluster serves them in.
	TCPRoutes  []gwv1.TCPRoute  `json:"tcpRoutes,omitempty"`
	UDPRoutes  []gwv1.UDPRoute  `json:"udpRoutes,omitempty"`
	TLSRoutes  []gwv1.TLSRoute  `json:"tlsRoutes,omitempty"`
	HTTPRoutes []gwv1.HTTPRoute `json:"httpRoutes,omitempty"`
	GRPCRoutes []gwv1.GRPCRoute `json:"grpcRoutes,omitempty"`

	// ReferenceGrants in the namespaces of cross-namespace backends.
	ReferenceGrants []gwv1beta1.ReferenceGrant `json:"referenceGrants,omitempty"`

	// Services the routes' backendRefs name.
	Services []corev1.Service `json:"services,omitempty"`
	// BackendGateways are the Gateways the TCPRoutes' backendRefs of kind Gateway name (NLB to
	// ALB chaining).
	BackendGateways []BackendGateway `json:"backendGateways,omitempty"`

	// EndpointSlices and Nodes are not read by translation (targets are registered by the
	// targets loop); plan files may carry them to show targets.
	EndpointSlices []discoveryv1.EndpointSlice `json:"endpointSlices,omitempty"`
	Nodes          []corev1.Node               `json:"nodes,omitempty"`

	// AWS holds the facts read from AWS.
	AWS AWSFacts `json:"aws"`

	// Now is when the snapshot was gathered: translation's only clock (certificate validity
	// windows). The zero time checks no window.
	Now metav1.Time `json:"now,omitempty"`
}

// Settings are controller-wide settings.
type Settings struct {
	// ControllerName is gateway.k8s.aws/nlb or gateway.k8s.aws/alb.
	ControllerName string `json:"controllerName"`
	ClusterName    string `json:"clusterName"`
	VPCID          string `json:"vpcID"`
	// DefaultScheme is internal unless set.
	DefaultScheme string `json:"defaultScheme,omitempty"`
	// DefaultTargetType is instance unless set.
	DefaultTargetType string `json:"defaultTargetType,omitempty"`
	// DefaultSSLPolicy is ELBSecurityPolicy-2016-08 unless set.
	DefaultSSLPolicy string `json:"defaultSSLPolicy,omitempty"`
	// DefaultTags go on every resource.
	DefaultTags map[string]string `json:"defaultTags,omitempty"`
	// Quotas are the account's load balancer quotas; zero fields take AWS's defaults.
	Quotas Quotas `json:"quotas,omitempty"`
}

// Quotas are the per-load-balancer quotas an account can raise (the controller's flags).
type Quotas struct {
	// ALBRulesPerLoadBalancer: rules of an ALB across its listeners, default rules excluded
	// (AWS default 100).
	ALBRulesPerLoadBalancer int `json:"albRulesPerLoadBalancer,omitempty"`
	// ALBCertificatesPerLoadBalancer: certificates of an ALB across its listeners, default
	// certificates excluded (AWS default 25).
	ALBCertificatesPerLoadBalancer int `json:"albCertificatesPerLoadBalancer,omitempty"`
	// NLBCertificatesPerLoadBalancer: the same for an NLB (AWS default 25).
	NLBCertificatesPerLoadBalancer int `json:"nlbCertificatesPerLoadBalancer,omitempty"`
}

// AWSFacts are what translation needs to know about AWS.
type AWSFacts struct {
	// Subnets of the VPC (all, or the candidates for the load balancer).
	Subnets []Subnet `json:"subnets,omitempty"`
	// VPCCIDRs are the VPC's associated IPv4 and IPv6 CIDR blocks, read only when
	// translate.NeedsVPCCIDRs says so.
	VPCCIDRs []string `json:"vpcCIDRs,omitempty"`
	// ExistingLoadBalancer is the stack's load balancer if it exists, for subnet stability.
	ExistingLoadBalancer *ExistingLoadBalancer `json:"existingLoadBalancer,omitempty"`
	// Certificates are ACM certificates that are ISSUED.
	Certificates []Certificate `json:"certificates,omitempty"`
	// CertificateStatuses holds, for each ACM certificate ARN a LoadBalancerConfiguration
	// names for a secure listener, its ACM status (ISSUED, EXPIRED, ...), or CertificateNotFound
	// when ACM has no such certificate. An ARN not in the map was not checked (not an ACM ARN
	// of this account and region) and is left to AWS.
	CertificateStatuses map[string]string `json:"certificateStatuses,omitempty"`
	// TargetGroupARNs maps the names of existing (out-of-band) target groups to their ARNs.
	TargetGroupARNs map[string]string `json:"targetGroupARNs,omitempty"`
	// SecurityGroupIDs maps the Name tags of security groups a LoadBalancerConfiguration's
	// spec.securityGroups names to their IDs in the VPC; "" when several groups carry the name.
	SecurityGroupIDs map[string]string `json:"securityGroupIDs,omitempty"`
	// BackendSecurityGroupID is the cluster's shared backend security group, when the
	// controller uses one and this Gateway needs it.
	BackendSecurityGroupID string `json:"backendSecurityGroupID,omitempty"`
}

// Subnet is a VPC subnet.
type Subnet struct {
	ID               string `json:"id"`
	AvailabilityZone string `json:"availabilityZone"`
	VPCID            string `json:"vpcID,omitempty"`
	CIDR             string `json:"cidr,omitempty"`
	// IPv6CIDRs are the subnet's associated IPv6 ranges.
	IPv6CIDRs    []string          `json:"ipv6CIDRs,omitempty"`
	AvailableIPs int32             `json:"availableIPs,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	// Public says whether the subnet's route table sends traffic to an internet gateway; read
	// only when no subnet of the VPC carries a kubernetes.io/role tag (discovery by reachability).
	Public *bool `json:"public,omitempty"`
}

// ExistingLoadBalancer is what exists of the stack's load balancer.
type ExistingLoadBalancer struct {
	Scheme  string   `json:"scheme"`
	Subnets []string `json:"subnets"`
}

// CertificateNotFound is the AWSFacts.CertificateStatuses entry of an ARN ACM does not know.
const CertificateNotFound = "NOT_FOUND"

// Certificate is an issued ACM certificate.
type Certificate struct {
	ARN         string   `json:"arn"`
	DomainNames []string `json:"domainNames"`
	// Status is the ACM status; empty means ISSUED. Certificates in any other status are
	// never picked.
	Status string `json:"status,omitempty"`
}

// BackendGateway is a Gateway a route forwards to (NLB to ALB chaining), as far as translation
// needs it.
type BackendGateway struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// ControllerName is its class's controller; empty when the class does not exist.
	ControllerName string `json:"controllerName,omitempty"`
	// ARN is its load balancer's, from its Programmed condition; empty until it is programmed.
	ARN string `json:"arn,omitempty"`
	// Ports are the ports of its listeners that are programmed and exist in AWS (have a route
	// with a usable backend).
	Ports []int32 `json:"ports,omitempty"`
}

// ListenerSetMerge is which entries of the ListenerSets that name a Gateway join its
// listeners, and why the others do not as far as merging decides (an entry the class cannot
// serve says so itself).
type ListenerSetMerge struct {
	// Listeners are the entries that join, in precedence order (after the Gateway's own).
	Listeners []MergedListener
	// Sets holds one entry per ListenerSet whose parentRef names the Gateway, in precedence
	// order.
	Sets []MergedListenerSet
}

// MergedListener is a ListenerSet entry that joins its parent Gateway's listeners.
type MergedListener struct {
	// Namespace and Name are the ListenerSet's.
	Namespace, Name string
	// Index is the entry's index in the ListenerSet's spec.listeners.
	Index    int
	Listener gwv1.Listener
}

// MergedListenerSet is how one ListenerSet that names the Gateway is merged.
type MergedListenerSet struct {
	// ListenerSet is the ListenerSet, one of Snapshot.ListenerSets.
	ListenerSet *gwv1.ListenerSet
	// NotAllowed says why the Gateway's spec.allowedListeners does not admit the ListenerSet;
	// empty when it does.
	NotAllowed string
	// Conflicts are its entries that conflict with a listener of higher precedence, by index in
	// spec.listeners.
	Conflicts map[int]ListenerConflict
}

// ListenerConflict is why a listener conflicts with one of higher precedence: a Gateway API
// reason (ProtocolConflict, HostnameConflict) and a message that names the field.
type ListenerConflict struct {
	Reason, Message string
}
