package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// AWS quotas the rules enforce, at their default values.
const (
	// "Rules per Application Load Balancer (excluding default rules): 100" (ALB quotas).
	quotaRulesPerALB = 100
	// "Certificates per Application Load Balancer (excluding default certificates): 25"
	// (ALB quotas; the NLB quota page gives the same figure).
	quotaCertificatesPerLB = 25
	// "Security groups per load balancer: 5" (ALB quotas).
	quotaSecurityGroupsPerLB = 5
	// "You can specify up to three comparison strings per condition and up to five per rule."
	// (ALB listener rules); AWS: "A rule can only have '5' condition values" (ValidationError).
	quotaConditionValuesPerRule = 5
	quotaValuesPerCondition     = 3
	// "The maximum length of each string is 128 characters" (HostHeaderConditionConfig,
	// PathPatternConditionConfig, HttpHeaderConditionConfig, QueryStringKeyValuePair).
	maxConditionValueLen = 128
	// "The name of the HTTP header field. The maximum length is 40 characters"
	// (HttpHeaderConditionConfig).
	maxHeaderNameLen = 40
)

var elbRules = []strictRule{
	{svcELB, "RegisterTargets", targetZoneByType},
	{svcELB, "RegisterTargets", targetIPFamily},
	{svcELB, "AddListenerCertificates", oneCertificatePerCall},
	{svcELB, "RemoveListenerCertificates", oneCertificatePerCall},
	{svcELB, "AddListenerCertificates", certificatesPerLoadBalancer},
	{svcELB, "CreateRule", rulesPerLoadBalancer},
	{svcELB, "CreateRule", conditionLimits},
	{svcELB, "ModifyRule", conditionLimits},
	{svcELB, "CreateRule", transformLimits},
	{svcELB, "ModifyRule", transformLimits},
	{svcELB, "CreateListener", nlbForwardStickiness},
	{svcELB, "ModifyListener", nlbForwardStickiness},
	{svcELB, "SetSecurityGroups", nlbWithoutSecurityGroups},
	{svcELB, "SetSecurityGroups", securityGroupsPerLoadBalancer},
	{svcELB, "CreateLoadBalancer", securityGroupsPerLoadBalancer},
	{svcELB, "DeleteLoadBalancer", deletionProtection},
	{svcELB, "DescribeTags", describeTagsAtMost20},
	{svcELB, "DescribeTags", describeTagsAllExist},
	{svcELB, "CreateListener", listenerCertificate},
	{svcELB, "CreateLoadBalancer", loadBalancerName},
	{svcELB, "CreateLoadBalancer", subnetMappingAddresses},
	{svcELB, "SetSubnets", subnetMappingAddresses},
	{svcELB, "SetSubnets", unchangedSubnetAddresses},
	{svcELB, "CreateListener", quicListener},
	{svcELB, "ModifyListener", quicListener},
	{svcELB, "RegisterTargets", quicTargets},
	{svcELB, "CreateTargetGroup", targetGroupName},
	{svcELB, "ModifyTargetGroupAttributes", targetGroupAttributesApply},
}

var elbAnswers = []strictAnswer{
	{svcELB, "DescribeTargetGroupAttributes", describeTargetGroupAttributes},
	{svcELB, "DescribeLoadBalancers", loadBalancerAddresses},
	{svcELB, "CreateLoadBalancer", loadBalancerAddresses},
	{svcELB, "SetSubnets", loadBalancerAddresses},
	{svcELB, "CreateTargetGroup", quicStandIns},
	{svcELB, "CreateListener", quicStandIns},
	{svcELB, "ModifyListener", quicStandIns},
	{svcELB, "DescribeTargetGroups", describeTargetGroups},
	{svcELB, "DescribeListeners", quicStandIns},
	{svcELB, "DescribeTargetHealth", overriddenTargetHealth},
	{svcELB, "CreateRule", keepTransforms},
	{svcELB, "ModifyRule", keepTransforms},
	{svcELB, "DeleteRule", forgetTransforms},
	{svcELB, "DescribeRules", describeTransforms},
}

