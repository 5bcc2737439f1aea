package aws

import (
	"context"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// testAMI is one of the images moto knows.
const testAMI = "ami-12c6146b"

func createGroup(t *testing.T, vpcID, name string, tags map[string]string) string {
	t.Helper()
	e, _ := rawClients(t)
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("test"), VpcId: aws.String(vpcID)}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: toEC2Tags(tags)}}
	}
	out, err := e.CreateSecurityGroup(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.GroupId)
}

func describeGroup(t *testing.T, id string) *ec2types.SecurityGroup {
	t.Helper()
	e, _ := rawClients(t)
	out, err := e.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{id}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) == 0 {
		return nil
	}
	return &out.SecurityGroups[0]
}

func TestBackendSecurityGroupLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, _ := testVPC(t)
	c, _ := newCloud(t, vpcID)

	id, err := c.EnsureBackendSecurityGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g := describeGroup(t, id)
	if g == nil {
		t.Fatalf("backend group %s not found", id)
	}
	tags := fromEC2Tags(g.Tags)
	if aws.ToString(g.GroupName) != BackendSecurityGroupName(testCluster) || aws.ToString(g.VpcId) != vpcID ||
		aws.ToString(g.Description) != "[k8s] Shared Backend SecurityGroup for LoadBalancer" ||
		tags["elbv2.k8s.aws/cluster"] != testCluster || tags["elbv2.k8s.aws/resource"] != "backend-sg" {
		t.Errorf("backend group: name %s, vpc %s, description %q, tags %v", aws.ToString(g.GroupName), aws.ToString(g.VpcId),
			aws.ToString(g.Description), tags)
	}
	if again, err := c.EnsureBackendSecurityGroup(ctx); err != nil || again != id {
		t.Errorf("second ensure: %s, %v; want %s", again, err, id)
	}
	// A controller that starts afresh finds the same group by its tags.
	fresh, _ := newCloud(t, vpcID)
	if found, err := fresh.EnsureBackendSecurityGroup(ctx); err != nil || found != id {
		t.Errorf("fresh controller: %s, %v; want %s", found, err, id)
	}

	// A worker-node group with our rule from the backend group and a rule of its own.
	node := createGroup(t, vpcID, "node-lifecycle", nil)
	if err := c.AuthorizeNodeRules(ctx, node, []model.NodeRule{{Protocol: "tcp", FromPort: 30000, ToPort: 30100, SourceGroupID: id}}); err != nil {
		t.Fatal(err)
	}
	e, _ := rawClients(t)
	if _, err := e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(node),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String(id), Description: aws.String("ssh, the user's")}}}},
	}); err != nil {
		t.Fatal(err)
	}

	// AWS refuses to delete a group another group's rule names: the user's rule means the
	// shared group is still in use, so it stays without an error (deleting the last Gateway
	// finishes) and without a DeleteSecurityGroup that could only fail; ours is gone, theirs
	// is kept.
	before := c.CallCounts()
	if err := c.ReleaseBackendSecurityGroup(ctx); err != nil {
		t.Errorf("release with the user's rule in place: %v, want the group kept without an error", err)
	}
	if n := c.CallCounts()["ec2:DeleteSecurityGroup"] - before["ec2:DeleteSecurityGroup"]; n != 0 {
		t.Errorf("%d DeleteSecurityGroup calls while a foreign rule names the group, want 0", n)
	}
	if describeGroup(t, id) == nil {
		t.Errorf("backend group %s deleted although a rule names it", id)
	}
	left := describeGroup(t, node)
	var ports []int32
	for _, p := range left.IpPermissions {
		ports = append(ports, aws.ToInt32(p.FromPort))
	}
	if !slices.Equal(ports, []int32{22}) {
		t.Errorf("node group rules after release: ports %v, want only the user's 22", ports)
	}
	if _, err := e.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(node), IpPermissions: left.IpPermissions}); err != nil {
		t.Fatal(err)
	}
	if err := c.ReleaseBackendSecurityGroup(ctx); err != nil {
		t.Fatal(err)
	}
	if describeGroup(t, id) != nil {
		t.Errorf("backend group %s still exists after release", id)
	}
	if err := c.ReleaseBackendSecurityGroup(ctx); err != nil {
		t.Errorf("releasing when there is no group: %v", err)
	}
	// After a release, ensure creates a new one.
	id2, err := c.EnsureBackendSecurityGroup(ctx)
	if err != nil || id2 == "" || id2 == id {
		t.Errorf("ensure after release: %q, %v; want a new group", id2, err)
	}
}

