package plan

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestRulePlansStayCheap pins what the rule golden cases may contain, so that rewriting a
// golden file cannot quietly make a plan more expensive.
func TestRulePlansStayCheap(t *testing.T) {
	cases := []struct {
		name string
		// want counts changes by "op kind".
		want map[string]int
	}{
		{"rules-insert-route-gaps", map[string]int{"create Rule": 2}},
		{"rules-insert-route-push", map[string]int{"create Rule": 1, "update RulePriorities": 1}},
		{"rules-remove-route", map[string]int{"delete Rule": 2}},
		{"rules-weights-change", map[string]int{"update Rule": 1}},
		{"rules-swap", map[string]int{"update RulePriorities": 1}},
		{"rules-full-listener", map[string]int{"delete Rule": 3, "create Rule": 3}},
		{"alb-rules-by-priority", map[string]int{"update RulePriorities": 1, "update Rule": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join("testdata", c.name)
			changes := Diff(loadStack(t, filepath.Join(dir, "desired.yaml")), loadStack(t, filepath.Join(dir, "observed.yaml")))
			got := map[string]int{}
			for _, ch := range changes {
				got[string(ch.Op)+" "+string(ch.Kind)]++
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("changes by kind: got %v, want %v\n%s", got, c.want, render(changes))
			}
			lastDelete, firstCreate := -1, len(changes)
			for i, ch := range changes {
				if ch.Kind == KindRule && ch.Op == OpDelete {
					lastDelete = i
				}
				if ch.Kind == KindRule && ch.Op == OpCreate && i < firstCreate {
					firstCreate = i
				}
			}
			if lastDelete > firstCreate {
				t.Errorf("a rule is deleted after a rule is created (TooManyRules on a full listener):\n%s", render(changes))
			}
		})
	}
}

// TestMovesNeverShareAPriority plays the moves of random reorderings step by step the way a
// strict emulator checks them (each target free before the call) and checks the end state.
func TestMovesNeverShareAPriority(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		n := 1 + rng.IntN(12)
		observed := make([]model.Rule, n)
		prios := rng.Perm(3 * n)
		for i := range observed {
			observed[i] = model.Rule{Priority: int32(prios[i] + 1), ARN: fmt.Sprintf("rule-%d", i),
				Conditions: []model.Condition{{Field: "path-pattern", Values: []string{fmt.Sprintf("/%d", i)}}},
				Actions:    []model.Action{{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{StatusCode: "200"}}}}
		}
		// The desired rules are the same rules at new priorities drawn from the same small range.
		desired := slices.Clone(observed)
		newPrios := rng.Perm(3 * n)
		for i := range desired {
			desired[i].Priority, desired[i].ARN = int32(newPrios[i]+1), ""
		}
		m := matchRules(desired, observed, func(*model.Rule) bool { return false })
		if len(m.creates)+len(m.deletes) != 0 {
			t.Fatalf("round %d: same content must match by content, got %d creates and %d deletes", round, len(m.creates), len(m.deletes))
		}
		at := map[int32]string{}
		where := map[string]int32{}
		for _, r := range observed {
			at[r.Priority], where[r.ARN] = r.ARN, r.Priority
		}
		steps := planMoves(m, desired)
		for si, step := range steps {
			for _, mv := range step {
				if holder, ok := at[mv.To]; ok {
					t.Fatalf("round %d step %d: %d→%d targets a priority %s holds\nsteps %s", round, si, mv.From, mv.To, holder, describeMoves(steps))
				}
				if where[mv.Rule.ARN] != mv.From {
					t.Fatalf("round %d step %d: move of %s from %d, but it is at %d", round, si, mv.Rule.ARN, mv.From, where[mv.Rule.ARN])
				}
			}
			for _, mv := range step {
				delete(at, mv.From)
			}
			for _, mv := range step {
				at[mv.To], where[mv.Rule.ARN] = mv.Rule.ARN, mv.To
			}
		}
		for i, r := range desired {
			if got := where[observed[i].ARN]; got != r.Priority {
				t.Fatalf("round %d: %s ends at %d, want %d (steps %s)", round, observed[i].ARN, got, r.Priority, describeMoves(steps))
			}
		}
		if len(steps) > 0 && !strings.HasPrefix(describeMoves(steps), "priorities ") {
			t.Fatalf("describeMoves: %q", describeMoves(steps))
		}
	}
}

// TestMovesToFreeSlotsTakeOneStep: when every target is free, all moves are one call.
func TestMovesToFreeSlotsTakeOneStep(t *testing.T) {
	rule := func(p int32, path string) model.Rule {
		return model.Rule{Priority: p, Conditions: []model.Condition{{Field: "path-pattern", Values: []string{path}}},
			Actions: []model.Action{{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{StatusCode: "200"}}}}
	}
	observed := []model.Rule{rule(1, "/a"), rule(2, "/b"), rule(3, "/c")}
	desired := []model.Rule{rule(10, "/a"), rule(20, "/b"), rule(30, "/c")}
	steps := planMoves(matchRules(desired, observed, func(*model.Rule) bool { return false }), desired)
	if len(steps) != 1 || len(steps[0]) != 3 {
		t.Fatalf("want one step of 3 moves, got %s", describeMoves(steps))
	}
}

