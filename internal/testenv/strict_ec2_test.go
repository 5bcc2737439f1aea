package testenv

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

func TestStrictDeleteSecurityGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	byLB, byENI, byRule, referrer, free := f.securityGroup("bylb"), f.securityGroup("byeni"), f.securityGroup("byrule"),
		f.securityGroup("referrer"), f.securityGroup("free")
	f.loadBalancer("sgdep", elbtypes.LoadBalancerTypeEnumApplication, byLB)
	f.accepted("ec2", "create-network-interface", "--subnet-id", f.subnets[0], "--groups", byENI)
	f.accepted("ec2", "authorize-security-group-ingress", "--group-id", referrer,
		"--ip-permissions", "IpProtocol=tcp,FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId="+byRule+"}]")
	for _, sg := range []string{byLB, byENI, byRule} {
		f.refused("DependencyViolation", "ec2", "delete-security-group", "--group-id", sg)
	}
	if _, code := f.cliDirect("ec2", "delete-security-group", "--group-id", byLB); code != "" {
		t.Fatalf("plain moto refuses to delete a load balancer's group (%s): the rule needs no copy", code)
	}
	f.accepted("ec2", "delete-security-group", "--group-id", free)

	// The SDK's EC2 deserializer surfaces the layer's code.
	_, err := f.ec2.DeleteSecurityGroup(f.ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(byRule)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "DependencyViolation" {
		t.Fatalf("DeleteSecurityGroup through the SDK = %v, want DependencyViolation", err)
	}
}

func TestStrictAuthorizeIngress(t *testing.T) {
	t.Parallel()
	t.Run("one duplicate refuses the whole request", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		sg := f.securityGroup("dup")
		perm := func(port int) string {
			return fmt.Sprintf("IpProtocol=tcp,FromPort=%d,ToPort=%d,IpRanges=[{CidrIp=10.9.0.0/16}]", port, port)
		}
		f.accepted("ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", perm(80))
		f.refused("InvalidPermission.Duplicate", "ec2", "authorize-security-group-ingress", "--group-id", sg,
			"--ip-permissions", perm(81), perm(80))
		out := f.accepted("ec2", "describe-security-groups", "--group-ids", sg)
		if strings.Contains(out, `"FromPort": 81`) {
			t.Fatalf("the refused request left its port 81 rule behind:\n%s", out)
		}
		f.accepted("ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", perm(81), perm(82))
	})
	t.Run("plain moto is not atomic", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		sg := f.securityGroup("nonatomic")
		perm := func(port int) string {
			return fmt.Sprintf("IpProtocol=tcp,FromPort=%d,ToPort=%d,IpRanges=[{CidrIp=10.9.0.0/16}]", port, port)
		}
		f.accepted("ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", perm(80))
		f.cliDirect("ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", perm(81), perm(80))
		if out := f.accepted("ec2", "describe-security-groups", "--group-ids", sg); !strings.Contains(out, `"FromPort": 81`) {
			t.Fatalf("plain moto kept no part of a request with a duplicate: the atomic rule needs no copy\n%s", out)
		}
	})
	t.Run("60 rules per family, a prefix list at its max entries", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		sg := f.securityGroup("quota")
		pl, err := f.ec2.CreateManagedPrefixList(f.ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String(f.name("pl")),
			AddressFamily: aws.String("IPv4"), MaxEntries: aws.Int32(50)})
		if err != nil {
			t.Fatal(err)
		}
		plID := aws.ToString(pl.PrefixList.PrefixListId)
		var cidrs []string
		for i := range 11 {
			cidrs = append(cidrs, fmt.Sprintf("{CidrIp=172.16.%d.0/24}", i))
		}
		perm := func(ranges []string) string {
			return "IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[" + strings.Join(ranges, ",") + "]"
		}
		f.accepted("ec2", "authorize-security-group-ingress", "--group-id", sg,
			"--ip-permissions", "IpProtocol=tcp,FromPort=443,ToPort=443,PrefixListIds=[{PrefixListId="+plID+"}]")
		f.refused("RulesPerSecurityGroupLimitExceeded", "ec2", "authorize-security-group-ingress", "--group-id", sg,
			"--ip-permissions", perm(cidrs))
		f.accepted("ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions", perm(cidrs[:10]))
	})
}

