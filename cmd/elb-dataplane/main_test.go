package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// The command serves a load balancer created with the AWS API: it prints the listener with curl's
// --resolve argument, and curl with that argument reaches the target's stand-in with 200; the
// target turns healthy in DescribeTargetHealth through the health report URL.
func TestServesWhatTheEndpointHolds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	moto, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer moto.Stop()
	cfg := testenv.AWSConfig(moto.Endpoint, "us-east-1")
	e2, lb := ec2.NewFromConfig(cfg), elbv2.NewFromConfig(cfg)
	vpc, err := e2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.77.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	subnet, err := e2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.77.0.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	if err != nil {
		t.Fatal(err)
	}
	nlb, err := lb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("cmd-test"), Type: elbtypes.LoadBalancerTypeEnumNetwork,
		Subnets: []string{aws.ToString(subnet.Subnet.SubnetId)}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := lb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("cmd-test"), Protocol: elbtypes.ProtocolEnumTcp,
		Port: aws.Int32(3000), VpcId: vpc.Vpc.VpcId, TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := tg.TargetGroups[0].TargetGroupArn
	if _, err := lb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgARN,
		Targets: []elbtypes.TargetDescription{{Id: aws.String("10.77.0.5"), Port: aws.Int32(3000)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancers[0].LoadBalancerArn,
		Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(8080),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgARN}}}); err != nil {
		t.Fatal(err)
	}
	// The target 10.77.0.5:3000 is served on 127.77.0.5:3000.
	l, err := net.Listen("tcp", "127.77.0.5:3000")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "target 10.77.0.5")
	})}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	t.Setenv("AWS_ACCESS_KEY_ID", testenv.TestAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", testenv.TestSecretAccessKey)
	var stdout, stderr testenv.LockedBuffer
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"--endpoint", moto.Endpoint, "--region", "us-east-1", "--health-time-scale", "0.05",
			"--health-report-url", moto.Strict.URL + testenv.TargetHealthPath, "--key-url", moto.Strict.URL + testenv.CertificateKeyPath}, &stdout, &stderr)
	}()
	resolveLine := regexp.MustCompile(`serving cmd-test tcp:8080 on \S+ \(curl --resolve (\S+)\)`)
	var resolve string
	for deadline := time.Now().Add(30 * time.Second); resolve == ""; {
		if m := resolveLine.FindStringSubmatch(stdout.String()); m != nil {
			resolve = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no serving line printed:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	dnsName := strings.Split(resolve, ":")[0]
	out, err := exec.CommandContext(ctx, "curl", "-sS", "--max-time", "5", "--retry", "5", "--retry-connrefused", "--retry-delay", "1",
		"-w", " %{http_code}", "--resolve", resolve, "http://"+dnsName+":8080/").CombinedOutput()
	if err != nil || string(out) != "target 10.77.0.5 200" {
		t.Errorf("curl --resolve %s: %q %v", resolve, out, err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		h, err := lb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tgARN})
		if err == nil && len(h.TargetHealthDescriptions) == 1 && h.TargetHealthDescriptions[0].TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("target health: %+v %v", h, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestNeedsAnEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	var out bytes.Buffer
	if err := run(context.Background(), nil, &out, &out); err == nil || !strings.Contains(err.Error(), "--endpoint") {
		t.Errorf("without an endpoint: %v, want an error naming --endpoint", err)
	}
}
