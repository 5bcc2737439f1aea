package model

import (
	"slices"
	"testing"
)

func TestTrafficCIDRsFollowClientIPPreservation(t *testing.T) {
	n := NodeIngress{ClientCIDRs: []string{"10.0.0.0/16"}, HealthCheckCIDRs: []string{"10.0.128.0/20"}, SubnetCIDRs: []string{"10.0.128.0/20"}}
	cases := []struct {
		name string
		tg   TargetGroup
		want []string
	}{
		{"instance targets preserve the client's IP", TargetGroup{TargetType: "instance", Protocol: "TCP"}, n.ClientCIDRs},
		{"ip TCP targets do not by default", TargetGroup{TargetType: "ip", Protocol: "TCP"}, n.SubnetCIDRs},
		{"ip TLS targets do not by default", TargetGroup{TargetType: "ip", Protocol: "TLS"}, n.SubnetCIDRs},
		{"ip UDP targets do", TargetGroup{TargetType: "ip", Protocol: "UDP"}, n.ClientCIDRs},
		{"the attribute wins (on)", TargetGroup{TargetType: "ip", Protocol: "TCP", Attributes: map[string]string{"preserve_client_ip.enabled": "true"}}, n.ClientCIDRs},
		{"the attribute wins (off)", TargetGroup{TargetType: "instance", Protocol: "TCP", Attributes: map[string]string{"preserve_client_ip.enabled": "false"}}, n.SubnetCIDRs},
	}
	for _, c := range cases {
		if got := n.TrafficCIDRs(c.tg); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