// targetZoneByType: TargetDescription.AvailabilityZone — "This parameter is not supported if the
// target type of the target group is instance or alb." and "If the target type is ip and the IP
// address is in a subnet of the VPC for the target group, the Availability Zone is
// automatically detected and this parameter is optional. If the IP address is outside the
// VPC, this parameter is required." An IP inside the VPC given "all" is AWS's ValidationError
// "The IP address '...' is within the VPC, and cannot have its Availability Zone overridden to
// 'all'". That an IP outside the VPC takes only "all" on a Network Load Balancer group (ALB
// groups may name a zone: "this should be an Availability Zone inside the VPC") is assumed, and
// listed in docs/aws-contract.md among the rules a real account settles.
func targetZoneByType(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	tg, e := describeTargetGroup(ctx, r, r.form.Get("TargetGroupArn"))
	if e != nil || tg == nil {
		return e
	}
	targets := queryList(r.form, "Targets.member")
	switch tg.TargetType {
	case elbtypes.TargetTypeEnumInstance, elbtypes.TargetTypeEnumAlb:
		for _, t := range targets {
			if _, ok := t["AvailabilityZone"]; ok {
				return refuse("ValidationError",
					"You cannot specify an Availability Zone for target '%s': the target type of the target group is %s",
					t.Get("Id"), tg.TargetType)
			}
		}
	case elbtypes.TargetTypeEnumIp:
		cidrs, e := vpcCIDRs(ctx, r, aws.ToString(tg.VpcId))
		if e != nil {
			return e
		}
		alb := tg.Protocol == elbtypes.ProtocolEnumHttp || tg.Protocol == elbtypes.ProtocolEnumHttps
		for _, t := range targets {
			ip := net.ParseIP(t.Get("Id"))
			if ip == nil {
				continue // moto refuses a malformed IP itself
			}
			zone, zoned := t["AvailabilityZone"]
			inside := containsIP(cidrs, ip)
			switch {
			case inside && zoned && zone[0] == "all":
				return refuse("ValidationError",
					"The IP address '%s' is within the VPC, and cannot have its Availability Zone overridden to 'all'", ip)
			case !inside && !zoned:
				return refuse("ValidationError",
					"The IP address '%s' is outside the VPC, so an Availability Zone must be specified", ip)
			case !inside && !alb && zone[0] != "all":
				return refuse("ValidationError",
					"The IP address '%s' is outside the VPC, so its Availability Zone must be 'all' for a Network Load Balancer target group", ip)
			}
		}
	}
	return nil
}

// targetIPFamily: CreateTargetGroup IpAddressType — "The IP address type. The default value is
// ipv4." An ip target group takes addresses of its own family only; AWS refuses the others with
// ValidationError (assumed code, docs/aws-contract.md).
func targetIPFamily(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	tg, e := describeTargetGroup(ctx, r, r.form.Get("TargetGroupArn"))
	if e != nil || tg == nil || tg.TargetType != elbtypes.TargetTypeEnumIp {
		return e
	}
	wantV6 := tg.IpAddressType == elbtypes.TargetGroupIpAddressTypeEnumIpv6
	for _, t := range queryList(r.form, "Targets.member") {
		ip := net.ParseIP(t.Get("Id"))
		if ip == nil {
			continue
		}
		if isV6 := ip.To4() == nil; isV6 != wantV6 {
			family := "ipv4"
			if wantV6 {
				family = "ipv6"
			}
			return refuse("ValidationError",
				"The IP address '%s' does not match the IP address type '%s' of the target group", ip, family)
		}
	}
	return nil
}

// oneCertificatePerCall: AddListenerCertificates / RemoveListenerCertificates Certificates —
// "The certificate to add. You can specify one certificate per call."
func oneCertificatePerCall(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	if n := len(queryList(r.form, "Certificates.member")); n != 1 {
		return refuse("ValidationError", "Up to '1' certificate ARNs can be specified, but '%d' were specified", n)
	}
	return nil
}

