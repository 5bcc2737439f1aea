package aws

import (
	"context"
	"sync"
	"time"
)

// What this process remembers of AWS from its last reads and its own writes (the stack an
// apply left, target group attributes, registered targets, the VPC's subnets) follows one rule: it is trusted
// until the next resync pass of what it belongs to, which reads AWS afresh and so finds and
// repairs drift, or until a write on it fails or AWS no longer finds it, which forgets it. A
// burst of route events, however long, reads each target group once, not once per reconcile.
//
// A resync pass is a reconcile whose context carries WithFreshRead; FreshPasses decides which
// reconciles those are.
//
// What several keys share (the VPC's subnets, which every Gateway reads) has a pass of its own:
// a resync pass from FreshPasses reads it afresh only when the last read is a period old, so
// that N Gateways' passes within a period cost one read, not N (see sharedReadFresh).

type freshReadKey struct{}

// WithFreshRead marks ctx so that the Cloud calls made with it read AWS rather than memory, and
// remember what they read: all of it, shared facts included.
func WithFreshRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshReadKey{}, time.Duration(0))
}

// withResyncPass marks ctx as a resync pass of a period: like WithFreshRead, except that what
// several keys share is taken from a read less than a period old (sharedReadFresh).
func withResyncPass(ctx context.Context, period time.Duration) context.Context {
	return context.WithValue(ctx, freshReadKey{}, period)
}

// freshRead reports whether ctx asks for AWS to be read rather than remembered.
func freshRead(ctx context.Context) bool {
	_, ok := ctx.Value(freshReadKey{}).(time.Duration)
	return ok
}

// sharedReadFresh reports whether a read of something several keys share, made at readAt, serves
// ctx at now: always outside a fresh read; in a resync pass, when it is less than the pass's
// period old, so the first pass of any key a period after the last read reads it again and
// drift is still found within about a period; under WithFreshRead, never.
func sharedReadFresh(ctx context.Context, readAt, now time.Time) bool {
	period, fresh := ctx.Value(freshReadKey{}).(time.Duration)
	return !fresh || now.Sub(readAt) < period
}

// FreshPasses picks, per key (a Gateway, a target group), the reconciles that read AWS afresh:
// the first one every period or more after the key's last fresh one. A key's first reconcile in
// a process reads whatever memory does not hold (all of it, but for what the process just
// created), so it starts the period rather than being fresh itself. Safe for concurrent use; a
// nil FreshPasses never asks for a fresh read.
type FreshPasses struct {
	every time.Duration
	now   func() time.Time
	mu    sync.Mutex
	last  map[string]time.Time
}

// NewFreshPasses returns FreshPasses with the given period: the controllers' resync interval.
func NewFreshPasses(every time.Duration) *FreshPasses {
	return &FreshPasses{every: every, now: time.Now, last: map[string]time.Time{}}
}

// Context returns ctx marked WithFreshRead when key's pass is due, and ctx unchanged otherwise.
func (f *FreshPasses) Context(ctx context.Context, key string) context.Context {
	if f == nil {
		return ctx
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	last, seen := f.last[key]
	if !seen {
		f.last[key] = now
		return ctx
	}
	if now.Sub(last) < f.every {
		return ctx
	}
	f.last[key] = now
	return withResyncPass(ctx, f.every)
}

// Forget drops a key that is gone (a deleted Gateway, a target group no Gateway owns).
func (f *FreshPasses) Forget(key string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.last, key)
}
