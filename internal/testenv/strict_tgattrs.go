package testenv

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// The target-group attribute keys and defaults AWS returns, by load balancer family, protocol and
// target type, from the TargetGroupAttribute reference (aws-sdk-go-v2 elasticloadbalancingv2
// types.TargetGroupAttribute). This table is an oracle independent of the controller's own
// defaults on purpose: it is written from AWS's reference, not from the code it checks.

// tgAttributesAll: "The following attributes are supported by all load balancers:
// deregistration_delay.timeout_seconds ... The default value is 300 seconds. ...
// stickiness.enabled ... The default is false. stickiness.type".
// tgAttributesALBNLB: "The following attributes are supported by Application Load Balancers and
// Network Load Balancers: load_balancing.cross_zone.enabled ... The default is
// use_load_balancer_configuration. target_group_health.dns_failover.minimum_healthy_targets.count
// ... The default is 1. ...percentage ... The default is off.
// target_group_health.unhealthy_state_routing.minimum_healthy_targets.count ... The default is 1.
// ...percentage ... The default is off."
func tgAttributesShared() map[string]string {
	return map[string]string{
		"deregistration_delay.timeout_seconds":                                           "300",
		"stickiness.enabled":                                                             "false",
		"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
	}
}

// tgProfile is what decides a target group's attribute keys and defaults.
type tgProfile struct {
	protocol   elbtypes.ProtocolEnum
	targetType elbtypes.TargetTypeEnum
}

func (p tgProfile) alb() bool {
	return p.protocol == elbtypes.ProtocolEnumHttp || p.protocol == elbtypes.ProtocolEnumHttps
}

func (p tgProfile) nlb() bool {
	switch p.protocol {
	case elbtypes.ProtocolEnumTcp, elbtypes.ProtocolEnumTls, elbtypes.ProtocolEnumUdp, elbtypes.ProtocolEnumTcpUdp:
		return true
	}
	return false
}

func (p tgProfile) udp() bool {
	return p.protocol == elbtypes.ProtocolEnumUdp || p.protocol == elbtypes.ProtocolEnumTcpUdp
}

// known reports whether the table covers the profile: ALB and NLB target groups of instance and
// ip targets. Others (lambda, alb targets, Gateway Load Balancers) keep moto's answers.
func (p tgProfile) known() bool {
	return (p.alb() || p.nlb()) &&
		(p.targetType == elbtypes.TargetTypeEnumInstance || p.targetType == elbtypes.TargetTypeEnumIp)
}

// tgDefaults returns the attribute keys AWS returns for a target group of profile p, each with its
// default value.
func tgDefaults(p tgProfile) map[string]string {
	d := tgAttributesShared()
	switch {
	case p.alb():
		// "The following attributes are supported only if the load balancer is an Application
		// Load Balancer and the target is an instance or an IP address:
		// load_balancing.algorithm.type ... The default is round_robin.
		// load_balancing.algorithm.anomaly_mitigation ... The default is off.
		// slow_start.duration_seconds ... The default is 0 seconds (disabled).
		// stickiness.app_cookie.cookie_name ... stickiness.app_cookie.duration_seconds ... The
		// default value is 1 day (86400 seconds). stickiness.lb_cookie.duration_seconds ... The
		// default value is 1 day (86400 seconds)."
		d["stickiness.type"] = "lb_cookie"
		d["load_balancing.algorithm.type"] = "round_robin"
		d["load_balancing.algorithm.anomaly_mitigation"] = "off"
		d["slow_start.duration_seconds"] = "0"
		d["stickiness.app_cookie.cookie_name"] = ""
		d["stickiness.app_cookie.duration_seconds"] = "86400"
		d["stickiness.lb_cookie.duration_seconds"] = "86400"
	case p.nlb():
		// stickiness.type: "source_ip for Network Load Balancers."
		d["stickiness.type"] = "source_ip"
		// "The following attributes are supported only by Network Load Balancers:
		// deregistration_delay.connection_termination.enabled ... For new UDP/TCP_UDP target
		// groups the default is true. Otherwise, the default is false."
		d["deregistration_delay.connection_termination.enabled"] = fmt.Sprint(p.udp())
		// "preserve_client_ip.enabled ... The default is disabled if the target group type is IP
		// address and the target group protocol is TCP or TLS. Otherwise, the default is enabled."
		ipTCP := p.targetType == elbtypes.TargetTypeEnumIp &&
			(p.protocol == elbtypes.ProtocolEnumTcp || p.protocol == elbtypes.ProtocolEnumTls)
		d["preserve_client_ip.enabled"] = fmt.Sprint(!ipTCP)
		// "proxy_protocol_v2.enabled ... The default is false."
		d["proxy_protocol_v2.enabled"] = "false"
		// "target_health_state.unhealthy.connection_termination.enabled ... The default is true.
		// This attribute can't be enabled for UDP and TCP_UDP target groups." (false there: one
		// of the defaults hack/aws-smoke.sh prints for a real UDP target group.)
		d["target_health_state.unhealthy.connection_termination.enabled"] = fmt.Sprint(!p.udp())
		// "target_health_state.unhealthy.draining_interval_seconds ... The default value is 0
		// seconds."
		d["target_health_state.unhealthy.draining_interval_seconds"] = "0"
	}
	return d
}

