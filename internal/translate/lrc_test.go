package translate

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestLRCProblemsCondition: as docs/reference/listenerruleconfiguration.md states, a
// ListenerRuleConfiguration that is missing or invalid makes the route's ResolvedRefs False
// (InvalidKind for an ExtensionRef of another group or kind, UnsupportedValue otherwise) naming
// the field, and only its rule is not programmed (PartiallyInvalid); two on one rule are
// incompatible filters, not an unresolved reference.
func TestLRCProblemsCondition(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rule   int    // the rule of LRCMissingOrAmbiguous kept beside the plain last rule
		reason string // ResolvedRefs reason; "" for True
		field  string
	}{
		{"missing", 0, string(gwv1.RouteReasonUnsupportedValue), "spec.rules[0].filters[0].extensionRef"},
		{"two on one rule", 1, "", ""},
		{"another kind", 2, string(gwv1.RouteReasonInvalidKind), "spec.rules[0].filters[0].extensionRef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loadSnapshot(t, filepath.Join("testdata", "LRCMissingOrAmbiguous"))
			rules := s.HTTPRoutes[0].Spec.Rules
			s.HTTPRoutes[0].Spec.Rules = append(rules[tc.rule:tc.rule+1:tc.rule+1], rules[len(rules)-1])
			stack, set := Gateway(s)
			conds := set.Routes[0].Parents[0].Conditions
			res := meta.FindStatusCondition(conds, string(gwv1.RouteConditionResolvedRefs))
			if tc.reason == "" {
				if res.Status != metav1.ConditionTrue {
					t.Errorf("ResolvedRefs %s %s %q, want True", res.Status, res.Reason, res.Message)
				}
			} else if res.Status != metav1.ConditionFalse || res.Reason != tc.reason || !strings.Contains(res.Message, tc.field) {
				t.Errorf("ResolvedRefs %s %s %q, want False %s naming %s", res.Status, res.Reason, res.Message, tc.reason, tc.field)
			}
			if acc := meta.FindStatusCondition(conds, string(gwv1.RouteConditionAccepted)); acc.Status != metav1.ConditionTrue {
				t.Errorf("Accepted %s %q, want True: the other rule is programmed", acc.Status, acc.Message)
			}
			if p := meta.FindStatusCondition(conds, string(gwv1.RouteConditionPartiallyInvalid)); p == nil || p.Status != metav1.ConditionTrue ||
				!strings.Contains(p.Message, "spec.rules[0]") {
				t.Errorf("PartiallyInvalid %+v, want True naming spec.rules[0]", p)
			}
			if n := stack.RuleCount(); n != 1 {
				t.Errorf("%d rules in the stack, want 1: only the plain rule", n)
			}
		})
	}
}
