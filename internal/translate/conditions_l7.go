package translate

import (
	"fmt"
	"regexp"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

// ALB rule condition fields.
const (
	condHost     = "host-header"
	condPath     = "path-pattern"
	condHeader   = "http-header"
	condQuery    = "query-string"
	condMethod   = "http-request-method"
	condSourceIP = "source-ip"
)

// Path types in precedence order: a higher value wins.
const (
	pathNone = iota
	pathRegex
	pathPrefix
	pathExact
)

// l7Match is one match of a rule: its conditions (without host and source IP, which depend on
// the port and the ListenerRuleConfiguration) and what precedence reads of it.
type l7Match struct {
	index      int
	conditions []model.Condition
	// prefix is the PathPrefix value when the match is a path prefix, for ReplacePrefixMatch.
	prefix   string
	isPrefix bool
	prec     matchPrecedence
	rejected *problem
	// host is the host-header condition a Host header match turns into (an ALB http-header
	// condition cannot match Host); ruleUnit merges it with the hostname.
	host *model.Condition
}

// matchPrecedence is the part of the precedence key a match decides.
type matchPrecedence struct {
	pathType  int
	pathLen   int // HTTP path length, or GRPC service length
	methodLen int // GRPC method length
	method    bool
	headers   int
	queries   int
}

// httpMatch turns an HTTPRoute match into conditions. A match without a path is PathPrefix /,
// the API's default.
func httpMatch(rule *l7Rule, j int, m gwv1.HTTPRouteMatch) *l7Match {
	out := &l7Match{index: j}
	field := rule.field(fmt.Sprintf("matches[%d]", j))
	typ, value := gwv1.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			typ = *m.Path.Type
		}
		if m.Path.Value != nil {
			value = *m.Path.Value
		}
	}
	out.prec.pathLen = len(value)
	reject := func(format string, args ...any) *l7Match {
		out.rejected = &problem{string(gwv1.RouteReasonUnsupportedValue), field + ": " + fmt.Sprintf(format, args...)}
		return out
	}
	switch typ {
	case gwv1.PathMatchPathPrefix, gwv1.PathMatchExact:
		if strings.ContainsAny(value, "*?") {
			return reject("path %q has * or ?, which an ALB path pattern reads as wildcards; use type RegularExpression", value)
		}
		if !strings.HasPrefix(value, "/") {
			return reject("path %q must start with /", value)
		}
		if typ == gwv1.PathMatchExact {
			out.prec.pathType = pathExact
			out.conditions = append(out.conditions, model.Condition{Field: condPath, Values: []string{value}})
			break
		}
		out.prec.pathType = pathPrefix
		out.isPrefix = true
		out.prefix = strings.TrimRight(value, "/")
		if out.prefix == "" {
			out.conditions = append(out.conditions, model.Condition{Field: condPath, Values: []string{"/*"}})
			break
		}
		out.conditions = append(out.conditions, model.Condition{Field: condPath, Values: []string{out.prefix, out.prefix + "/*"}})
	case gwv1.PathMatchRegularExpression:
		if p := checkRegex(value); p != "" {
			return reject("path regular expression %q %s", value, p)
		}
		out.prec.pathType = pathRegex
		out.conditions = append(out.conditions, model.Condition{Field: condPath, RegexValues: []string{value}})
	default:
		return reject("path type %s is not supported; use Exact, PathPrefix or RegularExpression", typ)
	}
	if m.Method != nil {
		out.prec.method = true
		out.conditions = append(out.conditions, model.Condition{Field: condMethod, Values: []string{string(*m.Method)}})
	}
	for k, h := range m.Headers {
		regex := h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression
		if h.Type != nil && *h.Type != gwv1.HeaderMatchExact && !regex {
			return reject("headers[%d].type %s is not supported; use Exact or RegularExpression", k, *h.Type)
		}
		if p := out.addHeader(string(h.Name), h.Value, regex); p != "" {
			return reject("headers[%d]: %s", k, p)
		}
	}
	for k, q := range m.QueryParams {
		if q.Type != nil && *q.Type != gwv1.QueryParamMatchExact {
			return reject("queryParams[%d].type %s is not supported: an ALB matches query values exactly (with * and ? as wildcards); use Exact", k, *q.Type)
		}
		out.conditions = append(out.conditions, model.Condition{Field: condQuery,
			QueryValues: []model.KeyValue{{Key: string(q.Name), Value: escapeQueryValue(q.Value)}}})
		out.prec.queries++
	}
	return out
}

