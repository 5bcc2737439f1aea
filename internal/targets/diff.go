package targets

import "github.com/elbgateway/elbgateway/internal/model"

// Diff compares the targets a group should have with the ones it has, by ID and port (the
// availability zone is what AWS reports and is ignored), and returns what to register and
// what to deregister, both sorted.
func Diff(desired, registered []model.Target) (register, deregister []model.Target) {
	type key struct {
		id   string
		port int32
	}
	have := map[key]bool{}
	for _, t := range registered {
		have[key{t.ID, t.Port}] = true
	}
	want := map[key]bool{}
	for _, t := range desired {
		k := key{t.ID, t.Port}
		if !want[k] && !have[k] {
			register = append(register, t)
		}
		want[k] = true
	}
	for _, t := range registered {
		if !want[key{t.ID, t.Port}] {
			deregister = append(deregister, t)
		}
	}
	SortTargets(register)
	SortTargets(deregister)
	return register, deregister
}
