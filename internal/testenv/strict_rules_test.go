package testenv

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// conditionsJSON is a --conditions argument: each condition a field and its values.
func conditionsJSON(t *testing.T, conditions ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(conditions)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hosts(values ...string) map[string]any {
	return map[string]any{"Field": "host-header", "HostHeaderConfig": map[string]any{"Values": values}}
}

func paths(values ...string) map[string]any {
	return map[string]any{"Field": "path-pattern", "PathPatternConfig": map[string]any{"Values": values}}
}

func header(name string, values ...string) map[string]any {
	return map[string]any{"Field": "http-header", "HttpHeaderConfig": map[string]any{"HttpHeaderName": name, "Values": values}}
}

func TestStrictConditionLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lb := f.loadBalancer("cond", elbtypes.LoadBalancerTypeEnumApplication)
	tg := f.targetGroup("cond", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	listener := f.listener(lb, elbtypes.ProtocolEnumHttp, 80, tg, "")
	priority := 0
	create := func(conditions string) []string {
		priority++
		return []string{"elbv2", "create-rule", "--listener-arn", listener, "--priority", fmt.Sprint(priority),
			"--conditions", conditions, "--actions", "Type=forward,TargetGroupArn=" + tg}
	}
	long := strings.Repeat("a", maxConditionValueLen-len(".example.com")) + ".example.com"
	cases := []struct {
		name               string
		refused, neighbour string
	}{
		{"five values per rule",
			conditionsJSON(t, hosts("a.example.com", "b.example.com", "c.example.com"), paths("/a", "/b", "/c")),
			conditionsJSON(t, hosts("a.example.com", "b.example.com", "c.example.com"), paths("/a", "/b"))},
		{"three values per condition",
			conditionsJSON(t, hosts("a.example.com", "b.example.com", "c.example.com", "d.example.com")),
			conditionsJSON(t, hosts("a.example.com", "b.example.com", "c.example.com"))},
		{"128 characters per value",
			conditionsJSON(t, hosts("x"+long)), conditionsJSON(t, hosts(long))},
		{"40 characters per header name",
			conditionsJSON(t, header(strings.Repeat("h", maxHeaderNameLen+1), "v")),
			conditionsJSON(t, header(strings.Repeat("h", maxHeaderNameLen), "v"))},
		{"one path-pattern condition",
			conditionsJSON(t, paths("/a"), paths("/b")), conditionsJSON(t, paths("/a"), header("X-A", "b"), header("X-B", "c"))},
		{"no Host header condition",
			conditionsJSON(t, header("HOST", "a.example.com")), conditionsJSON(t, header("X-Host", "a.example.com"))},
	}
	for _, c := range cases {
		f.refused("ValidationError", create(c.refused)...)
		f.accepted(create(c.neighbour)...)
	}
	// ModifyRule is held to the same limits.
	out := f.accepted(create(conditionsJSON(t, paths("/m")))...)
	var created struct{ Rules []struct{ RuleArn string } }
	f.decode(out, &created)
	f.refused("ValidationError", "elbv2", "modify-rule", "--rule-arn", created.Rules[0].RuleArn,
		"--conditions", conditionsJSON(t, paths("/a", "/b", "/c", "/d")))
	f.accepted("elbv2", "modify-rule", "--rule-arn", created.Rules[0].RuleArn, "--conditions", conditionsJSON(t, paths("/a", "/b", "/c")))
	// Plain moto takes four values in one condition: the layer's rule is no copy.
	if _, code := f.cliDirect(create(conditionsJSON(t, hosts("a.example.com", "b.example.com", "c.example.com", "d.example.com")))...); code != "" {
		t.Fatalf("plain moto refuses four host values (%s): the rule needs no copy", code)
	}
}

func TestStrictListenerRules(t *testing.T) {
	t.Parallel()
	t.Run("NLB forward stickiness", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		nlb := f.loadBalancer("stick", elbtypes.LoadBalancerTypeEnumNetwork)
		tg := f.targetGroup("stick", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumIp)
		action := func(sticky string) string {
			return `[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"` + tg + `"}]` + sticky + `}}]`
		}
		f.refused("ValidationError", "elbv2", "create-listener", "--load-balancer-arn", nlb, "--protocol", "TCP", "--port", "80",
			"--default-actions", action(`,"TargetGroupStickinessConfig":{"Enabled":false}`))
		out := f.accepted("elbv2", "create-listener", "--load-balancer-arn", nlb, "--protocol", "TCP", "--port", "80",
			"--default-actions", action(""))
		var l struct {
			Listeners []struct{ ListenerArn string }
		}
		f.decode(out, &l)
		f.refused("ValidationError", "elbv2", "modify-listener", "--listener-arn", l.Listeners[0].ListenerArn,
			"--default-actions", action(`,"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":60}`))
		f.accepted("elbv2", "modify-listener", "--listener-arn", l.Listeners[0].ListenerArn, "--default-actions", action(""))
		// NLB stickiness is the target group's source_ip attributes, on TCP, UDP and TCP_UDP
		// groups; "Sticky sessions are not supported with TLS listeners and TLS target groups"
		// (NLB target group attributes), which moto refuses itself.
		for _, p := range []elbtypes.ProtocolEnum{elbtypes.ProtocolEnumTcp, elbtypes.ProtocolEnumUdp, elbtypes.ProtocolEnumTcpUdp} {
			arn := f.targetGroup("st"+strings.ToLower(strings.ReplaceAll(string(p), "_", "")), p, elbtypes.TargetTypeEnumInstance)
			f.accepted("elbv2", "modify-target-group-attributes", "--target-group-arn", arn,
				"--attributes", "Key=stickiness.enabled,Value=true", "Key=stickiness.type,Value=source_ip")
		}
		tls := f.targetGroup("sttls", elbtypes.ProtocolEnumTls, elbtypes.TargetTypeEnumInstance)
		f.refused("InvalidConfigurationRequest", "elbv2", "modify-target-group-attributes", "--target-group-arn", tls,
			"--attributes", "Key=stickiness.enabled,Value=true", "Key=stickiness.type,Value=source_ip")
	})
	t.Run("ALB forward stickiness is fine", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		alb := f.loadBalancer("albstick", elbtypes.LoadBalancerTypeEnumApplication)
		tg := f.targetGroup("albstick", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
		f.accepted("elbv2", "create-listener", "--load-balancer-arn", alb, "--protocol", "HTTP", "--port", "80", "--default-actions",
			`[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":"`+tg+`"}],"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":60}}}]`)
	})
}

