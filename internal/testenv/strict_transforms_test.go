package testenv

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func hostRewrite(regex, replace string) elbtypes.RuleTransform {
	return elbtypes.RuleTransform{Type: elbtypes.TransformTypeEnumHostHeaderRewrite,
		HostHeaderRewriteConfig: &elbtypes.HostHeaderRewriteConfig{Rewrites: []elbtypes.RewriteConfig{{Regex: aws.String(regex), Replace: aws.String(replace)}}}}
}

func urlRewrite(regex, replace string) elbtypes.RuleTransform {
	return elbtypes.RuleTransform{Type: elbtypes.TransformTypeEnumUrlRewrite,
		UrlRewriteConfig: &elbtypes.UrlRewriteConfig{Rewrites: []elbtypes.RewriteConfig{{Regex: aws.String(regex), Replace: aws.String(replace)}}}}
}

// describedTransforms is what DescribeRules answers for rule arn.
func (f *fixture) describedTransforms(arn string) []elbtypes.RuleTransform {
	f.t.Helper()
	out, err := f.elb.DescribeRules(f.ctx, &elbv2.DescribeRulesInput{RuleArns: []string{arn}})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.Rules[0].Transforms
}

func TestStrictRuleTransforms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lb := f.loadBalancer("xform", elbtypes.LoadBalancerTypeEnumApplication)
	tg := f.targetGroup("xform", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	listener := f.listener(lb, elbtypes.ProtocolEnumHttp, 80, tg, "")
	forward := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}
	both := []elbtypes.RuleTransform{hostRewrite("^.*$", "b.example.com"), urlRewrite("^/a/(.*)$", "/b/$1?x=1&y=<2>")}
	created, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(1),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a/*"}}},
		Actions:    forward, Transforms: both})
	if err != nil {
		t.Fatal(err)
	}
	rule := aws.ToString(created.Rules[0].RuleArn)
	if !reflect.DeepEqual(created.Rules[0].Transforms, both) {
		t.Fatalf("CreateRule answered transforms %+v, want %+v", created.Rules[0].Transforms, both)
	}
	if got := f.describedTransforms(rule); !reflect.DeepEqual(got, both) {
		t.Fatalf("DescribeRules after CreateRule: %+v, want %+v", got, both)
	}
	// A ModifyRule without Transforms keeps them; one with Transforms replaces them.
	if _, err := f.elb.ModifyRule(f.ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(rule), Actions: forward}); err != nil {
		t.Fatal(err)
	}
	if got := f.describedTransforms(rule); !reflect.DeepEqual(got, both) {
		t.Fatalf("DescribeRules after a ModifyRule without transforms: %+v, want %+v", got, both)
	}
	one := []elbtypes.RuleTransform{urlRewrite("^/a", "/c")}
	modified, err := f.elb.ModifyRule(f.ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(rule), Actions: forward, Transforms: one})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(modified.Rules[0].Transforms, one) || !reflect.DeepEqual(f.describedTransforms(rule), one) {
		t.Fatalf("after ModifyRule with transforms: answered %+v, described %+v, want %+v",
			modified.Rules[0].Transforms, f.describedTransforms(rule), one)
	}
	// ResetTransforms clears them.
	if _, err := f.elb.ModifyRule(f.ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(rule), Actions: forward, ResetTransforms: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got := f.describedTransforms(rule); len(got) != 0 {
		t.Fatalf("DescribeRules after ResetTransforms: %+v, want none", got)
	}
	// Plain moto forgets them: the layer's answer is no copy of moto's.
	if _, err := f.elb.ModifyRule(f.ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(rule), Actions: forward, Transforms: one}); err != nil {
		t.Fatal(err)
	}
	out, _ := f.cliDirect("elbv2", "describe-rules", "--rule-arns", rule)
	if strings.Contains(out, "Transforms") {
		t.Fatalf("moto now keeps transforms; the layer's answer may be unneeded:\n%s", out)
	}
	// DeleteRule drops them with the rule; a new rule starts without any.
	if _, err := f.elb.DeleteRule(f.ctx, &elbv2.DeleteRuleInput{RuleArn: aws.String(rule)}); err != nil {
		t.Fatal(err)
	}
	f.moto.Strict.mu.Lock()
	_, kept := f.moto.Strict.transforms[rule]
	f.moto.Strict.mu.Unlock()
	if kept {
		t.Fatalf("the transforms of deleted rule %s are still kept", rule)
	}
	plain, err := f.elb.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(2),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/p"}}}, Actions: forward})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.describedTransforms(aws.ToString(plain.Rules[0].RuleArn)); len(got) != 0 {
		t.Fatalf("a rule created without transforms is described with %+v", got)
	}
}

func TestStrictRuleTransformLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lb := f.loadBalancer("xlim", elbtypes.LoadBalancerTypeEnumApplication)
	tg := f.targetGroup("xlim", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	listener := f.listener(lb, elbtypes.ProtocolEnumHttp, 80, tg, "")
	transforms := func(ts ...map[string]any) string {
		b, err := json.Marshal(ts)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	rewrite := func(kind, config, regex, replace string) map[string]any {
		return map[string]any{"Type": kind, config: map[string]any{"Rewrites": []map[string]string{{"Regex": regex, "Replace": replace}}}}
	}
	host := func(regex, replace string) map[string]any {
		return rewrite("host-header-rewrite", "HostHeaderRewriteConfig", regex, replace)
	}
	path := func(regex, replace string) map[string]any {
		return rewrite("url-rewrite", "UrlRewriteConfig", regex, replace)
	}
	priority := 0
	create := func(ts string) []string {
		priority++
		return []string{"elbv2", "create-rule", "--listener-arn", listener, "--priority", strconv.Itoa(priority),
			"--conditions", conditionsJSON(t, paths("/x")), "--actions", "Type=forward,TargetGroupArn=" + tg, "--transforms", ts}
	}
	long := strings.Repeat("a", maxRewriteLen)
	cases := []struct{ name, refused, neighbour string }{
		{"one transform of each type",
			transforms(path("^/a", "/b"), path("^/c", "/d")), transforms(path("^/a", "/b"), host("^a$", "b"))},
		{"known types only",
			transforms(rewrite("header-rewrite", "HostHeaderRewriteConfig", "a", "b")), transforms(host("a", "b"))},
		{"the config of its type",
			transforms(rewrite("url-rewrite", "HostHeaderRewriteConfig", "a", "b")), transforms(path("a", "b"))},
		{"1024 characters per regex",
			transforms(path(long+"a", "/b")), transforms(path(long, "/b"))},
		{"1024 characters per replacement",
			transforms(path("^/a", long+"a")), transforms(path("^/a", long))},
		{"a valid regular expression",
			transforms(path("^/(?=a)", "/b")), transforms(path("^/(a)", "/b"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.refused("ValidationError", create(c.refused)...)
			f.accepted(create(c.neighbour)...)
		})
	}
	// The default rule takes no transforms.
	rules, err := f.elb.DescribeRules(f.ctx, &elbv2.DescribeRulesInput{ListenerArn: aws.String(listener)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.Rules {
		if aws.ToBool(r.IsDefault) {
			f.refused("ValidationError", "elbv2", "modify-rule", "--rule-arn", aws.ToString(r.RuleArn), "--actions", "Type=forward,TargetGroupArn="+tg, "--transforms", transforms(path("a", "b")))
		}
	}
	// Plain moto takes two transforms of one type: the layer's rule is no copy.
	out, code := f.cliDirect(create(transforms(path("^/a", "/b"), path("^/c", "/d")))...)
	if code != "" {
		t.Fatalf("moto refused two url-rewrite transforms itself (%s); the layer's rule may be unneeded:\n%s", code, out)
	}
}
