package testenv

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

func startProxy(t *testing.T) *FaultProxy {
	t.Helper()
	m := startMoto(t)
	p, err := NewFaultProxy(m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// noRetries makes each SDK call a single HTTP request.
func noRetries(o *elbv2.Options) { o.RetryMaxAttempts = 1 }

func TestFaultProxyThrottledCallIsRetried(t *testing.T) {
	p := startProxy(t)
	ctx := testContext(t, time.Minute)
	client := elbv2.NewFromConfig(AWSConfig(p.URL, testRegion))

	p.SetFault(FaultRule{Kind: FaultThrottle, Action: "DescribeLoadBalancers", Times: 1})
	if _, err := client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}); err != nil {
		t.Fatalf("DescribeLoadBalancers after one throttle: %v", err)
	}
	if _, err := client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{}); err != nil {
		t.Fatalf("DescribeTargetGroups (not selected by the rule): %v", err)
	}
	if got := p.Injected(); got != 1 {
		t.Errorf("Injected() = %d, want 1", got)
	}
	assertCounts(t, p.Counts(), map[string]int{"DescribeLoadBalancers": 2, "DescribeTargetGroups": 1})
	assertCounts(t, p.ServiceCounts(), map[string]int{
		"elasticloadbalancing:DescribeLoadBalancers": 2, "elasticloadbalancing:DescribeTargetGroups": 1,
	})
}

func TestFaultProxyThrottleIsParsedAsThrottling(t *testing.T) {
	p := startProxy(t)
	ctx := testContext(t, time.Minute)

	p.SetFault(FaultRule{Kind: FaultThrottle})
	_, err := elbv2.NewFromConfig(AWSConfig(p.URL, testRegion)).
		DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}, noRetries)
	assertAPIError(t, err, "Throttling")

	_, err = ec2.NewFromConfig(AWSConfig(p.URL, testRegion)).
		DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	assertAPIError(t, err, "RequestLimitExceeded")
}

func TestFaultProxyShareIsEvenAndDeterministic(t *testing.T) {
	p := startProxy(t)
	ctx := testContext(t, time.Minute)
	client := elbv2.NewFromConfig(AWSConfig(p.URL, testRegion))

	p.SetFault(FaultRule{Kind: FaultServerError, Share: 0.5})
	var failed []int
	for i := range 6 {
		_, err := client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}, noRetries)
		if err != nil {
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != 503 {
				t.Errorf("call %d: %v, want HTTP 503", i, err)
			}
			failed = append(failed, i)
		}
	}
	if len(failed) != 3 || failed[0] != 1 || failed[1] != 3 || failed[2] != 5 {
		t.Errorf("calls that failed = %v, want every second one: [1 3 5]", failed)
	}
	assertCounts(t, p.Counts(), map[string]int{"DescribeLoadBalancers": 6})

	p.SetFault(FaultRule{})
	p.ResetCounts()
	if _, err := client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}, noRetries); err != nil {
		t.Errorf("after clearing the fault: %v", err)
	}
	assertCounts(t, p.Counts(), map[string]int{"DescribeLoadBalancers": 1})
}

func TestFaultProxyServerErrorAndDropAreRetried(t *testing.T) {
	p := startProxy(t)
	ctx := testContext(t, time.Minute)
	// The SDK's standard retryer with its backoff capped, to keep the test quick.
	client := elbv2.NewFromConfig(AWSConfig(p.URL, testRegion), func(o *elbv2.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 50*time.Millisecond)
	})

	for _, kind := range []FaultKind{FaultServerError, FaultDrop} {
		p.ResetCounts()
		p.SetFault(FaultRule{Kind: kind, Service: "elasticloadbalancing", Times: 2})
		if _, err := client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}); err != nil {
			t.Fatalf("%s: DescribeLoadBalancers with two faults and three attempts: %v", kind, err)
		}
		assertCounts(t, p.Counts(), map[string]int{"DescribeLoadBalancers": 3})
	}
}

func TestFaultProxyDelay(t *testing.T) {
	p := startProxy(t)
	client := elbv2.NewFromConfig(AWSConfig(p.URL, testRegion))

	p.SetFault(FaultRule{Kind: FaultDelay, Delay: 2 * time.Second})
	short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := client.DescribeLoadBalancers(short, &elbv2.DescribeLoadBalancersInput{}, noRetries)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call delayed 2s under a 500ms deadline: err = %v, want context.DeadlineExceeded", err)
	}

	p.SetFault(FaultRule{Kind: FaultDelay, Delay: 100 * time.Millisecond})
	if _, err := client.DescribeLoadBalancers(testContext(t, time.Minute), &elbv2.DescribeLoadBalancersInput{}); err != nil {
		t.Errorf("a call delayed 100ms: %v", err)
	}
}

func TestNewFaultProxyRejectsBadTarget(t *testing.T) {
	if _, err := NewFaultProxy("127.0.0.1:5000"); err == nil {
		t.Fatal("NewFaultProxy accepted a target without a scheme")
	}
}

func assertAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an AWS API error %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Errorf("error code %q, want %q (err %v)", apiErr.ErrorCode(), code, err)
	}
}

func assertCounts(t *testing.T, got, want map[string]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("counts = %v, want %v", got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("counts = %v, want %v", got, want)
			return
		}
	}
}

// FaultRefuse answers AWS's refusal for the calls whose body matches, and only those: the
// refused call never reaches the emulator.
func TestFaultProxyRefuseByBody(t *testing.T) {
	p := startProxy(t)
	ctx := testContext(t, time.Minute)
	client := elbv2.NewFromConfig(AWSConfig(p.URL, testRegion))

	p.SetFault(FaultRule{Kind: FaultRefuse, Action: "DescribeLoadBalancers", Code: "LoadBalancerNotFound", BodyContains: "Names.member.1=refused"})
	_, err := client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"refused"}})
	assertAPIError(t, err, "LoadBalancerNotFound")
	if _, err := client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}); err != nil {
		t.Fatalf("DescribeLoadBalancers without the body the rule selects: %v", err)
	}
	if got := p.Injected(); got != 1 {
		t.Errorf("Injected() = %d, want 1 (one refusal, not retried: a 400 is not retryable)", got)
	}
}

// FaultRefuse without an Action or Status answers the code it is given with HTTP 400, only for
// calls whose body holds BodyContains.
func TestFaultProxyRefuseStatus(t *testing.T) {
	p := startProxy(t)
	ctx := testContext(t, time.Minute)
	client := elbv2.NewFromConfig(AWSConfig(p.URL, testRegion))

	p.SetFault(FaultRule{Kind: FaultRefuse, Action: "DescribeLoadBalancers", Code: "LoadBalancerNotFound", BodyContains: "Names.member.1=refused"})
	_, err := client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"refused"}})
	assertAPIError(t, err, "LoadBalancerNotFound")
	if _, err := client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}); err != nil {
		t.Fatalf("DescribeLoadBalancers without the body the rule selects: %v", err)
	}
	if got := p.Injected(); got != 1 {
		t.Errorf("Injected() = %d, want 1 (one refusal, not retried: a 400 is not retryable)", got)
	}
}
