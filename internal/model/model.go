// Package model is the AWS state a Gateway should have, and the state it has, as plain data.
//
// A Stack is one Gateway's load balancer with everything hanging off it. Resources refer to each
// other by logical ID (the value of the resource tag), never by ARN, so a desired stack can be
// built without AWS and compared with an observed one field by field. Observed stacks also carry
// the identifiers AWS assigned (ARN, GroupID, DNSName). Every list is sorted; see Sort.
package model

import (
	"fmt"
	"net/netip"
)

// LoadBalancerType is the kind of elastic load balancer.
type LoadBalancerType string

const (
	Network     LoadBalancerType = "network"
	Application LoadBalancerType = "application"
)

// Logical IDs of the singleton resources of a stack.
const (
	LoadBalancerID         = "LoadBalancer"
	ManagedSecurityGroupID = "ManagedLBSecurityGroup"
)

// Tags are AWS resource tags.
type Tags map[string]string

// Stack is everything one Gateway owns in AWS. A stack without a LoadBalancer means: own nothing.
type Stack struct {
	// ID is the Gateway's namespace/name; it is the value of the stack tag.
	ID             string           `json:"id"`
	Type           LoadBalancerType `json:"type"`
	LoadBalancer   *LoadBalancer    `json:"loadBalancer,omitempty"`
	SecurityGroups []SecurityGroup  `json:"securityGroups,omitempty"`
	Listeners      []Listener       `json:"listeners,omitempty"`
	TargetGroups   []TargetGroup    `json:"targetGroups,omitempty"`
	// Certificates are the ACM certificates the stack imports from Kubernetes Secrets.
	Certificates []Certificate `json:"certificates,omitempty"`
}

// Ref points at another resource: one of this stack by logical ID, or an existing AWS resource
// by its identifier (an ARN, or a security group ID). Exactly one is set.
type Ref struct {
	ID       string `json:"id,omitempty"`
	External string `json:"external,omitempty"`
}

// SubnetMapping places the load balancer in one subnet.
type SubnetMapping struct {
	SubnetID           string `json:"subnetID"`
	AllocationID       string `json:"allocationID,omitempty"`
	PrivateIPv4Address string `json:"privateIPv4Address,omitempty"`
	IPv6Address        string `json:"ipv6Address,omitempty"`
	// PublicIPv4Address is observed only: the address of the Elastic IP AllocationID names.
	PublicIPv4Address string `json:"publicIPv4Address,omitempty"`
}

