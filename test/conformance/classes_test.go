package conformance

import (
	"bytes"
	"errors"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/gateway-api/conformance/utils/kubernetes"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
	"sigs.k8s.io/yaml"
)

// statusOnly are the tests of the pinned conformance suite (v1.6.3) that check status only and
// send no traffic: they need no data plane. The tests that send traffic run elsewhere.
var statusOnly = []string{
	"BackendTLSPolicyObservedGenerationBump",
	"GatewayClassObservedGenerationBump",
	"GatewayInfrastructureMetadata",
	"GatewayInvalidFrontendClientCertificateValidation",
	"GatewayInvalidParametersRef",
	"GatewayInvalidRouteKind",
	"GatewayInvalidTLSBackendConfiguration",
	"GatewayInvalidTLSConfiguration",
	"GatewayListenerUnsupportedProtocol",
	"GatewayModifyListeners",
	"GatewayObservedGenerationBump",
	"GatewayOptionalAddressValue",
	"GatewaySecretInvalidReferenceGrant",
	"GatewaySecretMissingReferenceGrant",
	"GatewaySecretReferenceGrantAllInNamespace",
	"GatewaySecretReferenceGrantSpecific",
	"GatewayStaticAddresses",
	"GatewayWithAttachedRoutes",
	"GatewayWithAttachedRoutesWithPort8080",
	"HTTPRouteDisallowedKind",
	"HTTPRouteInvalidCrossNamespaceParentRef",
	"HTTPRouteInvalidParentRefNotMatchingListenerPort",
	"HTTPRouteInvalidParentRefNotMatchingSectionName",
	"HTTPRouteInvalidParentRefSectionNameNotMatchingPort",
	"HTTPRouteObservedGenerationBump",
	"ListenerSetAllowedNamespaceNone",
	"ListenerSetAllowedNamespaceSame",
	"ListenerSetAllowedNamespaceSelector",
	"ListenerSetAllowedRoutesSupportedKinds",
	"ListenerSetDefaultNotAllowed",
	"ListenerSetHostnameConflict",
	"ListenerSetProtocolConflict",
	"ListenerSetReferenceGrant",
	"ListenerSetRouteStatusScopedToParentRef",
	"TCPRouteInvalidBackendRefNonexistent",
	"TCPRouteInvalidCrossNamespaceBackendRef",
	"TCPRouteInvalidNonTCPListener",
	"TLSRouteInvalidNoMatchingListener",
	"TLSRouteInvalidNoMatchingListenerHostname",
	"TLSRouteInvalidReferenceGrant",
	"TLSRouteListenerMixedTerminationNotSupported",
	"TLSRouteListenerPassthroughSupportedKinds",
	"TLSRouteListenerTerminateNotSupported",
	"TLSRouteListenerTerminateSupportedKinds",
	"UDPRouteInvalidBackendRefNonexistent",
	"UDPRouteInvalidCrossNamespaceBackendRef",
	"UDPRouteNotAllowedByListeners",
}

// class is one GatewayClass the suite runs against, with the profiles and features it claims.
type class struct {
	name         string
	gatewayClass string
	controller   string
	profiles     []suite.ConformanceProfileName
	// features are claimed beyond the profiles' core features; a test that needs a feature not
	// claimed is skipped by the suite ("suite does not support").
	features []features.FeatureName
	// skip are the status-only tests the claimed features cover that do not run, each with
	// the AWS reason.
	skip map[string]string
	// baseManifests, when set, rewrites the suite's base manifests for the class.
	baseManifests func([]byte) ([]byte, error)
}

