package testenv

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestSeedVPCSubnetsAsTheCLISeesThem(t *testing.T) {
	m := startMoto(t)
	ctx := testContext(t, 2*time.Minute)
	vpc, err := SeedVPC(ctx, m.Endpoint, testRegion, "demo")
	if err != nil {
		t.Fatalf("SeedVPC: %v", err)
	}
	if len(vpc.Zones) != 3 || len(vpc.PublicSubnets) != 3 || len(vpc.PrivateSubnets) != 3 {
		t.Fatalf("SeedVPC = %+v, want 3 zones with a public and a private subnet each", vpc)
	}
	if !sort.StringsAreSorted(vpc.Zones) {
		t.Errorf("zones %v are not sorted", vpc.Zones)
	}

	out, err := AWSCLI(ctx, m.Endpoint, testRegion, "ec2", "describe-subnets", "--filters", "Name=vpc-id,Values="+vpc.VPCID)
	if err != nil {
		t.Fatal(err)
	}
	var described struct {
		Subnets []struct {
			SubnetID         string `json:"SubnetId"`
			VpcID            string `json:"VpcId"`
			AvailabilityZone string
			CidrBlock        string
			Tags             []struct{ Key, Value string }
		}
	}
	if err := json.Unmarshal(out, &described); err != nil {
		t.Fatalf("describe-subnets output: %v\n%s", err, out)
	}
	if len(described.Subnets) != 6 {
		t.Fatalf("describe-subnets returned %d subnets in %s, want 6:\n%s", len(described.Subnets), vpc.VPCID, out)
	}
	zoneOf := map[string]string{}
	for i, z := range vpc.Zones {
		zoneOf[vpc.PublicSubnets[i]] = z
		zoneOf[vpc.PrivateSubnets[i]] = z
	}
	public := map[string]bool{}
	for _, id := range vpc.PublicSubnets {
		public[id] = true
	}
	for _, s := range described.Subnets {
		tags := map[string]string{}
		for _, tag := range s.Tags {
			tags[tag.Key] = tag.Value
		}
		if zoneOf[s.SubnetID] != s.AvailabilityZone {
			t.Errorf("subnet %s is in %q, SeedVPC said %q", s.SubnetID, s.AvailabilityZone, zoneOf[s.SubnetID])
		}
		if !strings.HasPrefix(s.CidrBlock, "10.0.") {
			t.Errorf("subnet %s has CIDR %s outside %s", s.SubnetID, s.CidrBlock, VPCCIDR)
		}
		if tags[ClusterTag("demo")] != "shared" {
			t.Errorf("subnet %s tags %v lack %s=shared", s.SubnetID, tags, ClusterTag("demo"))
		}
		role, other := TagInternalELB, TagPublicELB
		if public[s.SubnetID] {
			role, other = other, role
		}
		if tags[role] != "1" {
			t.Errorf("subnet %s tags %v lack %s=1", s.SubnetID, tags, role)
		}
		if _, ok := tags[other]; ok {
			t.Errorf("subnet %s has both role tags: %v", s.SubnetID, tags)
		}
	}

	out, err = AWSCLI(ctx, m.Endpoint, testRegion, "ec2", "describe-route-tables",
		"--filters", "Name=association.subnet-id,Values="+vpc.PublicSubnets[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), vpc.InternetGatewayID) {
		t.Errorf("public subnet %s has no route to internet gateway %s:\n%s", vpc.PublicSubnets[0], vpc.InternetGatewayID, out)
	}
}

func TestAWSCLIReportsFailures(t *testing.T) {
	m := startMoto(t)
	_, err := AWSCLI(testContext(t, time.Minute), m.Endpoint, testRegion, "ec2", "describe-subnets", "--subnet-ids", "subnet-doesnotexist")
	if err == nil || !strings.Contains(err.Error(), "subnet-doesnotexist") {
		t.Fatalf("err = %v, want the CLI's complaint about subnet-doesnotexist", err)
	}
}
