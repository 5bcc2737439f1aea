package translate

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
)

var update = flag.Bool("update", false, "rewrite testdata/*/out.yaml from the translation")

// golden is the content of an out.yaml file.
type golden struct {
	Stack  *model.Stack `json:"stack"`
	Status *status.Set  `json:"status"`
}

func goldenCases(t testing.TB) []string {
	t.Helper()
	ins, err := filepath.Glob(filepath.Join("testdata", "*", "in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, in := range ins {
		dirs = append(dirs, filepath.Dir(in))
	}
	return dirs
}

func loadSnapshot(t testing.TB, dir string) *snapshot.Snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var s snapshot.Snapshot
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		t.Fatalf("%s/in.yaml: %v", dir, err)
	}
	return &s
}

func translateYAML(t testing.TB, s *snapshot.Snapshot) []byte {
	t.Helper()
	stack, set := Gateway(s)
	out, err := yaml.Marshal(golden{Stack: stack, Status: set})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGolden(t *testing.T) {
	dirs := goldenCases(t)
	if len(dirs) < 25 {
		t.Fatalf("found %d golden cases under testdata, want at least 25", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s := loadSnapshot(t, dir)
			stack, _ := Gateway(s)
			if err := stack.Validate(); err != nil {
				t.Errorf("stack does not validate: %v", err)
			}
			got := translateYAML(t, s)
			if again := translateYAML(t, loadSnapshot(t, dir)); !bytes.Equal(got, again) {
				t.Fatalf("translation is not deterministic:\n%s\n---\n%s", got, again)
			}
			path := filepath.Join(dir, "out.yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/translate -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the translation (go test ./internal/translate -update rewrites it):\n%s",
					path, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows the lines that differ, with their line numbers.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
		}
	}
	return b.String()
}

func itoa(i int) string { return portString(int32(i)) }