func TestBackendSecurityGroupNameTakenByAnUntaggedGroup(t *testing.T) {
	t.Parallel()
	vpcID, _ := testVPC(t)
	c, _ := newCloud(t, vpcID)
	createGroup(t, vpcID, BackendSecurityGroupName(testCluster), nil)
	_, err := c.EnsureBackendSecurityGroup(context.Background())
	if err == nil || !strings.Contains(err.Error(), "without the tags") {
		t.Errorf("err %v, want one that says the group lacks the tags", err)
	}
}

// TestBackendSecurityGroupTakenDuringRelease: the last Gateway's deletion finds the shared
// backend group unused, but before its DeleteSecurityGroup goes out another Gateway takes the
// group (a new Gateway made as the last one goes). AWS refuses the delete with
// DependencyViolation; the group is in use again, so the release keeps it and returns at once,
// without retrying the delete until DeleteTimeout and holding the deleted Gateway's finalizer
// that long.
func TestBackendSecurityGroupTakenDuringRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a load balancer carries it", func(t *testing.T) {
		t.Parallel()
		vpcID, subnets := testVPC(t)
		r := newRecorder(t)
		c := newCloudAt(t, vpcID, r.URL)
		id, err := c.EnsureBackendSecurityGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, elb := rawClients(t)
		var made atomic.Bool
		r.setRefuse(func(form url.Values) string {
			if form.Get("Action") == "DeleteSecurityGroup" && !made.Swap(true) {
				// Another Gateway's load balancer, made with the group after the release's check.
				lb, err := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
					Name: aws.String("taken-" + vpcID[len(vpcID)-6:]), Type: elbtypes.LoadBalancerTypeEnumNetwork,
					Subnets: subnets[:1], SecurityGroups: []string{id},
				})
				if err != nil {
					t.Error(err)
					return ""
				}
				arn := lb.LoadBalancers[0].LoadBalancerArn
				t.Cleanup(func() {
					_, _ = elb.DeleteLoadBalancer(context.Background(), &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: arn})
				})
			}
			return ""
		})
		if err := c.ReleaseBackendSecurityGroup(ctx); err != nil {
			t.Errorf("release while a new load balancer carries the group: %v, want the group kept without an error", err)
		}
		if n := len(r.forms("DeleteSecurityGroup")); n != 1 {
			t.Errorf("%d DeleteSecurityGroup calls, want 1: a group a load balancer carries is in use, not waiting for network interfaces to go", n)
		}
		if describeGroup(t, id) == nil {
			t.Errorf("backend group %s deleted although a load balancer carries it", id)
		}
		if again, err := c.EnsureBackendSecurityGroup(ctx); err != nil || again != id {
			t.Errorf("ensure after the kept release: %s, %v; want %s", again, err, id)
		}
	})

	t.Run("network interfaces still hold it", func(t *testing.T) {
		t.Parallel()
		vpcID, _ := testVPC(t)
		r := newRecorder(t)
		c := newCloudAt(t, vpcID, r.URL)
		id, err := c.EnsureBackendSecurityGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Nothing took the group: the network interfaces of the load balancer deleted last
		// hold it for a while, and the delete is retried until they let go.
		var refused atomic.Int32
		r.setRefuse(func(form url.Values) string {
			if form.Get("Action") == "DeleteSecurityGroup" && refused.Add(1) <= 2 {
				return "DependencyViolation"
			}
			return ""
		})
		if err := c.ReleaseBackendSecurityGroup(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(r.forms("DeleteSecurityGroup")); n != 3 {
			t.Errorf("%d DeleteSecurityGroup calls, want 3 (two refused, then deleted)", n)
		}
		if describeGroup(t, id) != nil {
			t.Errorf("backend group %s still exists", id)
		}
	})

	t.Run("a Gateway of this process takes it", func(t *testing.T) {
		t.Parallel()
		vpcID, _ := testVPC(t)
		r := newRecorder(t)
		c := newCloudAt(t, vpcID, r.URL)
		id, err := c.EnsureBackendSecurityGroup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var taken atomic.Bool
		r.setRefuse(func(form url.Values) string {
			if form.Get("Action") != "DeleteSecurityGroup" {
				return ""
			}
			if !taken.Swap(true) {
				// Another Gateway's reconcile takes the group before its load balancer exists.
				if got, err := c.EnsureBackendSecurityGroup(ctx); err != nil || got != id {
					t.Errorf("ensure during the release: %s, %v; want %s", got, err, id)
				}
			}
			// The deleted load balancer's network interfaces still hold the group.
			return "DependencyViolation"
		})
		if err := c.ReleaseBackendSecurityGroup(ctx); err != nil {
			t.Errorf("release while another Gateway took the group: %v, want the group kept without an error", err)
		}
		if n := len(r.forms("DeleteSecurityGroup")); n != 1 {
			t.Errorf("%d DeleteSecurityGroup calls, want 1", n)
		}
		r.setRefuse(nil)
		before := c.CallCounts()
		if again, err := c.EnsureBackendSecurityGroup(ctx); err != nil || again != id {
			t.Errorf("ensure after the kept release: %s, %v; want %s", again, err, id)
		}
		if n := c.CallCounts()["ec2:DescribeSecurityGroups"] - before["ec2:DescribeSecurityGroups"]; n != 0 {
			t.Errorf("%d DescribeSecurityGroups calls: the group the other Gateway took is forgotten", n)
		}
	})
}

