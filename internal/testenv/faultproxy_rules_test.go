package testenv

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// TestFaultProxyLostResponseTookEffect: the caller sees a broken connection, AWS has the VPC.
func TestFaultProxyLostResponseTookEffect(t *testing.T) {
	p := startProxy(t)
	ctx := testContext(t, time.Minute)
	client := ec2.NewFromConfig(AWSConfig(p.URL, testRegion))
	const cidr = "10.77.0.0/16"

	p.SetFault(FaultRule{Kind: FaultLoseResponse, Action: "CreateVpc", Times: 1})
	_, err := client.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)}, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		t.Fatal("CreateVpc with a lost response succeeded, want a connection error")
	}
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		t.Fatalf("CreateVpc with a lost response gave the API error %q, want a connection error", api.ErrorCode())
	}
	vpcs, err := client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{
		{Name: aws.String("cidr-block-association.cidr-block"), Values: []string{cidr}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vpcs.Vpcs) != 1 {
		t.Fatalf("after a lost CreateVpc response AWS holds %d VPCs with %s, want 1 (the call went through)", len(vpcs.Vpcs), cidr)
	}
	if got := p.Injected(); got != 1 {
		t.Errorf("Injected() = %d, want 1", got)
	}
}

// TestFaultProxyRulesApplyInOrder: the first rule that selects a call and has faults left wins.
func TestFaultProxyRulesApplyInOrder(t *testing.T) {
	p := startProxy(t)
	ctx := testContext(t, time.Minute)
	client := elbv2.NewFromConfig(AWSConfig(p.URL, testRegion))

	p.SetFaults(
		FaultRule{Kind: FaultThrottle, Action: "DescribeLoadBalancers", Times: 1},
		FaultRule{Kind: FaultServerError, Service: "elasticloadbalancing", Times: 2},
	)
	var got []string
	for range 4 {
		got = append(got, outcome(client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}, noRetries)))
	}
	got = append(got, outcome(client.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{}, noRetries)))
	want := []string{"Throttling", "ServiceUnavailable", "ServiceUnavailable", "ok", "ok"}
	if len(got) != len(want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("outcomes %v, want %v", got, want)
		}
	}
	if n := p.Injected(); n != 3 {
		t.Errorf("Injected() = %d, want 3", n)
	}

	p.SetFaults()
	if o := outcome(client.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{}, noRetries)); o != "ok" {
		t.Errorf("with no rules a call gave %s, want ok", o)
	}
}

func outcome[T any](_ T, err error) string {
	if err == nil {
		return "ok"
	}
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return err.Error()
}
