package plan

import "sort"

// keyed describes a kind of resource that is diffed by logical ID and never replaced: one
// missing is created, one found is updated in place, and the extra copies of an ID and the
// copies of an ID no longer desired are deleted.
type keyed[T any] struct {
	kind Kind
	// id is the resource's logical ID; physical its AWS identity (an ARN, a group ID).
	id, physical func(*T) string
	// resource wraps the resource for a Change.
	resource func(*T) Resource
	// update is what changes an observed resource into the desired one; nil when nothing.
	update func(want, have *T) (*Update, string)
	// orphaned is the reason a resource whose ID is no longer desired is deleted.
	orphaned string
}

// diffKeyed adds the changes that turn the observed resources of one keyed kind into the desired
// ones: creates and updates keyed by logical ID, deletes by logical ID and physical identity.
func diffKeyed[T any](d *differ, desired, observed []T, k keyed[T]) {
	found := map[string][]*T{}
	for i := range observed {
		o := &observed[i]
		found[k.id(o)] = append(found[k.id(o)], o)
	}
	for id := range found {
		sort.Slice(found[id], func(i, j int) bool { return k.physical(found[id][i]) < k.physical(found[id][j]) })
	}
	wanted := map[string]bool{}
	for i := range desired {
		want := &desired[i]
		id := k.id(want)
		if wanted[id] {
			continue // a desired stack holds one resource per ID; model.Validate rejects others
		}
		wanted[id] = true
		key := sortKey{id: id}
		have := found[id]
		if len(have) == 0 {
			d.add(phaseCreate, key, Change{Op: OpCreate, Kind: k.kind, ID: id, Reason: "not found", Desired: k.resource(want)})
			continue
		}
		for _, extra := range have[1:] {
			d.add(phaseDelete, sortKey{id: id + "/" + k.physical(extra)}, Change{Op: OpDelete, Kind: k.kind, ID: id,
				Reason: "duplicate " + k.physical(extra) + " of " + k.physical(have[0]), Observed: k.resource(extra)})
		}
		if u, why := k.update(want, have[0]); u != nil {
			d.add(phaseUpdate, key, Change{Op: OpUpdate, Kind: k.kind, ID: id, Reason: why, Update: u,
				Desired: k.resource(want), Observed: k.resource(have[0])})
		}
	}
	for id, have := range found {
		if wanted[id] {
			continue
		}
		for _, o := range have {
			d.add(phaseDelete, sortKey{id: id + "/" + k.physical(o)}, Change{Op: OpDelete, Kind: k.kind, ID: id,
				Reason: k.orphaned, Observed: k.resource(o)})
		}
	}
}
