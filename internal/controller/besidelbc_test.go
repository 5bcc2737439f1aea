package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

const lbcNodeRuleDescription = "elbv2.k8s.aws/targetGroupBinding=shared"

// describedRules lists every ingress rule of a group as sorted "proto:from-to<source #description".
func describedRules(t *testing.T, id string) []string {
	t.Helper()
	out, err := env.ec2.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: awssdk.String("group-id"), Values: []string{id}}}})
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, g := range out.SecurityGroups {
		for _, p := range g.IpPermissions {
			prefix := fmt.Sprintf("%s:%d-%d<", awssdk.ToString(p.IpProtocol), awssdk.ToInt32(p.FromPort), awssdk.ToInt32(p.ToPort))
			for _, pair := range p.UserIdGroupPairs {
				rules = append(rules, prefix+awssdk.ToString(pair.GroupId)+" #"+awssdk.ToString(pair.Description))
			}
			for _, r := range p.IpRanges {
				rules = append(rules, prefix+awssdk.ToString(r.CidrIp)+" #"+awssdk.ToString(r.Description))
			}
		}
	}
	slices.Sort(rules)
	return rules
}

// authorizeLBCRules writes worker-node rules the way the AWS Load Balancer Controller does.
func authorizeLBCRules(t *testing.T, group string, perms ...ec2types.IpPermission) {
	t.Helper()
	if _, err := env.ec2.AuthorizeSecurityGroupIngress(context.Background(), &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: awssdk.String(group), IpPermissions: perms}); err != nil {
		t.Fatal(err)
	}
}

func lbcFromGroup(port int32, source string) ec2types.IpPermission {
	return ec2types.IpPermission{IpProtocol: awssdk.String("tcp"), FromPort: awssdk.Int32(port), ToPort: awssdk.Int32(port),
		UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: awssdk.String(source), Description: awssdk.String(lbcNodeRuleDescription)}}}
}

