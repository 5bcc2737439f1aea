package plan

import (
	"sort"

	"github.com/elbgateway/elbgateway/internal/model"
)

// rules matches the rules of one listener by priority: new priorities are created, changed ones
// modified, missing ones deleted. Rules that forward to a target group replaced under its name
// are deleted first and created again; those forwarding to one replaced under a new name are
// modified to it.
func (d *differ) rules(want, have *model.Listener) {
	port := want.Port
	observed := map[int32]*model.Rule{}
	for i := range have.Rules {
		r := &have.Rules[i]
		observed[r.Priority] = r
	}
	desired := map[int32]bool{}
	for i := range want.Rules {
		w := &want.Rules[i]
		desired[w.Priority] = true
		h := observed[w.Priority]
		id, k := ruleID(port, w.Priority), sortKey{port: port, priority: w.Priority}
		switch {
		case h == nil:
			d.add(phaseCreate, k, Change{Op: OpCreate, Kind: KindRule, ID: id, Reason: "not found", Desired: Resource{Rule: w, ListenerPort: port}})
		case d.usesAny(w.Actions, d.recreateUsers) || d.usesAny(h.Actions, d.recreateUsers):
			reason := "recreate: a target group it forwards to is replaced under the same name"
			d.add(phaseEarlyDelete, k, Change{Op: OpDelete, Kind: KindRule, ID: id, Reason: reason, Observed: Resource{Rule: h, ListenerPort: port}})
			d.add(phaseCreate, k, Change{Op: OpCreate, Kind: KindRule, ID: id, Reason: reason, Desired: Resource{Rule: w, ListenerPort: port}})
		default:
			u, why := ruleUpdate(w, h)
			if d.usesAny(w.Actions, d.repointUsers) {
				u = u.with(FieldRule)
				why = joinReasons(why, "a target group it forwards to is replaced")
			}
			if u != nil {
				d.add(phaseUpdate, k, Change{Op: OpUpdate, Kind: KindRule, ID: id, Reason: why, Update: u,
					Desired: Resource{Rule: w, ListenerPort: port}, Observed: Resource{Rule: h, ListenerPort: port}})
			}
		}
	}
	priorities := make([]int32, 0, len(observed))
	for p := range observed {
		priorities = append(priorities, p)
	}
	sort.Slice(priorities, func(i, j int) bool { return priorities[i] < priorities[j] })
	for _, p := range priorities {
		if !desired[p] {
			d.add(phaseDelete, sortKey{port: port, priority: p}, Change{Op: OpDelete, Kind: KindRule, ID: ruleID(port, p),
				Reason: "no longer desired", Observed: Resource{Rule: observed[p], ListenerPort: port}})
		}
	}
}

func ruleUpdate(want, have *model.Rule) (*Update, string) {
	u := &Update{}
	var why reasons
	modify := false
	if w, h := describeConditions(want.Conditions), describeConditions(have.Conditions); w != h {
		modify = true
		why.add("conditions " + h + " → " + w)
	}
	if w, h := describeActions(want.Actions), describeActions(have.Actions); w != h {
		modify = true
		why.add("actions " + h + " → " + w)
	}
	if w, h := describeTransforms(want.Transforms), describeTransforms(have.Transforms); w != h {
		modify = true
		why.add("transforms " + h + " → " + w)
	}
	if modify {
		u.Fields = append(u.Fields, FieldRule)
	}
	if add, remove := diffTags(want.Tags, have.Tags); len(add)+len(remove) > 0 {
		u.Fields = append(u.Fields, FieldTags)
		u.AddTags, u.RemoveTags = add, remove
		why.add(describeTags(add, remove))
	}
	return u.done(), why.String()
}