// certificatesPerLoadBalancer: "Certificates per Application Load Balancer (excluding default
// certificates): 25" (ALB quotas) — counted over all the load balancer's listeners, each
// listener-certificate pair once. Exceeding it is TooManyCertificates: "You've reached the limit
// on the number of certificates per load balancer."
func certificatesPerLoadBalancer(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	lb, e := loadBalancerOfListener(ctx, r, r.form.Get("ListenerArn"))
	if e != nil || lb == "" {
		return e
	}
	listeners, e := listenersOf(ctx, r, lb)
	if e != nil {
		return e
	}
	attached := map[string]bool{}
	count := 0
	for _, l := range listeners {
		p := elbv2.NewDescribeListenerCertificatesPaginator(r.aws.elb, &elbv2.DescribeListenerCertificatesInput{ListenerArn: l.ListenerArn})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if e := mustRead(err); e != nil {
				return e
			}
			for _, c := range page.Certificates {
				if aws.ToBool(c.IsDefault) {
					continue
				}
				count++
				if aws.ToString(l.ListenerArn) == r.form.Get("ListenerArn") {
					attached[aws.ToString(c.CertificateArn)] = true
				}
			}
		}
	}
	for _, c := range queryList(r.form, "Certificates.member") {
		if !attached[c.Get("CertificateArn")] {
			count++
		}
	}
	if count > quotaCertificatesPerLB {
		return refuse("TooManyCertificates",
			"You've reached the limit on the number of certificates per load balancer (%d, default certificates excluded) on '%s'",
			quotaCertificatesPerLB, lb)
	}
	return nil
}

// rulesPerLoadBalancer: "Rules per Application Load Balancer (excluding default rules): 100"
// (ALB quotas) — a quota of the load balancer across all its listeners. Exceeding it is
// TooManyRules: "You've reached the limit on the number of rules per load balancer."
func rulesPerLoadBalancer(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	lb, e := loadBalancerOfListener(ctx, r, r.form.Get("ListenerArn"))
	if e != nil || lb == "" {
		return e
	}
	listeners, e := listenersOf(ctx, r, lb)
	if e != nil {
		return e
	}
	count := 0
	for _, l := range listeners {
		p := elbv2.NewDescribeRulesPaginator(r.aws.elb, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if e := mustRead(err); e != nil {
				return e
			}
			for _, rule := range page.Rules {
				if !aws.ToBool(rule.IsDefault) {
					count++
				}
			}
		}
	}
	if count >= quotaRulesPerALB {
		return refuse("TooManyRules",
			"You've reached the limit on the number of rules per load balancer (%d, default rules excluded) on '%s'",
			quotaRulesPerALB, lb)
	}
	return nil
}

// conditionLimits: the limits of a rule's conditions (ALB listener rules, RuleCondition and its
// *ConditionConfig types):
//   - "You can specify up to three comparison strings per condition and up to five per rule."
//     AWS: "A rule can only have '5' condition values".
//   - "Each rule can include zero or one of the following conditions: host-header,
//     http-request-method, path-pattern, and source-ip, and zero or more of the following
//     conditions: http-header and query-string."
//   - "The maximum length of each string is 128 characters."
//   - HttpHeaderName: "The maximum length is 40 characters." and "You can't use an HTTP header
//     condition to specify the host header. Instead, use a host condition."
func conditionLimits(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	conditions := queryList(r.form, "Conditions.member")
	total := 0
	perCondition := make([][]string, len(conditions))
	for i, c := range conditions {
		perCondition[i] = conditionValues(c)
		total += len(perCondition[i])
	}
	if total > quotaConditionValuesPerRule {
		return refuse("ValidationError", "A rule can only have '%d' condition values", quotaConditionValuesPerRule)
	}
	seen := map[string]bool{}
	for _, c := range conditions {
		field := c.Get("Field")
		if singleCondition[field] && seen[field] {
			return refuse("ValidationError", "A rule can only have one '%s' condition", field)
		}
		seen[field] = true
	}
	for i, c := range conditions {
		field := c.Get("Field")
		if n := len(perCondition[i]); n > quotaValuesPerCondition {
			return refuse("ValidationError", "A condition of field '%s' can only have '%d' values, but '%d' were specified",
				field, quotaValuesPerCondition, n)
		}
		for _, v := range perCondition[i] {
			if len(v) > maxConditionValueLen {
				return refuse("ValidationError", "The value '%s' of field '%s' is longer than %d characters", v, field, maxConditionValueLen)
			}
		}
		name := c.Get("HttpHeaderConfig.HttpHeaderName")
		if len(name) > maxHeaderNameLen {
			return refuse("ValidationError", "The HTTP header name '%s' is longer than %d characters", name, maxHeaderNameLen)
		}
		if strings.EqualFold(name, "host") {
			return refuse("ValidationError", "You can't use an HTTP header condition to specify the host header; use a host-header condition")
		}
	}
	return nil
}