func TestStrictLoadBalancerRules(t *testing.T) {
	t.Parallel()
	t.Run("security groups on an NLB created without", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		sg := f.securityGroup("nlbsg")
		bare := f.loadBalancer("bare", elbtypes.LoadBalancerTypeEnumNetwork)
		with := f.loadBalancer("with", elbtypes.LoadBalancerTypeEnumNetwork, sg)
		f.refused("ValidationError", "elbv2", "set-security-groups", "--load-balancer-arn", bare, "--security-groups", sg)
		f.accepted("elbv2", "set-security-groups", "--load-balancer-arn", with, "--security-groups", sg, f.securityGroup("nlbsg2"))
	})
	t.Run("five security groups", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var sgs []string
		for i := range quotaSecurityGroupsPerLB + 1 {
			sgs = append(sgs, f.securityGroup(fmt.Sprintf("five%d", i)))
		}
		f.refused("ValidationError", append([]string{"elbv2", "create-load-balancer", "--name", f.name("six"),
			"--subnets", f.subnets[0], f.subnets[1], "--security-groups"}, sgs...)...)
		f.accepted(append([]string{"elbv2", "create-load-balancer", "--name", f.name("five"),
			"--subnets", f.subnets[0], f.subnets[1], "--security-groups"}, sgs[:quotaSecurityGroupsPerLB]...)...)
		alb := f.loadBalancer("set", elbtypes.LoadBalancerTypeEnumApplication, sgs[0])
		f.refused("ValidationError", append([]string{"elbv2", "set-security-groups", "--load-balancer-arn", alb, "--security-groups"}, sgs...)...)
		f.accepted(append([]string{"elbv2", "set-security-groups", "--load-balancer-arn", alb, "--security-groups"}, sgs[1:]...)...)
	})
	t.Run("deletion protection", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		lb := f.loadBalancer("protect", elbtypes.LoadBalancerTypeEnumApplication)
		f.accepted("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb, "--attributes", "Key=deletion_protection.enabled,Value=true")
		f.refused("OperationNotPermitted", "elbv2", "delete-load-balancer", "--load-balancer-arn", lb)
		f.accepted("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb, "--attributes", "Key=deletion_protection.enabled,Value=false")
		f.accepted("elbv2", "delete-load-balancer", "--load-balancer-arn", lb)
	})
	t.Run("DescribeTags with a deleted ARN", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		live := f.targetGroup("live", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumIp)
		gone := f.targetGroup("gone", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumIp)
		lb := f.loadBalancer("tags", elbtypes.LoadBalancerTypeEnumNetwork)
		f.accepted("elbv2", "delete-target-group", "--target-group-arn", gone)
		f.refused("TargetGroupNotFound", "elbv2", "describe-tags", "--resource-arns", live, gone)
		if _, code := f.cliDirect("elbv2", "describe-tags", "--resource-arns", live, gone); code != "" {
			t.Fatalf("plain moto answers a deleted ARN with %s: the rule needs no copy", code)
		}
		f.accepted("elbv2", "describe-tags", "--resource-arns", live, lb)
		f.accepted("elbv2", "delete-load-balancer", "--load-balancer-arn", lb)
		f.refused("LoadBalancerNotFound", "elbv2", "describe-tags", "--resource-arns", live, lb)
	})
}

