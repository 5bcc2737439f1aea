package testenv

import (
	"fmt"
	"strings"
	"testing"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// webACL creates a regional web ACL through the layer and returns its ARN.
func (f *fixture) webACL(name string) string {
	f.t.Helper()
	out := f.accepted("wafv2", "create-web-acl", "--name", f.name(name), "--scope", "REGIONAL", "--default-action", "Allow={}",
		"--visibility-config", "SampledRequestsEnabled=false,CloudWatchMetricsEnabled=false,MetricName="+name)
	var v struct{ Summary struct{ ARN string } }
	f.decode(out, &v)
	return v.Summary.ARN
}

func (f *fixture) webACLOf(lbARN string) string {
	f.t.Helper()
	var v struct{ WebACL *struct{ ARN string } }
	out := f.accepted("wafv2", "get-web-acl-for-resource", "--resource-arn", lbARN)
	if strings.TrimSpace(out) == "" {
		return "" // the CLI prints nothing for a null WebACL
	}
	f.decode(out, &v)
	if v.WebACL == nil {
		return ""
	}
	return v.WebACL.ARN
}

func TestStrictWebACLAssociation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lb := f.loadBalancer("waf", elbtypes.LoadBalancerTypeEnumApplication)
	a, b := f.webACL("waf-a"), f.webACL("waf-b")

	// A web ACL of scope CLOUDFRONT, or of another region, cannot protect the load balancer.
	global := strings.Replace(a, ":regional/", ":global/", 1)
	f.refused("WAFInvalidParameterException", "wafv2", "associate-web-acl", "--web-acl-arn", global, "--resource-arn", lb)
	other := strings.Replace(a, ":"+testRegion+":", ":eu-west-3:", 1)
	f.refused("WAFInvalidParameterException", "wafv2", "associate-web-acl", "--web-acl-arn", other, "--resource-arn", lb)
	if got := f.webACLOf(lb); got != "" {
		t.Fatalf("refused associations left web ACL %q", got)
	}

	// One web ACL per load balancer: a second association replaces the first.
	f.accepted("wafv2", "associate-web-acl", "--web-acl-arn", a, "--resource-arn", lb)
	f.accepted("wafv2", "associate-web-acl", "--web-acl-arn", b, "--resource-arn", lb)
	if got := f.webACLOf(lb); got != b {
		t.Errorf("web ACL %q after associating %s, want it", got, b)
	}
	// A web ACL that does not exist is refused without touching the association.
	gone := strings.Replace(b, "/waf-b-", "/gone-", 1)
	f.refused("WAFNonexistentItemException", "wafv2", "associate-web-acl", "--web-acl-arn", gone, "--resource-arn", lb)
	if got := f.webACLOf(lb); got != b {
		t.Errorf("web ACL %q after a refused association, want %s kept", got, b)
	}
	// The replaced association is gone: after one disassociation the load balancer has none
	// (moto alone would still find it under the first web ACL).
	f.accepted("wafv2", "disassociate-web-acl", "--resource-arn", lb)
	if got := f.webACLOf(lb); got != "" {
		t.Errorf("web ACL %q after disassociating, want none", got)
	}
}

// TestStrictShieldSubscription is not parallel: the subscription is the account's.
func TestStrictShieldSubscription(t *testing.T) {
	f := newFixture(t)
	lb := f.loadBalancer("shield", elbtypes.LoadBalancerTypeEnumApplication)
	state := func() string {
		var v struct{ SubscriptionState string }
		f.decode(f.accepted("shield", "get-subscription-state"), &v)
		return v.SubscriptionState
	}
	if got := state(); got != "INACTIVE" {
		t.Fatalf("subscription %s before CreateSubscription, want INACTIVE", got)
	}
	f.refused("ResourceNotFoundException", "shield", "create-protection", "--name", "p", "--resource-arn", lb)
	f.accepted("shield", "create-subscription")
	t.Cleanup(func() { f.cli("shield", "delete-subscription") })
	if got := state(); got != "ACTIVE" {
		t.Fatalf("subscription %s after CreateSubscription, want ACTIVE", got)
	}
	f.accepted("shield", "create-protection", "--name", "p", "--resource-arn", lb)
}

func TestStrictCapacityReservation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lb := f.loadBalancer("lcu", elbtypes.LoadBalancerTypeEnumApplication)
	units := func() int {
		var v struct {
			MinimumLoadBalancerCapacity *struct{ CapacityUnits int }
			DecreaseRequestsRemaining   int
		}
		f.decode(f.accepted("elbv2", "describe-capacity-reservation", "--load-balancer-arn", lb), &v)
		if v.MinimumLoadBalancerCapacity == nil {
			return 0
		}
		return v.MinimumLoadBalancerCapacity.CapacityUnits
	}
	modify := func(n int) []string {
		return []string{"elbv2", "modify-capacity-reservation", "--load-balancer-arn", lb, "--minimum-load-balancer-capacity", fmt.Sprintf("CapacityUnits=%d", n)}
	}
	if got := units(); got != 0 {
		t.Fatalf("%d capacity units before any reservation", got)
	}
	f.refused("ValidationError", "elbv2", "modify-capacity-reservation", "--load-balancer-arn", lb)
	f.refused("LoadBalancerNotFound", "elbv2", "modify-capacity-reservation", "--load-balancer-arn", lb+"0", "--reset-capacity-reservation")
	f.accepted(modify(300)...)
	if got := units(); got != 300 {
		t.Errorf("%d capacity units, want 300", got)
	}
	// Increases are free; two decreases a day, then CapacityDecreaseRequestLimitExceeded.
	f.accepted(modify(400)...)
	f.accepted(modify(200)...)
	f.accepted("elbv2", "modify-capacity-reservation", "--load-balancer-arn", lb, "--reset-capacity-reservation")
	if got := units(); got != 0 {
		t.Errorf("%d capacity units after a reset, want none", got)
	}
	f.accepted(modify(500)...)
	f.refused("CapacityDecreaseRequestLimitExceeded", modify(100)...)
	if got := units(); got != 500 {
		t.Errorf("%d capacity units after a refused decrease, want 500 kept", got)
	}
}