// singleCondition are the condition fields a rule has at most one of.
var singleCondition = map[string]bool{"host-header": true, "http-request-method": true, "path-pattern": true, "source-ip": true}

// conditionValues lists the comparison strings of one Query-encoded RuleCondition: its values
// and regex values in every config, and each query-string key/value pair once.
func conditionValues(c url.Values) []string {
	var out []string
	for _, prefix := range []string{
		"Values.member", "RegexValues.member",
		"HostHeaderConfig.Values.member", "HostHeaderConfig.RegexValues.member",
		"PathPatternConfig.Values.member", "PathPatternConfig.RegexValues.member",
		"HttpHeaderConfig.Values.member", "HttpHeaderConfig.RegexValues.member",
		"HttpRequestMethodConfig.Values.member", "SourceIpConfig.Values.member",
	} {
		out = append(out, queryStrings(c, prefix)...)
	}
	for _, kv := range queryList(c, "QueryStringConfig.Values.member") {
		out = append(out, kv.Get("Key")+"="+kv.Get("Value"))
	}
	return out
}

// nlbForwardStickiness: ForwardActionConfig.TargetGroupStickinessConfig — "The target group
// stickiness for the rule." Target-group stickiness across a forward action's groups is an
// Application Load Balancer feature ("[Application Load Balancers] The time period ... during
// which requests from a client should be routed to the same target group"); a Network Load
// Balancer listener refuses it, even with Enabled=false (settled by hack/aws-smoke.sh). NLB
// stickiness is the target group's stickiness.enabled / stickiness.type=source_ip attributes.
func nlbForwardStickiness(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	if !hasStickiness(r.form) {
		return nil
	}
	lbArn := r.form.Get("LoadBalancerArn")
	if lbArn == "" {
		var e *apiError
		if lbArn, e = loadBalancerOfListener(ctx, r, r.form.Get("ListenerArn")); e != nil || lbArn == "" {
			return e
		}
	}
	lb, e := describeLoadBalancer(ctx, r, lbArn)
	if e != nil || lb == nil {
		return e
	}
	if lb.Type == elbtypes.LoadBalancerTypeEnumNetwork {
		return refuse("ValidationError", "Target group stickiness is not supported for load balancers of type 'network'")
	}
	return nil
}

// hasStickiness reports whether any default action's forward config sets target-group stickiness.
func hasStickiness(form url.Values) bool {
	for _, a := range queryList(form, "DefaultActions.member") {
		for k := range a {
			if strings.HasPrefix(k, "ForwardConfig.TargetGroupStickinessConfig.") {
				return true
			}
		}
	}
	return false
}