// LoadBalancer is an NLB or ALB.
type LoadBalancer struct {
	Name           string            `json:"name"`
	Scheme         string            `json:"scheme"`
	IPAddressType  string            `json:"ipAddressType"`
	Subnets        []SubnetMapping   `json:"subnets"`
	SecurityGroups []Ref             `json:"securityGroups,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Tags           Tags              `json:"tags,omitempty"`
	// Addons are the services attached to the load balancer besides ELB itself.
	Addons Addons `json:"addons,omitzero"`

	// Observed only.
	ARN     string `json:"arn,omitempty"`
	DNSName string `json:"dnsName,omitempty"`
	State   string `json:"state,omitempty"`
}

// Addons are what the load balancer has from other services, or from ELB outside the load
// balancer's own settings. The zero value is none of them. An observed stack's addons are read
// only where the desired stack asks for one or the load balancer is marked as having had one
// (internal/aws), so an unread addon observes as its zero value.
type Addons struct {
	// WebACL is the ARN of the WAFv2 web ACL associated with the load balancer (ALB only).
	WebACL string `json:"webACL,omitempty"`
	// Shield is whether Shield Advanced protects the load balancer (ALB only).
	Shield bool `json:"shield,omitempty"`
	// CapacityUnits is the minimum load balancer capacity reserved; 0 reserves none.
	CapacityUnits int32 `json:"capacityUnits,omitempty"`

	// ShieldProtectionID is the observed Shield protection's ID when this controller (or the AWS
	// Load Balancer Controller before it) created it: only such a protection is ever deleted.
	ShieldProtectionID string `json:"shieldProtectionID,omitempty"`
}

// Any says whether any addon is set.
func (a Addons) Any() bool { return a.WebACL != "" || a.Shield || a.CapacityUnits != 0 }

// IngressRule lets traffic into a security group from a CIDR or a prefix list.
type IngressRule struct {
	Protocol     string `json:"protocol"` // tcp, udp, icmp, icmpv6
	FromPort     int32  `json:"fromPort"`
	ToPort       int32  `json:"toPort"`
	CIDR         string `json:"cidr,omitempty"`
	PrefixListID string `json:"prefixListID,omitempty"`
	Description  string `json:"description,omitempty"`
}

// SecurityGroup is a security group the stack manages.
type SecurityGroup struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Ingress     []IngressRule `json:"ingress,omitempty"`
	Tags        Tags          `json:"tags,omitempty"`

	// Observed only.
	GroupID string `json:"groupID,omitempty"`
}

// ActionType is the type of a listener or rule action.
type ActionType string

const (
	ActionForward       ActionType = "forward"
	ActionFixedResponse ActionType = "fixed-response"
	ActionRedirect      ActionType = "redirect"
	// Pre-routing actions of ALB rules; they come before the routing action.
	ActionAuthenticateOIDC    ActionType = "authenticate-oidc"
	ActionAuthenticateCognito ActionType = "authenticate-cognito"
	ActionJWTValidation       ActionType = "jwt-validation"
)

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	TargetGroup Ref   `json:"targetGroup"`
	Weight      int32 `json:"weight"`
}

// Stickiness is the target group stickiness of a forward action.
type Stickiness struct {
	Enabled         bool  `json:"enabled"`
	DurationSeconds int32 `json:"durationSeconds,omitempty"`
}

// ForwardAction sends traffic to target groups by weight.
type ForwardAction struct {
	TargetGroups []WeightedTargetGroup `json:"targetGroups"`
	Stickiness   *Stickiness           `json:"stickiness,omitempty"`
}

// FixedResponseAction answers requests directly.
type FixedResponseAction struct {
	StatusCode  string `json:"statusCode"`
	ContentType string `json:"contentType,omitempty"`
	MessageBody string `json:"messageBody,omitempty"`
}

// RedirectAction redirects requests. Empty fields keep the request's value (#{host} and so on).
type RedirectAction struct {
	Protocol   string `json:"protocol,omitempty"`
	Host       string `json:"host,omitempty"`
	Port       string `json:"port,omitempty"`
	Path       string `json:"path,omitempty"`
	Query      string `json:"query,omitempty"`
	StatusCode string `json:"statusCode"`
}

// Action is one listener or rule action.
type Action struct {
	Type          ActionType           `json:"type"`
	Forward       *ForwardAction       `json:"forward,omitempty"`
	FixedResponse *FixedResponseAction `json:"fixedResponse,omitempty"`
	Redirect      *RedirectAction      `json:"redirect,omitempty"`
	// Pre-routing actions.
	AuthenticateOIDC    *AuthenticateOIDCAction    `json:"authenticateOIDC,omitempty"`
	AuthenticateCognito *AuthenticateCognitoAction `json:"authenticateCognito,omitempty"`
	JWTValidation       *JWTValidationAction       `json:"jwtValidation,omitempty"`
}

// PreRouting says whether the action authenticates or validates before the routing action.
func (a Action) PreRouting() bool {
	switch a.Type {
	case ActionAuthenticateOIDC, ActionAuthenticateCognito, ActionJWTValidation:
		return true
	}
	return false
}

// Condition is one ALB rule condition; Field names the condition type (host-header, path-pattern,
// http-header, query-string, http-request-method, source-ip).
type Condition struct {
	Field       string     `json:"field"`
	Values      []string   `json:"values,omitempty"`
	RegexValues []string   `json:"regexValues,omitempty"`
	HeaderName  string     `json:"headerName,omitempty"`
	QueryValues []KeyValue `json:"queryValues,omitempty"`
}

// KeyValue is a query-string condition entry; an empty Key matches any key.
type KeyValue struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value"`
}

// Transform is an ALB rule transform (host-header-rewrite or url-rewrite).
type Transform struct {
	Type    string `json:"type"`
	Regex   string `json:"regex"`
	Replace string `json:"replace"`
}

// Rule is an ALB listener rule.
type Rule struct {
	Priority   int32       `json:"priority"`
	Conditions []Condition `json:"conditions"`
	Actions    []Action    `json:"actions"`
	Transforms []Transform `json:"transforms,omitempty"`
	Tags       Tags        `json:"tags,omitempty"`
	// Route is the route the rule comes from (see Owner); desired only.
	Route string `json:"route,omitempty"`

	// Observed only.
	ARN string `json:"arn,omitempty"`
}

