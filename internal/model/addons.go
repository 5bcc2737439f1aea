package model

import (
	"fmt"
	"strings"
)

// CheckAddons returns why a load balancer of type t cannot have addons a, or nil.
//
// AWS WAF protects Application Load Balancers, not Network Load Balancers ("Resources that you
// can protect with AWS WAF"), and a web ACL of an ALB must be a regional one: "The web ACL and
// any AWS WAF resources that it uses must be located in the Region where the associated resource
// is located"; a web ACL of scope CLOUDFRONT has a "global/webacl/" ARN. Shield Advanced
// protection of a load balancer is for ALBs here, as in the AWS Load Balancer Controller.
func CheckAddons(t LoadBalancerType, a Addons) error {
	if a.WebACL != "" {
		if t != Application {
			return fmt.Errorf("wafV2.webACL: AWS WAF protects Application Load Balancers only; remove it from a Network Load Balancer's configuration")
		}
		if err := CheckWebACLARN(a.WebACL); err != nil {
			return fmt.Errorf("wafV2.webACL: %w", err)
		}
	}
	if a.Shield && t != Application {
		return fmt.Errorf("shieldConfiguration.enabled: Shield Advanced protection is managed for Application Load Balancers only")
	}
	if a.CapacityUnits < 0 {
		return fmt.Errorf("minimumLoadBalancerCapacity.capacityUnits: %d is negative; use a positive number, or 0 for no reservation", a.CapacityUnits)
	}
	return nil
}

// CheckWebACLARN checks that arn is a regional WAFv2 web ACL's ARN:
// arn:<partition>:wafv2:<region>:<account>:regional/webacl/<name>/<id>.
func CheckWebACLARN(arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "wafv2" || parts[3] == "" || parts[4] == "" {
		return fmt.Errorf("%q is not a WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)", arn)
	}
	res := strings.Split(parts[5], "/")
	if len(res) != 4 || res[1] != "webacl" || res[2] == "" || res[3] == "" {
		return fmt.Errorf("%q is not a web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>)", arn)
	}
	switch res[0] {
	case "regional":
		return nil
	case "global":
		return fmt.Errorf("%q is a CloudFront (global) web ACL; a load balancer needs a REGIONAL web ACL of its own region", arn)
	}
	return fmt.Errorf("%q has scope %q; a load balancer needs a REGIONAL web ACL", arn, res[0])
}
