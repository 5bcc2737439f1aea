package translate

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// parentResult is the outcome of one parentRef of a route that names this Gateway.
type parentResult struct {
	index    int
	ref      gwv1.ParentReference
	accepted *problem // nil: accepted
	// listeners are the indexes of the listeners the route attached to through this parentRef.
	listeners []int
}

// namesGateway says whether a parentRef of a route in namespace ns names the Gateway.
func namesGateway(ref gwv1.ParentReference, ns string, gw *gwv1.Gateway) bool {
	if ref.Group != nil && string(*ref.Group) != gatewayAPIGroup {
		return false
	}
	if ref.Kind != nil && string(*ref.Kind) != "Gateway" {
		return false
	}
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	return ns == gw.Namespace && string(ref.Name) == gw.Name
}

// attach decides, for each parentRef of the route naming the Gateway, which listeners accept
// the route. It counts attached routes and records shared hostnames on the listeners.
func (t *translator) attach(r *l4Route) []parentResult {
	var out []parentResult
	for i, ref := range r.parentRefs {
		// owner is the ListenerSet the parentRef names, "" when it names the Gateway.
		owner, viaSet := t.namesListenerSet(ref, r.namespace)
		if !viaSet && !namesGateway(ref, r.namespace, t.gw) {
			continue
		}
		res := parentResult{index: i, ref: ref}
		field := fmt.Sprintf("spec.parentRefs[%d]", i)
		if viaSet && !t.listenerSets[owner] {
			res.accepted = &problem{string(gwv1.RouteReasonNotAllowedByListeners), fmt.Sprintf(
				"%s: ListenerSet %s is not accepted by Gateway %s/%s; see the ListenerSet's status", field, owner, t.gw.Namespace, t.gw.Name)}
			out = append(out, res)
			continue
		}
		var candidates []*listenerState
		for _, l := range t.listeners {
			if l.owner != owner {
				continue
			}
			if ref.SectionName != nil && string(*ref.SectionName) != string(l.spec.Name) {
				continue
			}
			if ref.Port != nil && *ref.Port != l.spec.Port {
				continue
			}
			candidates = append(candidates, l)
		}
		if len(candidates) == 0 {
			parent := fmt.Sprintf("Gateway %s/%s", t.gw.Namespace, t.gw.Name)
			if viaSet {
				parent = "ListenerSet " + owner
			}
			res.accepted = &problem{string(gwv1.RouteReasonNoMatchingParent), fmt.Sprintf(
				"%s: %s matches no listener of %s (listeners: %s); fix sectionName or port",
				field, describeSection(ref), parent, t.listenerNames(owner))}
			out = append(out, res)
			continue
		}
		var hostnameMiss, notAllowed *problem
		for _, l := range candidates {
			p := t.admit(r, l, field)
			if p == nil {
				res.listeners = append(res.listeners, l.index)
				continue
			}
			if p.reason == string(gwv1.RouteReasonNoMatchingListenerHostname) {
				hostnameMiss = cmpFirst(hostnameMiss, p)
			} else {
				notAllowed = cmpFirst(notAllowed, p)
			}
		}
		if len(res.listeners) == 0 {
			res.accepted = cmpFirst(hostnameMiss, notAllowed)
		}
		for _, li := range res.listeners {
			l := t.listeners[li]
			l.attached++
			if usesHostnames(r.kind) {
				hs, _ := intersectHostnames(l.spec.Hostname, r.hostnames)
				l.hostnames = append(l.hostnames, hs...)
			}
		}
		out = append(out, res)
	}
	return out
}

// usesHostnames says whether a route kind has hostnames that must meet the listener's.
func usesHostnames(kind string) bool {
	return kind == kindTLSRoute || kind == kindHTTPRoute || kind == kindGRPCRoute
}

func cmpFirst(a, b *problem) *problem {
	if a != nil {
		return a
	}
	return b
}

func describeSection(ref gwv1.ParentReference) string {
	var parts []string
	if ref.SectionName != nil {
		parts = append(parts, fmt.Sprintf("sectionName %s", *ref.SectionName))
	}
	if ref.Port != nil {
		parts = append(parts, fmt.Sprintf("port %d", *ref.Port))
	}
	return strings.Join(parts, " and ")
}