// Listener is a load balancer listener, identified by its port.
type Listener struct {
	Port           int32    `json:"port"`
	Protocol       string   `json:"protocol"` // TCP, UDP, TCP_UDP, TLS, HTTP, HTTPS
	DefaultActions []Action `json:"defaultActions"`
	// Certificates are the stack's imported certificates (Ref.ID) or existing ACM certificates
	// (Ref.External, an ARN); the first is the default certificate.
	Certificates []Ref  `json:"certificates,omitempty"`
	SSLPolicy    string `json:"sslPolicy,omitempty"`
	ALPNPolicy   string `json:"alpnPolicy,omitempty"`
	// MutualAuthentication is the mTLS setting of an HTTPS listener.
	MutualAuthentication *MutualAuthentication `json:"mutualAuthentication,omitempty"`
	Attributes           map[string]string     `json:"attributes,omitempty"`
	Rules                []Rule                `json:"rules,omitempty"`
	Tags                 Tags                  `json:"tags,omitempty"`

	// Observed only.
	ARN string `json:"arn,omitempty"`
}

// HealthCheck configures a target group's health checks. Port is a number or traffic-port.
type HealthCheck struct {
	Enabled            bool   `json:"enabled"`
	Protocol           string `json:"protocol"`
	Port               string `json:"port"`
	Path               string `json:"path,omitempty"`
	IntervalSeconds    int32  `json:"intervalSeconds"`
	TimeoutSeconds     int32  `json:"timeoutSeconds"`
	HealthyThreshold   int32  `json:"healthyThreshold"`
	UnhealthyThreshold int32  `json:"unhealthyThreshold"`
	HTTPCode           string `json:"httpCode,omitempty"`
	GRPCCode           string `json:"grpcCode,omitempty"`
}

// Backend says where a target group's targets come from: the endpoints (ip) or the nodes
// (instance) behind one port of a Service.
type Backend struct {
	Namespace string `json:"namespace"`
	Service   string `json:"service"`
	// Port is the Service port (spec.ports[].port) the route refers to.
	Port int32 `json:"port"`
	// PortName is that Service port's name, which EndpointSlices use.
	PortName string `json:"portName,omitempty"`
	// NodePort is the Service port's node port, for instance targets.
	NodePort int32 `json:"nodePort,omitempty"`
	// NodeSelector narrows the nodes registered as instance targets (label key → value).
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
}

// TargetGroup is a target group the stack manages.
type TargetGroup struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	TargetType      string            `json:"targetType"` // instance, ip, alb
	Protocol        string            `json:"protocol"`
	ProtocolVersion string            `json:"protocolVersion,omitempty"`
	Port            int32             `json:"port"`
	IPAddressType   string            `json:"ipAddressType"`
	VPCID           string            `json:"vpcID"`
	HealthCheck     HealthCheck       `json:"healthCheck"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	Tags            Tags              `json:"tags,omitempty"`
	Backend         *Backend          `json:"backend,omitempty"`
	// Targets are the targets of a group of type alb: the one Application Load Balancer it
	// forwards to (NLB to ALB chaining), registered with the group itself rather than by the
	// targets loop. Observed for alb groups only.
	Targets []Target `json:"targets,omitempty"`
	// Route is the route the target group serves (see Owner); desired only.
	Route string `json:"route,omitempty"`

	// Observed only.
	ARN string `json:"arn,omitempty"`
}

// Target is one registered target of a target group: an instance ID or an IP address, and a port.
type Target struct {
	ID               string `json:"id"`
	Port             int32  `json:"port"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
}

// IsQUIC says whether a listener or target group protocol is QUIC or TCP_QUIC.
func IsQUIC(protocol string) bool { return protocol == "QUIC" || protocol == "TCP_QUIC" }

// QUICServerID is the QUIC server ID of an IPv4 target of a QUIC target group: "0x" and 16
// lowercase hexadecimal digits (TargetDescription QuicServerId: "The ID consists of the 0x
// prefix followed by 16 hexadecimal characters. Any letters must be lowercase. The value must be
// unique at the listener level."), here the target's IPv4 address in the last 8 digits, so a
// server finds its own ID from its pod IP. "" for anything else.
func QUICServerID(target string) string {
	ip, err := netip.ParseAddr(target)
	if err != nil || !ip.Is4() {
		return ""
	}
	b := ip.As4()
	return fmt.Sprintf("0x00000000%02x%02x%02x%02x", b[0], b[1], b[2], b[3])
}
