package model

import "strings"

// Owner names the Kubernetes route a resource of the stack comes from, written
// "<Kind>/<namespace>/<name>" (HTTPRoute/default/web). It is bookkeeping for the controller
// (events on the route): it is never sent to AWS, never read back from it, and plan ignores it,
// so an observed resource (which has no owner) equals a desired one that has.
type Owner struct {
	Kind      string
	Namespace string
	Name      string
}

// RouteOwner formats the owner of a resource: "<Kind>/<namespace>/<name>".
func RouteOwner(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// ParseOwner reads a route owner; ok is false for an empty or malformed one.
func ParseOwner(route string) (Owner, bool) {
	parts := strings.SplitN(route, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Owner{}, false
	}
	return Owner{Kind: parts[0], Namespace: parts[1], Name: parts[2]}, true
}
