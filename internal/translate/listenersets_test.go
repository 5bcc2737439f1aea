package translate

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

func lsSnapshot(from gwv1.FromNamespaces, selector *metav1.LabelSelector) *snapshot.Snapshot {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "gw"}}
	gw.Spec.Listeners = []gwv1.Listener{{Name: "tcp", Port: 80, Protocol: gwv1.TCPProtocolType}}
	if from != "" {
		gw.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: &from, Selector: selector}}
	}
	return &snapshot.Snapshot{
		Settings: snapshot.Settings{ControllerName: controllerNLB},
		Gateway:  gw,
		Namespaces: []corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: "team", Labels: map[string]string{"shared": "yes"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "other"}},
		},
	}
}

func listenerSet(ns, name string, age int, entries ...gwv1.ListenerEntry) gwv1.ListenerSet {
	ls := gwv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 3,
		CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(age) * time.Minute))}}
	ls.Spec.ParentRef = gwv1.ParentGatewayReference{Name: "gw", Namespace: ptr(gwv1.Namespace("infra"))}
	ls.Spec.Listeners = entries
	return ls
}

func entry(name string, port int32, proto gwv1.ProtocolType) gwv1.ListenerEntry {
	return gwv1.ListenerEntry{Name: gwv1.SectionName(name), Port: port, Protocol: proto}
}

func cond(conds []metav1.Condition, typ string) metav1.Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

// merged is a merge of ListenerSets and the statuses it gives.
type merged struct {
	Listeners []snapshot.MergedListener
	Statuses  []ListenerSetStatus
	Attached  int32
}

// mergeWith merges sets into the snapshot's Gateway as translation does, for a Gateway that
// is accepted and programmed or not: the entries that join its listeners, and the statuses.
func mergeWith(s *snapshot.Snapshot, sets []gwv1.ListenerSet, gatewayAccepted, programmed bool) merged {
	s.ListenerSets = sets
	t := &translator{s: s, gw: s.Gateway, cfg: &lbConfig{}}
	if !gatewayAccepted {
		t.rejected = &problem{invalidReason, "not accepted"}
	}
	t.mergeListenerSets()
	var out merged
	for _, l := range t.listeners {
		out.Listeners = append(out.Listeners, snapshot.MergedListener{Namespace: l.ownerNamespace,
			Name: strings.TrimPrefix(l.owner, l.ownerNamespace+"/"), Index: l.entry, Listener: l.spec})
	}
	if t.merge != nil {
		out.Statuses, out.Attached = t.listenerSetStatuses(programmed)
	}
	return out
}

