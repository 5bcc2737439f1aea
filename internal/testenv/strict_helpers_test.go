package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// sharedMoto is one moto with its strict layer for the tests of the layer's rules, which run in
// parallel on it, each in its own VPC.
var sharedMoto struct {
	once sync.Once
	m    *Moto
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedMoto.m != nil {
		sharedMoto.m.Stop()
	}
	os.Exit(code)
}

// strictMoto returns the shared moto, starting it on first use.
func strictMoto(t *testing.T) *Moto {
	t.Helper()
	sharedMoto.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sharedMoto.m, sharedMoto.err = StartMoto(ctx)
	})
	if sharedMoto.err != nil {
		t.Fatalf("StartMoto: %v", sharedMoto.err)
	}
	return sharedMoto.m
}

// fixture is one test's VPC on the shared moto, reached through the strict layer.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	moto    *Moto
	elb     *elbv2.Client
	ec2     *ec2.Client
	vpc     string
	cidr    string
	subnets []string
	n       int32
}

var fixtureCounter atomic.Int32

// newFixture creates a VPC 10.N.0.0/16 with two subnets in two zones, through the layer.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, strictMoto(t))
}

// newFixtureOn creates the fixture's VPC on m.
func newFixtureOn(t *testing.T, m *Moto) *fixture {
	t.Helper()
	cfg := AWSConfig(m.Endpoint, testRegion)
	f := &fixture{t: t, ctx: testContext(t, 2*time.Minute), moto: m,
		elb: elbv2.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), n: fixtureCounter.Add(1)}
	f.cidr = fmt.Sprintf("10.%d.0.0/16", f.n)
	vpc, err := f.ec2.CreateVpc(f.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(f.cidr)})
	if err != nil {
		t.Fatal(err)
	}
	f.vpc = aws.ToString(vpc.Vpc.VpcId)
	for i, zone := range []string{testRegion + "a", testRegion + "b"} {
		s, err := f.ec2.CreateSubnet(f.ctx, &ec2.CreateSubnetInput{VpcId: aws.String(f.vpc), AvailabilityZone: aws.String(zone),
			CidrBlock: aws.String(fmt.Sprintf("10.%d.%d.0/24", f.n, i))})
		if err != nil {
			t.Fatal(err)
		}
		f.subnets = append(f.subnets, aws.ToString(s.Subnet.SubnetId))
	}
	return f
}

// name is a resource name unique to the fixture.
func (f *fixture) name(base string) string { return fmt.Sprintf("%s-%d", base, f.n) }

func (f *fixture) targetGroup(name string, protocol elbtypes.ProtocolEnum, targetType elbtypes.TargetTypeEnum) string {
	f.t.Helper()
	in := &elbv2.CreateTargetGroupInput{Name: aws.String(f.name(name)), Protocol: protocol, Port: aws.Int32(80),
		VpcId: aws.String(f.vpc), TargetType: targetType}
	out, err := f.elb.CreateTargetGroup(f.ctx, in)
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

func (f *fixture) loadBalancer(name string, kind elbtypes.LoadBalancerTypeEnum, securityGroups ...string) string {
	f.t.Helper()
	out, err := f.elb.CreateLoadBalancer(f.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(f.name(name)), Type: kind,
		Subnets: f.subnets, SecurityGroups: securityGroups})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
}

func (f *fixture) securityGroup(name string) string {
	f.t.Helper()
	out, err := f.ec2.CreateSecurityGroup(f.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(f.name(name)),
		Description: aws.String("strict layer test"), VpcId: aws.String(f.vpc)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.GroupId)
}

func (f *fixture) instance() string {
	f.t.Helper()
	out, err := f.ec2.RunInstances(f.ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(f.subnets[0]),
		InstanceType: ec2types.InstanceTypeT3Micro})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// cli runs the AWS CLI through the layer and returns its output and AWS's error code ("" on
// success).
func (f *fixture) cli(args ...string) (string, string) {
	f.t.Helper()
	return runCLI(f.t, f.ctx, f.moto.Endpoint, args...)
}

// cliDirect runs the AWS CLI against moto itself, bypassing the layer.
func (f *fixture) cliDirect(args ...string) (string, string) {
	f.t.Helper()
	return runCLI(f.t, f.ctx, f.moto.direct, args...)
}

var cliErrorCode = regexp.MustCompile(`An error occurred \(([^)]+)\)`)

func runCLI(t *testing.T, ctx context.Context, endpoint string, args ...string) (string, string) {
	t.Helper()
	out, err := AWSCLI(ctx, endpoint, testRegion, args...)
	if err == nil {
		return string(out), ""
	}
	m := cliErrorCode.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("aws %s failed without an AWS error code: %v", strings.Join(args, " "), err)
	}
	return err.Error(), m[1]
}

// refused asserts that the CLI call fails with code.
func (f *fixture) refused(code string, args ...string) {
	f.t.Helper()
	out, got := f.cli(args...)
	if got != code {
		f.t.Fatalf("aws %s: error code %q, want %q\n%s", strings.Join(args, " "), got, code, out)
	}
}

// accepted asserts that the CLI call succeeds and returns its output.
func (f *fixture) accepted(args ...string) string {
	f.t.Helper()
	out, code := f.cli(args...)
	if code != "" {
		f.t.Fatalf("aws %s: %s, want success\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// jsonField decodes the CLI's JSON output into v.
func (f *fixture) decode(out string, v any) {
	f.t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		f.t.Fatalf("CLI output: %v\n%s", err, out)
	}
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
