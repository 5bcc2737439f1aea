package elb

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Wildcards, from the ALB user guide: host names "A–Z, a–z, 0–9, - . * (matches 0 or more
// characters) ? (matches exactly 1 character)"; path patterns the same with "_ - . $ / ~ " ' @ :
// + & (using &amp;) * ?" and case-sensitive.
func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*.example.com", "www.example.com", true},
		{"*.example.com", "example.com", false},
		{"www.example.?om", "www.example.com", true},
		{"www.example.?om", "www.example.om", false},
		{"/img/*", "/img/a/b.png", true},
		{"/img/*", "/images/a.png", false},
		{"/api/v?/items", "/api/v2/items", true},
		{"*", "", true},
		{"/a*b*c", "/axxbyyc", true},
		{"/a*b*c", "/axxbyy", false},
	} {
		if got := wildcard(c.pattern, c.s); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func cond(field string, values ...string) elbtypes.RuleCondition {
	c := elbtypes.RuleCondition{Field: aws.String(field)}
	switch field {
	case "host-header":
		c.HostHeaderConfig = &elbtypes.HostHeaderConditionConfig{Values: values}
	case "path-pattern":
		c.PathPatternConfig = &elbtypes.PathPatternConditionConfig{Values: values}
	case "http-request-method":
		c.HttpRequestMethodConfig = &elbtypes.HttpRequestMethodConditionConfig{Values: values}
	case "source-ip":
		c.SourceIpConfig = &elbtypes.SourceIpConditionConfig{Values: values}
	}
	return c
}

func rule(priority string, conds ...elbtypes.RuleCondition) elbtypes.Rule {
	return elbtypes.Rule{Priority: aws.String(priority), RuleArn: aws.String("rule-" + priority), Conditions: conds,
		IsDefault: aws.Bool(priority == "default")}
}

// Rules are evaluated by priority, lowest first, whatever order DescribeRules lists them in; the
// default rule matches last; every condition of a rule must match, any value of a condition.
func TestRulePrecedenceAndConditions(t *testing.T) {
	header := elbtypes.RuleCondition{Field: aws.String("http-header"), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{
		HttpHeaderName: aws.String("X-Env"), Values: []string{"canary*"}}}
	query := elbtypes.RuleCondition{Field: aws.String("query-string"), QueryStringConfig: &elbtypes.QueryStringConditionConfig{
		Values: []elbtypes.QueryStringKeyValuePair{{Key: aws.String("version"), Value: aws.String("v2")}}}}
	rules := []elbtypes.Rule{
		rule("default"),
		rule("30", cond("path-pattern", "/api/*")),
		rule("10", cond("host-header", "*.example.com"), cond("path-pattern", "/api/*")),
		rule("20", cond("http-request-method", "POST")),
		rule("5", header),
		rule("6", query),
		rule("7", cond("source-ip", "192.0.2.0/24")),
	}
	for _, c := range []struct {
		method, url, header, remote, want string
	}{
		{"GET", "http://api.example.com/api/x", "", "127.0.0.1:1", "rule-10"},
		{"GET", "http://API.EXAMPLE.COM/api/x", "", "127.0.0.1:1", "rule-10"}, // host is case-insensitive
		{"GET", "http://other.test/api/x", "", "127.0.0.1:1", "rule-30"},
		{"GET", "http://other.test/API/x", "", "127.0.0.1:1", "rule-default"}, // path is case-sensitive
		{"POST", "http://other.test/api/x", "", "127.0.0.1:1", "rule-20"},
		{"post", "http://other.test/x", "", "127.0.0.1:1", "rule-default"}, // method is case-sensitive
		{"GET", "http://api.example.com/api/x", "CANARY-1", "127.0.0.1:1", "rule-5"},
		{"GET", "http://other.test/x?Version=V2", "", "127.0.0.1:1", "rule-6"}, // query pairs case-insensitive
		{"GET", "http://other.test/x", "", "192.0.2.7:4000", "rule-7"},
	} {
		r := httptest.NewRequest(c.method, c.url, nil)
		r.RemoteAddr = c.remote
		if c.header != "" {
			r.Header.Set("x-env", c.header)
		}
		got := "none"
		if m := matchRule(rules, r); m != nil {
			got = aws.ToString(m.RuleArn)
		}
		if got != c.want {
			t.Errorf("%s %s (header %q, from %s) matched %s, want %s", c.method, c.url, c.header, c.remote, got, c.want)
		}
	}
}

// Redirect placeholders, from the ALB user guide's examples: a component left out keeps the
// request's; #{host}, #{path}, #{port}, #{query}, #{protocol} stand for the request's.
func TestRedirectPlaceholders(t *testing.T) {
	l := &Listener{Protocol: "HTTP", Port: 80}
	for _, c := range []struct {
		name string
		cfg  elbtypes.RedirectActionConfig
		url  string
		code int
		want string
	}{
		{"to https", elbtypes.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301},
			"http://example.com/a/b?x=1", 301, "https://example.com/a/b?x=1"},
		{"new host keeps path", elbtypes.RedirectActionConfig{Host: aws.String("www.#{host}"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp302},
			"http://example.com/a", 302, "http://www.example.com/a"},
		{"path prefix", elbtypes.RedirectActionConfig{Path: aws.String("/new/#{path}"), Query: aws.String("from=#{host}"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301},
			"http://example.com/old", 301, "http://example.com/new/old?from=example.com"},
		{"other port", elbtypes.RedirectActionConfig{Port: aws.String("8080"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp302},
			"http://example.com/a", 302, "http://example.com:8080/a"},
	} {
		w := httptest.NewRecorder()
		redirect(w, httptest.NewRequest("GET", c.url, nil), l, &c.cfg)
		if w.Code != c.code || w.Header().Get("Location") != c.want {
			t.Errorf("%s: %d %q, want %d %q", c.name, w.Code, w.Header().Get("Location"), c.code, c.want)
		}
	}
}

// Weighted forward: "the load balancer routes requests to the target groups based on the
// weight"; 80/20 over 2,000 requests lands within 5 % of each share.
func TestWeightedSplit(t *testing.T) {
	tgs := []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String("a"), Weight: aws.Int32(80)}, {TargetGroupArn: aws.String("b"), Weight: aws.Int32(20)}}
	counts := map[string]int{}
	for i := range 2000 {
		counts[pickWeighted(tgs, uint64(i))]++
	}
	if a := float64(counts["a"]) / 2000; a < 0.75 || a > 0.85 {
		t.Errorf("weight 80 got %.1f %% of 2000 requests: %v", a*100, counts)
	}
	zero := []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String("a"), Weight: aws.Int32(0)}, {TargetGroupArn: aws.String("b"), Weight: aws.Int32(1)}}
	for i := range 100 {
		if got := pickWeighted(zero, uint64(i)); got != "b" {
			t.Fatalf("a weight-0 group got a request")
		}
	}
}

func TestFixedResponse(t *testing.T) {
	w := httptest.NewRecorder()
	fixedResponse(w, &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("404"), ContentType: aws.String("text/plain"), MessageBody: aws.String("nope")})
	if w.Code != http.StatusNotFound || w.Body.String() != "nope" || w.Header().Get("Content-Type") != "text/plain" {
		t.Errorf("fixed response: %d %q %q", w.Code, w.Body.String(), w.Header().Get("Content-Type"))
	}
}
