package plan

import (
	"maps"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestTargetGroupAttributeDefaults: a target group attribute that leaves the configuration
// goes back to AWS's default for the target group's protocol, and the two
// target_health_state.unhealthy attributes are written together.
func TestTargetGroupAttributeDefaults(t *testing.T) {
	tg := func(protocol string, attrs map[string]string) *model.TargetGroup {
		return &model.TargetGroup{ID: "tg", Name: "k8s-tg", Protocol: protocol, Port: 53, TargetType: "ip", Attributes: attrs}
	}
	for _, tt := range []struct {
		name       string
		typ        model.LoadBalancerType
		protocol   string
		want, have map[string]string
		set        map[string]string
	}{
		{name: "UDP keeps AWS's connection termination default", typ: model.Network, protocol: "UDP",
			have: map[string]string{"deregistration_delay.connection_termination.enabled": "true",
				"target_health_state.unhealthy.connection_termination.enabled": "false",
				"target_health_state.unhealthy.draining_interval_seconds":      "0"},
			set: nil},
		{name: "TCP_UDP set back to true", typ: model.Network, protocol: "TCP_UDP",
			have: map[string]string{"deregistration_delay.connection_termination.enabled": "false"},
			set:  map[string]string{"deregistration_delay.connection_termination.enabled": "true"}},
		{name: "TCP set back to false", typ: model.Network, protocol: "TCP",
			have: map[string]string{"deregistration_delay.connection_termination.enabled": "true"},
			set:  map[string]string{"deregistration_delay.connection_termination.enabled": "false"}},
		{name: "draining interval written with termination", typ: model.Network, protocol: "TCP",
			want: map[string]string{"target_health_state.unhealthy.draining_interval_seconds": "60"},
			have: map[string]string{"target_health_state.unhealthy.connection_termination.enabled": "false",
				"target_health_state.unhealthy.draining_interval_seconds": "0"},
			set: map[string]string{"target_health_state.unhealthy.draining_interval_seconds": "60",
				"target_health_state.unhealthy.connection_termination.enabled": "false"}},
		{name: "both back to their defaults", typ: model.Network, protocol: "TLS",
			have: map[string]string{"target_health_state.unhealthy.connection_termination.enabled": "false",
				"target_health_state.unhealthy.draining_interval_seconds": "60"},
			set: map[string]string{"target_health_state.unhealthy.connection_termination.enabled": "true",
				"target_health_state.unhealthy.draining_interval_seconds": "0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := targetGroupUpdate(tt.typ, tg(tt.protocol, tt.want), tg(tt.protocol, tt.have))
			var got map[string]string
			if u != nil {
				got = u.SetAttributes
			}
			if !maps.Equal(got, tt.set) {
				t.Errorf("attributes written %v, want %v", got, tt.set)
			}
		})
	}
}

// TestNLBAttributeDefaultsHaveNoALBKeys: an NLB has no connection logs, so the plan never
// writes connection_logs.s3.enabled to one.
func TestNLBAttributeDefaultsHaveNoALBKeys(t *testing.T) {
	if _, ok := loadBalancerDefaults(model.Network)["connection_logs.s3.enabled"]; ok {
		t.Errorf("NLB defaults carry connection_logs.s3.enabled, an ALB-only attribute")
	}
	if _, ok := loadBalancerDefaults(model.Application)["connection_logs.s3.enabled"]; !ok {
		t.Errorf("ALB defaults lack connection_logs.s3.enabled")
	}
}