func TestBackendSecurityGroupName(t *testing.T) {
	got := BackendSecurityGroupName("my_cluster.prod")
	if !strings.HasPrefix(got, "k8s-traffic-myclusterprod-") || len(got) != len("k8s-traffic-myclusterprod-")+10 {
		t.Errorf("name %q", got)
	}
	if BackendSecurityGroupName("a") == BackendSecurityGroupName("b") {
		t.Error("different clusters share a name")
	}
}

func TestSecurityGroupIDsByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, _ := testVPC(t)
	otherVPC, _ := testVPC(t)
	c, _ := newCloud(t, vpcID)
	web := createGroup(t, vpcID, "web-sg", map[string]string{"Name": "web"})
	createGroup(t, vpcID, "dup-1", map[string]string{"Name": "dup"})
	createGroup(t, vpcID, "dup-2", map[string]string{"Name": "dup"})
	createGroup(t, otherVPC, "elsewhere", map[string]string{"Name": "elsewhere"})

	f, err := c.Facts(ctx, FactsRequest{StackID: "default/sgnames", Type: model.Network,
		SecurityGroupNames: []string{"web", "dup", "elsewhere", "missing"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"web": web, "dup": ""}
	if !reflect.DeepEqual(f.SecurityGroupIDs, want) {
		t.Errorf("SecurityGroupIDs = %v, want %v (other VPCs and missing names left out)", f.SecurityGroupIDs, want)
	}
	f, err = c.Facts(ctx, FactsRequest{StackID: "default/sgnames", Type: model.Network})
	if err != nil || f.SecurityGroupIDs != nil {
		t.Errorf("no names: %v, %v; want nil", f.SecurityGroupIDs, err)
	}
}

func TestENILookups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	e, _ := rawClients(t)
	clusterTag := map[string]string{"kubernetes.io/cluster/" + testCluster: "owned"}
	nodeSG := createGroup(t, vpcID, "nodes", clusterTag)
	extraSG := createGroup(t, vpcID, "extra", nil)

	run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(testAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subnets[0]), SecurityGroupIds: []string{nodeSG, extraSG}})
	if err != nil {
		t.Fatal(err)
	}
	instance := aws.ToString(run.Instances[0].InstanceId)
	sub, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnets[1:2]})
	if err != nil {
		t.Fatal(err)
	}
	ip := strings.TrimSuffix(aws.ToString(sub.Subnets[0].CidrBlock), "0/24") + "77"
	ni, err := e.CreateNetworkInterface(ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(subnets[1]),
		Groups: []string{extraSG}, PrivateIpAddress: aws.String(ip)})
	if err != nil {
		t.Fatal(err)
	}

	byInstance, err := c.InstanceENIs(ctx, []string{instance, "i-0000000000000dead"})
	if err != nil {
		t.Fatal(err)
	}
	eni, ok := byInstance[instance]
	if len(byInstance) != 1 || !ok || !strings.HasPrefix(eni.ID, "eni-") {
		t.Fatalf("InstanceENIs = %+v, want the primary ENI of %s only", byInstance, instance)
	}
	wantGroups := []model.ENISecurityGroup{{ID: nodeSG, Tags: clusterTag}, {ID: extraSG, Tags: model.Tags{}}}
	slices.SortFunc(wantGroups, func(a, b model.ENISecurityGroup) int { return strings.Compare(a.ID, b.ID) })
	if !reflect.DeepEqual(eni.SecurityGroups, wantGroups) {
		t.Errorf("instance ENI groups %+v, want %+v", eni.SecurityGroups, wantGroups)
	}

	byIP, err := c.IPENIs(ctx, []string{ip, "10.254.0.9"})
	if err != nil {
		t.Fatal(err)
	}
	want := model.ENI{ID: aws.ToString(ni.NetworkInterface.NetworkInterfaceId), SecurityGroups: []model.ENISecurityGroup{{ID: extraSG, Tags: model.Tags{}}}}
	if len(byIP) != 1 || !reflect.DeepEqual(byIP[ip], want) {
		t.Errorf("IPENIs = %+v, want %s → %+v only", byIP, ip, want)
	}

	// Under prefix delegation a pod address lies in a prefix of the node's interface.
	if _, err := e.AssignPrivateIpAddresses(ctx, &ec2.AssignPrivateIpAddressesInput{
		NetworkInterfaceId: ni.NetworkInterface.NetworkInterfaceId, Ipv4Prefixes: []string{strings.TrimSuffix(ip, "77") + "16/28"}}); err != nil {
		t.Fatal(err)
	}
	podIP := strings.TrimSuffix(ip, "77") + "21"
	byPrefix, err := c.IPENIs(ctx, []string{podIP})
	if err != nil {
		t.Fatal(err)
	}
	if len(byPrefix) != 1 || !reflect.DeepEqual(byPrefix[podIP], want) {
		t.Errorf("IPENIs(%s in a delegated prefix) = %+v, want %+v", podIP, byPrefix, want)
	}

	// Both look-ups are cached, and so is an address no interface holds.
	lookups := func() int {
		n := c.CallCounts()
		return n["ec2:DescribeNetworkInterfaces"] + n["ec2:DescribeInstances"] + n["ec2:DescribeSecurityGroups"]
	}
	before := lookups()
	if before == 0 {
		t.Fatal("no look-up counted; the call counter keys changed?")
	}
	if _, err := c.InstanceENIs(ctx, []string{instance}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.IPENIs(ctx, []string{ip, "10.254.0.9"}); err != nil {
		t.Fatal(err)
	}
	if after := lookups(); after != before {
		t.Errorf("cached look-ups made %d calls", after-before)
	}
}

func TestNodeRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, _ := testVPC(t)
	c, _ := newCloud(t, vpcID)
	source := createGroup(t, vpcID, "source", nil)
	node := createGroup(t, vpcID, "node", nil)
	e, _ := rawClients(t)
	if _, err := e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(node),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("ssh")}}}},
	}); err != nil {
		t.Fatal(err)
	}
	rules := []model.NodeRule{
		{Protocol: "tcp", FromPort: 30000, ToPort: 30100, SourceGroupID: source},
		{Protocol: "udp", FromPort: 30053, ToPort: 30053, SourceGroupID: source},
		{Protocol: "tcp", FromPort: 8080, ToPort: 8080, CIDR: "0.0.0.0/0"},
	}
	if err := c.AuthorizeNodeRules(ctx, node, rules); err != nil {
		t.Fatal(err)
	}
	if err := c.AuthorizeNodeRules(ctx, node, rules[:1]); err != nil {
		t.Errorf("authorizing an existing rule again: %v", err)
	}
	got, err := c.NodeRules(ctx, []string{node, "sg-00000000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(rules)
	SortNodeRules(want)
	if !reflect.DeepEqual(got[node].Ours, want) || len(got) != 1 {
		t.Errorf("NodeRules = %+v, want our three rules of %s only (not the ssh rule)", got, node)
	}
	if err := c.RevokeNodeRules(ctx, node, rules[:2]); err != nil {
		t.Fatal(err)
	}
	got, err = c.NodeRules(ctx, []string{node})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got[node].Ours, rules[2:]) {
		t.Errorf("after revoking two: %+v, want %+v", got[node].Ours, rules[2:])
	}
	if err := c.RevokeNodeRules(ctx, node, rules[:1]); err != nil {
		t.Errorf("revoking a rule that is gone: %v", err)
	}
}