var classes = []class{
	{
		name: "alb", gatewayClass: "elbgateway-alb", controller: "gateway.k8s.aws/alb",
		profiles: []suite.ConformanceProfileName{suite.GatewayHTTPConformanceProfileName, suite.GatewayGRPCConformanceProfileName},
		features: []features.FeatureName{
			features.SupportGatewayInfrastructure,
			features.SupportGatewayPort8080,
			features.SupportHTTPRouteParentRefPort,
			// Rule conditions http-request-method and query-string.
			features.SupportHTTPRouteMethodMatching,
			features.SupportHTTPRouteQueryParamMatching,
			// RequestRedirect: a redirect action's protocol, port and path.
			features.SupportHTTPRoutePortRedirect,
			features.SupportHTTPRouteSchemeRedirect,
			features.SupportHTTPRoutePathRedirect,
			// URLRewrite: the host-header-rewrite and url-rewrite transforms.
			features.SupportHTTPRouteHostRewrite,
			features.SupportHTTPRoutePathRewrite,
			// A rule's name changes nothing on AWS.
			features.SupportHTTPRouteNamedRouteRule,
			features.SupportGRPCRouteNamedRouteRule,
		},
		skip: map[string]string{
			"GatewayInfrastructureMetadata": noInfrastructureObjects,
		},
	},
	{
		name: "nlb", gatewayClass: "elbgateway-nlb", controller: "gateway.k8s.aws/nlb", baseManifests: nlbBaseManifests,
		profiles: []suite.ConformanceProfileName{suite.GatewayTCPConformanceProfileName, suite.GatewayUDPConformanceProfileName,
			suite.GatewayTLSConformanceProfileName},
		features: []features.FeatureName{
			features.SupportGatewayInfrastructure,
			features.SupportTLSRouteModeTerminate,
		},
		// Their Gateways have only HTTP and HTTPS listeners (the base Gateways too, see
		// nlbBaseManifests); the ALB class runs them.
		skip: map[string]string{
			"GatewayInfrastructureMetadata":             noInfrastructureObjects,
			"GatewayInvalidRouteKind":                   nlbNoHTTP,
			"GatewayInvalidTLSConfiguration":            nlbNoHTTP,
			"GatewayListenerUnsupportedProtocol":        nlbNoHTTP,
			"GatewayModifyListeners":                    nlbNoHTTP,
			"GatewayObservedGenerationBump":             nlbNoHTTP,
			"GatewaySecretInvalidReferenceGrant":        nlbNoHTTP,
			"GatewaySecretMissingReferenceGrant":        nlbNoHTTP,
			"GatewaySecretReferenceGrantAllInNamespace": nlbNoHTTP,
			"GatewaySecretReferenceGrantSpecific":       nlbNoHTTP,
			// These wait for Gateways with HTTP or HTTPS listeners only to be accepted and
			// programmed before they check their routes; the NLB class never accepts those.
			"TCPRouteInvalidNonTCPListener":     nlbWaitsForHTTP,
			"TLSRouteInvalidNoMatchingListener": nlbWaitsForHTTP,
		},
	},
}

// noInfrastructureObjects is why GatewayInfrastructureMetadata is skipped: it looks for the
// ServiceAccounts and Pods a Gateway's data plane runs as, to check that they carry
// spec.infrastructure's labels and annotations. A Gateway's data plane here is an AWS load
// balancer; no Kubernetes object is made for it. (spec.infrastructure.parametersRef is
// supported: GatewayInvalidParametersRef runs.)
const noInfrastructureObjects = "it checks the labels of the Pods and ServiceAccounts a Gateway's data plane runs as; here the data plane is an AWS load balancer, and no Kubernetes object is made for it"

// nlbNoHTTP and nlbWaitsForHTTP are why the NLB class skips tests whose Gateways listen on
// HTTP or HTTPS only. CreateListener: "For Network Load Balancers, the supported protocols are
// TCP, TLS, UDP, TCP_UDP, QUIC, and TCP_QUIC."
const (
	nlbNoHTTP       = "its Gateways listen on HTTP/HTTPS only, and an NLB's listener protocols are TCP, TLS, UDP, TCP_UDP, QUIC, TCP_QUIC; it runs in the ALB class"
	nlbWaitsForHTTP = "it waits for a Gateway that listens on HTTP/HTTPS only to be accepted, and an NLB's listener protocols are TCP, TLS, UDP, TCP_UDP, QUIC, TCP_QUIC; an ALB serves no L4 routes"
)

// nlbBaseManifests marks the suite's base Gateways as exempt from its readiness wait
// (kubernetes.GatewayExcludedFromReadinessChecks): they listen on HTTP and HTTPS only, so an NLB
// class never accepts them, and no test of the NLB profiles uses them. Everything else of the
// base (namespaces, Services, Secrets) stays as the suite ships it.
func nlbBaseManifests(raw []byte) ([]byte, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out bytes.Buffer
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out.Bytes(), nil
			}
			return nil, err
		}
		if len(u.Object) == 0 {
			continue
		}
		if u.GetKind() == "Gateway" {
			a := u.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[kubernetes.GatewayExcludedFromReadinessChecks] = "true"
			u.SetAnnotations(a)
		}
		doc, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(doc)
	}
}
