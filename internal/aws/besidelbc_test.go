package aws

import (
	"context"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestNodeRulesBesideLBC: worker-node rules with the AWS Load Balancer Controller's description
// are the other controller's (never ours to revoke), unless their source is a managed frontend
// group of ours, when an earlier elbgateway wrote them: then they are taken over. A rule from
// the shared backend group proves nothing, since both controllers use that group.
func TestNodeRulesBesideLBC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, _ := testVPC(t)
	c, _ := newCloud(t, vpcID)
	backend, err := c.EnsureBackendSecurityGroup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frontend := createGroup(t, vpcID, "ours-frontend", map[string]string{clusterTagKey: testCluster, stackTagKey(model.Network): "ns/gw"})
	otherCluster := createGroup(t, vpcID, "other-frontend", map[string]string{clusterTagKey: "other", stackTagKey(model.Network): "ns/gw"})
	lbcService := createGroup(t, vpcID, "lbc-frontend", map[string]string{clusterTagKey: testCluster, "service.k8s.aws/stack": "ns/svc"})
	node := createGroup(t, vpcID, "node-beside-lbc", nil)
	e, _ := rawClients(t)
	lbc := func(port int32, source string) model.NodeRule {
		return model.NodeRule{Protocol: "tcp", FromPort: port, ToPort: port, SourceGroupID: source}
	}
	lbcRules := []model.NodeRule{lbc(30001, backend), lbc(30002, frontend), lbc(30003, otherCluster), lbc(30004, lbcService),
		{Protocol: "tcp", FromPort: 30005, ToPort: 30005, CIDR: "10.0.0.0/16"}}
	if _, err := e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(node),
		IpPermissions: toNodePermissions(lbcRules, model.LBCNodeRuleDescription)}); err != nil {
		t.Fatal(err)
	}
	ours := []model.NodeRule{lbc(30010, backend)}
	if err := c.AuthorizeNodeRules(ctx, node, ours); err != nil {
		t.Fatal(err)
	}
	got, err := c.NodeRules(ctx, []string{node})
	if err != nil {
		t.Fatal(err)
	}
	want := model.ObservedNodeRules{
		Ours:   ours,
		Legacy: []model.NodeRule{lbc(30002, frontend)},
		Others: []model.NodeRule{lbc(30001, backend), lbc(30003, otherCluster), lbc(30004, lbcService), lbcRules[4]},
	}
	SortNodeRules(want.Others)
	if !reflect.DeepEqual(got[node], want) {
		t.Errorf("NodeRules = %+v\nwant %+v", got[node], want)
	}

	// The other controller's rule from the backend group, identical to one we need: AWS
	// refuses ours as a duplicate whatever its description.
	_, err = e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(node),
		IpPermissions: toNodePermissions([]model.NodeRule{lbc(30001, backend)}, model.NodeRuleDescription)})
	if errorCode(err) != "InvalidPermission.Duplicate" {
		t.Errorf("authorizing a rule equal to the other controller's but for its description: %v, want InvalidPermission.Duplicate", err)
	}

	if err := c.RevokeLegacyNodeRules(ctx, node, want.Legacy); err != nil {
		t.Fatal(err)
	}
	got, err = c.NodeRules(ctx, []string{node})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[node].Legacy) != 0 || !reflect.DeepEqual(got[node].Others, want.Others) || !reflect.DeepEqual(got[node].Ours, ours) {
		t.Errorf("after taking over: %+v; want the legacy rule gone and the rest unchanged", got[node])
	}

	// The backend group is not released while the other controller's rules name it.
	if err := c.ReleaseBackendSecurityGroup(ctx); err != nil {
		t.Fatal(err)
	}
	if describeGroup(t, backend) == nil {
		t.Fatalf("backend group %s deleted although the other controller's rule names it", backend)
	}
	got, err = c.NodeRules(ctx, []string{node})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[node].Ours) != 0 || !reflect.DeepEqual(got[node].Others, want.Others) {
		t.Errorf("after release: %+v; want our rule revoked and the other controller's kept", got[node])
	}
}
