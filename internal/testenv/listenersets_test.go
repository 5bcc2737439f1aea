package testenv

import (
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// The ListenerSet manifests parse, strictly, to the objects they describe.
func TestListenerSetManifests(t *testing.T) {
	var gw gwv1.Gateway
	if err := yaml.UnmarshalStrict([]byte(AllowListenerSets(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: c
  listeners:
  - {name: tcp, protocol: TCP, port: 80}
`)), &gw); err != nil {
		t.Fatal(err)
	}
	if a := gw.Spec.AllowedListeners; a == nil || a.Namespaces == nil || a.Namespaces.From == nil ||
		*a.Namespaces.From != gwv1.NamespacesFromSame || len(gw.Spec.Listeners) != 1 {
		t.Errorf("Gateway spec %+v, want allowedListeners from Same and its one listener", gw.Spec)
	}

	for _, tt := range []struct{ parent, wantName, wantNS string }{{"gw", "gw", ""}, {"other/gw", "gw", "other"}} {
		var ls gwv1.ListenerSet
		if err := yaml.UnmarshalStrict([]byte(ListenerSetYAML("extra", tt.parent,
			"{name: db, protocol: TCP, port: 5432}", "{name: web, protocol: HTTP, port: 8080}")), &ls); err != nil {
			t.Fatal(err)
		}
		ns := ""
		if ls.Spec.ParentRef.Namespace != nil {
			ns = string(*ls.Spec.ParentRef.Namespace)
		}
		if ls.Kind != "ListenerSet" || ls.Name != "extra" || string(ls.Spec.ParentRef.Name) != tt.wantName || ns != tt.wantNS {
			t.Errorf("parent %q: ListenerSet %s %s with parentRef %s in %q, want extra with parentRef %s in %q",
				tt.parent, ls.Kind, ls.Name, ls.Spec.ParentRef.Name, ns, tt.wantName, tt.wantNS)
		}
		if l := ls.Spec.Listeners; len(l) != 2 || l[0].Name != "db" || l[0].Port != 5432 || l[1].Protocol != gwv1.HTTPProtocolType {
			t.Errorf("parent %q: entries %+v, want db TCP 5432 and web HTTP 8080", tt.parent, l)
		}
	}

	var route gwv1.HTTPRoute
	if err := yaml.UnmarshalStrict([]byte(ListenerSetRouteYAML("HTTPRoute", "web", "extra", "web", "backend", 3000)), &route); err != nil {
		t.Fatal(err)
	}
	if p := route.Spec.ParentRefs; route.Name != "web" || len(p) != 1 || p[0].Kind == nil || *p[0].Kind != "ListenerSet" ||
		p[0].Name != "extra" || p[0].SectionName == nil || *p[0].SectionName != "web" {
		t.Errorf("route %s parentRefs %+v, want ListenerSet extra, section web", route.Name, p)
	}
	if r := route.Spec.Rules; len(r) != 1 || len(r[0].BackendRefs) != 1 || r[0].BackendRefs[0].Name != "backend" ||
		r[0].BackendRefs[0].Port == nil || *r[0].BackendRefs[0].Port != 3000 {
		t.Errorf("route rules %+v, want one to backend:3000", r)
	}
}
