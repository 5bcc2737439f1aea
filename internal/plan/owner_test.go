package plan

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestOwnerIsNotCompared: the route that owns a target group or rule is bookkeeping that AWS
// never holds, so a desired stack whose resources name their routes plans nothing against an
// observed stack without owners, or with other owners.
func TestOwnerIsNotCompared(t *testing.T) {
	dir := filepath.Join("testdata", "unchanged-alb-every-feature")
	for _, observedOwner := range []string{"", "HTTPRoute/elsewhere/other"} {
		desired := loadStack(t, filepath.Join(dir, "desired.yaml"))
		observed := loadStack(t, filepath.Join(dir, "observed.yaml"))
		owned := setOwners(desired, func(i int) string { return fmt.Sprintf("HTTPRoute/default/route-%d", i) })
		setOwners(observed, func(int) string { return observedOwner })
		if owned.rules == 0 || owned.targetGroups == 0 {
			t.Fatalf("the case has %d rules and %d target groups; the test needs both", owned.rules, owned.targetGroups)
		}
		if changes := Diff(desired, observed); len(changes) != 0 {
			t.Errorf("observed owner %q: an owner-only difference plans\n%s", observedOwner, render(changes))
		}
	}
}

type ownedCount struct{ rules, targetGroups int }

func setOwners(s *model.Stack, owner func(int) string) ownedCount {
	var n ownedCount
	for i := range s.TargetGroups {
		s.TargetGroups[i].Route = owner(n.targetGroups)
		n.targetGroups++
	}
	for i := range s.Listeners {
		for j := range s.Listeners[i].Rules {
			s.Listeners[i].Rules[j].Route = owner(n.rules)
			n.rules++
		}
	}
	return n
}
