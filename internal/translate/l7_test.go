package translate

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/model"
)

// ruleIdentities maps each ALB rule of a stack, by port and content, to its priority.
func ruleIdentities(t *testing.T, stack *model.Stack) map[string]int32 {
	t.Helper()
	out := map[string]int32{}
	for _, l := range stack.Listeners {
		for _, r := range l.Rules {
			content, err := yaml.Marshal([]any{r.Conditions, r.Actions, r.Transforms})
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("%d %s", l.Port, content)
			if _, dup := out[key]; dup {
				t.Fatalf("two rules with the same content on port %d:\n%s", l.Port, content)
			}
			out[key] = r.Priority
		}
	}
	return out
}

// TestPrioritiesStableWhenRoutesComeAndGo removes each route of a Gateway in turn: the rules of
// the other routes keep their priorities.
func TestPrioritiesStableWhenRoutesComeAndGo(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "StablePrioritiesAddRoute"))
	full, _ := Gateway(s)
	all := ruleIdentities(t, full)
	if len(all) < 8 {
		t.Fatalf("the case has %d rules, want at least 8 to mean something", len(all))
	}
	for i, r := range s.HTTPRoutes {
		t.Run(r.Name, func(t *testing.T) {
			less := loadSnapshot(t, filepath.Join("testdata", "StablePrioritiesAddRoute"))
			less.HTTPRoutes = slices.Delete(less.HTTPRoutes, i, i+1)
			stack, _ := Gateway(less)
			kept := ruleIdentities(t, stack)
			if len(kept) >= len(all) {
				t.Fatalf("removing route %s left %d of %d rules", r.Name, len(kept), len(all))
			}
			for key, p := range kept {
				if all[key] != p {
					t.Errorf("without route %s a rule moved from priority %d to %d:\n%s", r.Name, all[key], p, key)
				}
			}
		})
	}
}

// TestNaturalPriorityFollowsPrecedence checks that natural priorities never decrease along the
// precedence order for units of one hostname, and across hostname classes and bands.
func TestNaturalPriorityFollowsPrecedence(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hosts := []string{"", "api.example.com", "www.example.com", "a.b.c.d.example.com", "*.example.com", "*.eu.example.com", "*.a.b.c.example.com"}
	base := time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)
	var units []*precedence
	for i := range 5000 {
		host := hosts[rng.IntN(len(hosts))]
		class, dots := hostPrecedence(host)
		units = append(units, &precedence{
			hostClass: class, hostDots: dots, hostLen: len(host), hostBand: hostnameBand(class, host), host: host,
			match: matchPrecedence{pathType: rng.IntN(4), pathLen: rng.IntN(80), methodLen: rng.IntN(3) * rng.IntN(20),
				method: rng.IntN(2) == 0, headers: rng.IntN(6), queries: rng.IntN(6)},
			created: base.Add(time.Duration(rng.IntN(1000)) * time.Minute), route: fmt.Sprintf("ns/r%d", rng.IntN(50)),
			kind: kindHTTPRoute, rule: rng.IntN(5), matchIdx: i % 3,
		})
	}
	slices.SortFunc(units, comparePrecedence)
	for i := 1; i < len(units); i++ {
		a, b := units[i-1], units[i]
		sameBand := a.host == b.host || a.hostClass != b.hostClass || a.hostBand != b.hostBand ||
			a.hostClass == hostWildcard && wildcardBand(a.hostDots) != wildcardBand(b.hostDots)
		if !sameBand {
			continue
		}
		if na, nb := naturalPriority(a), naturalPriority(b); na > nb {
			t.Fatalf("unit %+v sorts before %+v but has natural priority %d > %d", *a, *b, na, nb)
		}
		if n := naturalPriority(b); n < 1 || n > 48000 {
			t.Fatalf("natural priority %d outside 1-48000", n)
		}
	}
}

func wildcardBand(dots int) int { return min(max(4-dots, 0), 3) }

func TestAssignPriorities(t *testing.T) {
	cases := []struct {
		natural []int64
		want    []int32
	}{
		{[]int64{10, 20, 30}, []int32{10, 20, 30}},
		{[]int64{10, 10, 10, 12}, []int32{10, 11, 12, 13}},
		{[]int64{50, 40, 60}, []int32{50, 51, 60}},
		{[]int64{49999, 50000, 50000, 50000}, []int32{49997, 49998, 49999, 50000}},
	}
	for _, c := range cases {
		if got := assignPriorities(c.natural); !slices.Equal(got, c.want) {
			t.Errorf("assignPriorities(%v) = %v, want %v", c.natural, got, c.want)
		}
	}
	natural := make([]int64, model.DefaultRulesPerLoadBalancer)
	for i := range natural {
		natural[i] = 49990
	}
	got := assignPriorities(natural)
	for i, p := range got {
		if p < 1 || p > model.MaxRulePriority || i > 0 && p <= got[i-1] {
			t.Fatalf("priorities %v are not strictly increasing within 1-%d", got, model.MaxRulePriority)
		}
	}
}