func findStatus(t *testing.T, m merged, ns, name string) ListenerSetStatus {
	t.Helper()
	for _, s := range m.Statuses {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	t.Fatalf("no status for ListenerSet %s/%s in %+v", ns, name, m.Statuses)
	return ListenerSetStatus{}
}

// TestListenerSetsMerge: the entries of allowed ListenerSets join the Gateway's listeners;
// a TCP and a UDP entry share a port (an NLB TCP_UDP listener); a ListenerSet that names
// another Gateway is ignored.
func TestListenerSetsMerge(t *testing.T) {
	s := lsSnapshot(gwv1.NamespacesFromAll, nil)
	elsewhere := listenerSet("team", "elsewhere", 0, entry("x", 9000, gwv1.TCPProtocolType))
	elsewhere.Spec.ParentRef.Name = "another"
	sets := []gwv1.ListenerSet{
		listenerSet("team", "a", 1, entry("db", 5432, gwv1.TCPProtocolType), entry("dns", 53, gwv1.UDPProtocolType), entry("dnstcp", 53, gwv1.TCPProtocolType)),
		elsewhere,
	}
	m := mergeWith(s, sets, true, true)
	if len(m.Listeners) != 3 || m.Attached != 1 || len(m.Statuses) != 1 {
		t.Fatalf("merged %d listeners, %d attached, %d statuses; want 3, 1, 1: %+v", len(m.Listeners), m.Attached, len(m.Statuses), m)
	}
	st := findStatus(t, m, "team", "a")
	if c := cond(st.Status.Conditions, "Accepted"); c.Status != metav1.ConditionTrue || c.Reason != "Accepted" || c.ObservedGeneration != 3 {
		t.Errorf("Accepted = %+v, want True Accepted at generation 3", c)
	}
	if c := cond(st.Status.Conditions, "Programmed"); c.Status != metav1.ConditionTrue {
		t.Errorf("Programmed = %+v, want True", c)
	}
	for _, es := range st.Status.Listeners {
		if c := cond(es.Conditions, "Accepted"); c.Status != metav1.ConditionTrue {
			t.Errorf("entry %s Accepted = %+v", es.Name, c)
		}
		if len(es.SupportedKinds) != 1 {
			t.Errorf("entry %s supportedKinds %v", es.Name, es.SupportedKinds)
		}
	}
	if got := m.Listeners[0]; got.Namespace != "team" || got.Name != "a" || got.Listener.Port != 5432 {
		t.Errorf("first merged listener %+v", got)
	}
	// Programmed follows the Gateway.
	m = mergeWith(s, sets, true, false)
	if c := cond(findStatus(t, m, "team", "a").Status.Conditions, "Programmed"); c.Status != metav1.ConditionFalse || c.Reason != "Pending" {
		t.Errorf("Programmed before the load balancer = %+v, want False Pending", c)
	}
}

// TestListenerSetsConflicts: the Gateway's listeners win over ListenerSets, older ListenerSets
// over newer ones, and namespace/name breaks a tie; the losing entry alone is Conflicted.
func TestListenerSetsConflicts(t *testing.T) {
	s := lsSnapshot(gwv1.NamespacesFromAll, nil)
	sets := []gwv1.ListenerSet{
		// Newer: loses 6000 to "b-old" and port 80 (TLS vs the Gateway's TCP).
		listenerSet("team", "a-new", 5, entry("tls80", 80, gwv1.TLSProtocolType), entry("six", 6000, gwv1.TCPProtocolType), entry("ok", 6001, gwv1.TCPProtocolType)),
		listenerSet("team", "b-old", 1, entry("six", 6000, gwv1.TCPProtocolType)),
		// Same creation time as b-old: namespace/name orders them, other/tie first.
		listenerSet("other", "tie", 1, entry("seven", 7000, gwv1.TCPProtocolType)),
		listenerSet("team", "tie", 1, entry("seven", 7000, gwv1.TCPProtocolType)),
		// Only a conflicting entry: not accepted at all.
		listenerSet("team", "z", 9, entry("tcp80", 80, gwv1.TCPProtocolType)),
	}
	m := mergeWith(s, sets, true, true)
	// team/tie and z have no entry left: not attached.
	if m.Attached != 3 {
		t.Errorf("attached = %d, want 3", m.Attached)
	}
	an := findStatus(t, m, "team", "a-new")
	want := map[string]string{"tls80": "ProtocolConflict", "six": "HostnameConflict", "ok": ""}
	for _, es := range an.Status.Listeners {
		c := cond(es.Conditions, "Conflicted")
		a := cond(es.Conditions, "Accepted")
		if want[string(es.Name)] == "" {
			if c.Status != metav1.ConditionFalse || a.Status != metav1.ConditionTrue {
				t.Errorf("entry %s: Conflicted %+v Accepted %+v, want not conflicted and accepted", es.Name, c, a)
			}
			continue
		}
		if c.Status != metav1.ConditionTrue || c.Reason != want[string(es.Name)] || a.Status != metav1.ConditionFalse {
			t.Errorf("entry %s: Conflicted %+v Accepted %+v, want Conflicted=True %s, Accepted=False", es.Name, c, a, want[string(es.Name)])
		}
		if !strings.Contains(c.Message, "spec.listeners[") {
			t.Errorf("entry %s: message %q does not name the field", es.Name, c.Message)
		}
	}
	if c := cond(an.Status.Conditions, "Accepted"); c.Status != metav1.ConditionTrue || c.Reason != "ListenersNotValid" {
		t.Errorf("a-new Accepted = %+v, want True ListenersNotValid", c)
	}
	if c := cond(findStatus(t, m, "other", "tie").Status.Listeners[0].Conditions, "Conflicted"); c.Status != metav1.ConditionFalse {
		t.Errorf("other/tie lost the tie: %+v", c)
	}
	if c := cond(findStatus(t, m, "team", "tie").Status.Listeners[0].Conditions, "Conflicted"); c.Status != metav1.ConditionTrue {
		t.Errorf("team/tie won the tie: %+v", c)
	}
	if c := cond(findStatus(t, m, "team", "b-old").Status.Listeners[0].Conditions, "Accepted"); c.Status != metav1.ConditionTrue {
		t.Errorf("b-old lost to a newer set: %+v", c)
	}
	z := findStatus(t, m, "team", "z")
	if c := cond(z.Status.Conditions, "Accepted"); c.Status != metav1.ConditionFalse || c.Reason != "ListenersNotValid" || z.Accepted {
		t.Errorf("z Accepted = %+v, want False ListenersNotValid", c)
	}
	var ports []int32
	for _, l := range m.Listeners {
		ports = append(ports, int32(l.Listener.Port))
	}
	if len(ports) != 3 || ports[0] != 7000 || ports[1] != 6000 || ports[2] != 6001 {
		t.Errorf("merged ports %v, want [7000 6000 6001] (precedence order)", ports)
	}
}

// TestListenerSetsNotAllowed: no allowedListeners means none; Same, Selector and None are
// applied to the ListenerSet's namespace; a ListenerSet of a rejected Gateway is not accepted.
func TestListenerSetsNotAllowed(t *testing.T) {
	cases := []struct {
		name    string
		from    gwv1.FromNamespaces
		sel     *metav1.LabelSelector
		ns      string
		allowed bool
	}{
		{"default none", "", nil, "infra", false},
		{"none", gwv1.NamespacesFromNone, nil, "infra", false},
		{"same, same namespace", gwv1.NamespacesFromSame, nil, "infra", true},
		{"same, other namespace", gwv1.NamespacesFromSame, nil, "team", false},
		{"selector match", gwv1.NamespacesFromSelector, &metav1.LabelSelector{MatchLabels: map[string]string{"shared": "yes"}}, "team", true},
		{"selector no match", gwv1.NamespacesFromSelector, &metav1.LabelSelector{MatchLabels: map[string]string{"shared": "yes"}}, "other", false},
		{"selector missing", gwv1.NamespacesFromSelector, nil, "team", false},
		{"all", gwv1.NamespacesFromAll, nil, "other", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := lsSnapshot(c.from, c.sel)
			m := mergeWith(s, []gwv1.ListenerSet{listenerSet(c.ns, "ls", 0, entry("db", 5432, gwv1.TCPProtocolType))}, true, true)
			st := findStatus(t, m, c.ns, "ls")
			a := cond(st.Status.Conditions, "Accepted")
			if c.allowed {
				if a.Status != metav1.ConditionTrue || len(m.Listeners) != 1 || m.Attached != 1 {
					t.Errorf("Accepted = %+v, merged %d; want accepted and merged", a, len(m.Listeners))
				}
				return
			}
			if a.Status != metav1.ConditionFalse || a.Reason != "NotAllowed" || !strings.Contains(a.Message, "spec.allowedListeners") {
				t.Errorf("Accepted = %+v, want False NotAllowed naming spec.allowedListeners", a)
			}
			if len(m.Listeners) != 0 || m.Attached != 0 || len(st.Status.Listeners) != 0 {
				t.Errorf("not allowed yet merged %d listeners, attached %d", len(m.Listeners), m.Attached)
			}
		})
	}
	s := lsSnapshot(gwv1.NamespacesFromAll, nil)
	m := mergeWith(s, []gwv1.ListenerSet{listenerSet("team", "ls", 0, entry("db", 5432, gwv1.TCPProtocolType))}, false, false)
	if a := cond(findStatus(t, m, "team", "ls").Status.Conditions, "Accepted"); a.Status != metav1.ConditionFalse || a.Reason != "ParentNotAccepted" || len(m.Listeners) != 0 {
		t.Errorf("rejected parent: Accepted = %+v, merged %d", a, len(m.Listeners))
	}
}

