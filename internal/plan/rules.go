package plan

import (
	"cmp"
	"slices"

	"github.com/elbgateway/elbgateway/internal/model"
)

// rules plans the rules of one listener that exists and stays. Rules are paired in four steps:
//
//  1. by content (conditions, actions and transforms, normalized): a pair at another priority
//     becomes a priority move, and every move of the listener is one RulePriorities change;
//  2. by actions and transforms alone, when exactly one rule on each side has them: the
//     conditions changed (a path edit), the rule is modified in place and moved if need be;
//  3. the rest by priority: a pair whose content differs is modified in place;
//  4. the rest are created or deleted.
//
// Rules that forward to a target group replaced under its name are deleted first and created
// again (AWS keeps a target group in use); those forwarding to one replaced under a new name are
// modified to it.
//
// Order on the listener: deletes run first (phaseEarlyDelete), so a full listener never hits
// TooManyRules and moves find the slots they target free; then the moves; then creates, which
// may take slots the moves freed; modifies keep their slot and run with the other updates.
func (d *differ) rules(want, have *model.Listener) {
	port := want.Port
	m := matchRules(want.Rules, have.Rules, func(r *model.Rule) bool { return d.usesAny(r.Actions, d.recreateUsers) })
	for _, h := range m.recreate {
		d.add(phaseEarlyDelete, sortKey{port: port, priority: h.Priority}, Change{Op: OpDelete, Kind: KindRule, ID: ruleID(port, h.Priority),
			Reason: reasonRecreate, Observed: Resource{Rule: h, ListenerPort: port}})
	}
	for _, h := range m.deletes {
		d.add(phaseEarlyDelete, sortKey{port: port, priority: h.Priority}, Change{Op: OpDelete, Kind: KindRule, ID: ruleID(port, h.Priority),
			Reason: "no longer desired", Observed: Resource{Rule: h, ListenerPort: port}})
	}
	if steps := planMoves(m, want.Rules); len(steps) > 0 {
		d.add(phaseCreate, sortKey{port: port}, Change{Op: OpUpdate, Kind: KindRulePriorities, ID: portID(port), Reason: describeMoves(steps),
			Update:  &Update{Fields: []Field{FieldPriorities}, PriorityMoves: steps},
			Desired: Resource{Listener: want, ListenerPort: port}, Observed: Resource{Listener: have, ListenerPort: port}})
	}
	for _, w := range m.creates {
		reason := "not found"
		if d.usesAny(w.Actions, d.recreateUsers) {
			reason = reasonRecreate
		}
		d.add(phaseCreate, sortKey{port: port, priority: w.Priority}, Change{Op: OpCreate, Kind: KindRule, ID: ruleID(port, w.Priority),
			Reason: reason, Desired: Resource{Rule: w, ListenerPort: port}})
	}
	for _, p := range m.pairs {
		u, why := ruleUpdate(port, p.want, p.have)
		if d.usesAny(p.want.Actions, d.repointUsers) {
			u = u.with(FieldRule)
			why = joinReasons(why, "a target group it forwards to is replaced")
		}
		if u != nil {
			d.add(phaseUpdate, sortKey{port: port, priority: p.want.Priority}, Change{Op: OpUpdate, Kind: KindRule, ID: ruleID(port, p.want.Priority),
				Reason: why, Update: u, Desired: Resource{Rule: p.want, ListenerPort: port}, Observed: Resource{Rule: p.have, ListenerPort: port}})
		}
	}
}

const reasonRecreate = "recreate: a target group it forwards to is replaced under the same name"

// ruleMatch is the outcome of pairing one listener's desired rules with its observed ones.
type ruleMatch struct {
	// pairs are desired rules with the observed rule that becomes them, sorted by desired
	// priority; the observed one may sit at another priority (a move).
	pairs []rulePair
	// creates are desired rules without an observed one, deletes observed rules without a
	// desired one, recreate observed rules deleted so that a target group can be replaced;
	// each sorted by priority.
	creates  []*model.Rule
	deletes  []*model.Rule
	recreate []*model.Rule
}

type rulePair struct {
	want, have *model.Rule
}

