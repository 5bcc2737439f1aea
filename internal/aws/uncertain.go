package aws

import "sync"

// Creates that may have half-succeeded. Everything we create carries the stack's tags from the
// create call on, so the next listing, or the tag-filtered describe of security groups, finds
// it: looking a name up before every create would only answer NotFound (a 4xx per create). The
// one case the listing misses is a create of this process whose answer was lost (a network
// error, a 5xx, a throttled retry of a call that had gone through): until the name is seen
// created, its next create looks it up first and adopts what it finds.

// uncertainNames are the "kind/name" of creates that failed without proof that nothing was created.
type uncertainNames struct {
	mu    sync.Mutex
	names map[string]bool
}

// mayExist is true when a create of kind/name failed in a way that may have created it.
func (u *uncertainNames) mayExist(kind, name string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.names[kind+"/"+name]
}

// failed records the failed create of kind/name; an error AWS answers for good (aws.Permanent,
// a validation error or quota) proves nothing was created.
func (u *uncertainNames) failed(kind, name string, err error) {
	if Permanent(err) {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.names == nil {
		u.names = map[string]bool{}
	}
	u.names[kind+"/"+name] = true
}

// settled forgets kind/name: it is created and known.
func (u *uncertainNames) settled(kind, name string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.names, kind+"/"+name)
}