// TestListenerSetsInvalidEntries: an entry the class cannot serve is refused with a reason
// naming the field; its siblings stay.
func TestListenerSetsInvalidEntries(t *testing.T) {
	s := lsSnapshot(gwv1.NamespacesFromAll, nil)
	https := entry("https", 443, gwv1.HTTPSProtocolType)
	term := entry("tls", 8443, gwv1.TLSProtocolType)
	term.TLS = &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "cert"}}}
	m := mergeWith(s, []gwv1.ListenerSet{listenerSet("team", "ls", 0, https, term, entry("db", 5432, gwv1.TCPProtocolType))}, true, true)
	st := findStatus(t, m, "team", "ls")
	// HTTPS on an NLB is refused; a terminating TLS entry with certificateRefs is accepted
	// (its Secrets are resolved with the Gateway's listeners, see
	// TestListenerSetCertificateRefs).
	for i, reason := range []string{"UnsupportedProtocol", "Accepted", "Accepted"} {
		if a := cond(st.Status.Listeners[i].Conditions, "Accepted"); a.Reason != reason {
			t.Errorf("entry %d Accepted = %+v, want reason %s", i, a, reason)
		}
	}
	if len(m.Listeners) != 2 || m.Listeners[0].Listener.Port != 8443 || m.Listeners[1].Listener.Port != 5432 {
		t.Errorf("merged %+v, want the TLS and the TCP entries", m.Listeners)
	}
	// On an ALB Gateway an HTTP entry is served and a TCP one is not.
	s.Settings.ControllerName = controllerALB
	s.Gateway.Spec.Listeners = []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}}
	web := entry("web", 80, gwv1.HTTPProtocolType)
	web.Hostname = ptr(gwv1.Hostname("shop.example.com"))
	m = mergeWith(s, []gwv1.ListenerSet{listenerSet("team", "ls", 0, web, entry("db", 5432, gwv1.TCPProtocolType))}, true, true)
	st = findStatus(t, m, "team", "ls")
	if a := cond(st.Status.Listeners[0].Conditions, "Accepted"); a.Status != metav1.ConditionTrue {
		t.Errorf("HTTP entry with its own hostname on the Gateway's port: %+v", a)
	}
	if a := cond(st.Status.Listeners[1].Conditions, "Accepted"); a.Reason != "UnsupportedProtocol" {
		t.Errorf("TCP entry on an ALB: %+v", a)
	}
}

