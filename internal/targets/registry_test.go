package targets

import (
	"reflect"
	"testing"

	"github.com/elbgateway/elbgateway/internal/model"
)

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	web := model.Backend{Namespace: "default", Service: "web", Port: 80}
	r.Set("default/gw", []Binding{
		{TargetGroupARN: "arn:tg/b", TargetType: TargetTypeIP, Backend: web},
		{TargetGroupARN: "arn:tg/a", TargetType: TargetTypeInstance, Backend: web},
		{TargetGroupARN: "arn:tg/alb", TargetType: "alb", Backend: web},
		{TargetType: TargetTypeIP, Backend: web},
	})
	if got := <-r.Changes(); !reflect.DeepEqual(got, []string{"arn:tg/a", "arn:tg/b"}) {
		t.Errorf("changes after first Set: %v", got)
	}
	if got := r.ForService("default", "web"); !reflect.DeepEqual(got, []string{"arn:tg/b"}) {
		t.Errorf("ForService: %v", got)
	}
	if got := r.ForNodes(); !reflect.DeepEqual(got, []string{"arn:tg/a"}) {
		t.Errorf("ForNodes: %v", got)
	}

	// The same bindings again announce nothing.
	r.Set("default/gw", []Binding{
		{TargetGroupARN: "arn:tg/a", TargetType: TargetTypeInstance, Backend: web},
		{TargetGroupARN: "arn:tg/b", TargetType: TargetTypeIP, Backend: web},
	})
	select {
	case got := <-r.Changes():
		t.Errorf("unchanged Set announced %v", got)
	default:
	}

	r.Set("default/gw", nil)
	if got := <-r.Changes(); !reflect.DeepEqual(got, []string{"arn:tg/a", "arn:tg/b"}) {
		t.Errorf("changes after forgetting the Gateway: %v", got)
	}
	if _, ok := r.Get("arn:tg/a"); ok {
		t.Error("forgotten binding still known")
	}
	if got := r.All(); len(got) != 0 {
		t.Errorf("All after forgetting: %v", got)
	}
}
