package aws

import (
	"context"
	"testing"

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
