package aws

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/shield"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestShieldLookupRefusedOnDelete: a load balancer that goes, remembered as protected by Shield
// without the protection's ID (an apply whose CreateProtection found it protected already), has
// its protection looked up by ARN first. When Shield refuses that look-up (AccessDenied, or
// throttling past the retries) the load balancer is not deleted, so its protection does not
// outlive it; once the look-up is answered, the next apply deletes both.
func TestShieldLookupRefusedOnDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	_, elb := rawClients(t)
	proxy, err := testenv.NewFaultProxy(moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	c, err := New(ctx, Options{
		Region: testRegion, VPCID: vpcID, ClusterName: testCluster,
		Endpoint: proxy.URL, Credentials: testCreds, MaxRetries: 1,
		DeleteRetryInterval: 50 * time.Millisecond, DeleteTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}

	name := "shield-" + vpcID[len(vpcID)-6:]
	lb, err := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Type: elbtypes.LoadBalancerTypeEnumApplication, Subnets: subnets[:2],
	})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	t.Cleanup(func() {
		_, _ = elb.DeleteLoadBalancer(context.Background(), &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbARN)})
	})
	shieldc := shield.NewFromConfig(testenv.AWSConfig(moto.Endpoint, testRegion))
	if _, err := shieldc.CreateSubscription(ctx, &shield.CreateSubscriptionInput{}); err != nil && errorCode(err) != "ResourceAlreadyExistsException" {
		t.Fatal(err)
	}
	if _, err := shieldc.CreateProtection(ctx, &shield.CreateProtectionInput{Name: aws.String(shieldProtectionName), ResourceArn: aws.String(lbARN)}); err != nil {
		t.Fatal(err)
	}

	const stack = "default/shield"
	observed := &model.Stack{ID: stack, Type: model.Application,
		LoadBalancer: &model.LoadBalancer{Name: name, ARN: lbARN, Addons: model.Addons{Shield: true}}}
	desired := &model.Stack{ID: stack, Type: model.Application}
	changes := plan.Diff(desired, observed)
	wantOps(t, "the load balancer goes", changes, []string{"delete " + string(plan.KindAddon) + " " + plan.AddonShield, "delete LoadBalancer LoadBalancer"})

	lbExists := func() bool {
		t.Helper()
		_, err := elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbARN}})
		if err != nil && errorCode(err) != "LoadBalancerNotFound" {
			t.Fatal(err)
		}
		return err == nil
	}
	protected := func() bool {
		t.Helper()
		_, err := shieldc.DescribeProtection(ctx, &shield.DescribeProtectionInput{ResourceArn: aws.String(lbARN)})
		if err != nil && errorCode(err) != "ResourceNotFoundException" {
			t.Fatal(err)
		}
		return err == nil
	}
	// failures applies the plan, which must fail, and returns its failures by change.
	failures := func() map[string]ChangeFailure {
		t.Helper()
		_, err := c.Apply(ctx, desired, observed, changes)
		var applyErr *ApplyError
		if !errors.As(err, &applyErr) {
			t.Fatalf("apply with the Shield look-up refused: error %v, want an *ApplyError", err)
		}
		out := map[string]ChangeFailure{}
		for _, f := range applyErr.Failures {
			out[string(f.Change.Kind)] = f
		}
		return out
	}

	t.Run("AccessDenied", func(t *testing.T) {
		proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultRefuse, Service: "shield", Action: "DescribeProtection", Code: "AccessDeniedException"})
		defer proxy.SetFaults()
		f := failures()
		addon, lbFailure := f[string(plan.KindAddon)], f[string(plan.KindLoadBalancer)]
		if addon.Err == nil || addon.Code() != "AccessDeniedException" || !strings.Contains(addon.Err.Error(), "shieldConfiguration") {
			t.Errorf("the Shield change failed with %v (code %q), want AccessDeniedException naming shieldConfiguration", addon.Err, addon.Code())
		}
		if lbFailure.WaitedOn == nil || lbFailure.WaitedOn.Kind != plan.KindAddon || lbFailure.Code() != "AccessDeniedException" {
			t.Errorf("the load balancer's delete: %+v, want it to wait on the Shield change", lbFailure)
		}
		if n := proxy.ServiceCounts()["elasticloadbalancing:DeleteLoadBalancer"]; n != 0 {
			t.Errorf("DeleteLoadBalancer called %d times while its protection is unknown", n)
		}
		if !lbExists() || !protected() {
			t.Errorf("after the refused look-up: load balancer exists %t, protected %t; want both", lbExists(), protected())
		}
	})

	t.Run("throttled", func(t *testing.T) {
		proxy.SetFaults(testenv.FaultRule{Kind: testenv.FaultThrottle, Service: "shield", Action: "DescribeProtection"})
		defer proxy.SetFaults()
		f := failures()
		addon, lbFailure := f[string(plan.KindAddon)], f[string(plan.KindLoadBalancer)]
		if addon.Err == nil || !isThrottle(addon.Err) {
			t.Errorf("the Shield change failed with %v, want the throttling", addon.Err)
		}
		if !lbFailure.NotAttempted && lbFailure.WaitedOn == nil {
			t.Errorf("the load balancer's delete: %+v, want it not attempted", lbFailure)
		}
		if !lbExists() || !protected() {
			t.Errorf("after the throttled look-up: load balancer exists %t, protected %t; want both", lbExists(), protected())
		}
	})

	t.Run("answered", func(t *testing.T) {
		if _, err := c.Apply(ctx, desired, observed, changes); err != nil {
			t.Fatalf("apply once Shield answers: %v", err)
		}
		if lbExists() || protected() {
			t.Errorf("after the apply: load balancer exists %t, protected %t; want neither", lbExists(), protected())
		}
	})
}