// grpcMatch turns a GRPCRoute match into conditions: the method becomes a path pattern
// /service/method (a missing part is *); no method matches every path.
func grpcMatch(rule *l7Rule, j int, m gwv1.GRPCRouteMatch) *l7Match {
	out := &l7Match{index: j}
	field := rule.field(fmt.Sprintf("matches[%d]", j))
	if mm := m.Method; mm != nil {
		service, method := deref(mm.Service), deref(mm.Method)
		out.prec.pathLen, out.prec.methodLen = len(service), len(method)
		if service == "" && method == "" {
			out.rejected = &problem{string(gwv1.RouteReasonUnsupportedValue),
				field + ".method: set service, method or both"}
			return out
		}
		if mm.Type != nil && *mm.Type == gwv1.GRPCMethodMatchRegularExpression {
			// Better than the AWS Load Balancer Controller, which reads a regular expression
			// as an exact name: the ALB's path regexValues match it as written.
			out.prec.pathType = pathRegex
			out.conditions = append(out.conditions, model.Condition{Field: condPath,
				RegexValues: []string{"^/" + orDefault(service, "[^/]+") + "/" + orDefault(method, "[^/]+") + "$"}})
		} else {
			if strings.ContainsAny(service+method, "*?/") {
				out.rejected = &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
					"%s.method: %q/%q has *, ? or /; use type RegularExpression", field, service, method)}
				return out
			}
			out.prec.pathType = pathExact
			out.conditions = append(out.conditions, model.Condition{Field: condPath,
				Values: []string{"/" + orDefault(service, "*") + "/" + orDefault(method, "*")}})
		}
	} else {
		out.conditions = append(out.conditions, model.Condition{Field: condPath, Values: []string{"/*"}})
	}
	for k, h := range m.Headers {
		regex := h.Type != nil && *h.Type == gwv1.GRPCHeaderMatchRegularExpression
		if p := out.addHeader(string(h.Name), h.Value, regex); p != "" {
			out.rejected = &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf("%s.headers[%d]: %s", field, k, p)}
			return out
		}
	}
	return out
}

// addHeader adds a header match: a Host header becomes the match's host-header condition,
// any other header an http-header condition. It returns why the match cannot be programmed.
func (m *l7Match) addHeader(name, value string, regex bool) string {
	m.prec.headers++
	if regex {
		if p := checkRegex(value); p != "" {
			return fmt.Sprintf("regular expression %q %s", value, p)
		}
	}
	if !strings.EqualFold(name, "host") {
		if len(name) > model.MaxHeaderNameLength {
			return fmt.Sprintf("header name %q is %d characters long, an ALB matches header names of at most %d; match a shorter header",
				name, len(name), model.MaxHeaderNameLength)
		}
		m.conditions = append(m.conditions, headerCondition(name, value, regex))
		return ""
	}
	if m.host != nil {
		return "a second Host header match; keep one"
	}
	c := model.Condition{Field: condHost}
	switch {
	case regex:
		c.RegexValues = []string{value}
	case !validHostValue(value):
		return fmt.Sprintf("Host header value %q is not a hostname an ALB host-header condition can match exactly (letters, digits, - and ., no wildcards or port); match the route's hostnames instead", value)
	default:
		c.Values = []string{strings.ToLower(value)}
	}
	m.host = &c
	return ""
}

// validHostValue: the characters an ALB host-header value takes ("a-z, A-Z, 0-9; the
// following special characters: -_.; and wildcards (* and ?)"), wildcards excluded, since
// an Exact match must stay exact.
func validHostValue(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// checkRegex says why an ALB cannot match a regular expression: it does not compile, or it
// uses a feature ALB rule conditions do not support ("lookaheads, lookbehinds,
// backreferences, atomic groups, possessive quantifiers, subroutines, recursion, and Unicode
// character classes (such as \p{L})", ALB guide, listener rules). RE2 refuses all of these but
// Unicode classes, which are checked here. "" when it can.
func checkRegex(v string) string {
	if _, err := regexp.Compile(v); err != nil {
		return fmt.Sprintf("does not compile or uses a feature an ALB does not support (%v); rewrite it without lookarounds, backreferences, atomic groups or possessive quantifiers", err)
	}
	for i := 0; i+1 < len(v); i++ {
		if v[i] != '\\' {
			continue
		}
		if v[i+1] == 'p' || v[i+1] == 'P' {
			return "uses a Unicode character class (\\p or \\P), which an ALB does not support; list the characters instead"
		}
		i++ // skip the escaped character
	}
	return ""
}

// headerCondition matches a header: an exact value may list alternatives separated by
// unescaped commas (\, is a literal comma); a regular expression goes to regexValues.
func headerCondition(name, value string, regex bool) model.Condition {
	c := model.Condition{Field: condHeader, HeaderName: name}
	if regex {
		c.RegexValues = []string{value}
		return c
	}
	c.Values = splitUnescaped(value)
	return c
}

func splitUnescaped(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && v[i+1] == ',':
			cur.WriteByte(',')
			i++
		case v[i] == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	return append(out, cur.String())
}

// escapeQueryValue escapes the characters an ALB query-string condition reads as wildcards, so
// an Exact match stays exact. (The AWS Load Balancer Controller passes them through.)
func escapeQueryValue(v string) string {
	return strings.NewReplacer(`*`, `\*`, `?`, `\?`).Replace(v)
}

func conditionValues(cs []model.Condition) int {
	n := 0
	for _, c := range cs {
		n += len(c.Values) + len(c.RegexValues) + len(c.QueryValues)
	}
	return n
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
