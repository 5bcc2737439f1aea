package docscheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the module root, two levels above this package.
const repoRoot = "../.."

var (
	// gwv1.RouteReasonBackendNotFound and the like: the Gateway API reason constants, whose
	// value is the name after "Reason".
	gatewayAPIReason = regexp.MustCompile(`gwv1\.[A-Za-z]+Reason([A-Za-z]+)\b`)
	// Reason constants of our own: ReasonNoSecurityGroup = "NoSecurityGroup".
	ownReasonConst = regexp.MustCompile(`\bReason[A-Za-z]*\s*=\s*"([A-Za-z]+)"`)
	// Reasons assigned as literals: reason = "DeletionProtected".
	literalReason = regexp.MustCompile(`\breason\s*=\s*"([A-Za-z]+)"`)
)

// reasonsInCode lists the condition reasons the non-test Go code of internal/ and cmd/ writes.
func reasonsInCode(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testenv" || d.Name() == "docscheck" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repoRoot, path)
			for _, re := range []*regexp.Regexp{gatewayAPIReason, ownReasonConst, literalReason} {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					out[m[1]] = append(out[m[1]], rel)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestTroubleshootingListsEveryReason fails when the controller writes a condition reason that
// docs/troubleshooting.md does not explain.
func TestTroubleshootingListsEveryReason(t *testing.T) {
	page, err := os.ReadFile(filepath.Join(repoRoot, "docs", "troubleshooting.md"))
	if err != nil {
		t.Fatal(err)
	}
	reasons := reasonsInCode(t)
	// The scan itself must find the reasons it is meant to find, or the test proves nothing.
	for _, known := range []string{"BackendNotFound", "NoSecurityGroup", "DeletionProtected", "Pending"} {
		if _, ok := reasons[known]; !ok {
			t.Errorf("the scan of the code did not find reason %s; fix the patterns of this test", known)
		}
	}
	var missing []string
	for r, files := range reasons {
		if !strings.Contains(string(page), "`"+r+"`") {
			missing = append(missing, r+" (used in "+strings.Join(uniq(files), ", ")+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("docs/troubleshooting.md does not explain reason %s", m)
	}
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// docLink is a relative link to a page under docs/.
var docLink = regexp.MustCompile(`\]\((docs/[^)#]+\.md)`)

// TestReadmeLinksEveryPage fails when a page in docs/ (or docs/reference/, docs/reference/crd/) is not linked from
// README.md, or when the README links a page that does not exist.
func TestReadmeLinksEveryPage(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, m := range docLink.FindAllStringSubmatch(string(readme), -1) {
		linked[m[1]] = true
		if _, err := os.Stat(filepath.Join(repoRoot, m[1])); err != nil {
			t.Errorf("README.md links %s, which does not exist", m[1])
		}
	}
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"reference", filepath.Join("reference", "crd")} {
		more, _ := filepath.Glob(filepath.Join(repoRoot, "docs", sub, "*.md"))
		pages = append(pages, more...)
	}
	if len(pages) == 0 {
		t.Fatal("no pages found in docs/")
	}
	for _, p := range pages {
		rel, _ := filepath.Rel(repoRoot, p)
		if !linked[filepath.ToSlash(rel)] {
			t.Errorf("README.md does not link %s", rel)
		}
	}
}
