package aws

import (
	"sync"
	"time"

	"github.com/elbgateway/elbgateway/internal/model"
)

// ttlCache holds values by key for a while.
// A ttl of zero keeps entries until they are forgotten or replaced.
type ttlCache[V any] struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, m: map[string]ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || (c.ttl > 0 && now.After(e.expires)) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(key string, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = ttlEntry[V]{v: v, expires: now.Add(c.ttl)}
}

func (c *ttlCache[V]) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// tagCache holds ELB resource tags by ARN. Our own tag writes update it, so a steady-state
// reconcile reads tags only for resources it has not seen within the TTL.
type tagCache struct {
	*ttlCache[model.Tags]
}

func newTagCache(ttl time.Duration) *tagCache { return &tagCache{newTTLCache[model.Tags](ttl)} }

// update applies a tag write to the cached entry, if any.
func (c *tagCache) update(arn string, add model.Tags, remove []string, now time.Time) {
	old, ok := c.get(arn, now)
	if !ok {
		return
	}
	next := model.Tags{}
	for k, v := range old {
		next[k] = v
	}
	for k, v := range add {
		next[k] = v
	}
	for _, k := range remove {
		delete(next, k)
	}
	c.put(arn, next, now)
}