func TestStrictSecondaryIPFilter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	primary, secondary := fmt.Sprintf("10.%d.0.20", f.n), fmt.Sprintf("10.%d.0.21", f.n)
	out, err := f.ec2.CreateNetworkInterface(f.ctx, &ec2.CreateNetworkInterfaceInput{SubnetId: aws.String(f.subnets[0]),
		PrivateIpAddresses: []ec2types.PrivateIpAddressSpecification{
			{PrivateIpAddress: aws.String(primary), Primary: aws.Bool(true)},
			{PrivateIpAddress: aws.String(secondary), Primary: aws.Bool(false)}}})
	if err != nil {
		t.Fatal(err)
	}
	eni := aws.ToString(out.NetworkInterface.NetworkInterfaceId)
	for _, filter := range []string{"addresses.private-ip-address", "private-ip-address"} {
		arg := "Name=" + filter + ",Values=" + secondary
		got := f.accepted("ec2", "describe-network-interfaces", "--filters", arg)
		if !strings.Contains(got, eni) {
			t.Errorf("filter %s=%s (a secondary address) does not find %s:\n%s", filter, secondary, eni, got)
		}
		if direct, _ := f.cliDirect("ec2", "describe-network-interfaces", "--filters", arg); strings.Contains(direct, eni) {
			t.Errorf("plain moto's %s filter matches secondary addresses: the correction needs no copy", filter)
		}
		got = f.accepted("ec2", "describe-network-interfaces", "--filters", arg, "Name=subnet-id,Values="+f.subnets[1])
		if strings.Contains(got, eni) {
			t.Errorf("filter %s with another subnet still finds %s", filter, eni)
		}
	}
}

func TestStrictACM(t *testing.T) {
	t.Parallel()
	t.Run("delete a certificate in use", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		certs := f.certificates(3, "ec")
		lb := f.loadBalancer("inuse", elbtypes.LoadBalancerTypeEnumApplication)
		tg := f.targetGroup("inuse", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
		l := f.listener(lb, elbtypes.ProtocolEnumHttps, 443, tg, certs[0])
		f.accepted("elbv2", "add-listener-certificates", "--listener-arn", l, "--certificates", "CertificateArn="+certs[1])
		f.refused("ResourceInUseException", "acm", "delete-certificate", "--certificate-arn", certs[0])
		f.refused("ResourceInUseException", "acm", "delete-certificate", "--certificate-arn", certs[1])
		f.accepted("acm", "delete-certificate", "--certificate-arn", certs[2])
		f.accepted("elbv2", "remove-listener-certificates", "--listener-arn", l, "--certificates", "CertificateArn="+certs[1])
		f.accepted("acm", "delete-certificate", "--certificate-arn", certs[1])
	})
	t.Run("re-import with another key algorithm", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		arn := f.certificates(1, "rsa")[0]
		client := acm.NewFromConfig(AWSConfig(f.moto.Endpoint, testRegion))
		reimport := func(kind string) error {
			cert, key := selfSigned(t, fmt.Sprintf("c0-%d.example.com", f.n), kind)
			_, err := client.ImportCertificate(f.ctx, &acm.ImportCertificateInput{CertificateArn: aws.String(arn), Certificate: cert, PrivateKey: key})
			return err
		}
		var api smithy.APIError
		if err := reimport("ec"); !errors.As(err, &api) || api.ErrorCode() != "ValidationException" {
			t.Fatalf("re-import with an EC key over RSA = %v, want ValidationException", err)
		}
		if err := reimport("rsa"); err != nil {
			t.Fatalf("re-import with the same key algorithm: %v", err)
		}
		dir := t.TempDir()
		cert, key := selfSigned(t, "cli.example.com", "ec")
		certFile, keyFile := writeFile(t, dir, "cert.pem", cert), writeFile(t, dir, "key.pem", key)
		f.refused("ValidationException", "acm", "import-certificate", "--certificate-arn", arn,
			"--certificate", "fileb://"+certFile, "--private-key", "fileb://"+keyFile)
		if _, code := f.cliDirect("acm", "import-certificate", "--certificate-arn", arn,
			"--certificate", "fileb://"+certFile, "--private-key", "fileb://"+keyFile); code != "" {
			t.Fatalf("plain moto refuses a re-import with another key (%s): the rule needs no copy", code)
		}
	})
}

