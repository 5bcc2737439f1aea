package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Value ranges and keys AWS accepts, in one place, so translation can refuse what AWS would
// refuse before any call is made. Each entry cites the Elastic Load Balancing API reference
// (the aws-sdk-go-v2 elasticloadbalancingv2 doc comments carry the same sentences).

// Health check ranges. CreateTargetGroup: "HealthCheckIntervalSeconds … The range is 5-300",
// "HealthCheckTimeoutSeconds … The range is 2–120 seconds", "HealthyThresholdCount … The range
// is 2-10", "UnhealthyThresholdCount … The range is 2-10". Target groups for Application Load
// Balancers, Health check settings: "HealthCheckTimeoutSeconds … must be smaller than
// HealthCheckIntervalSeconds" (CreateTargetGroup answers ValidationError otherwise).
const (
	MinHealthCheckIntervalSeconds = 5
	MaxHealthCheckIntervalSeconds = 300
	MinHealthCheckTimeoutSeconds  = 2
	MaxHealthCheckTimeoutSeconds  = 120
	MinHealthCheckThreshold       = 2
	MaxHealthCheckThreshold       = 10
)

// CheckHealthCheck reports the first field of a health check AWS would refuse, named by the
// TargetGroupConfiguration field that sets it, or "" and nil.
func CheckHealthCheck(h HealthCheck) (field string, err error) {
	switch {
	case h.IntervalSeconds != 0 && (h.IntervalSeconds < MinHealthCheckIntervalSeconds || h.IntervalSeconds > MaxHealthCheckIntervalSeconds):
		return "healthCheckInterval", fmt.Errorf("%d is outside %d-%d seconds", h.IntervalSeconds, MinHealthCheckIntervalSeconds, MaxHealthCheckIntervalSeconds)
	case h.TimeoutSeconds != 0 && (h.TimeoutSeconds < MinHealthCheckTimeoutSeconds || h.TimeoutSeconds > MaxHealthCheckTimeoutSeconds):
		return "healthCheckTimeout", fmt.Errorf("%d is outside %d-%d seconds", h.TimeoutSeconds, MinHealthCheckTimeoutSeconds, MaxHealthCheckTimeoutSeconds)
	case h.TimeoutSeconds != 0 && h.IntervalSeconds != 0 && h.TimeoutSeconds >= h.IntervalSeconds:
		return "healthCheckTimeout", fmt.Errorf("%d seconds is not smaller than the interval (%d seconds)", h.TimeoutSeconds, h.IntervalSeconds)
	case h.HealthyThreshold != 0 && (h.HealthyThreshold < MinHealthCheckThreshold || h.HealthyThreshold > MaxHealthCheckThreshold):
		return "healthyThresholdCount", fmt.Errorf("%d is outside %d-%d", h.HealthyThreshold, MinHealthCheckThreshold, MaxHealthCheckThreshold)
	case h.UnhealthyThreshold != 0 && (h.UnhealthyThreshold < MinHealthCheckThreshold || h.UnhealthyThreshold > MaxHealthCheckThreshold):
		return "unhealthyThresholdCount", fmt.Errorf("%d is outside %d-%d", h.UnhealthyThreshold, MinHealthCheckThreshold, MaxHealthCheckThreshold)
	}
	return "", nil
}

// CheckTagKey refuses tag keys AWS keeps for itself. Tag (Elastic Load Balancing and EC2):
// "The key … cannot start with aws:" (AddTags answers ValidationError).
func CheckTagKey(k string) error {
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return fmt.Errorf("tag key %q starts with aws:, which AWS reserves; rename it", k)
	}
	if k == "" || len(k) > 128 {
		return fmt.Errorf("tag key %q: 1 to 128 characters", k)
	}
	return nil
}

// attributeRule checks one attribute value; nil accepts any value.
type attributeRule func(string) error

func boolean(v string) error {
	if v != "true" && v != "false" {
		return fmt.Errorf("%q is not true or false", v)
	}
	return nil
}

func between(lo, hi int) attributeRule {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q is not a whole number in %d-%d", v, lo, hi)
		}
		return nil
	}
}

