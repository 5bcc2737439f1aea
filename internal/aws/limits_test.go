package aws

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestFamily(t *testing.T) {
	for _, c := range []struct{ service, op, want string }{
		{"elbv2", "DescribeTags", FamilyELBDescribe},
		{"elbv2", "CreateLoadBalancer", FamilyELBLoadBalancer},
		{"elbv2", "SetSubnets", FamilyELBLoadBalancer},
		{"elbv2", "ModifyLoadBalancerAttributes", FamilyELBLoadBalancer},
		{"elbv2", "CreateListener", FamilyELBListener},
		{"elbv2", "AddListenerCertificates", FamilyELBListener},
		{"elbv2", "ModifyRule", FamilyELBRule},
		{"elbv2", "SetRulePriorities", FamilyELBRule},
		{"elbv2", "ModifyTargetGroupAttributes", FamilyELBTargetGroup},
		{"elbv2", "AddTags", FamilyELBTags},
		{"elbv2", "RegisterTargets", FamilyELBTargets},
		{"elbv2", "DeregisterTargets", FamilyELBTargets},
		{"ec2", "DescribeSecurityGroups", FamilyEC2Describe},
		{"ec2", "AuthorizeSecurityGroupIngress", FamilyEC2Mutate},
		{"acm", "ListCertificates", FamilyACM},
	} {
		if got := family(c.service, c.op); got != c.want {
			t.Errorf("family(%s, %s) = %s, want %s", c.service, c.op, got, c.want)
		}
	}
}

func TestParseRateLimits(t *testing.T) {
	r, err := ParseRateLimits("elbv2.rule=10:40, elbv2.targets=0.5:3")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.String(); got != "elbv2.rule=10:40,elbv2.targets=0.5:3" {
		t.Errorf("parsed %q", got)
	}
	full := r.withDefaults()
	if full[FamilyELBRule] != (Limit{10, 40}) || full[FamilyELBDescribe] != DefaultLimits()[FamilyELBDescribe] {
		t.Errorf("with defaults: %v", full)
	}
	for _, bad := range []string{"elbv2.rule", "elbv2.rule=10", "nope=1:1", "elbv2.rule=0:1", "elbv2.rule=1:0", "elbv2.rule=x:1"} {
		if _, err := ParseRateLimits(bad); err == nil {
			t.Errorf("ParseRateLimits(%q) accepted", bad)
		}
	}
}

// A throttling answer halves its family's rate, not the others'; quiet periods double it back
// up to the configured rate and no further.
func TestAdaptiveLimits(t *testing.T) {
	now := time.Unix(0, 0)
	a := newAPILimits(RateLimits{FamilyELBRule: {8, 8}})
	a.now = func() time.Time { return now }
	a.throttled("elbv2", "CreateRule")
	a.throttled("elbv2", "ModifyRule")
	if got := a.rateOf(FamilyELBRule); got != 2 {
		t.Fatalf("after two throttles the rule rate is %v, want 2", got)
	}
	if got := a.rateOf(FamilyELBListener); got != DefaultLimits()[FamilyELBListener].PerSecond {
		t.Errorf("a throttled rule call changed the listener rate to %v", got)
	}
	ctx := context.Background()
	if err := a.wait(ctx, "elbv2", "CreateRule"); err != nil {
		t.Fatal(err)
	}
	if got := a.rateOf(FamilyELBRule); got != 2 {
		t.Errorf("within the recovery period the rate moved to %v", got)
	}
	for _, want := range []float64{4, 8, 8} {
		now = now.Add(adaptiveRecovery)
		if err := a.wait(ctx, "elbv2", "CreateRule"); err != nil {
			t.Fatal(err)
		}
		if got := a.rateOf(FamilyELBRule); got != want {
			t.Errorf("after a quiet period the rate is %v, want %v", got, want)
		}
	}
}

func TestPermanent(t *testing.T) {
	for code, want := range map[string]bool{
		"ValidationError": true, "SubnetNotFound": true, "CertificateNotFound": true,
		"TooManyLoadBalancers": true, "TooManyRules": true, "InvalidGroup.NotFound": true,
		"RulesPerSecurityGroupLimitExceeded": true,
		"Throttling":                         false, "ThrottlingException": false, "RequestLimitExceeded": false,
		"ServiceUnavailable": false, "ResourceInUse": false, "DependencyViolation": false,
		"LoadBalancerNotFound": false, "HealthUnavailable": false,
	} {
		err := fmt.Errorf("create load-balancer x: %w", &smithy.GenericAPIError{Code: code, Message: "m"})
		if got := Permanent(err); got != want {
			t.Errorf("Permanent(%s) = %v, want %v", code, got, want)
		}
	}
	if Permanent(errors.New("connection reset")) {
		t.Error("an error without a code is permanent")
	}
}
