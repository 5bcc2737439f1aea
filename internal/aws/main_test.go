package aws

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

const (
	testRegion  = "us-east-1"
	testCluster = "demo"
)

var moto *testenv.Moto

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	var err error
	moto, err = testenv.StartMoto(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	moto.Stop()
	os.Exit(code)
}

var testCreds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing", Source: "test"}, nil
})

// newCloud builds a Cloud for the test's VPC on its own metrics registry.
func newCloud(t *testing.T, vpcID string) (*Cloud, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(context.Background(), Options{
		Region: testRegion, VPCID: vpcID, ClusterName: testCluster,
		Endpoint: moto.Endpoint, Credentials: testCreds, Registerer: reg,
		DeleteRetryInterval: 50 * time.Millisecond, DeleteTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, reg
}

// rawClients talk to moto without counting: the test's own view of AWS.
func rawClients(t *testing.T) (*ec2.Client, *elbv2.Client) {
	t.Helper()
	cfg := aws.Config{Region: testRegion, Credentials: testCreds}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) }),
		elbv2.NewFromConfig(cfg, func(o *elbv2.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
}

var vpcCounter atomic.Int32

// testVPC creates a VPC with three public subnets tagged the way a cluster's are, and returns
// the VPC ID and the subnet IDs.
func testVPC(t *testing.T) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e, _ := rawClients(t)
	n := vpcCounter.Add(1)
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", n))})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		s, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId: aws.String(vpcID), AvailabilityZone: aws.String(az),
			CidrBlock: aws.String(fmt.Sprintf("10.%d.%d.0/24", n, i)),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSubnet, Tags: []ec2types.Tag{
				{Key: aws.String("kubernetes.io/role/elb"), Value: aws.String("1")},
				{Key: aws.String("kubernetes.io/cluster/" + testCluster), Value: aws.String("owned")},
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, aws.ToString(s.Subnet.SubnetId))
	}
	return vpcID, subnets
}
