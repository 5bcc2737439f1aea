package aws

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestDiscoverPlacementFromIMDS reads the region and the instance's VPC from an IMDSv2-only
// stand-in reached through the SDK's standard endpoint override, asks only for what is missing,
// and fails with the lookup's cause when the metadata service is switched off.
func TestDiscoverPlacementFromIMDS(t *testing.T) {
	inst := testenv.Instance{Region: "eu-west-1", AvailabilityZone: "eu-west-1a", InstanceID: "i-0123456789abcdef0",
		MAC: "0e:12:34:56:78:9a", VPCID: "vpc-0fedcba9876543210", SubnetID: "subnet-0aa"}
	m, err := testenv.StartIMDS(inst)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", m.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	ctx := context.Background()

	// The stand-in is IMDSv2 only: a GET without a token is refused.
	resp, err := http.Get(m.URL + "/latest/meta-data/mac")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || m.Refused() != 1 {
		t.Fatalf("tokenless GET answered %d (refused %d), want 401", resp.StatusCode, m.Refused())
	}

	got, err := DiscoverPlacement(ctx, Placement{})
	if err != nil {
		t.Fatal(err)
	}
	if got != (Placement{Region: inst.Region, VPCID: inst.VPCID}) {
		t.Errorf("placement %+v, want region %s and VPC %s", got, inst.Region, inst.VPCID)
	}
	if m.TokenRequests() == 0 || m.Refused() != 1 {
		t.Errorf("token requests %d, refused GETs %d: want IMDSv2 session tokens on every read", m.TokenRequests(), m.Refused())
	}

	// What the flags gave is kept; only the rest is read.
	got, err = DiscoverPlacement(ctx, Placement{Region: "us-west-2"})
	if err != nil || got != (Placement{Region: "us-west-2", VPCID: inst.VPCID}) {
		t.Errorf("with the region given: %+v, %v; want us-west-2 and %s", got, err, inst.VPCID)
	}
	before := m.TokenRequests()
	if got, err := DiscoverPlacement(ctx, Placement{Region: "r", VPCID: "v"}); err != nil || got.VPCID != "v" || m.TokenRequests() != before {
		t.Errorf("with both given: %+v, %v, %d token requests; want no metadata call", got, err, m.TokenRequests()-before)
	}

	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if _, err := DiscoverPlacement(ctx, Placement{}); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("with the metadata service disabled: %v, want an error about the region", err)
	}
}
