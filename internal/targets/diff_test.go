package targets

import (
	"reflect"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

func TestDiff(t *testing.T) {
	desired := []model.Target{{ID: "127.0.0.12", Port: 3000}, {ID: "127.0.0.10", Port: 3000}, {ID: "127.0.0.11", Port: 3000}}
	registered := []model.Target{
		{ID: "127.0.0.10", Port: 3000, AvailabilityZone: "us-east-1a"}, // same target; the zone AWS reports does not matter
		{ID: "127.0.0.11", Port: 4000},
		{ID: "127.0.0.9", Port: 3000},
	}
	add, remove := Diff(desired, registered)
	wantAdd := []model.Target{{ID: "127.0.0.11", Port: 3000}, {ID: "127.0.0.12", Port: 3000}}
	wantRemove := []model.Target{{ID: "127.0.0.11", Port: 4000}, {ID: "127.0.0.9", Port: 3000}}
	if !reflect.DeepEqual(add, wantAdd) {
		t.Errorf("register: got %v, want %v", add, wantAdd)
	}
	if !reflect.DeepEqual(remove, wantRemove) {
		t.Errorf("deregister: got %v, want %v", remove, wantRemove)
	}
	add, remove = Diff(desired, desired)
	if len(add) != 0 || len(remove) != 0 {
		t.Errorf("in sync: got register %v, deregister %v; want nothing", add, remove)
	}
}