// TestBesideLBC: the AWS Load Balancer Controller runs in the same cluster for a Service. It
// made the cluster's shared backend security group, an NLB that uses it, and worker-node rules
// from it (one of them identical to a rule the Gateway needs) and from a CIDR, before
// elbgateway starts. A Gateway's whole life leaves all of that as it was, and its deletion
// finishes although the backend group stays in use.
func TestBesideLBC(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	ctx := context.Background()
	const cluster = "beside-lbc"
	w := newOwnWorld(t, cluster)
	w.addNodeAndPod(t, "10.0.150.31")
	c, ns, vpc, nodeSG, podSG, podIP := w.client, w.ns, w.vpc, w.nodeSG, w.podSG, w.podIP

	// What LBC made for its Service: its managed group, the shared backend group, an NLB with
	// both, and its worker-node rules.
	svcStack := ns + "/lbc-svc"
	managed, backend := createLBCSecurityGroups(t, cluster, vpc, ns, "lbc-svc", "uid", map[string]string{
		"elbv2.k8s.aws/cluster": cluster, "service.k8s.aws/stack": svcStack, "service.k8s.aws/resource": "ManagedLBSecurityGroup"}, 443)
	lb, err := env.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: awssdk.String("k8s-lbc-svc-beside"), Type: elbtypes.LoadBalancerTypeEnumNetwork,
		Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: vpc.PrivateSubnets, SecurityGroups: []string{managed, backend},
		Tags: elbTags(map[string]string{"elbv2.k8s.aws/cluster": cluster, "service.k8s.aws/stack": svcStack,
			"service.k8s.aws/resource": "LoadBalancer"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	lbcARN := awssdk.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	// LBC's own NLB Gateway (another class) has a frontend group tagged as elbgateway tags its
	// own; the node rule from it is LBC's, not an earlier elbgateway's to take over.
	lbcGateway, err := env.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: awssdk.String("k8s-" + ns + "-lbcgw"), Description: awssdk.String("[k8s] Managed SecurityGroup for LoadBalancer"),
		VpcId: awssdk.String(vpc.VPCID),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags: ec2Tags(map[string]string{"elbv2.k8s.aws/cluster": cluster, "gateway.k8s.aws.nlb/stack": ns + "/lbc-gw",
				"gateway.k8s.aws.nlb/resource": "ManagedLBSecurityGroup"})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	authorizeLBCRules(t, nodeSG,
		lbcFromGroup(30901, backend), // the very rule the Gateway's NodePort target needs
		lbcFromGroup(31000, backend),
		lbcFromGroup(30950, awssdk.ToString(lbcGateway.GroupId)),
		ec2types.IpPermission{IpProtocol: awssdk.String("tcp"), FromPort: awssdk.Int32(32000), ToPort: awssdk.Int32(32000),
			IpRanges: []ec2types.IpRange{{CidrIp: awssdk.String("10.0.0.0/16"), Description: awssdk.String(lbcNodeRuleDescription)}}})
	authorizeLBCRules(t, podSG, lbcFromGroup(9090, backend))
	lbcNodeRules, lbcPodRules := describedRules(t, nodeSG), describedRules(t, podSG)
	if len(lbcNodeRules) != 4 || len(lbcPodRules) != 1 {
		t.Fatalf("set-up: node rules %v, pod rules %v", lbcNodeRules, lbcPodRules)
	}

	w.startController(t, nil)

	applyFiles(t, c, ns, "examples/seed-l4/gwc-nlb.yaml")
	applyYAML(t, c, ns, fmt.Sprintf(sgGateway, 9000, podIP))
	node := ns + "-node"
	applyYAML(t, c, "", fmt.Sprintf("apiVersion: v1\nkind: Node\nmetadata: {name: %s}\nspec: {providerID: 'aws:///%s/%s'}\n",
		node, vpc.Zones[0], w.instance))
	markNodeReadyIn(t, c, node)
	gw, lbARN := programmedGateway(t, c, ns, "gw")
	if got := describeLB(t, lbARN).SecurityGroups; !slices.Contains(got, backend) {
		t.Fatalf("the Gateway's load balancer has groups %v, want the shared backend group %s LBC made", got, backend)
	}

	t.Run("both controllers' rules side by side", func(t *testing.T) {
		ours := "tcp:8080-8080<" + backend + " #elbgateway.k8s.aws/targets=shared"
		eventually(t, 30*timeoutScale, "our pod rule", func() error {
			if got := describedRules(t, podSG); !slices.Contains(got, ours) {
				return fmt.Errorf("pod group rules %v, want %s among them", got, ours)
			}
			return nil
		})
		if got, want := describedRules(t, podSG), append(slices.Clone(lbcPodRules), ours); !slices.Equal(got, sorted(want)) {
			t.Errorf("pod group rules %v, want LBC's and ours: %v", got, sorted(want))
		}
		// The node needs tcp 30901 from the backend group, which LBC's rule already allows:
		// AWS would refuse ours as a duplicate, so nothing is written, and nothing of LBC's
		// is revoked, over several passes.
		for range 3 {
			if got := describedRules(t, nodeSG); !slices.Equal(got, lbcNodeRules) {
				t.Fatalf("node group rules %v, want LBC's unchanged %v", got, lbcNodeRules)
			}
			time.Sleep(time.Second)
		}
	})

	t.Run("when LBC revokes the rule both needed, ours follows", func(t *testing.T) {
		if _, err := env.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: awssdk.String(nodeSG),
			IpPermissions: []ec2types.IpPermission{lbcFromGroup(30901, backend)}}); err != nil {
			t.Fatal(err)
		}
		lbcNodeRules = slices.DeleteFunc(lbcNodeRules, func(r string) bool { return strings.HasPrefix(r, "tcp:30901-30901<") })
		ours := "tcp:30901-30901<" + backend + " #elbgateway.k8s.aws/targets=shared"
		want := sorted(append(slices.Clone(lbcNodeRules), ours))
		eventually(t, 90*timeoutScale, "our node rule", func() error {
			if got := describedRules(t, nodeSG); !slices.Equal(got, want) {
				return fmt.Errorf("node group rules %v, want %v", got, want)
			}
			return nil
		})
	})

	t.Run("deleting the last Gateway finishes and leaves LBC's resources", func(t *testing.T) {
		if err := c.Delete(ctx, gw); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*timeoutScale, "the Gateway is gone", func() error {
			err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "gw"}, &gwv1.Gateway{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (%v)", err)
		})
		eventually(t, 30*timeoutScale, "our pod rule revoked", func() error {
			if got := describedRules(t, podSG); !slices.Equal(got, lbcPodRules) {
				return fmt.Errorf("pod group rules %v, want LBC's only %v", got, lbcPodRules)
			}
			return nil
		})
		if got := describedRules(t, nodeSG); !slices.Equal(got, lbcNodeRules) {
			t.Errorf("node group rules %v, want LBC's unchanged %v", got, lbcNodeRules)
		}
		if !groupExists(t, backend) || !groupExists(t, managed) {
			t.Errorf("LBC's groups: backend %s exists %v, managed %s exists %v; both must stay", backend, groupExists(t, backend),
				managed, groupExists(t, managed))
		}
		if got := describeLB(t, lbcARN).SecurityGroups; !slices.Equal(sorted(got), sorted([]string{managed, backend})) {
			t.Errorf("LBC's load balancer groups %v, want %s and %s", got, managed, backend)
		}
	})
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