// forwardTargetGroups lists the target groups the default actions forward to.
func forwardTargetGroups(form url.Values) []string {
	var out []string
	for _, a := range queryList(form, "DefaultActions.member") {
		if arn := a.Get("TargetGroupArn"); arn != "" {
			out = append(out, arn)
		}
		for _, tg := range queryList(a, "ForwardConfig.TargetGroups.member") {
			out = append(out, tg.Get("TargetGroupArn"))
		}
	}
	return out
}

// nlbWithoutSecurityGroups: NLB user guide, security group considerations — "You can associate
// security groups with a Network Load Balancer when you create it. If you create a Network Load
// Balancer without associating any security groups, you can't associate them with the load
// balancer later." The error code is settled by hack/aws-smoke.sh.
func nlbWithoutSecurityGroups(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	if len(queryStrings(r.form, "SecurityGroups.member")) == 0 {
		return nil
	}
	lb, e := describeLoadBalancer(ctx, r, r.form.Get("LoadBalancerArn"))
	if e != nil || lb == nil {
		return e
	}
	if lb.Type == elbtypes.LoadBalancerTypeEnumNetwork && len(lb.SecurityGroups) == 0 {
		return refuse("ValidationError",
			"You cannot set security groups on a Network Load Balancer that was created without security groups")
	}
	return nil
}

// securityGroupsPerLoadBalancer: "Security groups per load balancer: 5" (ALB and NLB quotas).
func securityGroupsPerLoadBalancer(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	if n := len(queryStrings(r.form, "SecurityGroups.member")); n > quotaSecurityGroupsPerLB {
		return refuse("ValidationError", "A load balancer can have at most %d security groups, but %d were specified",
			quotaSecurityGroupsPerLB, n)
	}
	return nil
}

// deletionProtection: LoadBalancerAttribute deletion_protection.enabled — "Indicates whether
// deletion protection is enabled." DeleteLoadBalancer refuses it with OperationNotPermitted:
// "This operation is not allowed."
func deletionProtection(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	arn := r.form.Get("LoadBalancerArn")
	out, err := r.aws.elb.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String(arn)})
	if err != nil {
		return nil // moto answers for a load balancer it does not have
	}
	for _, a := range out.Attributes {
		if aws.ToString(a.Key) == "deletion_protection.enabled" && aws.ToString(a.Value) == "true" {
			return refuse("OperationNotPermitted",
				"Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
		}
	}
	return nil
}

// describeTagsAllExist: DescribeTags ResourceArns — "The Amazon Resource Names (ARN) of the
// resources." AWS answers the whole call with the NotFound error of the first ARN that does not
// exist (LoadBalancerNotFound, TargetGroupNotFound, ListenerNotFound, RuleNotFound); moto
// answers it with empty tags.
func describeTagsAllExist(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	for _, arn := range queryStrings(r.form, "ResourceArns.member") {
		kind, code := elbResourceKind(arn)
		var err error
		switch kind {
		case "loadbalancer":
			_, err = r.aws.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
		case "targetgroup":
			_, err = r.aws.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
		case "listener":
			_, err = r.aws.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{arn}})
		case "listener-rule":
			_, err = r.aws.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{arn}})
		default:
			continue
		}
		if err != nil {
			var api interface{ ErrorCode() string }
			if errors.As(err, &api) && strings.HasSuffix(api.ErrorCode(), "NotFound") {
				return refuse(code, "One or more resources not found: '%s'", arn)
			}
			return mustRead(err)
		}
	}
	return nil
}

// describeTagsAtMost20: DescribeTags ResourceArns — "You can specify up to 20 resources in a
// single call."
func describeTagsAtMost20(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	if n := len(queryStrings(r.form, "ResourceArns.member")); n > 20 {
		return refuse("ValidationError",
			"1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20 (%d given)", n)
	}
	return nil
}

// listenerCertificate: CreateListener Certificates — "[HTTPS and TLS listeners] The default
// certificate for the listener. You must provide exactly one certificate."
func listenerCertificate(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	protocol := r.form.Get("Protocol")
	if protocol != string(elbtypes.ProtocolEnumHttps) && protocol != string(elbtypes.ProtocolEnumTls) {
		return nil
	}
	if n := len(queryList(r.form, "Certificates.member")); n != 1 {
		return refuse("ValidationError", "A %s listener needs exactly one certificate, but %d were specified", protocol, n)
	}
	return nil
}

