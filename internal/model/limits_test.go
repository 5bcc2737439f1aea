package model

import "testing"

func TestAttributeKeysPerType(t *testing.T) {
	cases := []struct {
		check      func(LoadBalancerType, string, string) error
		typ        LoadBalancerType
		key, value string
		ok         bool
	}{
		{CheckLoadBalancerAttribute, Application, "idle_timeout.timeout_seconds", "60", true},
		{CheckLoadBalancerAttribute, Network, "idle_timeout.timeout_seconds", "60", false},
		{CheckLoadBalancerAttribute, Application, "idle_timeout.timeout_seconds", "4001", false},
		{CheckLoadBalancerAttribute, Application, "load_balancing.cross_zone.enabled", "false", false},
		{CheckLoadBalancerAttribute, Network, "load_balancing.cross_zone.enabled", "false", true},
		{CheckLoadBalancerAttribute, Network, "deletion_protection.enabled", "yes", false},
		{CheckLoadBalancerAttribute, Network, "no.such.key", "1", false},
		{CheckTargetGroupAttribute, Network, "proxy_protocol_v2.enabled", "true", true},
		{CheckTargetGroupAttribute, Application, "proxy_protocol_v2.enabled", "true", false},
		{CheckTargetGroupAttribute, Application, "slow_start.duration_seconds", "0", true},
		{CheckTargetGroupAttribute, Application, "slow_start.duration_seconds", "10", false},
		{CheckTargetGroupAttribute, Application, "stickiness.type", "source_ip", false},
	}
	for _, c := range cases {
		if err := c.check(c.typ, c.key, c.value); (err == nil) != c.ok {
			t.Errorf("%s %s=%s: err %v, want ok=%v", c.typ, c.key, c.value, err, c.ok)
		}
	}
}

func TestCheckHealthCheck(t *testing.T) {
	ok := HealthCheck{IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3}
	if f, err := CheckHealthCheck(ok); err != nil {
		t.Errorf("default health check refused at %s: %v", f, err)
	}
	for want, h := range map[string]HealthCheck{
		"healthCheckTimeout":      {IntervalSeconds: 10, TimeoutSeconds: 10},
		"healthCheckInterval":     {IntervalSeconds: 4, TimeoutSeconds: 2},
		"unhealthyThresholdCount": {IntervalSeconds: 10, TimeoutSeconds: 5, UnhealthyThreshold: 11},
	} {
		if f, err := CheckHealthCheck(h); f != want || err == nil {
			t.Errorf("%+v: field %q err %v, want %s refused", h, f, err, want)
		}
	}
	if CheckTagKey("aws:x") == nil || CheckTagKey("AWS:x") == nil || CheckTagKey("team") != nil {
		t.Error("tag keys starting with aws: must be refused, others kept")
	}
}
