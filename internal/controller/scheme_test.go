package controller_test

import (
	"testing"

	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestDirectClientKnowsTheControllerKinds: the tests' direct client (testenv.Client, which
// cannot import this package) knows every kind the controller's scheme does, so that what a
// test creates and reads is typed as the controller sees it.
func TestDirectClientKnowsTheControllerKinds(t *testing.T) {
	want, err := controller.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := testenv.Client(env.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for gvk := range want.AllKnownTypes() {
		if !c.Scheme().Recognizes(gvk) {
			t.Errorf("testenv.Client does not know %s, which the controller's scheme does", gvk)
		}
	}
}
