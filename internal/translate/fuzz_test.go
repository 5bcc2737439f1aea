package translate

import (
	"os"
	"path/filepath"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// FuzzGateway feeds mutated golden snapshots to the translator, raw and with a few fields
// forced to awkward values: it must never panic, and the stack it returns must validate.
func FuzzGateway(f *testing.F) {
	for _, dir := range goldenCases(f) {
		data, err := os.ReadFile(filepath.Join(dir, "in.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, int32(0), int32(-1), "")
	}
	f.Add([]byte("gateway: {metadata: {name: g}, spec: {listeners: [{name: a, port: 1, protocol: TLS}]}}"), int32(70000), int32(1000), "TCP_UDP")
	f.Add([]byte("settings: {controllerName: gateway.k8s.aws/alb}\ngatewayClass: {metadata: {name: c}, spec: {controllerName: gateway.k8s.aws/alb}}\n"+
		"gateway: {metadata: {name: g}, spec: {gatewayClassName: c, listeners: [{name: a, port: 80, protocol: HTTP}]}}\n"+
		"httpRoutes: [{metadata: {name: r}, spec: {parentRefs: [{name: g}], rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]}}]"),
		int32(0), int32(1), "a*(")
	f.Fuzz(func(t *testing.T, data []byte, port, weight int32, protocol string) {
		var s snapshot.Snapshot
		if err := yaml.Unmarshal(data, &s); err != nil {
			return
		}
		twist(&s, port, weight, protocol)
		stack, set := Gateway(&s)
		if stack == nil || set == nil {
			t.Fatal("Gateway returned nil")
		}
		if err := stack.Validate(); err != nil {
			t.Fatalf("stack does not validate: %v\nsnapshot:\n%s", err, data)
		}
		if LoadBalancerName(&s) == "" && s.Gateway != nil {
			t.Fatal("LoadBalancerName is empty for a Gateway")
		}
		// The held and failed-reconcile entry points take the same input.
		for _, tg := range HeldTargetGroups(&s) {
			if tg.ID == "" {
				t.Fatal("a held target group without a logical ID")
			}
		}
		for _, r := range Unreconciled(&s, "fuzz").Routes {
			if len(r.Parents) == 0 {
				t.Fatal("Unreconciled lists a route without entries")
			}
		}
	})
}

// twist forces a listener port, a backend weight and a listener protocol where there are some.
func twist(s *snapshot.Snapshot, port, weight int32, protocol string) {
	if s.Gateway != nil && len(s.Gateway.Spec.Listeners) > 0 {
		l := &s.Gateway.Spec.Listeners[len(s.Gateway.Spec.Listeners)-1]
		if port != 0 {
			l.Port = port
		}
		if protocol != "" {
			l.Protocol = gwv1.ProtocolType(protocol)
		}
	}
	if weight >= 0 && len(s.TCPRoutes) > 0 && len(s.TCPRoutes[0].Spec.Rules) > 0 && len(s.TCPRoutes[0].Spec.Rules[0].BackendRefs) > 0 {
		w := weight
		s.TCPRoutes[0].Spec.Rules[0].BackendRefs[0].Weight = &w
	}
	if weight >= 0 && len(s.HTTPRoutes) > 0 && len(s.HTTPRoutes[0].Spec.Rules) > 0 {
		rule := &s.HTTPRoutes[0].Spec.Rules[0]
		if len(rule.BackendRefs) > 0 {
			w := weight
			rule.BackendRefs[0].Weight = &w
		}
		if len(rule.Matches) > 0 && rule.Matches[0].Path != nil && protocol != "" {
			// Reuse the protocol string as an awkward path: wildcards, regex syntax, no slash.
			v := "/" + protocol
			if weight%2 == 1 {
				v = protocol
			}
			rule.Matches[0].Path.Value = &v
		}
	}
}
