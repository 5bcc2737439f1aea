package translate

import (
	"path/filepath"
	"regexp"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/elbgateway/elbgateway/internal/status"
)

var fieldPath = regexp.MustCompile(`\b(spec|metadata)\.[a-zA-Z]`)

// rejections returns every condition of the set that reports a rejected input: a False
// condition, or a True Conflicted one.
func rejections(set *status.Set) map[string]metav1.Condition {
	out := map[string]metav1.Condition{}
	add := func(where string, cs []metav1.Condition) {
		for _, c := range cs {
			rejected := c.Status == metav1.ConditionFalse
			if c.Type == "Conflicted" {
				rejected = c.Status == metav1.ConditionTrue
			}
			if rejected {
				out[where+" "+c.Type] = c
			}
		}
	}
	if set.GatewayClass != nil {
		add("GatewayClass", set.GatewayClass.Conditions)
	}
	if set.Gateway != nil {
		add("Gateway", set.Gateway.Conditions)
		for _, l := range set.Gateway.Listeners {
			add("listener "+string(l.Name), l.Conditions)
		}
	}
	for _, r := range set.Routes {
		for i, p := range r.Parents {
			add(r.Kind+" "+r.Namespace+"/"+r.Name+" parent "+itoa(i), p.Conditions)
		}
	}
	return out
}

// TestRejectionsNameAField checks that every rejected input in the golden cases yields a
// condition with a reason and a message that names the field to fix.
func TestRejectionsNameAField(t *testing.T) {
	total := 0
	for _, dir := range goldenCases(t) {
		_, set := Gateway(loadSnapshot(t, dir))
		for where, c := range rejections(set) {
			total++
			if c.Reason == "" || c.Message == "" {
				t.Errorf("%s: %s: condition %s has reason %q and message %q, want both", filepath.Base(dir), where, c.Type, c.Reason, c.Message)
			}
			if !fieldPath.MatchString(c.Message) {
				t.Errorf("%s: %s: message %q names no field path (spec.… or metadata.…)", filepath.Base(dir), where, c.Message)
			}
			if c.ObservedGeneration == 0 {
				t.Errorf("%s: %s: condition %s has no observedGeneration", filepath.Base(dir), where, c.Type)
			}
		}
	}
	if total < 20 {
		t.Fatalf("golden cases hold %d rejected conditions; the check needs the rejection cases to mean something", total)
	}
}
