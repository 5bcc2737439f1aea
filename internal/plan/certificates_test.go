package plan

import (
	"path/filepath"
	"testing"
)

// TestCertificateOrder pins what the golden files show: an imported certificate is created
// before the listener that uses it, re-imported in place, and deleted only after every
// listener change and load balancer deletion.
func TestCertificateOrder(t *testing.T) {
	plan := func(c string) []Change {
		dir := filepath.Join("testdata", c)
		return Diff(loadStack(t, filepath.Join(dir, "desired.yaml")), loadStack(t, filepath.Join(dir, "observed.yaml")))
	}
	if changes := plan("certificate-steady"); len(changes) != 0 {
		t.Errorf("steady state: want no changes, got\n%s", render(changes))
	}
	changes := plan("certificate-import")
	if len(changes) != 2 || changes[0].Kind != KindCertificate || changes[0].Op != OpCreate || changes[1].Kind != KindListener {
		t.Errorf("import: want create Certificate then update Listener, got\n%s", render(changes))
	}
	changes = plan("certificate-reimport")
	if len(changes) != 1 || changes[0].Op != OpUpdate || !changes[0].Update.Has(FieldContent) || changes[0].Update.Has(FieldTags) {
		t.Errorf("re-import: want one content update, got\n%s", render(changes))
	}
	for _, c := range []string{"certificate-delete", "certificate-gateway-deleted"} {
		changes = plan(c)
		last := changes[len(changes)-1]
		if last.Kind != KindCertificate || last.Op != OpDelete || last.Observed.Certificate == nil {
			t.Errorf("%s: want the certificate deleted last, got\n%s", c, render(changes))
		}
	}
}
