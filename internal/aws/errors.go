package aws

import "strings"

// permanentCodes are AWS error codes that the same call will get again until its input changes:
// the request is invalid, a quota is reached, or a resource it refers to does not exist. They
// come from the Errors sections of the ELBv2, EC2 and ACM API references (and the SDK's error
// types, service/elasticloadbalancingv2/types/errors.go).
var permanentCodes = map[string]bool{
	// ELBv2: invalid requests.
	"ValidationError":              true,
	"InvalidConfigurationRequest":  true,
	"InvalidSubnet":                true,
	"InvalidSecurityGroup":         true,
	"InvalidScheme":                true,
	"InvalidLoadBalancerAction":    true,
	"IncompatibleProtocols":        true,
	"UnsupportedProtocol":          true,
	"InvalidTarget":                true,
	"InvalidCaCertificatesBundle":  true,
	"AvailabilityZoneNotSupported": true,
	"OperationNotPermitted":        true,
	"DuplicateLoadBalancerName":    true,
	"DuplicateTargetGroupName":     true,
	"DuplicateListener":            true,
	"PriorityInUse":                true,
	// ELBv2: referenced resources that do not exist.
	"SubnetNotFound":               true,
	"CertificateNotFound":          true,
	"SSLPolicyNotFound":            true,
	"ALPNPolicyNotFound":           true,
	"AllocationIdNotFound":         true,
	"TrustStoreNotFound":           true,
	"TrustStoreNotReady":           true,
	"CaCertificatesBundleNotFound": true,
	// EC2 and ACM.
	"InvalidParameterValue":              true,
	"InvalidParameterCombination":        true,
	"InvalidParameter":                   true,
	"InvalidGroup.NotFound":              true,
	"InvalidSubnetID.NotFound":           true,
	"InvalidVpcID.NotFound":              true,
	"RulesPerSecurityGroupLimitExceeded": true,
	"SecurityGroupLimitExceeded":         true,
	"InvalidArnException":                true,
	"ResourceNotFoundException":          true,
	"ValidationException":                true,
	"UnauthorizedOperation":              true,
	"AccessDenied":                       true,
	"AccessDeniedException":              true,
	// WAFv2, Shield and ELB capacity reservations (the load balancer's addons).
	"WAFNonexistentItemException":  true,
	"WAFInvalidParameterException": true,
	"WAFInvalidOperationException": true,
	"WAFInvalidResourceException":  true,
	"InvalidResourceException":     true,
	"InvalidParameterException":    true,
	"InvalidOperationException":    true,
	// ShieldSubscriptionInactive is this controller's: GetSubscriptionState answered INACTIVE.
	"ShieldSubscriptionInactive": true,
}

// Permanent is true when err carries an AWS error code that a retry of the same request will
// get again: a validation error, a quota (TooMany…, …LimitExceeded except the request rate), or a
// referenced resource that does not exist. Throttling, server errors, network errors,
// ResourceInUse and DependencyViolation are not permanent.
func Permanent(err error) bool {
	code := errorCode(err)
	switch {
	case code == "":
		return false
	case isThrottle(err), code == "RequestLimitExceeded":
		return false
	case permanentCodes[code]:
		return true
	case strings.HasPrefix(code, "TooMany"), strings.HasSuffix(code, "LimitExceeded"), strings.HasSuffix(code, "QuotaExceeded"):
		return true
	}
	return false
}

// ErrorCode is the AWS error code err carries, or "".
func ErrorCode(err error) string { return errorCode(err) }
