package aws

import (
	"context"
	"testing"
	"time"
)

// A key's first reconcile starts its period; the first reconcile a period or more after the last
// fresh one reads AWS afresh, the others of the period do not; a key forgotten starts again.
func TestFreshPasses(t *testing.T) {
	t.Parallel()
	f := NewFreshPasses(10 * time.Minute)
	clock := time.Now()
	f.now = func() time.Time { return clock }
	ctx := context.Background()
	pass := func(key string) bool { return freshRead(f.Context(ctx, key)) }

	if pass("gw") {
		t.Error("the first reconcile of a key in a process is a resync pass")
	}
	clock = clock.Add(9 * time.Minute)
	if pass("gw") {
		t.Error("a reconcile 9 minutes into a 10-minute period is a resync pass")
	}
	clock = clock.Add(time.Minute)
	if !pass("gw") {
		t.Error("the reconcile 10 minutes after the period started is not a resync pass")
	}
	if pass("gw") || pass("other") {
		t.Error("the reconcile right after a resync pass, or another key's first, is a resync pass")
	}
	clock = clock.Add(10 * time.Minute)
	f.Forget("gw")
	if pass("gw") {
		t.Error("a forgotten key's next reconcile is a resync pass")
	}
	if !pass("other") {
		t.Error("another key's period is not independent")
	}
	var none *FreshPasses
	if freshRead(none.Context(ctx, "gw")) {
		t.Error("a nil FreshPasses asks for a fresh read")
	}
	none.Forget("gw")
}