// TestListenerSetsTranslate: an accepted ListenerSet's TCP entry becomes a listener of the
// Gateway's NLB; a TCPRoute attaches to it through a parentRef of kind ListenerSet; the entry
// is reported on the ListenerSet, never in the Gateway's status.listeners; allowedRoutes
// from: Same means the ListenerSet's namespace; a parentRef of kind Gateway does not reach the
// ListenerSet's listeners.
func TestListenerSetsTranslate(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteSimpleSameNamespace"))
	s.Gateway.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr(gwv1.NamespacesFromAll)}}
	same := entry("db", 5432, gwv1.TCPProtocolType)
	same.AllowedRoutes = &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr(gwv1.NamespacesFromSame)}}
	ls := listenerSet("team", "extra", 0, same)
	ls.Spec.ParentRef = gwv1.ParentGatewayReference{Name: "aws-tcp-gateway", Namespace: ptr(gwv1.Namespace("default"))}
	s.ListenerSets = []gwv1.ListenerSet{ls}
	svc := s.Services[0].DeepCopy()
	svc.Namespace = "team"
	s.Services = append(s.Services, *svc)
	route := func(ns, name string, ref gwv1.ParentReference) gwv1.TCPRoute {
		r := s.TCPRoutes[0].DeepCopy()
		r.Namespace, r.Name = ns, name
		r.Spec.ParentRefs = []gwv1.ParentReference{ref}
		return *r
	}
	toSet := gwv1.ParentReference{Group: ptr(gwv1.Group(gwv1.GroupName)), Kind: ptr(gwv1.Kind("ListenerSet")),
		Namespace: ptr(gwv1.Namespace("team")), Name: "extra", SectionName: ptr(gwv1.SectionName("db"))}
	toGateway := gwv1.ParentReference{Name: "aws-tcp-gateway", Namespace: ptr(gwv1.Namespace("default")), SectionName: ptr(gwv1.SectionName("db"))}
	s.TCPRoutes = append(s.TCPRoutes, route("team", "via-set", toSet), route("default", "other-ns", toSet), route("team", "via-gateway", toGateway))

	stack, set := Gateway(s)
	if err := stack.Validate(); err != nil {
		t.Fatalf("stack does not validate: %v", err)
	}
	var ports []int32
	for _, l := range stack.Listeners {
		ports = append(ports, l.Port)
	}
	if !slices.Contains(ports, 5432) || !slices.Contains(ports, 8080) {
		t.Fatalf("listener ports %v, want 8080 and 5432", ports)
	}
	if n := len(set.Gateway.Listeners); n != 1 || set.Gateway.Listeners[0].Name != "tcp-app" {
		t.Errorf("Gateway status.listeners %+v, want tcp-app only", set.Gateway.Listeners)
	}
	if a := set.Gateway.AttachedListenerSets; a == nil || *a != 1 {
		t.Errorf("attachedListenerSets = %v, want 1", a)
	}
	if len(set.ListenerSets) != 1 {
		t.Fatalf("ListenerSet statuses %+v", set.ListenerSets)
	}
	lst := set.ListenerSets[0].Status
	if c := cond(lst.Conditions, "Accepted"); c.Status != metav1.ConditionTrue {
		t.Errorf("ListenerSet Accepted = %+v", c)
	}
	if c := cond(lst.Conditions, "Programmed"); c.Status != metav1.ConditionTrue {
		t.Errorf("ListenerSet Programmed = %+v", c)
	}
	if e := lst.Listeners[0]; e.AttachedRoutes != 1 {
		t.Errorf("entry attachedRoutes = %d, want 1", e.AttachedRoutes)
	}
	want := map[string]string{"team/via-set": "Accepted", "default/other-ns": "NotAllowedByListeners", "team/via-gateway": "NoMatchingParent"}
	for _, r := range set.Routes {
		w, ok := want[r.Namespace+"/"+r.Name]
		if !ok {
			continue
		}
		delete(want, r.Namespace+"/"+r.Name)
		if len(r.Parents) != 1 {
			t.Errorf("route %s/%s parents %+v", r.Namespace, r.Name, r.Parents)
			continue
		}
		c := cond(r.Parents[0].Conditions, "Accepted")
		if c.Reason != w {
			t.Errorf("route %s/%s Accepted = %+v, want reason %s", r.Namespace, r.Name, c, w)
		}
		if w == "Accepted" && (r.Parents[0].ParentRef.Kind == nil || *r.Parents[0].ParentRef.Kind != "ListenerSet") {
			t.Errorf("route %s/%s status parentRef %+v, want the ListenerSet", r.Namespace, r.Name, r.Parents[0].ParentRef)
		}
	}
	if len(want) > 0 {
		t.Errorf("no status for routes %v", want)
	}

	// Not allowed (the default): nothing of the ListenerSet reaches the load balancer, and
	// the route through it is refused.
	s.Gateway.Spec.AllowedListeners = nil
	stack, set = Gateway(s)
	for _, l := range stack.Listeners {
		if l.Port == 5432 {
			t.Errorf("listener 5432 built for a ListenerSet the Gateway does not allow")
		}
	}
	if c := cond(set.ListenerSets[0].Status.Conditions, "Accepted"); c.Reason != "NotAllowed" {
		t.Errorf("ListenerSet Accepted = %+v, want NotAllowed", c)
	}
	if a := set.Gateway.AttachedListenerSets; a == nil || *a != 0 {
		t.Errorf("attachedListenerSets = %v, want 0", a)
	}
	for _, r := range set.Routes {
		if r.Name == "via-set" {
			if c := cond(r.Parents[0].Conditions, "Accepted"); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "not accepted") {
				t.Errorf("route through a refused ListenerSet: %+v", c)
			}
		}
	}
}

