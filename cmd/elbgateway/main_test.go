package main

import (
	"bytes"
	"github.com/elbgateway/elbgateway/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elbgateway/elbgateway/internal/controller"
)

func TestFeatureGates(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    controller.Gates
		wantErr string
	}{
		{in: "NLBGatewayAPI=true,ALBGatewayAPI=true", want: controller.Gates{NLB: true, ALB: true}},
		{in: "ALBGatewayAPI=false", want: controller.Gates{NLB: true}},
		{in: " NLBGatewayAPI = false , ", want: controller.Gates{ALB: true}},
		{in: "GatewayListenerSet=true", wantErr: `unknown feature gate "GatewayListenerSet"; known gates: ALBGatewayAPI, NLBGatewayAPI`},
		{in: "NLBGatewayAPI=yes", wantErr: `feature gate NLBGatewayAPI: "yes" is not true or false`},
		{in: "NLBGatewayAPI", wantErr: `"NLBGatewayAPI" is not Name=true|false`},
	} {
		f := featureGates{gates: controller.Gates{NLB: true, ALB: true}}
		err := f.Set(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Set(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || f.gates != tt.want {
			t.Errorf("Set(%q) = %+v, %v; want %+v", tt.in, f.gates, err, tt.want)
		}
	}
}

func TestControllerFlagsValidation(t *testing.T) {
	var stderr bytes.Buffer
	code := run([]string{"controller", "--default-target-type", "alb", "--aws-region", "", "--feature-gates", "NLBGatewayAPI=true", "--aws-inventory-ttl", "30s", "--resync-period", "10s",
		"--allowed-certificate-authority-arns", "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/ok, arn:aws:acm:us-east-1:111122223333:certificate/x"}, &stderr, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; output %s", code, stderr.String())
	}
	for _, want := range []string{"--cluster-name is required", `--default-target-type "alb": use instance or ip`, "--aws-inventory-ttl 30s: use at least 1m", "--resync-period 10s: use at least 1m",
		`--allowed-certificate-authority-arns "arn:aws:acm:us-east-1:111122223333:certificate/x": not the ARN of a private CA`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("output %q lacks %q", stderr.String(), want)
		}
	}
	stderr.Reset()
	if code := run([]string{"controller", "--feature-gates", "Bogus=true"}, &stderr, &stderr); code != 2 && code != 1 {
		t.Errorf("unknown gate: exit code %d", code)
	}
	if !strings.Contains(stderr.String(), `unknown feature gate "Bogus"`) {
		t.Errorf("unknown gate output: %s", stderr.String())
	}
}

// TestControllerWithoutPlacement: with neither --aws-region/--aws-vpc-id nor an instance metadata
// service, the controller stops at once with a message naming the flags and the hop limit.
func TestControllerWithoutPlacement(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "--aws-region and --aws-vpc-id were not given and not found in the instance metadata service"},
		{[]string{"--aws-region", "eu-west-1"}, "--aws-vpc-id was not given"},
	} {
		var stderr bytes.Buffer
		code := run(append([]string{"controller", "--cluster-name", "c"}, tt.args...), &stderr, &stderr)
		if code != 1 {
			t.Errorf("%v: exit code %d, want 1; output %s", tt.args, code, stderr.String())
		}
		for _, want := range []string{tt.want, "Helm values region and vpcId", "hop limit of 2"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("%v: output %q lacks %q", tt.args, stderr.String(), want)
			}
		}
	}
}

// TestControllerFindsPlacementInIMDS: without --aws-region and --aws-vpc-id the controller reads
// both from an IMDSv2-only metadata stand-in, says so in its log, and goes on starting (here up
// to the missing kubeconfig).
func TestControllerFindsPlacementInIMDS(t *testing.T) {
	m, err := testenv.StartIMDS(testenv.Instance{Region: "ap-south-2", InstanceID: "i-0123456789abcdef0",
		MAC: "0e:aa:bb:cc:dd:ee", VPCID: "vpc-0a0b0c0d0e0f01234"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", m.URL)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	var stderr bytes.Buffer
	missing := filepath.Join(t.TempDir(), "no-kubeconfig")
	if code := run([]string{"controller", "--cluster-name", "c", "--kubeconfig", missing}, &stderr, &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1 (no kubeconfig); output %s", code, stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{"found the placement in the instance metadata service", "ap-south-2", "vpc-0a0b0c0d0e0f01234", "no-kubeconfig"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	if m.TokenRequests() == 0 || m.Refused() != 0 {
		t.Errorf("token requests %d, tokenless reads %d: want IMDSv2 only", m.TokenRequests(), m.Refused())
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"version"}, &out, &out); code != 0 || !strings.HasPrefix(out.String(), "elbgateway ") {
		t.Errorf("version: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"frobnicate"}, &out, &out); code != 2 || !strings.Contains(out.String(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, out.String())
	}
}

// A controller binary built as shipped (without the demo build tag) has no demo: it says how to
// get one instead of failing obscurely.
func TestDemoNeedsItsBuild(t *testing.T) {
	if demoBuilt {
		t.Skip("this test binary is built with the demo")
	}
	var out bytes.Buffer
	if code := run([]string{"demo"}, &out, &out); code != 2 || !strings.Contains(out.String(), "make demo") {
		t.Errorf("demo without the demo build: exit %d, output %q; want 2 and a pointer to make demo", code, out.String())
	}
}

func TestAWSAPILimitsFlag(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"controller", "--aws-api-limits", "elbv2.rules=10:40"}, &stderr, &stderr); code != 2 && code != 1 {
		t.Errorf("unknown family: exit code %d", code)
	}
	if !strings.Contains(stderr.String(), `unknown family "elbv2.rules"`) {
		t.Errorf("unknown family output: %s", stderr.String())
	}
	var f controllerFlags
	if err := parseFlags("controller", []string{"--cluster-name", "c", "--aws-region", "r", "--aws-vpc-id", "v",
		"--aws-api-limits", "elbv2.rule=10:40,elbv2.targets=2:10"}, &stderr, &f, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.apiLimits.limits.String(); got != "elbv2.rule=10:40,elbv2.targets=2:10" {
		t.Errorf("--aws-api-limits parsed as %q", got)
	}
}
