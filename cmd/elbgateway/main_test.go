package main

import (
	"bytes"
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
	code := run([]string{"controller", "--default-target-type", "alb", "--aws-region", "", "--feature-gates", "NLBGatewayAPI=true", "--aws-inventory-ttl", "30s"}, &stderr, &stderr)
	if code != 1 {
		t.Fatalf("exit code %d, want 1; output %s", code, stderr.String())
	}
	for _, want := range []string{"--cluster-name is required", "--aws-vpc-id is required", `--default-target-type "alb": use instance or ip`, "--aws-inventory-ttl 30s: use at least 1m"} {
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
