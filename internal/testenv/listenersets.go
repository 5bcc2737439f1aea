package testenv

import (
	"fmt"
	"strings"
)

// Manifests of ListenerSets and what attaches to them, as tests apply them to a cluster or
// give them to `elbgateway plan -f`. Each starts and ends with a newline, so that manifests
// join with "---".

// AllowListenerSets returns the Gateway manifest gateway with allowedListeners admitting the
// ListenerSets of the Gateway's namespace, before its listeners.
func AllowListenerSets(gateway string) string {
	return strings.Replace(gateway, "  listeners:\n", "  allowedListeners:\n    namespaces: {from: Same}\n  listeners:\n", 1)
}

// ListenerSetYAML is a ListenerSet named name whose parent is the Gateway parent ("name", or
// "namespace/name" for one of another namespace), with listeners as its entries, each a YAML
// flow mapping such as "{name: db, protocol: TCP, port: 5432}".
func ListenerSetYAML(name, parent string, listeners ...string) string {
	ref := "{name: " + parent + "}"
	if ns, gw, ok := strings.Cut(parent, "/"); ok {
		ref = fmt.Sprintf("{name: %s, namespace: %s}", gw, ns)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata:
  name: %s
spec:
  parentRef: %s
  listeners:
`, name, ref)
	for _, l := range listeners {
		b.WriteString("  - " + l + "\n")
	}
	return b.String()
}

// ListenerSetRouteYAML is a route of kind (TCPRoute, HTTPRoute, ...) named name, attached to the
// entry section of the ListenerSet listenerSet, with one rule to port of the Service backend.
func ListenerSetRouteYAML(kind, name, listenerSet, section, backend string, port int) string {
	return fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: %s
metadata:
  name: %s
spec:
  parentRefs: [{group: gateway.networking.k8s.io, kind: ListenerSet, name: %s, sectionName: %s}]
  rules:
  - backendRefs: [{name: %s, port: %d}]
`, kind, name, listenerSet, section, backend, port)
}