// tgProfileOf reads a target group's profile from moto.
func tgProfileOf(ctx context.Context, r *strictRequest, arn string) (tgProfile, bool, *apiError) {
	tg, e := describeTargetGroup(ctx, r, arn)
	if e != nil || tg == nil {
		return tgProfile{}, false, e
	}
	p := tgProfile{protocol: tg.Protocol, targetType: tg.TargetType}
	return p, p.known(), nil
}

// targetGroupAttributesApply: ModifyTargetGroupAttributes takes only the keys the reference
// lists for the target group's load balancer type and protocol, with the values it allows:
//   - a key of another load balancer type (e.g. slow_start.duration_seconds, "supported only if
//     the load balancer is an Application Load Balancer", on a TCP group) is a ValidationError;
//   - stickiness.type: "lb_cookie and app_cookie for Application Load Balancers. source_ip for
//     Network Load Balancers.";
//   - preserve_client_ip.enabled: "Client IP preservation can't be disabled for UDP and TCP_UDP
//     target groups.";
//   - target_health_state.unhealthy.connection_termination.enabled: "This attribute can't be
//     enabled for UDP and TCP_UDP target groups.";
//   - target_health_state.unhealthy.draining_interval_seconds: "This attribute can only be
//     configured when target_health_state.unhealthy.connection_termination.enabled is false."
func targetGroupAttributesApply(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	arn := r.form.Get("TargetGroupArn")
	p, known, e := tgProfileOf(ctx, r, arn)
	if e != nil || !known {
		return e
	}
	defaults := tgDefaults(p)
	set := map[string]string{}
	for _, a := range queryList(r.form, "Attributes.member") {
		key, value := a.Get("Key"), a.Get("Value")
		if _, ok := defaults[key]; !ok {
			return refuse("ValidationError", "The attribute '%s' is not supported for target groups of protocol '%s' and target type '%s'",
				key, p.protocol, p.targetType)
		}
		set[key] = value
	}
	if v, ok := set["stickiness.type"]; ok {
		allowed := []string{"lb_cookie", "app_cookie"}
		if p.nlb() {
			allowed = []string{"source_ip"}
		}
		if !slices.Contains(allowed, v) {
			return refuse("ValidationError", "The value '%s' of attribute 'stickiness.type' is not valid for protocol '%s'; valid values are %s",
				v, p.protocol, strings.Join(allowed, ", "))
		}
	}
	if p.udp() && set["preserve_client_ip.enabled"] == "false" {
		return refuse("ValidationError", "Client IP preservation can't be disabled for %s target groups", p.protocol)
	}
	if p.udp() && set["target_health_state.unhealthy.connection_termination.enabled"] == "true" {
		return refuse("ValidationError",
			"The attribute 'target_health_state.unhealthy.connection_termination.enabled' can't be enabled for %s target groups", p.protocol)
	}
	if v, ok := set["target_health_state.unhealthy.draining_interval_seconds"]; ok && v != "0" {
		termination, given := set["target_health_state.unhealthy.connection_termination.enabled"]
		if !given {
			current, e := currentTGAttributes(ctx, r, arn, p)
			if e != nil {
				return e
			}
			termination = current["target_health_state.unhealthy.connection_termination.enabled"]
		}
		if termination != "false" {
			return refuse("ValidationError",
				"The attribute 'target_health_state.unhealthy.draining_interval_seconds' can only be configured when 'target_health_state.unhealthy.connection_termination.enabled' is false")
		}
	}
	return nil
}

// currentTGAttributes is what AWS would answer for the target group: its profile's keys with
// the values moto holds for them, and AWS's defaults for the keys moto lacks.
func currentTGAttributes(ctx context.Context, r *strictRequest, arn string, p tgProfile) (map[string]string, *apiError) {
	out, err := r.aws.elb.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: aws.String(arn)})
	if err != nil {
		return nil, mustRead(err)
	}
	attrs := tgDefaults(p)
	for _, a := range out.Attributes {
		if _, ok := attrs[aws.ToString(a.Key)]; ok {
			attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
		}
	}
	return attrs, nil
}

// describeTargetGroupAttributes answers DescribeTargetGroupAttributes with the keys and defaults
// AWS returns for the group's protocol and target type (moto returns one ALB-like set for every
// group: no preserve_client_ip.enabled or connection_termination keys on NLB groups, and
// slow_start.duration_seconds on them).
func describeTargetGroupAttributes(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	arn := r.form.Get("TargetGroupArn")
	p, known, e := tgProfileOf(ctx, r, arn)
	if e != nil {
		return false, e
	}
	if !known {
		return false, nil
	}
	attrs, e := currentTGAttributes(ctx, r, arn, p)
	if e != nil {
		return false, e
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<DescribeTargetGroupAttributesResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetGroupAttributesResult><Attributes>`)
	for _, k := range keys {
		fmt.Fprintf(&b, "<member><Key>%s</Key><Value>%s</Value></member>", xmlText(k), xmlText(attrs[k]))
	}
	fmt.Fprintf(&b, "</Attributes></DescribeTargetGroupAttributesResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></DescribeTargetGroupAttributesResponse>",
		newRequestID())
	writeOK(w, contentTypeXML, b.String())
	return true, nil
}
