package plan

import (
	"sort"

	"github.com/elbgateway/elbgateway/internal/model"
)

// listeners matches listeners by port. Protocol, default actions, certificates, SSL and ALPN
// policies, mTLS, attributes and tags are modified in place; rules are planned by rules().
func (d *differ) listeners() {
	if d.lbDeleted || d.desired.lb == nil {
		return
	}
	observed := map[int32]*model.Listener{}
	if !d.lbRecreated {
		for i := range d.observed.listeners {
			l := &d.observed.listeners[i]
			observed[l.Port] = l
		}
	}
	desiredPorts := map[int32]bool{}
	for i := range d.desired.listeners {
		want := &d.desired.listeners[i]
		desiredPorts[want.Port] = true
		have := observed[want.Port]
		id, k := portID(want.Port), sortKey{port: want.Port}
		switch {
		case have == nil:
			reason := "not found"
			if d.lbRecreated {
				reason = "load balancer is new"
			}
			d.createListener(want, reason)
		case d.usesAny(want.DefaultActions, d.recreateUsers) || d.usesAny(have.DefaultActions, d.recreateUsers):
			reason := "recreate: a target group it forwards to is replaced under the same name"
			d.add(phaseEarlyDelete, k, Change{Op: OpDelete, Kind: KindListener, ID: id, Reason: reason, Observed: Resource{Listener: have}})
			d.createListener(want, reason)
		default:
			u, why := d.listenerUpdate(want, have)
			if d.usesAny(want.DefaultActions, d.repointUsers) {
				u = u.with(FieldListener)
				why = joinReasons(why, "a target group it forwards to is replaced")
			}
			if u != nil {
				d.add(phaseUpdate, k, Change{Op: OpUpdate, Kind: KindListener, ID: id, Reason: why, Update: u,
					Desired: Resource{Listener: want}, Observed: Resource{Listener: have}})
			}
			d.rules(want, have)
		}
	}
	for port, have := range observed {
		if !desiredPorts[port] {
			d.add(phaseDelete, sortKey{port: port}, Change{Op: OpDelete, Kind: KindListener, ID: portID(port), Reason: "no longer desired", Observed: Resource{Listener: have}})
		}
	}
}

func (d *differ) createListener(want *model.Listener, reason string) {
	d.add(phaseCreate, sortKey{port: want.Port}, Change{Op: OpCreate, Kind: KindListener, ID: portID(want.Port), Reason: reason, Desired: Resource{Listener: want}})
	for i := range want.Rules {
		r := &want.Rules[i]
		d.add(phaseCreate, sortKey{port: want.Port, priority: r.Priority}, Change{Op: OpCreate, Kind: KindRule, ID: ruleID(want.Port, r.Priority),
			Reason: "listener is new", Desired: Resource{Rule: r, ListenerPort: want.Port}})
	}
}

// usesAny reports whether actions forward to one of the target groups named in ids.
func (d *differ) usesAny(actions []model.Action, ids map[string]bool) bool {
	if len(ids) == 0 {
		return false
	}
	for _, a := range actions {
		if a.Forward == nil {
			continue
		}
		for _, tg := range a.Forward.TargetGroups {
			if tg.TargetGroup.ID != "" && ids[tg.TargetGroup.ID] {
				return true
			}
		}
	}
	return false
}

func (d *differ) listenerUpdate(want, have *model.Listener) (*Update, string) {
	u := &Update{}
	var why reasons
	modify := false
	if want.Protocol != have.Protocol {
		modify = true
		why.add("protocol " + have.Protocol + " → " + want.Protocol)
	}
	if w, h := describeActions(want.DefaultActions), describeActions(have.DefaultActions); w != h {
		modify = true
		why.add("defaultActions " + h + " → " + w)
	}
	if s := secretChange(want.DefaultActions, have.DefaultActions); s != "" {
		modify = true
		why.add("defaultActions " + s)
	}
	certs := d.certificateDiff(want.Certificates, have.Certificates)
	if certs.defaultWhy != "" {
		modify = true
		why.add(certs.defaultWhy)
	}
	if isSecure(want.Protocol) && want.SSLPolicy != "" && want.SSLPolicy != have.SSLPolicy {
		modify = true
		why.add("sslPolicy " + orDefault(have.SSLPolicy, "none") + " → " + want.SSLPolicy)
	}
	if want.Protocol == "HTTPS" {
		if w, h := describeMutualAuth(want.MutualAuthentication), describeMutualAuth(have.MutualAuthentication); w != h {
			modify = true
			why.add("mutualAuthentication " + h + " → " + w)
		}
	}
	if want.Protocol == "TLS" {
		if w, h := orDefault(want.ALPNPolicy, "None"), orDefault(have.ALPNPolicy, "None"); w != h {
			modify = true
			why.add("alpnPolicy " + h + " → " + w)
		}
	}
	if modify {
		u.Fields = append(u.Fields, FieldListener)
	}
	if certs.setWhy != "" {
		u.Fields = append(u.Fields, FieldCertificates)
		u.AddCertificates, u.RemoveCertificates = certs.add, certs.remove
		why.add(certs.setWhy)
	}
	u.attributes(want.Attributes, have.Attributes, nil, &why)
	u.tags(want.Tags, have.Tags, &why)
	return u.done(), why.String()
}

func isSecure(protocol string) bool { return protocol == "HTTPS" || protocol == "TLS" }

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func rest(s []string) []string {
	if len(s) < 2 {
		return nil
	}
	out := append([]string(nil), s[1:]...)
	sort.Strings(out)
	return out
}
