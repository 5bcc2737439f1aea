package docscheck

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/elbgateway/elbgateway/internal/crdref"
)

// TestCRDReferenceInSync fails when docs/reference/crd/ differs from what `make docs-reference`
// renders from config/crd/bases: a CRD changed and its reference was not regenerated, or a page
// was edited by hand.
func TestCRDReferenceInSync(t *testing.T) {
	pages, err := crdref.RenderDir(filepath.Join(repoRoot, "config", "crd", "bases"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 3 {
		t.Fatalf("rendered %d pages, want one per gateway.k8s.aws CRD (3)", len(pages))
	}
	dir := filepath.Join(repoRoot, "docs", "reference", "crd")
	want := map[string]bool{}
	for _, p := range pages {
		want[p.Name] = true
		got, err := os.ReadFile(filepath.Join(dir, p.Name))
		if err != nil {
			t.Errorf("docs/reference/crd/%s is missing; run make docs-reference", p.Name)
			continue
		}
		if string(got) != p.Content {
			t.Errorf("docs/reference/crd/%s differs from what the generator renders from the CRDs; run make docs-reference and read the diff", p.Name)
		}
	}
	committed, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	sort.Strings(committed)
	for _, f := range committed {
		if !want[filepath.Base(f)] {
			t.Errorf("docs/reference/crd/%s has no CRD; run make docs-reference", filepath.Base(f))
		}
	}
}
