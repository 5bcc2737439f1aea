package testenv

import (
	"strings"
	"testing"
)

// TestStrictDuplicateIgnoresDescription: a rule is its protocol, ports and source; its
// description does not tell two rules apart ("The specified rule already exists"), so a rule
// the AWS Load Balancer Controller wrote cannot be written again with another description. The
// contract rule ingressAtomicDuplicate compares rules without their descriptions; plain moto
// tells group-pair rules apart by description and accepts the second.
func TestStrictDuplicateIgnoresDescription(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	node, source := f.securityGroup("desc-node"), f.securityGroup("desc-source")
	rule := func(desc string) string {
		return "IpProtocol=tcp,FromPort=30901,ToPort=30901,UserIdGroupPairs=[{GroupId=" + source + ",Description=" + desc + "}]"
	}
	cidr := func(desc string) string {
		return "IpProtocol=tcp,FromPort=32000,ToPort=32000,IpRanges=[{CidrIp=10.0.0.0/16,Description=" + desc + "}]"
	}
	f.accepted("ec2", "authorize-security-group-ingress", "--group-id", node, "--ip-permissions",
		rule("elbv2.k8s.aws/targetGroupBinding=shared"), cidr("elbv2.k8s.aws/targetGroupBinding=shared"))
	f.refused("InvalidPermission.Duplicate", "ec2", "authorize-security-group-ingress", "--group-id", node,
		"--ip-permissions", rule("elbgateway.k8s.aws/targets=shared"))
	f.refused("InvalidPermission.Duplicate", "ec2", "authorize-security-group-ingress", "--group-id", node,
		"--ip-permissions", cidr("elbgateway.k8s.aws/targets=shared"))
	if out := f.accepted("ec2", "describe-security-groups", "--group-ids", node); strings.Contains(out, "elbgateway.k8s.aws") {
		t.Fatalf("a refused rule was kept:\n%s", out)
	}
	if _, code := f.cliDirect("ec2", "authorize-security-group-ingress", "--group-id", node,
		"--ip-permissions", rule("elbgateway.k8s.aws/targets=shared")); code != "" {
		t.Logf("plain moto now refuses a group-pair rule that differs only in its description (%s)", code)
	}
}
