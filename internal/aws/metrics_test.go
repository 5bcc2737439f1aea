package aws

import (
	"context"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// TestCallMetricsLatencyAndPermissionErrors: every attempt is timed by operation, and an attempt
// AWS refuses for want of permission counts as a permission error as well as an error.
func TestCallMetricsLatencyAndPermissionErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, err := newCallCounter(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := awsmiddleware.SetServiceID(context.Background(), "Elastic Load Balancing v2")
	ctx = awsmiddleware.SetOperationName(ctx, "CreateLoadBalancer")
	denied := middleware.FinalizeHandlerFunc(func(context.Context, middleware.FinalizeInput) (middleware.FinalizeOutput, middleware.Metadata, error) {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform elasticloadbalancing:CreateLoadBalancer"}
	})
	ok := middleware.FinalizeHandlerFunc(func(context.Context, middleware.FinalizeInput) (middleware.FinalizeOutput, middleware.Metadata, error) {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, nil
	})
	_, _, _ = c.handle(ctx, middleware.FinalizeInput{}, denied)
	_, _, _ = c.handle(ctx, middleware.FinalizeInput{}, ok)

	if got := counterValue(t, reg, "elbv2", "CreateLoadBalancer", "error"); got != 1 {
		t.Errorf("error outcomes %g, want 1", got)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		switch f.GetName() {
		case "elbgateway_aws_api_call_duration_seconds":
			seen[f.GetName()] = true
			if n, got := len(f.GetMetric()), f.GetMetric()[0].GetHistogram().GetSampleCount(); n != 1 || got != 2 {
				t.Errorf("%d latency series with %d samples, want 1 with 2 (both attempts)", n, got)
			}
		case "elbgateway_aws_api_permission_errors_total":
			seen[f.GetName()] = true
			if n, got := len(f.GetMetric()), f.GetMetric()[0].GetCounter().GetValue(); n != 1 || got != 1 {
				t.Errorf("%d permission error series counting %g, want 1 counting 1", n, got)
			}
		}
	}
	if len(seen) != 2 {
		t.Errorf("registered %v, want the latency histogram and the permission error counter", seen)
	}
}

// TestRateLimitGauge: every family's client-side rate is exported from the start; a throttled
// attempt halves its family's gauge only, and a quiet period doubles it back.
func TestRateLimitGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, err := newCallCounter(reg, RateLimits{FamilyELBRule: {8, 8}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	c.limits.now = func() time.Time { return now }
	rates := func() map[string]float64 {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, f := range families {
			if f.GetName() != "elbgateway_aws_api_rate_limit" {
				continue
			}
			for _, m := range f.GetMetric() {
				out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
		return out
	}
	if got := rates(); len(got) != len(DefaultLimits()) || got[FamilyELBRule] != 8 || got[FamilyELBDescribe] != 10 {
		t.Fatalf("rates at start %v, want every family at its configured rate", got)
	}
	ctx := awsmiddleware.SetServiceID(context.Background(), "Elastic Load Balancing v2")
	ctx = awsmiddleware.SetOperationName(ctx, "CreateRule")
	throttled := middleware.FinalizeHandlerFunc(func(context.Context, middleware.FinalizeInput) (middleware.FinalizeOutput, middleware.Metadata, error) {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	})
	_, _, _ = c.handle(ctx, middleware.FinalizeInput{}, throttled)
	if got := rates(); got[FamilyELBRule] != 4 || got[FamilyELBDescribe] != 10 {
		t.Errorf("after a throttled CreateRule: rule %v, describe %v; want 4 and 10", got[FamilyELBRule], got[FamilyELBDescribe])
	}
	now = now.Add(adaptiveRecovery)
	if err := c.limits.wait(context.Background(), "elbv2", "CreateRule"); err != nil {
		t.Fatal(err)
	}
	if got := rates()[FamilyELBRule]; got != 8 {
		t.Errorf("after a quiet period the rule rate shows %v, want 8", got)
	}
}