func TestStrictCertificatesPerLoadBalancer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	certs := f.certificates(quotaCertificatesPerLB+2, "ec")
	lb := f.loadBalancer("quota", elbtypes.LoadBalancerTypeEnumApplication)
	tg := f.targetGroup("quota", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	l1 := f.listener(lb, elbtypes.ProtocolEnumHttps, 443, tg, certs[0])
	l2 := f.listener(lb, elbtypes.ProtocolEnumHttps, 8443, tg, certs[1])
	// 24 certificates beside the defaults, over both listeners, past the layer.
	direct := elbv2.NewFromConfig(AWSConfig(f.moto.direct, testRegion))
	for i, c := range certs[2 : quotaCertificatesPerLB+1] {
		l := []string{l1, l2}[i%2]
		if _, err := direct.AddListenerCertificates(f.ctx, &elbv2.AddListenerCertificatesInput{ListenerArn: aws.String(l),
			Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(c)}}}); err != nil {
			t.Fatal(err)
		}
	}
	last := certs[quotaCertificatesPerLB+1]
	f.accepted("elbv2", "add-listener-certificates", "--listener-arn", l2, "--certificates", "CertificateArn="+certs[0])
	f.refused("TooManyCertificates", "elbv2", "add-listener-certificates", "--listener-arn", l1, "--certificates", "CertificateArn="+last)
	if _, code := f.cliDirect("elbv2", "add-listener-certificates", "--listener-arn", l1, "--certificates", "CertificateArn="+last); code != "" {
		t.Fatalf("plain moto refuses the 26th certificate (%s): the rule needs no copy", code)
	}
}

func TestStrictNamesAndListeners(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	long := strings.Repeat("n", 33)
	f.refused("ValidationError", "elbv2", "create-target-group", "--name", long, "--protocol", "TCP", "--port", "80", "--vpc-id", f.vpc)
	if _, code := f.cliDirect("elbv2", "create-load-balancer", "--name", long, "--subnets", f.subnets[0], f.subnets[1]); code != "" {
		t.Fatalf("plain moto refuses a 33-character name (%s): the rule needs no copy", code)
	}
	f.refused("ValidationError", "elbv2", "create-load-balancer", "--name", long+"x", "--subnets", f.subnets[0], f.subnets[1])
	f.refused("ValidationError", "elbv2", "create-load-balancer", "--name", "internal-"+f.name("lb"), "--subnets", f.subnets[0], f.subnets[1])
	f.accepted("elbv2", "create-target-group", "--name", long[:32], "--protocol", "TCP", "--port", "80", "--vpc-id", f.vpc)

	lb := f.loadBalancer("lsn", elbtypes.LoadBalancerTypeEnumApplication)
	tg := f.targetGroup("lsn", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	certs := f.certificates(2, "ec")
	listener := func(port string, certificates ...string) []string {
		args := []string{"elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTPS", "--port", port,
			"--default-actions", "Type=forward,TargetGroupArn=" + tg}
		if len(certificates) > 0 {
			args = append(args, "--certificates")
			for _, c := range certificates {
				args = append(args, "CertificateArn="+c)
			}
		}
		return args
	}
	f.refused("ValidationError", listener("443")...)
	f.refused("ValidationError", listener("443", certs...)...)
	f.accepted(listener("443", certs[0])...)

	var arns []string
	for range 21 {
		arns = append(arns, tg)
	}
	f.refused("ValidationError", append([]string{"elbv2", "describe-tags", "--resource-arns"}, arns...)...)
	f.accepted(append([]string{"elbv2", "describe-tags", "--resource-arns"}, arns[:20]...)...)
}
