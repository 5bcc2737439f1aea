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

var networkLoadBalancerDefaults = map[string]string{
	"load_balancing.cross_zone.enabled":      "false",
	"dns_record.client_routing_policy":       "any_availability_zone",
	"connection_logs.s3.enabled":             "false",
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

var networkTargetGroupDefaults = map[string]string{
	"proxy_protocol_v2.enabled":                                    "false",
	"deregistration_delay.connection_termination.enabled":          "false",
	"target_health_state.unhealthy.connection_termination.enabled": "true",
	"target_health_state.unhealthy.draining_interval_seconds":      "0",
}

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

func targetGroupDefaults(t model.LoadBalancerType) map[string]string {
	if t == model.Application {
		return merge(targetGroupCommonDefaults, applicationTargetGroupDefaults)
	}
	return merge(targetGroupCommonDefaults, networkTargetGroupDefaults)
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
