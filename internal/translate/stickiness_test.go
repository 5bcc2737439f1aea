package translate

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestNLBStickiness: targetGroupStickiness on an NLB listener becomes source-IP stickiness
// attributes of its target groups, never a stickiness setting of the forward action; a TLS
// target group takes none (AWS supports no sticky sessions with TLS target groups) and the
// route says so.
func TestNLBStickiness(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "LoadBalancerConfigurationMergePreferGateway"))
	stack, _ := Gateway(s)
	if err := stack.Validate(); err != nil {
		t.Fatalf("stack does not validate: %v", err)
	}
	if f := stack.Listeners[0].DefaultActions[0].Forward; f.Stickiness != nil {
		t.Errorf("NLB forward action carries stickiness %+v", f.Stickiness)
	}
	if a := stack.TargetGroups[0].Attributes; a["stickiness.enabled"] != "true" || a["stickiness.type"] != "source_ip" {
		t.Errorf("target group attributes %v, want stickiness.enabled=true and stickiness.type=source_ip", a)
	}

	s = loadSnapshot(t, filepath.Join("testdata", "TLSRouteSimpleSameNamespace"))
	s.LoadBalancerConfigurations[0].Spec.ListenerConfigurations[0].TargetGroupStickiness = ptr(true)
	stack, _ = Gateway(s)
	for _, tg := range stack.TargetGroups {
		if tg.Protocol == "TLS" && tg.Attributes["stickiness.enabled"] != "" {
			t.Errorf("TLS target group %s got stickiness attributes %v", tg.Name, tg.Attributes)
		}
	}
	if msg := routeMessages(t, s, s.TLSRoutes[0].Name); !strings.Contains(msg, "targetGroupStickiness does not apply to TLS target groups") {
		t.Errorf("route conditions do not explain the ignored stickiness:\n%s", msg)
	}
}
