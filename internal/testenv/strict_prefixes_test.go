package testenv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

func TestStrictIPv4Prefixes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, err := f.ec2.CreateNetworkInterface(f.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(f.subnets[0])})
	if err != nil {
		t.Fatal(err)
	}
	eni := aws.ToString(out.NetworkInterface.NetworkInterfaceId)
	prefix := fmt.Sprintf("10.%d.0.64/28", f.n)

	f.refused("InvalidParameterCombination", "ec2", "assign-private-ip-addresses", "--network-interface-id", eni,
		"--ipv4-prefixes", prefix, "--ipv4-prefix-count", "1")
	f.refused("InvalidParameterValue", "ec2", "assign-private-ip-addresses", "--network-interface-id", eni,
		"--ipv4-prefixes", fmt.Sprintf("10.%d.0.64/27", f.n))
	if got := f.accepted("ec2", "describe-network-interfaces", "--network-interface-ids", eni); strings.Contains(got, "Ipv4Prefix\"") {
		t.Fatalf("a refused assignment left a prefix:\n%s", got)
	}

	f.accepted("ec2", "assign-private-ip-addresses", "--network-interface-id", eni, "--ipv4-prefixes", prefix)
	got := f.accepted("ec2", "describe-network-interfaces", "--network-interface-ids", eni)
	if !strings.Contains(got, prefix) {
		t.Errorf("the assigned prefix %s is not described:\n%s", prefix, got)
	}
	if direct, _ := f.cliDirect("ec2", "describe-network-interfaces", "--network-interface-ids", eni); strings.Contains(direct, prefix) {
		t.Errorf("plain moto describes assigned prefixes: the layer's copy is not needed")
	}
}
