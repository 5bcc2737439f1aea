package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/gateway-api/conformance/tests"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// The conformance table of docs/gateway-api-support.md sits between these lines.
const (
	tableBegin = "<!-- conformance table: generated from test/conformance/classes_test.go, checked by TestConformanceTableInDocs -->"
	tableEnd   = "<!-- end of conformance table -->"
)

// supported is every feature a class claims: its profiles' core features and its own.
func (c class) supported() sets.Set[features.FeatureName] {
	out := sets.New(c.features...)
	for _, name := range c.profiles {
		for _, p := range []suite.ConformanceProfile{suite.GatewayHTTPConformanceProfile, suite.GatewayGRPCConformanceProfile,
			suite.GatewayTCPConformanceProfile, suite.GatewayUDPConformanceProfile, suite.GatewayTLSConformanceProfile} {
			if p.Name == name {
				out = out.Union(p.CoreFeatures)
			}
		}
	}
	return out
}

// outcome says what a status-only test does in a class: it runs (and must pass), it is skipped
// for the reason the class gives, or the class does not claim the features it needs.
func (c class) outcome(test suite.ConformanceTest) string {
	var missing []string
	have := c.supported()
	for _, f := range test.Features {
		if !have.Has(f) {
			missing = append(missing, string(f))
		}
	}
	switch {
	case len(missing) > 0:
		return "not claimed (" + strings.Join(missing, ", ") + ")"
	case c.skip[test.ShortName] != "":
		return "skipped: " + c.skip[test.ShortName]
	default:
		return "passes"
	}
}

// conformanceTable is the Markdown table of every status-only test's outcome per class.
func conformanceTable() (string, error) {
	byName := map[string]suite.ConformanceTest{}
	for _, ct := range tests.ConformanceTests {
		byName[ct.ShortName] = ct
	}
	var b strings.Builder
	b.WriteString("| test |")
	for _, c := range classes {
		fmt.Fprintf(&b, " %s (`%s`) |", strings.ToUpper(c.name), c.controller)
	}
	b.WriteString("\n|---|")
	for range classes {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, name := range statusOnly {
		ct, ok := byName[name]
		if !ok {
			return "", fmt.Errorf("status-only test %s is not in the suite", name)
		}
		fmt.Fprintf(&b, "| %s |", name)
		for _, c := range classes {
			fmt.Fprintf(&b, " %s |", c.outcome(ct))
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}

// TestConformanceTableInDocs keeps the conformance table of docs/gateway-api-support.md in step
// with the classes the status conformance run uses, and the skip lists honest: every skipped
// test is a status-only test its class's features cover, and every reason says something.
func TestConformanceTableInDocs(t *testing.T) {
	for _, c := range classes {
		have := c.supported()
		for name, reason := range c.skip {
			if !slices.Contains(statusOnly, name) {
				t.Errorf("%s skips %s, which is not a status-only test", c.name, name)
			}
			if len(strings.TrimSpace(reason)) < 20 {
				t.Errorf("%s skips %s with reason %q; say what in AWS prevents it", c.name, name, reason)
			}
			for _, ct := range tests.ConformanceTests {
				if ct.ShortName == name && !have.HasAll(ct.Features...) {
					t.Errorf("%s skips %s, but does not claim its features %v: the suite skips it anyway", c.name, name, ct.Features)
				}
			}
		}
	}
	want, err := conformanceTable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(repoRoot, "docs", "gateway-api-support.md")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no conformance table between\n%s\nand\n%s", path, tableBegin, tableEnd)
	}
	got := strings.TrimSpace(doc[i+len(tableBegin) : j])
	if got != strings.TrimSpace(want) {
		t.Errorf("the conformance table of %s is out of step with test/conformance/classes_test.go; replace it with:\n\n%s", path, want)
	}
}
