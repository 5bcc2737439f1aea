package targets

import (
	"reflect"
	"testing"
	"time"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestPlanNodeRulesBesideAnotherOwner: only our own rules are revoked; a rule we need that
// someone else already has (AWS refuses a second one, whatever its description) is not
// written; an earlier elbgateway's rules from groups this process uses are handed back for the
// take-over, and the ones still needed are written again as ours.
func TestPlanNodeRulesBesideAnotherOwner(t *testing.T) {
	rule := func(port int32, src string) model.NodeRule {
		return model.NodeRule{Protocol: "tcp", FromPort: port, ToPort: port, SourceGroupID: src}
	}
	want := []model.NodeRule{rule(30000, "sg-backend"), rule(30001, "sg-backend"), rule(30002, "sg-frontend")}
	observed := model.ObservedNodeRules{
		Ours:   []model.NodeRule{rule(30009, "sg-backend"), rule(30010, "sg-unknown")},
		Legacy: []model.NodeRule{rule(30002, "sg-frontend"), rule(30003, "sg-frontend"), rule(30004, "sg-lbc-frontend")},
		Others: []model.NodeRule{rule(30001, "sg-backend"), rule(31000, "sg-backend")},
	}
	add, remove, legacy, borrowed := planNodeRules(want, observed, map[string]bool{"sg-backend": true, "sg-frontend": true})
	if wantAdd := []model.NodeRule{rule(30000, "sg-backend"), rule(30002, "sg-frontend")}; !reflect.DeepEqual(add, wantAdd) {
		t.Errorf("add %v, want %v (not the rule another owner has)", add, wantAdd)
	}
	if wantRemove := []model.NodeRule{rule(30009, "sg-backend")}; !reflect.DeepEqual(remove, wantRemove) {
		t.Errorf("remove %v, want %v (ours only, from sources this process used)", remove, wantRemove)
	}
	if wantBorrowed := []model.NodeRule{rule(30001, "sg-backend")}; !reflect.DeepEqual(borrowed, wantBorrowed) {
		t.Errorf("borrowed %v, want %v", borrowed, wantBorrowed)
	}
	// The rule from a frontend group this process does not use (the AWS Load Balancer
	// Controller's own Gateway, tagged alike) is not taken over.
	if wantLegacy := []model.NodeRule{rule(30002, "sg-frontend"), rule(30003, "sg-frontend")}; !reflect.DeepEqual(legacy, wantLegacy) {
		t.Errorf("legacy %v, want %v (the earlier rules from groups this process uses)", legacy, wantLegacy)
	}
}

// TestBorrowedRuleRecheck: while a rule the targets need is another owner's, the security-group
// pass looks again after the borrowed-rule recheck (BorrowedRuleRecheck unless set), never later
// than the resync; otherwise it waits the resync.
func TestBorrowedRuleRecheck(t *testing.T) {
	for _, c := range []struct {
		resync, recheck time.Duration
		borrowed        bool
		want            time.Duration
	}{
		{resync: 10 * time.Minute, borrowed: true, want: BorrowedRuleRecheck},
		{resync: 10 * time.Minute, recheck: 3 * time.Second, borrowed: true, want: 3 * time.Second},
		{resync: 10 * time.Minute, recheck: 3 * time.Second, want: 10 * time.Minute},
		{resync: 2 * time.Second, recheck: 3 * time.Second, borrowed: true, want: 2 * time.Second},
	} {
		o := Options{Resync: c.resync, BorrowedRecheck: c.recheck}.withDefaults()
		r := &Reconciler{resync: o.Resync, borrowedRecheck: o.BorrowedRecheck}
		if got := r.nextSecurityGroupPass(c.borrowed); got != c.want {
			t.Errorf("resync %s, recheck %s, borrowed %v: next pass after %s, want %s", c.resync, c.recheck, c.borrowed, got, c.want)
		}
	}
}