// matchRules pairs rules by content, then by priority. Rules that recreate says must be
// recreated take part in neither.
func matchRules(desired, observed []model.Rule, recreate func(*model.Rule) bool) ruleMatch {
	var m ruleMatch
	var want, have []*model.Rule
	for i := range desired {
		if w := &desired[i]; recreate(w) {
			m.creates = append(m.creates, w)
		} else {
			want = append(want, w)
		}
	}
	for i := range observed {
		if h := &observed[i]; recreate(h) {
			m.recreate = append(m.recreate, h)
		} else {
			have = append(have, h)
		}
	}
	byPriority := func(a, b *model.Rule) int { return cmp.Compare(a.Priority, b.Priority) }
	slices.SortFunc(want, byPriority)
	slices.SortFunc(have, byPriority)

	paired := map[*model.Rule]bool{}
	pair := func(w, h *model.Rule) {
		m.pairs = append(m.pairs, rulePair{want: w, have: h})
		paired[w], paired[h] = true, true
	}
	// 1. By content: the same content at the same priority first, then in priority order.
	contentOf := map[*model.Rule]string{}
	unpaired := map[string][]*model.Rule{}
	for _, h := range have {
		contentOf[h] = ruleContent(h)
		unpaired[contentOf[h]] = append(unpaired[contentOf[h]], h)
	}
	for _, w := range want {
		contentOf[w] = ruleContent(w)
		for _, h := range unpaired[contentOf[w]] {
			if h.Priority == w.Priority {
				pair(w, h)
				break
			}
		}
	}
	for _, w := range want {
		if paired[w] {
			continue
		}
		for _, h := range unpaired[contentOf[w]] {
			if !paired[h] {
				pair(w, h)
				break
			}
		}
	}
	// 2. By what they do: a rule whose conditions changed (a path edit) and whose actions and
	//    transforms are those of exactly one unpaired observed rule is that rule, modified in
	//    place (one ModifyRule) rather than deleted and created.
	actionsOf := func(r *model.Rule) string { return describeActions(r.Actions) + " " + describeTransforms(r.Transforms) }
	byActions := map[string][]*model.Rule{}
	for _, h := range have {
		if !paired[h] {
			byActions[actionsOf(h)] = append(byActions[actionsOf(h)], h)
		}
	}
	wantsByActions := map[string]int{}
	for _, w := range want {
		if !paired[w] {
			wantsByActions[actionsOf(w)]++
		}
	}
	for _, w := range want {
		if k := actionsOf(w); !paired[w] && wantsByActions[k] == 1 && len(byActions[k]) == 1 {
			pair(w, byActions[k][0])
		}
	}
	// 3. By priority.
	free := map[int32]*model.Rule{}
	for _, h := range have {
		if !paired[h] {
			free[h.Priority] = h
		}
	}
	for _, w := range want {
		if h := free[w.Priority]; !paired[w] && h != nil {
			pair(w, h)
		}
	}
	// 4. The rest.
	for _, w := range want {
		if !paired[w] {
			m.creates = append(m.creates, w)
		}
	}
	for _, h := range have {
		if !paired[h] {
			m.deletes = append(m.deletes, h)
		}
	}
	slices.SortFunc(m.pairs, func(a, b rulePair) int { return byPriority(a.want, b.want) })
	slices.SortFunc(m.creates, byPriority)
	slices.SortFunc(m.recreate, byPriority)
	return m
}

// ruleContent is what makes two rules the same rule wherever they sit: conditions, actions
// and transforms in canonical form. Secrets are not part of it (AWS does not return them),
// nor their fingerprints: ruleUpdate compares those, so a rotated secret modifies the rule.
func ruleContent(r *model.Rule) string {
	return describeConditions(r.Conditions) + " " + describeActions(r.Actions) + " " + describeTransforms(r.Transforms)
}

// ruleUpdate compares a desired rule with the observed rule that becomes it. A tag whose value
// names the rule's position ("<port>:<priority>", the resource tag) is not rewritten when the
// rule moves: that would cost one AddTags call per moved rule, and nothing reads it back.
func ruleUpdate(port int32, want, have *model.Rule) (*Update, string) {
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
	if s := secretChange(want.Actions, have.Actions); s != "" {
		modify = true
		why.add(s)
	}
	if w, h := describeTransforms(want.Transforms), describeTransforms(have.Transforms); w != h {
		modify = true
		why.add("transforms " + h + " → " + w)
	}
	if modify {
		u.Fields = append(u.Fields, FieldRule)
	}
	wantTags, haveTags := withoutPositionTags(port, want.Tags, have.Tags)
	u.tags(wantTags, haveTags, &why)
	return u.done(), why.String()
}

// withoutPositionTags drops the keys both tag sets hold with a "<port>:<priority>" value.
func withoutPositionTags(port int32, want, have model.Tags) (model.Tags, model.Tags) {
	var drop []string
	for k, v := range want {
		if isPositionTag(port, v) && isPositionTag(port, have[k]) {
			drop = append(drop, k)
		}
	}
	if len(drop) == 0 {
		return want, have
	}
	w, h := model.Tags{}, model.Tags{}
	for k, v := range want {
		w[k] = v
	}
	for k, v := range have {
		h[k] = v
	}
	for _, k := range drop {
		delete(w, k)
		delete(h, k)
	}
	return w, h
}

func isPositionTag(port int32, v string) bool {
	prefix := portID(port) + ":"
	if len(v) <= len(prefix) || v[:len(prefix)] != prefix {
		return false
	}
	for _, c := range v[len(prefix):] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
