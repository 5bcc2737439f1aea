package translate

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
)

// ListenerSetStatus is the status one ListenerSet that names the Gateway should have.
type ListenerSetStatus struct {
	Namespace, Name string
	Generation      int64
	Accepted        bool
	Status          gwv1.ListenerSetStatus
}

// MergeListenerSets decides which ListenerSets of the snapshot may attach to its Gateway (its
// spec.allowedListeners, default none) and which of their entries join its listeners, following
// the Gateway API's precedence: the Gateway's own listeners first, then ListenerSets by creation
// time (oldest first), then by namespace/name; within a ListenerSet, its entries in order. An
// entry that conflicts with one of higher precedence is Conflicted and does not join; the
// higher one keeps serving. The merge is that of an accepted Gateway: a Gateway that is not
// takes no entry (see mergeListenerSets).
//
// It is pure: it reads only the snapshot's Gateway, ListenerSets, namespaces and settings.
func MergeListenerSets(s *snapshot.Snapshot) *snapshot.ListenerSetMerge {
	out := &snapshot.ListenerSetMerge{}
	if s == nil || s.Gateway == nil {
		return out
	}
	gw := s.Gateway
	alb := s.Settings.ControllerName == controllerALB
	var taken []*listenerState
	for _, l := range validateListeners(gw, alb) {
		if l.accepted() {
			taken = append(taken, l)
		}
	}
	var mine []*gwv1.ListenerSet
	for i := range s.ListenerSets {
		if listenerSetNamesGateway(&s.ListenerSets[i], gw) {
			mine = append(mine, &s.ListenerSets[i])
		}
	}
	slices.SortStableFunc(mine, func(a, b *gwv1.ListenerSet) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	for _, ls := range mine {
		ms := snapshot.MergedListenerSet{ListenerSet: ls}
		if p := listenerSetAllowed(s, ls); p != nil {
			ms.NotAllowed = p.message
			out.Sets = append(out.Sets, ms)
			continue
		}
		for i, spec := range ls.Spec.Listeners {
			l := entryState(i, spec, alb)
			if l.notAccepted != nil {
				continue
			}
			if p := entryConflict(l, taken); p != nil {
				if ms.Conflicts == nil {
					ms.Conflicts = map[int]snapshot.ListenerConflict{}
				}
				ms.Conflicts[i] = snapshot.ListenerConflict{Reason: p.reason, Message: p.message}
				continue
			}
			taken = append(taken, l)
			out.Listeners = append(out.Listeners, snapshot.MergedListener{Namespace: ls.Namespace, Name: ls.Name, Index: i, Listener: l.spec})
		}
		out.Sets = append(out.Sets, ms)
	}
	return out
}

// listenerSetStatuses are the statuses of the ListenerSets of the merge, and how many of them
// are attached. They follow the Gateway's own Accepted (t.rejected) and Programmed outcome.
func (t *translator) listenerSetStatuses(programmed bool) ([]ListenerSetStatus, int32) {
	gw, alb, gatewayAccepted := t.gw, t.alb(), t.rejected == nil
	var out []ListenerSetStatus
	var attached int32
	for _, ms := range t.merge.Sets {
		ls := ms.ListenerSet
		st := ListenerSetStatus{Namespace: ls.Namespace, Name: ls.Name, Generation: ls.Generation}
		gen := ls.Generation
		setConds := func(ok bool, reason, msg string, prog bool, progReason, progMsg string) {
			st.Status.Conditions = []metav1.Condition{
				condition(string(gwv1.ListenerSetConditionAccepted), ok, reason, msg, gen),
				condition(string(gwv1.ListenerSetConditionProgrammed), prog, progReason, progMsg, gen),
			}
		}
		if ms.NotAllowed != "" {
			setConds(false, string(gwv1.ListenerSetReasonNotAllowed), ms.NotAllowed, false, string(gwv1.ListenerSetReasonNotAllowed), ms.NotAllowed)
			out = append(out, st)
			continue
		}
		if !gatewayAccepted {
			msg := fmt.Sprintf("spec.parentRef: Gateway %s/%s is not accepted; see its status", gw.Namespace, gw.Name)
			setConds(false, string(gwv1.ListenerSetReasonParentNotAccepted), msg, false, string(gwv1.ListenerSetReasonParentNotAccepted), msg)
			out = append(out, st)
			continue
		}
		var problems []string
		accepted := 0
		for i, spec := range ls.Spec.Listeners {
			l := entryState(i, spec, alb)
			if c, ok := ms.Conflicts[i]; ok && l.notAccepted == nil {
				p := &problem{c.Reason, c.Message}
				l.conflicted, l.notAccepted = p, p
			}
			es := gwv1.ListenerEntryStatus{Name: spec.Name, SupportedKinds: l.supported}
			if l.notAccepted != nil {
				es.SupportedKinds = []gwv1.RouteGroupKind{}
				problems = append(problems, l.notAccepted.message)
			}
			if es.SupportedKinds == nil {
				es.SupportedKinds = []gwv1.RouteGroupKind{}
			}
			es.Conditions = entryConditions(l, programmed, gen)
			st.Status.Listeners = append(st.Status.Listeners, es)
			if l.notAccepted == nil {
				accepted++
			}
		}
		switch {
		case accepted == 0:
			msg := "no listener is valid: " + strings.Join(problems, "; ")
			if len(ls.Spec.Listeners) == 0 {
				msg = "spec.listeners is empty"
			}
			setConds(false, string(gwv1.ListenerSetReasonListenersNotValid), msg, false, string(gwv1.ListenerSetReasonListenersNotValid), msg)
		default:
			reason, msg := string(gwv1.ListenerSetReasonAccepted), "all listeners are accepted"
			if len(problems) > 0 {
				reason, msg = string(gwv1.ListenerSetReasonListenersNotValid), "some listeners are not accepted: "+strings.Join(problems, "; ")
			}
			progReason, progMsg := string(gwv1.ListenerSetReasonProgrammed), "the listeners are programmed on the Gateway's load balancer"
			if !programmed {
				progReason, progMsg = string(gwv1.ListenerSetReasonPending), "the Gateway's load balancer is not programmed yet"
			}
			setConds(true, reason, msg, programmed, progReason, progMsg)
			st.Accepted = true
			attached++
		}
		out = append(out, st)
	}
	return out, attached
}

// listenerSetNamesGateway says whether a ListenerSet's parentRef names the Gateway (the
// namespace defaults to the ListenerSet's).
func listenerSetNamesGateway(ls *gwv1.ListenerSet, gw *gwv1.Gateway) bool {
	ref := ls.Spec.ParentRef
	if ref.Group != nil && string(*ref.Group) != gatewayAPIGroup || ref.Kind != nil && string(*ref.Kind) != "Gateway" {
		return false
	}
	ns := ls.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	return ns == gw.Namespace && string(ref.Name) == gw.Name
}

// listenerSetAllowed checks the Gateway's spec.allowedListeners against the ListenerSet's
// namespace. With no allowedListeners, no ListenerSet may attach.
func listenerSetAllowed(s *snapshot.Snapshot, ls *gwv1.ListenerSet) *problem {
	gw := s.Gateway
	from := gwv1.NamespacesFromNone
	var selector *metav1.LabelSelector
	if al := gw.Spec.AllowedListeners; al != nil && al.Namespaces != nil {
		if al.Namespaces.From != nil {
			from = *al.Namespaces.From
		}
		selector = al.Namespaces.Selector
	}
	if from == gwv1.NamespacesFromNone {
		return &problem{string(gwv1.ListenerSetReasonNotAllowed), fmt.Sprintf(
			"spec.parentRef: Gateway %s/%s admits no ListenerSet (spec.allowedListeners is unset or from: None); set its spec.allowedListeners.namespaces",
			gw.Namespace, gw.Name)}
	}
	t := &translator{s: s, gw: gw}
	if why := t.fromNamespaces(from, selector, gw.Namespace, ls.Namespace, "ListenerSets"); why != "" {
		return &problem{string(gwv1.ListenerSetReasonNotAllowed), fmt.Sprintf(
			"spec.parentRef: Gateway %s/%s %s; change its spec.allowedListeners.namespaces or move the ListenerSet",
			gw.Namespace, gw.Name, why)}
	}
	return nil
}

// entryState validates one ListenerSet entry on its own, as a Gateway listener would be. Its
// certificateRefs are resolved later, with the Gateway's listeners (checkCertificateRefs), in
// the ListenerSet's namespace.
func entryState(i int, e gwv1.ListenerEntry, alb bool) *listenerState {
	spec := gwv1.Listener{Name: e.Name, Hostname: e.Hostname, Port: e.Port, Protocol: e.Protocol, TLS: e.TLS, AllowedRoutes: e.AllowedRoutes}
	return newListenerState(i, spec, alb)
}

// entryConflict returns why a ListenerSet entry cannot join listeners of higher precedence:
// the same port with a protocol that cannot share it, or the same port, protocol and hostname
// (an absent hostname equals an absent hostname).
func entryConflict(l *listenerState, taken []*listenerState) *problem {
	host := func(x *listenerState) string {
		if x.spec.Hostname == nil {
			return ""
		}
		return string(*x.spec.Hostname)
	}
	for _, o := range taken {
		if o.spec.Port != l.spec.Port {
			continue
		}
		a, b := protocolKey(o.spec), protocolKey(l.spec)
		if a != b && !(a == "TCP" && b == "UDP" || a == "UDP" && b == "TCP") {
			return &problem{string(gwv1.ListenerEntryReasonProtocolConflict), fmt.Sprintf(
				"%s: port %d is already used with protocol %s by a listener of higher precedence; use another port, or the same protocol",
				l.field("protocol"), l.spec.Port, a)}
		}
		if a == b && host(o) == host(l) {
			h := host(l)
			if h == "" {
				h = "(any hostname)"
			}
			return &problem{string(gwv1.ListenerEntryReasonHostnameConflict), fmt.Sprintf(
				"%s: hostname %s on port %d %s is already served by a listener of higher precedence; use another hostname or port",
				l.field("hostname"), h, l.spec.Port, a)}
		}
	}
	return nil
}

// entryConditions are a ListenerSet entry's Accepted, Conflicted, ResolvedRefs and Programmed
// conditions.
func entryConditions(l *listenerState, programmed bool, gen int64) []metav1.Condition {
	var out []metav1.Condition
	if l.notAccepted != nil {
		out = append(out, condition(string(gwv1.ListenerEntryConditionAccepted), false, l.notAccepted.reason, l.notAccepted.message, gen))
	} else {
		out = append(out, condition(string(gwv1.ListenerEntryConditionAccepted), true, string(gwv1.ListenerEntryReasonAccepted), "the listener is accepted", gen))
	}
	if l.conflicted != nil {
		out = append(out, condition(string(gwv1.ListenerEntryConditionConflicted), true, l.conflicted.reason, l.conflicted.message, gen))
	} else {
		out = append(out, condition(string(gwv1.ListenerEntryConditionConflicted), false, string(gwv1.ListenerReasonNoConflicts), "no conflict", gen))
	}
	if l.unresolved != nil {
		out = append(out, condition(string(gwv1.ListenerEntryConditionResolvedRefs), false, l.unresolved.reason, l.unresolved.message, gen))
	} else {
		out = append(out, condition(string(gwv1.ListenerEntryConditionResolvedRefs), true, string(gwv1.ListenerEntryReasonResolvedRefs), "all references are resolved", gen))
	}
	switch {
	case l.notAccepted != nil:
		out = append(out, condition(string(gwv1.ListenerEntryConditionProgrammed), false, string(gwv1.ListenerEntryReasonInvalid), l.notAccepted.message, gen))
	case l.certificatesChecked && len(l.certificates) == 0:
		// Known now: the entry is not served, whatever AWS does (see checkCertificateRefs).
		out = append(out, condition(string(gwv1.ListenerEntryConditionProgrammed), false, string(gwv1.ListenerEntryReasonInvalid),
			l.field("tls.certificateRefs")+": none can be used, so the listener is not programmed; see ResolvedRefs", gen))
	case !programmed:
		out = append(out, condition(string(gwv1.ListenerEntryConditionProgrammed), false, string(gwv1.ListenerEntryReasonPending), "the Gateway's load balancer is not programmed yet", gen))
	default:
		out = append(out, condition(string(gwv1.ListenerEntryConditionProgrammed), true, string(gwv1.ListenerEntryReasonProgrammed), "the listener is programmed", gen))
	}
	return out
}

// mergeListenerSets adds the entries of the ListenerSets that join the Gateway to its
// listeners (after its own), once the Gateway itself is known to be accepted or not: one that
// is not takes none. The merge is the snapshot's, when gather worked it out.
func (t *translator) mergeListenerSets() {
	if len(t.s.ListenerSets) == 0 {
		return
	}
	t.merge = t.s.ListenerSetMerge
	if t.merge == nil {
		t.merge = MergeListenerSets(t.s)
	}
	t.listenerSets = map[string]bool{}
	for _, ms := range t.merge.Sets {
		t.listenerSets[ms.ListenerSet.Namespace+"/"+ms.ListenerSet.Name] = false
	}
	if t.rejected != nil {
		return
	}
	for _, ml := range t.merge.Listeners {
		t.listenerSets[ml.Namespace+"/"+ml.Name] = true
		l := entryState(ml.Index, gwv1.ListenerEntry{Name: ml.Listener.Name, Hostname: ml.Listener.Hostname, Port: ml.Listener.Port,
			Protocol: ml.Listener.Protocol, TLS: ml.Listener.TLS, AllowedRoutes: ml.Listener.AllowedRoutes}, t.alb())
		l.index = len(t.listeners)
		l.owner, l.ownerNamespace, l.entry = ml.Namespace+"/"+ml.Name, ml.Namespace, ml.Index
		t.listeners = append(t.listeners, l)
	}
}

// namesListenerSet returns the namespace/name of the ListenerSet of this Gateway that a
// parentRef of a route in namespace ns names, if it names one. Without a group the parentRef
// is of gateway.networking.k8s.io ("When unspecified, "gateway.networking.k8s.io" is
// inferred"); an explicit "" is the core group. Without a kind it names a Gateway.
func (t *translator) namesListenerSet(ref gwv1.ParentReference, ns string) (string, bool) {
	if ref.Kind == nil || string(*ref.Kind) != "ListenerSet" || ref.Group != nil && string(*ref.Group) != gatewayAPIGroup {
		return "", false
	}
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	key := ns + "/" + string(ref.Name)
	for i := range t.s.ListenerSets {
		ls := &t.s.ListenerSets[i]
		if ls.Namespace+"/"+ls.Name == key && listenerSetNamesGateway(ls, t.gw) {
			return key, true
		}
	}
	return "", false
}

// namesUs says whether a parentRef names the Gateway or one of its ListenerSets.
func (t *translator) namesUs(ref gwv1.ParentReference, ns string) bool {
	if namesGateway(ref, ns, t.gw) {
		return true
	}
	_, ok := t.namesListenerSet(ref, ns)
	return ok
}

// reportListenerSets records the ListenerSets' statuses, with Programmed following whether the
// load balancer will carry their listeners, and the routes attached to each entry.
func (t *translator) reportListenerSets(st *status.Gateway) {
	if len(t.s.ListenerSets) == 0 {
		return
	}
	programmed := t.rejected == nil && t.unusable == nil
	statuses, attached := t.listenerSetStatuses(programmed)
	merged := map[string]*listenerState{}
	for _, l := range t.listeners {
		if l.owner != "" {
			merged[l.owner+"/"+string(l.spec.Name)] = l
		}
	}
	for _, ls := range statuses {
		for i := range ls.Status.Listeners {
			e := &ls.Status.Listeners[i]
			l, ok := merged[ls.Namespace+"/"+ls.Name+"/"+string(e.Name)]
			if !ok {
				continue
			}
			e.AttachedRoutes = l.attached
			// The merged listener knows what merging alone does not: its certificates.
			e.Conditions = entryConditions(l, programmed, ls.Generation)
		}
		t.set.ListenerSets = append(t.set.ListenerSets, status.ListenerSet{Namespace: ls.Namespace, Name: ls.Name,
			Generation: ls.Generation, Status: ls.Status})
	}
	if len(statuses) > 0 {
		st.AttachedListenerSets = &attached
	}
}