// loadBalancerName: CreateLoadBalancer Name — "This name must be unique per region per account,
// can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens,
// must not begin or end with a hyphen, and must not begin with "internal-"."
func loadBalancerName(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	name := r.form.Get("Name")
	if e := elbName("load balancer", name); e != nil {
		return e
	}
	if strings.HasPrefix(name, "internal-") {
		return refuse("ValidationError", "Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	return nil
}

// targetGroupName: CreateTargetGroup Name — "This name must be unique per region per account, can
// have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, and
// must not begin or end with a hyphen."
func targetGroupName(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	return elbName("target group", r.form.Get("Name"))
}

var elbNameChars = regexp.MustCompile(`^[A-Za-z0-9-]*$`)

func elbName(kind, name string) *apiError {
	switch {
	case len(name) > 32:
		return refuse("ValidationError", "The %s name '%s' cannot be longer than 32 characters", kind, name)
	case !elbNameChars.MatchString(name):
		return refuse("ValidationError", "The %s name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", kind, name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return refuse("ValidationError", "The %s name '%s' cannot begin or end with a hyphen", kind, name)
	}
	return nil
}

// elbResourceKind returns the resource type of an ELBv2 ARN and AWS's NotFound code for it.
func elbResourceKind(arn string) (kind, code string) {
	_, res, ok := strings.Cut(arn, ":elasticloadbalancing:")
	if !ok {
		return "", ""
	}
	if i := strings.LastIndex(res, ":"); i >= 0 {
		res = res[i+1:]
	}
	kind, _, _ = strings.Cut(res, "/")
	switch kind {
	case "loadbalancer":
		return kind, "LoadBalancerNotFound"
	case "targetgroup":
		return kind, "TargetGroupNotFound"
	case "listener":
		return kind, "ListenerNotFound"
	case "listener-rule":
		return kind, "RuleNotFound"
	}
	return "", ""
}

// describeTargetGroup reads one target group from moto; nil without error when moto does not
// have it (moto then answers the request with its own NotFound).
func describeTargetGroup(ctx context.Context, r *strictRequest, arn string) (*elbtypes.TargetGroup, *apiError) {
	if arn == "" {
		return nil, nil
	}
	out, err := r.aws.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
	if err != nil || len(out.TargetGroups) == 0 {
		return nil, notFoundIsNil(err)
	}
	return &out.TargetGroups[0], nil
}

// describeLoadBalancer reads one load balancer from moto; nil when moto does not have it.
func describeLoadBalancer(ctx context.Context, r *strictRequest, arn string) (*elbtypes.LoadBalancer, *apiError) {
	if arn == "" {
		return nil, nil
	}
	out, err := r.aws.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if err != nil || len(out.LoadBalancers) == 0 {
		return nil, notFoundIsNil(err)
	}
	return &out.LoadBalancers[0], nil
}

// loadBalancerOfListener returns the ARN of a listener's load balancer; "" when moto does not
// have the listener.
func loadBalancerOfListener(ctx context.Context, r *strictRequest, listener string) (string, *apiError) {
	if listener == "" {
		return "", nil
	}
	out, err := r.aws.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{listener}})
	if err != nil || len(out.Listeners) == 0 {
		return "", notFoundIsNil(err)
	}
	return aws.ToString(out.Listeners[0].LoadBalancerArn), nil
}

// listenersOf lists a load balancer's listeners.
func listenersOf(ctx context.Context, r *strictRequest, lb string) ([]elbtypes.Listener, *apiError) {
	var out []elbtypes.Listener
	p := elbv2.NewDescribeListenersPaginator(r.aws.elb, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lb)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			// A load balancer deleted while the layer reads has no listeners.
			return nil, notFoundIsNil(err)
		}
		out = append(out, page.Listeners...)
	}
	return out, nil
}