// lsRouteSnapshot is the TCPRoute seed with an allowed ListenerSet team/extra (entry db) and a
// route team/via-set attached to it through ref.
func lsRouteSnapshot(t *testing.T, ref gwv1.ParentReference) *snapshot.Snapshot {
	t.Helper()
	s := loadSnapshot(t, filepath.Join("testdata", "TCPRouteSimpleSameNamespace"))
	s.Gateway.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: ptr(gwv1.NamespacesFromAll)}}
	ls := listenerSet("team", "extra", 0, entry("db", 5432, gwv1.TCPProtocolType))
	ls.Spec.ParentRef = gwv1.ParentGatewayReference{Name: "aws-tcp-gateway", Namespace: ptr(gwv1.Namespace("default"))}
	s.ListenerSets = []gwv1.ListenerSet{ls}
	svc := s.Services[0].DeepCopy()
	svc.Namespace = "team"
	s.Services = append(s.Services, *svc)
	r := s.TCPRoutes[0].DeepCopy()
	r.Namespace, r.Name = "team", "via-set"
	r.Spec.ParentRefs = []gwv1.ParentReference{ref}
	s.TCPRoutes = append(s.TCPRoutes, *r)
	return s
}

// TestUnreconciledKeepsListenerSetRouteEntries: when a reconcile fails before AWS is read, a
// route attached through a ListenerSet that has an entry of ours keeps it, as a route attached
// to the Gateway itself does; it is not reset to Accepted=Unknown.
func TestUnreconciledKeepsListenerSetRouteEntries(t *testing.T) {
	toSet := gwv1.ParentReference{Group: ptr(gwv1.Group(gwv1.GroupName)), Kind: ptr(gwv1.Kind("ListenerSet")),
		Namespace: ptr(gwv1.Namespace("team")), Name: "extra", SectionName: ptr(gwv1.SectionName("db"))}
	s := lsRouteSnapshot(t, toSet)
	routeIn := func(set []string, name string) bool { return slices.Contains(set, name) }
	names := func(s *snapshot.Snapshot) []string {
		var out []string
		for _, r := range Unreconciled(s, "AWS unreachable").Routes {
			out = append(out, r.Namespace+"/"+r.Name)
		}
		return out
	}
	if got := names(s); !routeIn(got, "team/via-set") {
		t.Fatalf("a route without an entry of ours: Unreconciled lists %v, want team/via-set with Pending", got)
	}
	r := &s.TCPRoutes[len(s.TCPRoutes)-1]
	r.Status.Parents = []gwv1.RouteParentStatus{{ParentRef: toSet, ControllerName: gwv1.GatewayController(s.Settings.ControllerName),
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"}}}}
	if got := names(s); routeIn(got, "team/via-set") {
		t.Errorf("a route with an entry of ours through the ListenerSet: Unreconciled lists %v, want its entry kept", got)
	}
}

// TestListenerSetParentRefDefaultGroup: a parentRef of kind ListenerSet without a group names a
// ListenerSet (the group defaults to gateway.networking.k8s.io); an explicit empty group is the
// core API group, which has no ListenerSet.
func TestListenerSetParentRefDefaultGroup(t *testing.T) {
	for _, tt := range []struct {
		name  string
		group *gwv1.Group
		want  string
	}{
		{"no group", nil, "Accepted"},
		{"the Gateway API group", ptr(gwv1.Group(gwv1.GroupName)), "Accepted"},
		{"the core group", ptr(gwv1.Group("")), ""},
	} {
		s := lsRouteSnapshot(t, gwv1.ParentReference{Group: tt.group, Kind: ptr(gwv1.Kind("ListenerSet")),
			Namespace: ptr(gwv1.Namespace("team")), Name: "extra", SectionName: ptr(gwv1.SectionName("db"))})
		stack, set := Gateway(s)
		var got string
		for _, r := range set.Routes {
			if r.Namespace == "team" && r.Name == "via-set" && len(r.Parents) == 1 {
				got = cond(r.Parents[0].Conditions, "Accepted").Reason
			}
		}
		if got != tt.want {
			t.Errorf("%s: route Accepted reason %q, want %q", tt.name, got, tt.want)
		}
		served := slices.ContainsFunc(stack.Listeners, func(l model.Listener) bool { return l.Port == 5432 })
		if served != (tt.want == "Accepted") {
			t.Errorf("%s: listener 5432 on the load balancer %t, want %t", tt.name, served, tt.want == "Accepted")
		}
	}
}