// TestStrictKnobs runs on its own moto: knobs apply to every client of a moto.
func TestStrictKnobs(t *testing.T) {
	t.Parallel()
	m := startMoto(t)
	f := newFixtureOn(t, m)
	t.Run("provisioning", func(t *testing.T) {
		m.Strict.SetKnobs(StrictKnobs{ProvisioningSeconds: 3600})
		defer m.Strict.SetKnobs(StrictKnobs{})
		lb := f.loadBalancer("prov", elbtypes.LoadBalancerTypeEnumNetwork)
		if got := f.accepted("elbv2", "describe-load-balancers", "--load-balancer-arns", lb); !strings.Contains(got, `"Code": "provisioning"`) {
			t.Fatalf("a load balancer inside ProvisioningSeconds is not provisioning:\n%s", got)
		}
		m.Strict.SetKnobs(StrictKnobs{})
		if got := f.accepted("elbv2", "describe-load-balancers", "--load-balancer-arns", lb); !strings.Contains(got, `"Code": "active"`) {
			t.Fatalf("without the knob the load balancer is not active:\n%s", got)
		}
	})
	t.Run("loopback DNS names", func(t *testing.T) {
		m.Strict.SetKnobs(StrictKnobs{LoopbackDNSNames: true})
		defer m.Strict.SetKnobs(StrictKnobs{})
		dnsName := func(arn string) string {
			out, err := f.elb.DescribeLoadBalancers(f.ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.LoadBalancers[0].DNSName)
		}
		a, b := f.loadBalancer("loop-a", elbtypes.LoadBalancerTypeEnumNetwork), f.loadBalancer("loop-b", elbtypes.LoadBalancerTypeEnumApplication)
		nameA, nameB := dnsName(a), dnsName(b)
		for _, n := range []string{nameA, nameB} {
			if ip := net.ParseIP(n); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
				t.Fatalf("DNSName %q is not a loopback IPv4 address", n)
			}
		}
		if nameA == nameB {
			t.Fatalf("two load balancers got one address, %s", nameA)
		}
		if again := dnsName(a); again != nameA {
			t.Fatalf("the address changed from %s to %s", nameA, again)
		}
		m.Strict.SetKnobs(StrictKnobs{})
		if n := dnsName(a); !strings.HasSuffix(n, ".elb.amazonaws.com") {
			t.Fatalf("without the knob DNSName is %q, want moto's", n)
		}
	})
	t.Run("security group describe delay", func(t *testing.T) {
		m.Strict.SetKnobs(StrictKnobs{SecurityGroupDescribeDelayMS: 3_600_000})
		defer m.Strict.SetKnobs(StrictKnobs{})
		sg := f.securityGroup("late")
		f.refused("InvalidGroup.NotFound", "ec2", "describe-security-groups", "--group-ids", sg)
		if got := f.accepted("ec2", "describe-security-groups", "--filters", "Name=vpc-id,Values="+f.vpc); strings.Contains(got, sg) {
			t.Fatalf("a new group is listed inside the delay:\n%s", got)
		}
		m.Strict.SetKnobs(StrictKnobs{SecurityGroupDescribeDelayMS: 1})
		time.Sleep(5 * time.Millisecond)
		if got := f.accepted("ec2", "describe-security-groups", "--filters", "Name=vpc-id,Values="+f.vpc); !strings.Contains(got, sg) {
			t.Fatalf("the group is not listed after the delay:\n%s", got)
		}
		f.accepted("ec2", "describe-security-groups", "--group-ids", sg)
	})
}