// vpcCIDRs returns the IPv4 and IPv6 ranges of a VPC.
func vpcCIDRs(ctx context.Context, r *strictRequest, vpc string) ([]*net.IPNet, *apiError) {
	out, err := r.aws.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpc}})
	if err != nil {
		return nil, mustRead(err)
	}
	var nets []*net.IPNet
	add := func(cidr string) {
		if _, n, err := net.ParseCIDR(cidr); err == nil {
			nets = append(nets, n)
		}
	}
	for _, v := range out.Vpcs {
		add(aws.ToString(v.CidrBlock))
		for _, a := range v.CidrBlockAssociationSet {
			add(aws.ToString(a.CidrBlock))
		}
		for _, a := range v.Ipv6CidrBlockAssociationSet {
			add(aws.ToString(a.Ipv6CidrBlock))
		}
	}
	return nets, nil
}

func containsIP(nets []*net.IPNet, ip net.IP) bool {
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// notFoundIsNil drops a NotFound error (moto answers the forwarded request with it) and turns
// any other into the layer's refusal.
func notFoundIsNil(err error) *apiError {
	if err == nil {
		return nil
	}
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) && strings.Contains(api.ErrorCode(), "NotFound") {
		return nil
	}
	return mustRead(err)
}

// createdTimeState finds each load balancer's CreatedTime and the State code that follows it in
// moto's DescribeLoadBalancers / CreateLoadBalancer answers.
var createdTimeState = regexp.MustCompile(`(?s)<CreatedTime>([^<]+)</CreatedTime>(.*?)<State><Code>active</Code>`)

// provisioning (knob ProvisioningSeconds): LoadBalancerState Code — "The state code. The
// initial state of the load balancer is provisioning. After the load balancer is fully set up
// and ready to route traffic, its state is active." moto is active at once; with the knob a load
// balancer reports provisioning until ProvisioningSeconds after its CreatedTime. It rewrites
// moto's DescribeLoadBalancers / CreateLoadBalancer answers (see loadBalancerAddresses).
func provisioning(s *Strict, body string) string {
	secs := s.Knobs().ProvisioningSeconds
	if secs <= 0 {
		return body
	}
	now := time.Now()
	return createdTimeState.ReplaceAllStringFunc(body, func(m string) string {
		sub := createdTimeState.FindStringSubmatch(m)
		created, err := time.Parse(time.RFC3339Nano, sub[1])
		if err != nil || now.Sub(created) >= time.Duration(secs)*time.Second {
			return m
		}
		return "<CreatedTime>" + sub[1] + "</CreatedTime>" + sub[2] + "<State><Code>provisioning</Code>"
	})
}

// loopbackDNSNames (knob LoopbackDNSNames) makes each DNSName of moto's answer a loopback
// address of the load balancer's own (test infrastructure, not an AWS rule: see the knob).
func loopbackDNSNames(s *Strict, body string) string {
	if !s.Knobs().LoopbackDNSNames {
		return body
	}
	return dnsNameElement.ReplaceAllStringFunc(body, func(m string) string {
		return "<DNSName>" + s.loopbackName(dnsNameElement.FindStringSubmatch(m)[1]) + "</DNSName>"
	})
}

// dnsNameElement is a load balancer's DNSName in moto's answers.
var dnsNameElement = regexp.MustCompile(`<DNSName>([^<]*)</DNSName>`)

// loopbackName is the loopback address LoopbackDNSNames answers for moto's DNS name: 127.253.x.y,
// the next free one the first time a name is seen.
func (s *Strict) loopbackName(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.loopbackNames[name]; ok {
		return a
	}
	if s.loopbackNames == nil {
		s.loopbackNames = map[string]string{}
	}
	n := len(s.loopbackNames) + 1
	a := fmt.Sprintf("127.253.%d.%d", n/254, 1+n%254)
	s.loopbackNames[name] = a
	return a
}