func (t *translator) listenerNames(owner string) string {
	var names []string
	for _, l := range t.listeners {
		if l.owner != owner {
			continue
		}
		names = append(names, fmt.Sprintf("%s (port %d)", l.spec.Name, l.spec.Port))
	}
	return strings.Join(names, ", ")
}

// admit checks one listener against the route: listener validity, namespace, kind, hostname.
func (t *translator) admit(r *l4Route, l *listenerState, field string) *problem {
	notAllowed := string(gwv1.RouteReasonNotAllowedByListeners)
	if !l.accepted() {
		return &problem{notAllowed, fmt.Sprintf("%s: listener %s is not valid (%s); see the Gateway's status",
			field, l.spec.Name, l.notAccepted.reason)}
	}
	if p := t.namespaceAllowed(r, l, field); p != nil {
		return p
	}
	if !l.admits(r.kind) {
		var kinds []string
		for _, k := range l.supported {
			kinds = append(kinds, string(k.Kind))
		}
		return &problem{notAllowed, fmt.Sprintf("%s: listener %s does not admit %s (it admits %s); attach to another listener or change %s",
			field, l.spec.Name, r.kind, strings.Join(kinds, ", "), l.field("allowedRoutes.kinds"))}
	}
	if usesHostnames(r.kind) {
		if _, ok := intersectHostnames(l.spec.Hostname, r.hostnames); !ok {
			return &problem{string(gwv1.RouteReasonNoMatchingListenerHostname), fmt.Sprintf(
				"spec.hostnames: none matches hostname %s of listener %s; fix the route's hostnames or the listener's",
				*l.spec.Hostname, l.spec.Name)}
		}
	}
	return nil
}

func (t *translator) namespaceAllowed(r *l4Route, l *listenerState, field string) *problem {
	from := gwv1.NamespacesFromSame
	var selector *metav1.LabelSelector
	if ar := l.spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		selector = ar.Namespaces.Selector
	}
	// Same is the namespace of the listener's owner: a ListenerSet's, or the Gateway's.
	own := t.gw.Namespace
	if l.owner != "" {
		own = l.ownerNamespace
	}
	if why := t.fromNamespaces(from, selector, own, r.namespace, "routes"); why != "" {
		return &problem{string(gwv1.RouteReasonNotAllowedByListeners), fmt.Sprintf(
			"%s: listener %s %s; change %s or move the route", field, l.spec.Name, why, l.field("allowedRoutes.namespaces"))}
	}
	return nil
}

// fromNamespaces says why a namespaces "from" (with its selector) does not admit objects
// (what: routes, ListenerSets) of namespace ns, own being the namespace Same means; "" when it
// admits them.
func (t *translator) fromNamespaces(from gwv1.FromNamespaces, selector *metav1.LabelSelector, own, ns, what string) string {
	switch from {
	case gwv1.NamespacesFromAll:
		return ""
	case gwv1.NamespacesFromSame:
		if ns == own {
			return ""
		}
		return fmt.Sprintf("admits %s from namespace %s only, not from %s", what, own, ns)
	case gwv1.NamespacesFromSelector:
		if selector == nil {
			return "has from: Selector without a selector"
		}
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return fmt.Sprintf("has an invalid namespace selector (%v)", err)
		}
		if sel.Matches(labels.Set(t.namespaceLabels(ns))) {
			return ""
		}
		return fmt.Sprintf("admits %s from namespaces matching %s; namespace %s does not match", what, sel, ns)
	default:
		return fmt.Sprintf("admits %s from no namespace (from: %s)", what, from)
	}
}

func (t *translator) namespaceLabels(name string) map[string]string {
	for _, ns := range t.s.Namespaces {
		if ns.Name == name {
			out := map[string]string{"kubernetes.io/metadata.name": name}
			for k, v := range ns.Labels {
				out[k] = v
			}
			return out
		}
	}
	return map[string]string{"kubernetes.io/metadata.name": name}
}
