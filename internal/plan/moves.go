package plan

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
)

// planMoves orders the priority moves of one listener's rules into steps, one SetRulePriorities
// call each. The listener then holds the observed rules that are neither deleted nor recreated
// (those go first). A step moves rules only onto priorities free before it: AWS checks the end
// state of a call, but emulators check each target against the listener as it was, and no two
// rules ever share a priority either way. So:
//
//   - moves onto free priorities form the first step (usually the only one);
//   - a move onto a priority that another move vacates waits for the step after it (a chain);
//   - when every remaining move waits for another (a cycle, such as a swap), the one with the
//     lowest target is parked on the highest priority that is neither in use nor desired, and
//     finishes last.
//
// A plan of more than two steps (a long chain: the rules behind a removed one of equal
// precedence each move down one; or a cycle) becomes two steps instead, see parkAll.
func planMoves(m ruleMatch, desired []model.Rule) [][]PriorityMove {
	steps := chainMoves(m, desired)
	if len(steps) <= 2 {
		return steps
	}
	return parkAll(m, desired)
}

// parkAll is the two-step plan of any set of moves: the moves onto free priorities, and every
// other rule parked on its own priority that is neither in use nor desired; then the parked
// rules onto their targets, which the first step vacated.
func parkAll(m ruleMatch, desired []model.Rule) [][]PriorityMove {
	used, reserved := movePriorities(m, desired)
	var first, second []PriorityMove
	for _, p := range m.pairs {
		if p.want.Priority == p.have.Priority {
			continue
		}
		mv := PriorityMove{Rule: p.have, From: p.have.Priority, To: p.want.Priority}
		if !used[mv.To] {
			first = append(first, mv)
			continue
		}
		park := parkingPriority(used, reserved)
		if park == 0 {
			// Every priority is taken: cannot happen with at most 100 rules per listener.
			return chainMoves(m, desired)
		}
		used[park] = true
		first = append(first, PriorityMove{Rule: mv.Rule, From: mv.From, To: park})
		second = append(second, PriorityMove{Rule: mv.Rule, From: park, To: mv.To})
	}
	byFrom := func(a, b PriorityMove) int { return cmp.Compare(a.From, b.From) }
	slices.SortFunc(first, byFrom)
	slices.SortFunc(second, byFrom)
	return [][]PriorityMove{first, second}
}

// movePriorities returns the priorities the paired observed rules hold and the desired ones.
func movePriorities(m ruleMatch, desired []model.Rule) (used, reserved map[int32]bool) {
	used, reserved = map[int32]bool{}, map[int32]bool{}
	for _, p := range m.pairs {
		used[p.have.Priority] = true
	}
	for _, r := range desired {
		reserved[r.Priority] = true
	}
	return used, reserved
}

// chainMoves is the plan of planMoves before long plans are folded into two steps.
func chainMoves(m ruleMatch, desired []model.Rule) [][]PriorityMove {
	var pending []PriorityMove
	for _, p := range m.pairs {
		if p.want.Priority != p.have.Priority {
			pending = append(pending, PriorityMove{Rule: p.have, From: p.have.Priority, To: p.want.Priority})
		}
	}
	if len(pending) == 0 {
		return nil
	}
	used, reserved := movePriorities(m, desired)
	var steps [][]PriorityMove
	for rounds := 2*len(pending) + 1; len(pending) > 0; rounds-- {
		if rounds == 0 {
			// A rule that stays blocks a move: cannot happen for a plan from matchRules.
			return append(steps, pending)
		}
		var step, waiting []PriorityMove
		for _, mv := range pending {
			if used[mv.To] {
				waiting = append(waiting, mv)
			} else {
				step = append(step, mv)
			}
		}
		if len(step) == 0 {
			park := parkingPriority(used, reserved)
			if park == 0 {
				// Every priority is taken: cannot happen with at most 100 rules per listener.
				return append(steps, pending)
			}
			first := waiting[0]
			step = []PriorityMove{{Rule: first.Rule, From: first.From, To: park}}
			waiting[0].From = park
		}
		for _, mv := range step {
			delete(used, mv.From)
			used[mv.To] = true
		}
		slices.SortFunc(step, func(a, b PriorityMove) int { return cmp.Compare(a.From, b.From) })
		steps = append(steps, step)
		pending = waiting
	}
	return steps
}

// parkingPriority is the highest priority neither in use nor desired, or 0.
func parkingPriority(used, reserved map[int32]bool) int32 {
	for p := int32(model.MaxRulePriority); p >= 1; p-- {
		if !used[p] && !reserved[p] {
			return p
		}
	}
	return 0
}

// describeMoves prints steps as "priorities 3→4, 7→8; then 2→3".
func describeMoves(steps [][]PriorityMove) string {
	parts := make([]string, 0, len(steps))
	for _, step := range steps {
		moves := make([]string, 0, len(step))
		for _, mv := range step {
			moves = append(moves, strconv.Itoa(int(mv.From))+"→"+strconv.Itoa(int(mv.To)))
		}
		parts = append(parts, strings.Join(moves, ", "))
	}
	return "priorities " + strings.Join(parts, "; then ")
}
