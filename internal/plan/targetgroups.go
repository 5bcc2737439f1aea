package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
)

// targetGroups creates, replaces, updates and deletes target groups by logical ID. A change of
// an immutable field (name, target type, protocol, protocol version, port, VPC, IP address type)
// replaces the target group. When the replacement keeps the name, AWS cannot hold both, so the
// old one and the listeners and rules that use it are deleted first; otherwise the new one is
// created, its users are modified to it, and the old one deleted last.
func (d *differ) targetGroups() {
	observed := map[string][]*model.TargetGroup{}
	for i := range d.observed.tgs {
		tg := &d.observed.tgs[i]
		observed[tg.ID] = append(observed[tg.ID], tg)
	}
	desiredIDs := map[string]bool{}
	for i := range d.desired.tgs {
		want := &d.desired.tgs[i]
		if desiredIDs[want.ID] {
			continue // a desired stack holds one resource per ID
		}
		desiredIDs[want.ID] = true
		k := sortKey{id: want.ID}
		have, extras := pickTargetGroup(want, observed[want.ID])
		for _, extra := range extras {
			d.add(phaseDelete, sortKey{id: want.ID + "/" + extra.ARN}, Change{Op: OpDelete, Kind: KindTargetGroup, ID: want.ID,
				Reason: "duplicate " + extra.ARN, Observed: Resource{TargetGroup: extra}})
		}
		if have == nil {
			d.add(phaseCreate, k, Change{Op: OpCreate, Kind: KindTargetGroup, ID: want.ID, Reason: "not found", Desired: Resource{TargetGroup: want}})
			continue
		}
		if why := targetGroupImmutableDiff(want, have); why != "" {
			reason := replacePrefix + why
			deletePhase := phaseDelete
			if want.Name == have.Name {
				deletePhase = phaseEarlyDelete
				d.recreateUsers[want.ID] = true
			} else {
				d.repointUsers[want.ID] = true
			}
			d.add(deletePhase, k, Change{Op: OpDelete, Kind: KindTargetGroup, ID: want.ID, Reason: reason, Observed: Resource{TargetGroup: have}})
			d.add(phaseCreate, k, Change{Op: OpCreate, Kind: KindTargetGroup, ID: want.ID, Reason: reason, Desired: Resource{TargetGroup: want}})
			continue
		}
		if u, why := targetGroupUpdate(d.stackType, want, have); u != nil {
			d.add(phaseUpdate, k, Change{Op: OpUpdate, Kind: KindTargetGroup, ID: want.ID, Reason: why, Update: u,
				Desired: Resource{TargetGroup: want}, Observed: Resource{TargetGroup: have}})
		}
	}
	for id, have := range observed {
		if desiredIDs[id] {
			continue
		}
		for _, tg := range have {
			d.add(phaseDelete, sortKey{id: id + "/" + tg.ARN}, Change{Op: OpDelete, Kind: KindTargetGroup, ID: id,
				Reason: "no longer desired", Observed: Resource{TargetGroup: tg}})
		}
	}
}

// pickTargetGroup chooses, among observed target groups with one logical ID, the one to keep:
// the first that needs no replacement, else the first by ARN. The others are extras.
func pickTargetGroup(want *model.TargetGroup, have []*model.TargetGroup) (*model.TargetGroup, []*model.TargetGroup) {
	if len(have) == 0 {
		return nil, nil
	}
	sorted := append([]*model.TargetGroup(nil), have...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ARN < sorted[j].ARN })
	keep := 0
	for i, tg := range sorted {
		if targetGroupImmutableDiff(want, tg) == "" {
			keep = i
			break
		}
	}
	extras := append(append([]*model.TargetGroup(nil), sorted[:keep]...), sorted[keep+1:]...)
	return sorted[keep], extras
}

func targetGroupImmutableDiff(want, have *model.TargetGroup) string {
	var why reasons
	why.field("name", want.Name, have.Name)
	why.field("targetType", want.TargetType, have.TargetType)
	why.field("protocol", want.Protocol, have.Protocol)
	why.field("protocolVersion", protocolVersion(want), protocolVersion(have))
	why.field("port", portID(want.Port), portID(have.Port))
	why.field("vpcID", want.VPCID, have.VPCID)
	why.field("ipAddressType", orDefault(want.IPAddressType, "ipv4"), orDefault(have.IPAddressType, "ipv4"))
	return why.String()
}

// protocolVersion is HTTP1 for HTTP and HTTPS target groups that do not say otherwise (AWS's
// default), and nothing for the others.
func protocolVersion(tg *model.TargetGroup) string {
	if tg.Protocol != "HTTP" && tg.Protocol != "HTTPS" {
		return ""
	}
	return orDefault(tg.ProtocolVersion, "HTTP1")
}

func targetGroupUpdate(t model.LoadBalancerType, want, have *model.TargetGroup) (*Update, string) {
	u := &Update{}
	var why reasons
	if w, h := normalHealthCheck(want.HealthCheck), normalHealthCheck(have.HealthCheck); w != h {
		u.Fields = append(u.Fields, FieldHealthCheck)
		why.add("healthCheck " + describeHealthCheck(h) + " → " + describeHealthCheck(w))
	}
	if want.TargetType == "alb" {
		// A target group of type alb keeps AWS's attributes ("you can't modify the target
		// group attributes"); its one target is part of it.
		if w, h := targetList(want.Targets), targetList(have.Targets); w != h {
			u.Fields = append(u.Fields, FieldTargets)
			u.Register, u.Deregister = targetsMissing(want.Targets, have.Targets), targetsMissing(have.Targets, want.Targets)
			why.add("targets [" + h + "] → [" + w + "]")
		}
	} else {
		wantAttrs := ImpliedTargetGroupAttributes(want.Attributes)
		u.attributes(wantAttrs, have.Attributes, TargetGroupDefaults(t, want.Protocol), &why)
		pairUnhealthyAttributes(u.SetAttributes, wantAttrs, have.Attributes)
	}
	u.tags(want.Tags, have.Tags, &why)
	return u.done(), why.String()
}

func targetList(ts []model.Target) string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s:%d", t.ID, t.Port))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// targetsMissing are the targets of a that b lacks.
func targetsMissing(a, b []model.Target) []model.Target {
	var out []model.Target
	for _, t := range a {
		if !slices.ContainsFunc(b, func(x model.Target) bool { return x.ID == t.ID && x.Port == t.Port }) {
			out = append(out, t)
		}
	}
	return out
}