// TestPrefixRewrite applies the url-rewrite transforms with a regular expression engine and
// checks the paths the Gateway API asks for.
func TestPrefixRewrite(t *testing.T) {
	cases := []struct {
		prefix, replacement, path, want string
	}{
		{"/prefix/one", "/one", "/prefix/one/two", "/one/two"},
		{"/prefix/one", "/one", "/prefix/one", "/one"},
		{"/prefix/one", "/", "/prefix/one/two", "/two"},
		{"/prefix/one", "/", "/prefix/one", "/"},
		{"/prefix/one", "", "/prefix/one/two?x=1", "/two?x=1"},
		{"/api.v1+beta", "/v1", "/api.v1+beta/users", "/v1/users"},
		{"/api.v1+beta", "/v1", "/apixv1beta/users", "/apixv1beta/users"}, // escaped: . and + are literal
		{"", "/xyz", "/foo", "/xyz/foo"},
	}
	for _, c := range cases {
		tr := prefixRewrite(c.prefix, c.replacement)
		got := regexp.MustCompile(tr.Regex).ReplaceAllString(c.path, tr.Replace)
		if tr.Type != transformURL || got != c.want {
			t.Errorf("prefix %q → %q on %q: %s %q→%q gives %q, want %q", c.prefix, c.replacement, c.path, tr.Type, tr.Regex, tr.Replace, got, c.want)
		}
	}
}

func TestSplitUnescaped(t *testing.T) {
	cases := map[string][]string{
		"one":              {"one"},
		"a,b":              {"a", "b"},
		`blue,green\,teal`: {"blue", "green,teal"},
		`a\b`:              {`a\b`},
		",":                {"", ""},
	}
	for in, want := range cases {
		if got := splitUnescaped(in); !slices.Equal(got, want) {
			t.Errorf("splitUnescaped(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOIDCClientSecretNeverPrinted checks that the client secret reaches the model action but
// neither the printed stack nor a printed snapshot.
func TestOIDCClientSecretNeverPrinted(t *testing.T) {
	s := loadSnapshot(t, filepath.Join("testdata", "LRCOIDCOnHTTPS"))
	const secret = "do-not-print-me"
	if s.OIDCSecrets["gateway-conformance-infra/oidc-client"].ClientSecret != secret {
		t.Fatal("the case no longer carries the secret this test looks for")
	}
	stack, _ := Gateway(s)
	var found *model.AuthenticateOIDCAction
	for _, l := range stack.Listeners {
		for _, r := range l.Rules {
			for _, a := range r.Actions {
				if a.AuthenticateOIDC != nil {
					found = a.AuthenticateOIDC
				}
			}
		}
	}
	if found == nil || found.ClientSecret.Value() != secret || found.ClientID != "my-client" {
		t.Fatalf("want an authenticate-oidc action carrying the client secret, got %+v", found)
	}
	printed := string(translateYAML(t, s)) + fmt.Sprintf("%v %+v %#v", stack, *found, *found)
	snap, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"stack": printed, "snapshot": string(snap)} {
		if strings.Contains(text, secret) {
			t.Errorf("the printed %s shows the client secret", what)
		}
		if !strings.Contains(text, model.Redacted) {
			t.Errorf("the printed %s does not show the secret as %s", what, model.Redacted)
		}
	}
}

// TestL7GoldenCasesCount keeps the ALB half of the golden cases from shrinking.
func TestL7GoldenCasesCount(t *testing.T) {
	n := 0
	for _, dir := range goldenCases(t) {
		if loadSnapshot(t, dir).Settings.ControllerName == controllerALB {
			n++
		}
	}
	if n < 60 {
		t.Fatalf("%d ALB golden cases, want at least 60", n)
	}
}

// TestRulesSortedByPrecedence checks every ALB golden listener: priorities strictly increase and
// the more specific of two rules for the same hostname never comes after the other.
func TestRulesSortedByPrecedence(t *testing.T) {
	for _, dir := range goldenCases(t) {
		s := loadSnapshot(t, dir)
		if s.Settings.ControllerName != controllerALB {
			continue
		}
		stack, _ := Gateway(s)
		for _, l := range stack.Listeners {
			if !slices.IsSortedFunc(l.Rules, func(a, b model.Rule) int { return cmp.Compare(a.Priority, b.Priority) }) {
				t.Errorf("%s port %d: rules are not sorted by priority", filepath.Base(dir), l.Port)
			}
			lastExactByHost := map[string]int32{}
			for _, r := range l.Rules {
				host := ""
				for _, c := range r.Conditions {
					if c.Field == condHost {
						host = c.Values[0]
					}
				}
				for _, c := range r.Conditions {
					if c.Field == condPath && len(c.Values) == 1 && !strings.Contains(c.Values[0], "*") {
						lastExactByHost[host] = r.Priority
					}
					if c.Field == condPath && slices.Contains(c.Values, "/*") {
						if p, ok := lastExactByHost[host]; ok && p > r.Priority {
							t.Errorf("%s port %d: catch-all rule %d before exact rule %d", filepath.Base(dir), l.Port, r.Priority, p)
						}
					}
				}
			}
		}
	}
}

// TestL7OutputIndependentOfInputOrder reverses the routes, services and configurations of each
// ALB golden case: the stack and statuses must not change (no rule flaps between reconciles).
func TestL7OutputIndependentOfInputOrder(t *testing.T) {
	for _, dir := range goldenCases(t) {
		s := loadSnapshot(t, dir)
		if s.Settings.ControllerName != controllerALB {
			continue
		}
		want := translateYAML(t, s)
		slices.Reverse(s.HTTPRoutes)
		slices.Reverse(s.GRPCRoutes)
		slices.Reverse(s.Services)
		slices.Reverse(s.ListenerRuleConfigurations)
		slices.Reverse(s.TargetGroupConfigurations)
		slices.Reverse(s.AWS.Certificates)
		if got := translateYAML(t, s); string(got) != string(want) {
			t.Errorf("%s: output depends on the order of the input:\n%s", filepath.Base(dir), lineDiff(string(want), string(got)))
		}
	}
}
