package plan

import "github.com/elbgateway/elbgateway/internal/model"

// AWS's documented defaults of the attributes we may set. When a key leaves the configuration,
// the plan writes its default back (the AWS Load Balancer Controller leaves the last value in
// place). Keys missing here are left as they are: their default depends on other settings
// (preserve_client_ip.enabled, stickiness.type, ipv6.deny_all_igw_traffic) or they are commonly
// set outside the controller on purpose (deletion_protection.enabled).

var loadBalancerCommonDefaults = map[string]string{
	"access_logs.s3.enabled":     "false",
	"zonal_shift.config.enabled": "false",
}

// An NLB has no connection logs (connection_logs.* are ALB attributes).
var networkLoadBalancerDefaults = map[string]string{
	"load_balancing.cross_zone.enabled":      "false",
	"dns_record.client_routing_policy":       "any_availability_zone",
	"secondary_ips.auto_assigned.per_subnet": "0",
}

var applicationLoadBalancerDefaults = map[string]string{
	"idle_timeout.timeout_seconds":                             "60",
	"client_keep_alive.seconds":                                "3600",
	"connection_logs.s3.enabled":                               "false",
	"routing.http2.enabled":                                    "true",
	"routing.http.drop_invalid_header_fields.enabled":          "false",
	"routing.http.desync_mitigation_mode":                      "defensive",
	"routing.http.preserve_host_header.enabled":                "false",
	"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
	"routing.http.xff_client_port.enabled":                     "false",
	"routing.http.xff_header_processing.mode":                  "append",
	"waf.fail_open.enabled":                                    "false",
}

var targetGroupCommonDefaults = map[string]string{
	"deregistration_delay.timeout_seconds":                                           "300",
	"stickiness.enabled":                                                             "false",
	"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
	"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
	"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
	"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}

// NLB target group defaults depend on the protocol (TargetGroupAttribute reference):
// deregistration_delay.connection_termination.enabled "For new UDP/TCP_UDP target groups the
// default is true. Otherwise, the default is false"; target_health_state.unhealthy.
// connection_termination.enabled "The default is true. This attribute can't be enabled for UDP
// and TCP_UDP target groups", so it has no default to write back there, and neither has
// draining_interval_seconds, which "can only be configured when ...connection_termination.
// enabled is false".
var networkTargetGroupDefaults = map[string]string{
	"proxy_protocol_v2.enabled":                           "false",
	"deregistration_delay.connection_termination.enabled": "false",
	attrUnhealthyTermination:                              "true",
	attrUnhealthyDraining:                                 "0",
}

var networkUDPTargetGroupDefaults = map[string]string{
	"proxy_protocol_v2.enabled":                           "false",
	"deregistration_delay.connection_termination.enabled": "true",
}

// The two target_health_state.unhealthy attributes AWS validates together.
const (
	attrUnhealthyTermination = "target_health_state.unhealthy.connection_termination.enabled"
	attrUnhealthyDraining    = "target_health_state.unhealthy.draining_interval_seconds"
)

var applicationTargetGroupDefaults = map[string]string{
	"slow_start.duration_seconds":           "0",
	"load_balancing.algorithm.type":         "round_robin",
	"stickiness.lb_cookie.duration_seconds": "86400",
}

func loadBalancerDefaults(t model.LoadBalancerType) map[string]string {
	if t == model.Application {
		// An ALB's load_balancing.cross_zone.enabled is always true and cannot be changed.
		return merge(loadBalancerCommonDefaults, applicationLoadBalancerDefaults)
	}
	return merge(loadBalancerCommonDefaults, networkLoadBalancerDefaults)
}

// TargetGroupDefaults are AWS's defaults for a target group of the protocol on a load
// balancer of type t: never write back a value AWS would not have chosen itself.
func TargetGroupDefaults(t model.LoadBalancerType, protocol string) map[string]string {
	switch {
	case t == model.Application:
		return merge(targetGroupCommonDefaults, applicationTargetGroupDefaults)
	case protocol == "UDP" || protocol == "TCP_UDP" || model.IsQUIC(protocol):
		return merge(targetGroupCommonDefaults, networkUDPTargetGroupDefaults)
	}
	return merge(targetGroupCommonDefaults, networkTargetGroupDefaults)
}

// ImpliedTargetGroupAttributes adds what configured target group attributes imply: a draining interval for
// unhealthy targets needs their connection termination off.
func ImpliedTargetGroupAttributes(want map[string]string) map[string]string {
	if _, ok := want[attrUnhealthyDraining]; !ok {
		return want
	}
	if _, ok := want[attrUnhealthyTermination]; ok {
		return want
	}
	out := merge(want)
	out[attrUnhealthyTermination] = "false"
	return out
}

// pairUnhealthyAttributes writes the target_health_state.unhealthy attributes together: when
// one of them is set, the other goes in the same call with its desired (else observed) value,
// so AWS checks the pair as it will be ("draining_interval_seconds can only be configured when
// connection_termination.enabled is false").
func pairUnhealthyAttributes(set, want, have map[string]string) {
	_, t := set[attrUnhealthyTermination]
	_, d := set[attrUnhealthyDraining]
	if t == d {
		return
	}
	other := attrUnhealthyDraining
	if d {
		other = attrUnhealthyTermination
	}
	if v, ok := want[other]; ok {
		set[other] = v
	} else if v, ok := have[other]; ok {
		set[other] = v
	}
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
