package translate

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

// TestConditionLimits translates one HTTPRoute match at a time against the ALB's condition
// limits: what the stack gets (rules and their conditions) and what the route says.
func TestConditionLimits(t *testing.T) {
	exact, regex := gwv1.HeaderMatchExact, gwv1.HeaderMatchRegularExpression
	pathRegex := gwv1.PathMatchRegularExpression
	for _, tt := range []struct {
		name      string
		hostnames []gwv1.Hostname
		match     gwv1.HTTPRouteMatch
		// rules are the conditions of the rules the match becomes, as field=values strings.
		rules [][]string
		// problem is a substring of the route's PartiallyInvalid message; "" for none.
		problem string
	}{
		{name: "header values split three per rule", match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: "x-tier", Value: "a,b,c,d,e,f,g"}}},
			rules: [][]string{
				{"path-pattern=/*", "http-header:x-tier=a,b,c"},
				{"path-pattern=/*", "http-header:x-tier=d,e,f"},
				{"path-pattern=/*", "http-header:x-tier=g"}}},
		{name: "split leaves room for the other values", hostnames: []gwv1.Hostname{"app.example.com"}, match: gwv1.HTTPRouteMatch{
			Path:    &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/api")},
			Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: "x-tier", Value: "a,b,c,d"}}},
			rules: [][]string{
				{"host-header=app.example.com", "path-pattern=/api,/api/*", "http-header:x-tier=a,b"},
				{"host-header=app.example.com", "path-pattern=/api,/api/*", "http-header:x-tier=c,d"}}},
		{name: "Host header becomes a host-header condition", match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: "Host", Value: "Shop.Example.com"}}},
			rules: [][]string{{"host-header=shop.example.com", "path-pattern=/*"}}},
		{name: "Host header inside the route's wildcard hostname", hostnames: []gwv1.Hostname{"*.example.com"}, match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: "host", Value: "shop.example.com"}}},
			rules: [][]string{{"host-header=shop.example.com", "path-pattern=/*"}}},
		{name: "Host header outside the route's hostname matches nothing", hostnames: []gwv1.Hostname{"app.example.com"}, match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: "Host", Value: "shop.example.com"}}},
			rules: nil},
		{name: "Host header regex without hostnames", match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &regex, Name: "Host", Value: `^shop[0-9]\.example\.com$`}}},
			rules: [][]string{{`host-header~^shop[0-9]\.example\.com$`, "path-pattern=/*"}}},
		{name: "Host header regex with hostnames", hostnames: []gwv1.Hostname{"app.example.com"}, match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &regex, Name: "Host", Value: `^app\.example\.com$`}}},
			problem: "a Host header regular expression on hostname app.example.com"},
		{name: "Host header with a port", match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: "Host", Value: "shop.example.com:8080"}}},
			problem: `headers[0]: Host header value "shop.example.com:8080" is not a hostname`},
		{name: "header name over 40 characters", match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: gwv1.HTTPHeaderName(strings.Repeat("x", 41)), Value: "1"}}},
			problem: "is 41 characters long, an ALB matches header names of at most 40"},
		{name: "value over 128 characters", match: gwv1.HTTPRouteMatch{
			Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr("/" + strings.Repeat("p", 128))}},
			problem: "is 129 characters long, an ALB takes at most 128; shorten or drop it"},
		{name: "header value of 128 characters", match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &exact, Name: "x-a", Value: strings.Repeat("v", 128)}}},
			rules: [][]string{{"path-pattern=/*", "http-header:x-a=" + strings.Repeat("v", 128)}}},
		{name: "Unicode class in a path regex", match: gwv1.HTTPRouteMatch{
			Path: &gwv1.HTTPPathMatch{Type: &pathRegex, Value: ptr(`^/\p{L}+$`)}},
			problem: `uses a Unicode character class`},
		{name: "escaped backslash before p is fine", match: gwv1.HTTPRouteMatch{
			Path: &gwv1.HTTPPathMatch{Type: &pathRegex, Value: ptr(`^/a\\p$`)}},
			rules: [][]string{{`path-pattern~^/a\\p$`}}},
		{name: "lookahead in a header regex", match: gwv1.HTTPRouteMatch{
			Headers: []gwv1.HTTPHeaderMatch{{Type: &regex, Name: "x-a", Value: `^(?=a)`}}},
			problem: "does not compile or uses a feature an ALB does not support"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := loadSnapshot(t, filepath.Join("testdata", "FiveConditionValuesLimit"))
			r := &s.HTTPRoutes[0]
			r.Spec.Hostnames = tt.hostnames
			r.Spec.Rules = r.Spec.Rules[:1]
			r.Spec.Rules[0].Matches = []gwv1.HTTPRouteMatch{tt.match}
			stack, _ := Gateway(s)
			var got [][]string
			for _, l := range stack.Listeners {
				for _, rule := range l.Rules {
					got = append(got, conditionStrings(rule.Conditions))
				}
			}
			if !slices.EqualFunc(got, tt.rules, slices.Equal[[]string]) {
				t.Errorf("rules\n  %v\nwant\n  %v", got, tt.rules)
			}
			if err := stack.Validate(); err != nil {
				t.Errorf("stack does not validate: %v", err)
			}
			msg := routeMessages(t, s, r.Name)
			if tt.problem == "" && strings.Contains(msg, "PartiallyInvalid") {
				t.Errorf("route reports a problem:\n%s", msg)
			}
			if tt.problem != "" && !strings.Contains(msg, tt.problem) {
				t.Errorf("route conditions do not say %q:\n%s", tt.problem, msg)
			}
		})
	}
}

// conditionStrings prints conditions as field=values (field~regex for regular expressions).
func conditionStrings(cs []model.Condition) []string {
	var out []string
	for _, c := range cs {
		f := c.Field
		if c.HeaderName != "" {
			f += ":" + c.HeaderName
		}
		if len(c.RegexValues) > 0 {
			out = append(out, f+"~"+strings.Join(c.RegexValues, ","))
			continue
		}
		out = append(out, f+"="+strings.Join(c.Values, ","))
	}
	return out
}
