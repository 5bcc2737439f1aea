package testenv

import (
	"fmt"
	"strings"
	"testing"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// tgAttributes describes a target group's attributes through the CLI.
func (f *fixture) tgAttributes(arn string) map[string]string {
	f.t.Helper()
	var out struct{ Attributes []struct{ Key, Value string } }
	f.decode(f.accepted("elbv2", "describe-target-group-attributes", "--target-group-arn", arn), &out)
	attrs := map[string]string{}
	for _, a := range out.Attributes {
		attrs[a.Key] = a.Value
	}
	return attrs
}

func TestStrictTargetGroupAttributeDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		protocol   elbtypes.ProtocolEnum
		targetType elbtypes.TargetTypeEnum
		want       map[string]string
		absent     []string
	}{
		{elbtypes.ProtocolEnumUdp, elbtypes.TargetTypeEnumInstance, map[string]string{
			"deregistration_delay.connection_termination.enabled": "true", "preserve_client_ip.enabled": "true",
			"stickiness.type": "source_ip", "proxy_protocol_v2.enabled": "false"}, []string{"slow_start.duration_seconds"}},
		{elbtypes.ProtocolEnumTcpUdp, elbtypes.TargetTypeEnumIp, map[string]string{
			"deregistration_delay.connection_termination.enabled": "true", "preserve_client_ip.enabled": "true"}, nil},
		{elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumIp, map[string]string{
			"deregistration_delay.connection_termination.enabled": "false", "preserve_client_ip.enabled": "false",
			"target_health_state.unhealthy.connection_termination.enabled": "true"},
			[]string{"slow_start.duration_seconds", "load_balancing.algorithm.type", "waf.fail_open.enabled"}},
		{elbtypes.ProtocolEnumTls, elbtypes.TargetTypeEnumInstance, map[string]string{
			"preserve_client_ip.enabled": "true", "stickiness.type": "source_ip"}, nil},
		{elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp, map[string]string{
			"slow_start.duration_seconds": "0", "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": "86400",
			"load_balancing.algorithm.type": "round_robin"},
			[]string{"preserve_client_ip.enabled", "deregistration_delay.connection_termination.enabled", "waf.fail_open.enabled"}},
	}
	for _, c := range cases {
		arn := f.targetGroup(fmt.Sprintf("d%s%s", strings.ToLower(strings.ReplaceAll(string(c.protocol), "_", "")), c.targetType), c.protocol, c.targetType)
		got := f.tgAttributes(arn)
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s %s target group: %s = %q, want AWS's default %q", c.protocol, c.targetType, k, got[k], v)
			}
		}
		for _, k := range c.absent {
			if _, ok := got[k]; ok {
				t.Errorf("%s %s target group has %s, which AWS does not return for it", c.protocol, c.targetType, k)
			}
		}
	}
	// A value set through the layer is the value described.
	udp := f.targetGroup("setudp", elbtypes.ProtocolEnumUdp, elbtypes.TargetTypeEnumIp)
	f.accepted("elbv2", "modify-target-group-attributes", "--target-group-arn", udp,
		"--attributes", "Key=deregistration_delay.connection_termination.enabled,Value=false", "Key=deregistration_delay.timeout_seconds,Value=30")
	got := f.tgAttributes(udp)
	if got["deregistration_delay.connection_termination.enabled"] != "false" || got["deregistration_delay.timeout_seconds"] != "30" {
		t.Errorf("after setting them, UDP attributes are %v", got)
	}
}

func TestStrictTargetGroupAttributeKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tcp := f.targetGroup("ktcp", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumIp)
	udp := f.targetGroup("kudp", elbtypes.ProtocolEnumUdp, elbtypes.TargetTypeEnumIp)
	http := f.targetGroup("khttp", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	modify := func(arn string, attrs ...string) []string {
		return append([]string{"elbv2", "modify-target-group-attributes", "--target-group-arn", arn, "--attributes"}, attrs...)
	}
	f.refused("ValidationError", modify(tcp, "Key=slow_start.duration_seconds,Value=30")...)
	if _, code := f.cliDirect(modify(tcp, "Key=slow_start.duration_seconds,Value=30")...); code != "" {
		t.Fatalf("plain moto refuses slow_start on a TCP group (%s): the rule needs no copy", code)
	}
	f.accepted(modify(http, "Key=slow_start.duration_seconds,Value=30")...)
	f.refused("ValidationError", modify(http, "Key=preserve_client_ip.enabled,Value=true")...)
	f.accepted(modify(tcp, "Key=preserve_client_ip.enabled,Value=true")...)
	f.refused("ValidationError", modify(tcp, "Key=stickiness.type,Value=lb_cookie")...)
	f.accepted(modify(http, "Key=stickiness.type,Value=app_cookie", "Key=stickiness.app_cookie.cookie_name,Value=session")...)
	f.refused("ValidationError", modify(udp, "Key=preserve_client_ip.enabled,Value=false")...)
	f.accepted(modify(tcp, "Key=preserve_client_ip.enabled,Value=false")...)
	f.refused("ValidationError", modify(udp, "Key=target_health_state.unhealthy.connection_termination.enabled,Value=true")...)
	f.refused("ValidationError", modify(tcp, "Key=target_health_state.unhealthy.draining_interval_seconds,Value=60")...)
	f.accepted(modify(tcp, "Key=target_health_state.unhealthy.connection_termination.enabled,Value=false",
		"Key=target_health_state.unhealthy.draining_interval_seconds,Value=60")...)
	f.accepted(modify(tcp, "Key=target_health_state.unhealthy.draining_interval_seconds,Value=90")...)
}