// TestLongChainTakesTwoSteps: when a removed rule leaves nine rules of equal precedence behind
// it to move down one priority each, the moves are two SetRulePriorities calls, not nine.
func TestLongChainTakesTwoSteps(t *testing.T) {
	rule := func(p int32, path string) model.Rule {
		return model.Rule{Priority: p, ARN: "rule" + path, Conditions: []model.Condition{{Field: "path-pattern", Values: []string{path}}},
			Actions: []model.Action{{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{StatusCode: "200"}}}}
	}
	var observed, desired []model.Rule
	for i := range int32(10) {
		observed = append(observed, rule(100+i, fmt.Sprintf("/%d", i)))
		if i > 0 {
			desired = append(desired, rule(99+i, fmt.Sprintf("/%d", i)))
		}
	}
	m := matchRules(desired, observed, func(*model.Rule) bool { return false })
	if len(m.deletes) != 1 || len(m.creates) != 0 {
		t.Fatalf("want the first rule deleted and no create, got %d deletes and %d creates", len(m.deletes), len(m.creates))
	}
	steps := planMoves(m, desired)
	if len(steps) != 2 {
		t.Fatalf("want two steps, got %s", describeMoves(steps))
	}
	at := map[int32]string{}
	for _, r := range observed[1:] {
		at[r.Priority] = r.ARN
	}
	for _, step := range steps {
		for _, mv := range step {
			if holder, ok := at[mv.To]; ok {
				t.Fatalf("%d→%d targets a priority %s holds (steps %s)", mv.From, mv.To, holder, describeMoves(steps))
			}
		}
		for _, mv := range step {
			delete(at, mv.From)
		}
		for _, mv := range step {
			at[mv.To] = mv.Rule.ARN
		}
	}
	for _, r := range desired {
		if at[r.Priority] != r.ARN {
			t.Errorf("priority %d holds %q, want %s (steps %s)", r.Priority, at[r.Priority], r.ARN, describeMoves(steps))
		}
	}
}

// TestOIDCSecretIsNotCompared: AWS never returns the client secret, so a desired rule with a
// secret equals the observed rule without one, and the secret never shows in a plan.
func TestOIDCSecretIsNotCompared(t *testing.T) {
	oidc := func(secret string) model.Action {
		return model.Action{Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: &model.AuthenticateOIDCAction{
			Issuer: "https://idp", AuthorizationEndpoint: "https://idp/a", TokenEndpoint: "https://idp/t", UserInfoEndpoint: "https://idp/u",
			ClientID: "c", ClientSecret: model.NewSecret(secret)}}
	}
	want := &model.Rule{Priority: 1, Actions: []model.Action{oidc("s3cret-value")}}
	have := &model.Rule{Priority: 1, Actions: []model.Action{oidc("")}}
	if u, why := ruleUpdate(443, want, have); u != nil {
		t.Errorf("want no update, got %v: %s", u.Fields, why)
	}
	want.Actions[0].AuthenticateOIDC.ClientID = "other"
	u, why := ruleUpdate(443, want, have)
	if !u.Has(FieldRule) {
		t.Fatalf("a changed client ID must modify the rule")
	}
	if strings.Contains(why, "s3cret-value") {
		t.Errorf("the reason shows the secret: %s", why)
	}
}

// TestMovedRuleKeepsItsResourceTag: the "<port>:<priority>" resource tag is not rewritten
// after a move, and other tag changes still are.
func TestMovedRuleKeepsItsResourceTag(t *testing.T) {
	want := &model.Rule{Priority: 2, Tags: model.Tags{"res": "80:2", "team": "a"}}
	have := &model.Rule{Priority: 3, Tags: model.Tags{"res": "80:3", "team": "a"}}
	if u, why := ruleUpdate(80, want, have); u != nil {
		t.Errorf("want no update, got %v: %s", u.Fields, why)
	}
	want.Tags["team"] = "b"
	u, _ := ruleUpdate(80, want, have)
	if !u.Has(FieldTags) || fmt.Sprint(u.AddTags) != "map[team:b]" || len(u.RemoveTags) != 0 {
		t.Errorf("want only team rewritten, got %+v", u)
	}
}

// TestPathEditModifiesTheRule: a rule whose path changed and whose forward is its own is
// modified in place, also when its priority changes, never deleted and created.
func TestPathEditModifiesTheRule(t *testing.T) {
	rule := func(prio int32, path, tg string) model.Rule {
		return model.Rule{Priority: prio,
			Conditions: []model.Condition{{Field: "path-pattern", Values: []string{path}}},
			Actions:    []model.Action{forward(tg)}}
	}
	have := []model.Rule{rule(1, "/a", "tg-a"), rule(2, "/b", "tg-b"), rule(3, "/c", "tg-c")}
	for _, c := range []struct {
		name string
		want []model.Rule
	}{
		{"same priority", []model.Rule{rule(1, "/a", "tg-a"), rule(2, "/b-edited", "tg-b"), rule(3, "/c", "tg-c")}},
		{"new priority", []model.Rule{rule(1, "/b-edited", "tg-b"), rule(2, "/a", "tg-a"), rule(3, "/c", "tg-c")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := matchRules(c.want, have, func(*model.Rule) bool { return false })
			if len(m.creates)+len(m.deletes) != 0 || len(m.pairs) != 3 {
				t.Fatalf("creates %d, deletes %d, pairs %d; want 3 pairs", len(m.creates), len(m.deletes), len(m.pairs))
			}
			for _, p := range m.pairs {
				if describeActions(p.want.Actions) != describeActions(p.have.Actions) {
					t.Errorf("rule %s paired with %s", ruleContent(p.want), ruleContent(p.have))
				}
			}
		})
	}
}

func forward(tg string) model.Action {
	return model.Action{Type: model.ActionForward, Forward: &model.ForwardAction{
		TargetGroups: []model.WeightedTargetGroup{{TargetGroup: model.Ref{ID: tg}, Weight: 1}}}}
}
