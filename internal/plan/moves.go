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
func planMoves(m ruleMatch, desired []model.Rule) [][]PriorityMove {
	var pending []PriorityMove
	for _, p := range m.pairs {
		if p.want.Priority != p.have.Priority {
			pending = append(pending, PriorityMove{Rule: p.have, From: p.have.Priority, To: p.want.Priority})
		}
	}
	if len(pending) == 0 {
		return nil
	}
	used := map[int32]bool{}
	for _, p := range m.pairs {
		used[p.have.Priority] = true
	}
	reserved := map[int32]bool{}
	for _, r := range desired {
		reserved[r.Priority] = true
	}
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