func oneOf(values ...string) attributeRule {
	return func(v string) error {
		for _, x := range values {
			if v == x {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(values, ", "))
	}
}

// loadBalancerAttributes are the attribute keys of LoadBalancerAttribute.Key per load balancer
// type: "supported by all load balancers", "by both Application Load Balancers and Network Load
// Balancers", "by only Application Load Balancers", "by only Network Load Balancers".
// ModifyLoadBalancerAttributes answers ValidationError for a key the type does not have.
var loadBalancerAttributes = map[LoadBalancerType]map[string]attributeRule{
	Application: {
		"deletion_protection.enabled":                              boolean,
		"access_logs.s3.enabled":                                   boolean,
		"access_logs.s3.bucket":                                    nil,
		"access_logs.s3.prefix":                                    nil,
		"ipv6.deny_all_igw_traffic":                                boolean,
		"zonal_shift.config.enabled":                               boolean,
		"idle_timeout.timeout_seconds":                             between(1, 4000),
		"client_keep_alive.seconds":                                between(60, 604800),
		"connection_logs.s3.enabled":                               boolean,
		"connection_logs.s3.bucket":                                nil,
		"connection_logs.s3.prefix":                                nil,
		"health_check_logs.s3.enabled":                             boolean,
		"health_check_logs.s3.bucket":                              nil,
		"health_check_logs.s3.prefix":                              nil,
		"routing.http.desync_mitigation_mode":                      oneOf("monitor", "defensive", "strictest"),
		"routing.http.drop_invalid_header_fields.enabled":          boolean,
		"routing.http.preserve_host_header.enabled":                boolean,
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": boolean,
		"routing.http.xff_client_port.enabled":                     boolean,
		"routing.http.xff_header_processing.mode":                  oneOf("append", "preserve", "remove"),
		"routing.http2.enabled":                                    boolean,
		"waf.fail_open.enabled":                                    boolean,
		// "The default for Application Load Balancers is true, and can't be changed."
		"load_balancing.cross_zone.enabled": oneOf("true"),
	},
	Network: {
		"deletion_protection.enabled":            boolean,
		"load_balancing.cross_zone.enabled":      boolean,
		"access_logs.s3.enabled":                 boolean,
		"access_logs.s3.bucket":                  nil,
		"access_logs.s3.prefix":                  nil,
		"ipv6.deny_all_igw_traffic":              boolean,
		"zonal_shift.config.enabled":             boolean,
		"dns_record.client_routing_policy":       oneOf("availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"),
		"secondary_ips.auto_assigned.per_subnet": between(0, 7),
	},
}

// targetGroupAttributes are the attribute keys of TargetGroupAttribute.Key per load balancer
// type: "supported by all load balancers", "by Application Load Balancers and Network Load
// Balancers", "supported only if the load balancer is an Application Load Balancer", "supported
// only by Network Load Balancers".
var targetGroupAttributes = map[LoadBalancerType]map[string]attributeRule{
	Application: {
		"deregistration_delay.timeout_seconds":                                           between(0, 3600),
		"stickiness.enabled":                                                             boolean,
		"stickiness.type":                                                                oneOf("lb_cookie", "app_cookie"),
		"load_balancing.cross_zone.enabled":                                              oneOf("true", "false", "use_load_balancer_configuration"),
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 nil,
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            nil,
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      nil,
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": nil,
		"load_balancing.algorithm.type":                                                  oneOf("round_robin", "least_outstanding_requests", "weighted_random"),
		"load_balancing.algorithm.anomaly_mitigation":                                    oneOf("on", "off"),
		"slow_start.duration_seconds":                                                    slowStart,
		"stickiness.app_cookie.cookie_name":                                              nil,
		"stickiness.app_cookie.duration_seconds":                                         between(1, 604800),
		"stickiness.lb_cookie.duration_seconds":                                          between(1, 604800),
	},
	Network: {
		"deregistration_delay.timeout_seconds":                                           between(0, 3600),
		"stickiness.enabled":                                                             boolean,
		"stickiness.type":                                                                oneOf("source_ip"),
		"load_balancing.cross_zone.enabled":                                              oneOf("true", "false", "use_load_balancer_configuration"),
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 nil,
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            nil,
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      nil,
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": nil,
		"deregistration_delay.connection_termination.enabled":                            boolean,
		"preserve_client_ip.enabled":                                                     boolean,
		"proxy_protocol_v2.enabled":                                                      boolean,
		"target_health_state.unhealthy.connection_termination.enabled":                   boolean,
		"target_health_state.unhealthy.draining_interval_seconds":                        between(0, 360000),
	},
}

// slowStart: "The range is 30-900 seconds (15 minutes). The default is 0 seconds (disabled)."
func slowStart(v string) error {
	if v == "0" {
		return nil
	}
	return between(30, 900)(v)
}

// CheckLoadBalancerAttribute refuses a load balancer attribute the type does not have or a
// value outside its range.
func CheckLoadBalancerAttribute(t LoadBalancerType, key, value string) error {
	return checkAttribute(loadBalancerAttributes[t], t, "load balancer", key, value)
}

// CheckTargetGroupAttribute refuses a target group attribute the load balancer type's target
// groups do not have or a value outside its range.
func CheckTargetGroupAttribute(t LoadBalancerType, key, value string) error {
	return checkAttribute(targetGroupAttributes[t], t, "target group", key, value)
}

func checkAttribute(rules map[string]attributeRule, t LoadBalancerType, what, key, value string) error {
	rule, ok := rules[key]
	if !ok {
		return fmt.Errorf("%q is not a %s attribute of %s load balancers; remove it or fix the key", key, what, t)
	}
	if rule == nil {
		return nil
	}
	if err := rule(value); err != nil {
		return fmt.Errorf("%s: %v", key, err)
	}
	return nil
}
