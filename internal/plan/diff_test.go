package plan

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/model"
)

var update = flag.Bool("update", false, "rewrite testdata/*/changes.txt")

// TestDiffGolden plans each testdata/<case>/desired.yaml against observed.yaml (absent: nothing
// exists) and compares the plan with changes.txt.
func TestDiffGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Fatalf("want at least 10 golden cases, found %d", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			desired := loadStack(t, filepath.Join(dir, "desired.yaml"))
			observed := loadStack(t, filepath.Join(dir, "observed.yaml"))
			got := render(Diff(desired, observed))
			golden := filepath.Join(dir, "changes.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/plan -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("plan differs from %s (go test ./internal/plan -update rewrites it)\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestDiffOfItselfIsEmpty: every desired stack compared with itself plans nothing.
func TestDiffOfItselfIsEmpty(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "desired.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		s := loadStack(t, f)
		if s.LoadBalancer == nil {
			continue
		}
		if changes := Diff(s, s); len(changes) != 0 {
			t.Errorf("%s against itself: want no changes, got\n%s", f, render(changes))
		}
	}
}

// TestUnchangedPlansNothing pins the zero-change cases by name, so a rewritten golden file
// cannot silently turn them into non-empty plans.
func TestUnchangedPlansNothing(t *testing.T) {
	for _, c := range []string{"unchanged-nlb", "unchanged-alb-normalized", "unchanged-alb-every-feature"} {
		dir := filepath.Join("testdata", c)
		if changes := Diff(loadStack(t, filepath.Join(dir, "desired.yaml")), loadStack(t, filepath.Join(dir, "observed.yaml"))); len(changes) != 0 {
			t.Errorf("%s: want no changes, got\n%s", c, render(changes))
		}
	}
}

func TestDiffNilStacks(t *testing.T) {
	if changes := Diff(nil, nil); len(changes) != 0 {
		t.Errorf("nil against nil: want no changes, got %v", changes)
	}
	if changes := Diff(&model.Stack{ID: "a/b", Type: model.Network}, &model.Stack{}); len(changes) != 0 {
		t.Errorf("empty against empty: want no changes, got %v", changes)
	}
}

// TestDiffOrder checks the phase order on the case that has every phase.
func TestDiffOrder(t *testing.T) {
	dir := filepath.Join("testdata", "tg-target-type-same-name")
	changes := Diff(loadStack(t, filepath.Join(dir, "desired.yaml")), loadStack(t, filepath.Join(dir, "observed.yaml")))
	var got []string
	for _, c := range changes {
		got = append(got, string(c.Op)+" "+string(c.Kind))
	}
	want := []string{"delete Listener", "delete TargetGroup", "create TargetGroup", "create Listener"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("order: got %v, want %v", got, want)
	}
	for _, c := range changes {
		if !c.IsReplace() && c.Kind == KindTargetGroup {
			t.Errorf("%s: want a replace reason", c)
		}
		if c.Op == OpDelete && c.Observed.TargetGroup == nil && c.Observed.Listener == nil {
			t.Errorf("%s: delete without the observed resource", c)
		}
		if c.Op == OpCreate && c.Desired.TargetGroup == nil && c.Desired.Listener == nil {
			t.Errorf("%s: create without the desired resource", c)
		}
	}
}

func loadStack(t *testing.T, path string) *model.Stack {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var s model.Stack
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &s
}

func render(changes []Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}
