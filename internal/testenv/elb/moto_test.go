package elb_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/testenv"
	"github.com/elbgateway/elbgateway/internal/testenv/elb"
)

const region = "us-east-1"

// motoWorld is moto behind the contract layer with a VPC of two subnets in two zones, and the
// clients that write to it, as the controller would.
type motoWorld struct {
	moto    *testenv.Moto
	elb     *elbv2.Client
	vpc     string
	subnets []string
}

func startMotoWorld(ctx context.Context, t *testing.T) *motoWorld {
	t.Helper()
	m, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	cfg := testenv.AWSConfig(m.Endpoint, region)
	w := &motoWorld{moto: m, elb: elbv2.NewFromConfig(cfg)}
	ec := ec2.NewFromConfig(cfg)
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.61.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	w.vpc = aws.ToString(vpc.Vpc.VpcId)
	for i, zone := range []string{region + "a", region + "b"} {
		s, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, AvailabilityZone: aws.String(zone),
			CidrBlock: aws.String(fmt.Sprintf("10.61.%d.0/24", i))})
		if err != nil {
			t.Fatal(err)
		}
		w.subnets = append(w.subnets, aws.ToString(s.Subnet.SubnetId))
	}
	return w
}

// listenerPort is a port free on the addresses of a load balancer in the world's two zones,
// where the data plane will open its listener.
func listenerPort(t *testing.T, lbARN string) int32 {
	t.Helper()
	return elb.FreePort(t, elb.LoadBalancerAddr(lbARN), elb.LoadBalancerAddr(lbARN+"/"+region+"b"))
}

func fixed(code string) []elbtypes.Action {
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
		StatusCode: aws.String(code), ContentType: aws.String("text/plain"), MessageBody: aws.String("fixed " + code)}}}
}

// A rule that answered a fixed response and is then modified to forward (what the controller
// does for a route whose backend Service appears after the route) carries traffic to the new
// target group's targets. moto lists no load balancer in that group's LoadBalancerArns after a
// ModifyRule; the data plane must serve the group because the rule forwards to it.
func TestRuleModifiedToForwardCarriesTraffic(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	w := startMotoWorld(ctx, t)

	backend := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(rw, "backend saw "+r.URL.Path)
	}))
	t.Cleanup(backend.Close)
	const targetIP, targetPort = "10.61.0.77", 8080
	targetAddr := func(ip string, port int32) (string, bool) {
		if ip == targetIP && port == targetPort {
			return backend.Listener.Addr().String(), true
		}
		return "", false
	}

	lb, err := w.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("modified-rule"),
		Type: elbtypes.LoadBalancerTypeEnumApplication, Subnets: w.subnets})
	if err != nil {
		t.Fatal(err)
	}
	lbARN, dnsName := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn), aws.ToString(lb.LoadBalancers[0].DNSName)
	port := listenerPort(t, lbARN)
	listener, err := w.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(port), DefaultActions: fixed("404")})
	if err != nil {
		t.Fatal(err)
	}
	rule, err := w.elb.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: listener.Listeners[0].ListenerArn,
		Priority: aws.Int32(1), Actions: fixed("500"), Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"),
			PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/app/*"}}}}})
	if err != nil {
		t.Fatal(err)
	}

	dp, err := elb.Start(ctx, elb.Options{Endpoint: w.moto.Endpoint, Region: region,
		AccessKeyID: testenv.TestAccessKeyID, SecretAccessKey: testenv.TestSecretAccessKey,
		// Only the explicit refreshes below read AWS, so each step sees what was just written.
		Refresh: time.Hour, HealthTimeScale: 0.01, TargetAddr: targetAddr, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Close)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dp.DialContext}}
	get := func() (int, string) {
		t.Helper()
		resp, err := client.Get(fmt.Sprintf("http://%s:%d/app/x", dnsName, port))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(); code != http.StatusInternalServerError || body != "fixed 500" {
		t.Fatalf("before ModifyRule: %d %q, want the rule's fixed 500", code, body)
	}

	tg, err := w.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("modified-rule-tg"),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(targetPort), VpcId: aws.String(w.vpc), TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := tg.TargetGroups[0].TargetGroupArn
	if _, err := w.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgARN,
		Targets: []elbtypes.TargetDescription{{Id: aws.String(targetIP), Port: aws.Int32(targetPort)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: rule.Rules[0].RuleArn,
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgARN}}}); err != nil {
		t.Fatal(err)
	}
	if err := dp.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := get(); code != http.StatusOK || body != "backend saw /app/x" {
		t.Errorf("after ModifyRule to forward: %d %q, want the backend's 200 %q", code, body, "backend saw /app/x")
	}
}
