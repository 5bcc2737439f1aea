package translate

import (
	"fmt"
	"regexp"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

const (
	transformHost = "host-header-rewrite"
	transformURL  = "url-rewrite"
)

// filterAdvice says what to do instead of a filter an ALB cannot apply per rule.
var filterAdvice = map[string]string{
	string(gwv1.HTTPRouteFilterRequestHeaderModifier):  " (an ALB changes request headers only for a whole listener: LoadBalancerConfiguration listenerConfigurations[].listenerAttributes)",
	string(gwv1.HTTPRouteFilterResponseHeaderModifier): " (an ALB changes response headers only for a whole listener: LoadBalancerConfiguration listenerConfigurations[].listenerAttributes)",
	string(gwv1.HTTPRouteFilterExternalAuth):           " (use a ListenerRuleConfiguration with an authenticate-oidc, authenticate-cognito or jwt-validation action)",
}

// compileFilters reads a rule's filters: RequestRedirect, URLRewrite and one
// ListenerRuleConfiguration through ExtensionRef. Any other filter rejects the rule, and only
// the rule: an ALB cannot modify headers, mirror or answer CORS per rule. (The AWS Load
// Balancer Controller fails the whole Gateway on such a filter.)
func (t *translator) compileFilters(r *routeState, rule *l7Rule) *problem {
	unsupported := string(gwv1.RouteReasonUnsupportedValue)
	for k, f := range rule.filters {
		field := rule.field(fmt.Sprintf("filters[%d]", k))
		switch f.typ {
		case string(gwv1.HTTPRouteFilterRequestRedirect):
			if f.redirect == nil || rule.redirect != nil {
				return &problem{unsupported, field + ": a rule takes one RequestRedirect filter with its requestRedirect settings"}
			}
			rule.redirect, rule.redirectField = f.redirect, field+".requestRedirect"
		case string(gwv1.HTTPRouteFilterURLRewrite):
			if f.rewrite == nil || rule.rewrite != nil {
				return &problem{unsupported, field + ": a rule takes one URLRewrite filter with its urlRewrite settings"}
			}
			rule.rewrite, rule.rewriteField = f.rewrite, field+".urlRewrite"
		case string(gwv1.HTTPRouteFilterExtensionRef):
			if p := t.attachLRC(r, rule, f.extensionRef, field); p != nil {
				return p
			}
		default:
			return &problem{unsupported, fmt.Sprintf("%s: %s is not supported by an ALB per rule; remove it%s",
				field, f.typ, filterAdvice[f.typ])}
		}
	}
	if rule.redirect != nil && rule.rewrite != nil {
		return &problem{string(gwv1.RouteReasonIncompatibleFilters), rule.field("filters") +
			": RequestRedirect and URLRewrite cannot be used together; keep one"}
	}
	if p := checkRedirect(rule); p != nil {
		return p
	}
	if p := checkRewrite(rule); p != nil {
		return p
	}
	if p := checkLRC(rule); p != nil {
		return rejectLRC(rule, p, string(gwv1.RouteReasonUnsupportedValue))
	}
	return nil
}

// checkRedirect rejects redirects an ALB cannot make.
func checkRedirect(rule *l7Rule) *problem {
	rd := rule.redirect
	if rd == nil {
		return nil
	}
	field := rule.redirectField
	unsupported := string(gwv1.RouteReasonUnsupportedValue)
	if rd.StatusCode != nil && *rd.StatusCode != 301 && *rd.StatusCode != 302 {
		return &problem{unsupported, fmt.Sprintf("%s.statusCode: %d is not supported, an ALB redirects with 301 or 302 only; use one of them",
			field, *rd.StatusCode)}
	}
	if rd.Scheme != nil && *rd.Scheme != "http" && *rd.Scheme != "https" {
		return &problem{unsupported, fmt.Sprintf("%s.scheme: %q is not supported; use http or https", field, *rd.Scheme)}
	}
	if rd.Path == nil {
		return nil
	}
	switch rd.Path.Type {
	case gwv1.FullPathHTTPPathModifier:
		if p := deref(rd.Path.ReplaceFullPath); strings.ContainsAny(p, "*?") || !strings.HasPrefix(p, "/") {
			return &problem{unsupported, fmt.Sprintf("%s.path.replaceFullPath: %q must start with / and have no * or ?", field, p)}
		}
	case gwv1.PrefixMatchHTTPPathModifier:
		if rd.Scheme == nil && rd.Hostname == nil && rd.Port == nil {
			return &problem{unsupported, field + ".path: an ALB rejects a redirect that changes only the path prefix (it sees a redirect loop); also set scheme, hostname or port, or use ReplaceFullPath"}
		}
		if p := checkPrefixMatches(rule, field+".path.replacePrefixMatch"); p != nil {
			return p
		}
	default:
		return &problem{unsupported, fmt.Sprintf("%s.path.type: %s is not supported; use ReplaceFullPath or ReplacePrefixMatch", field, rd.Path.Type)}
	}
	return nil
}

func checkRewrite(rule *l7Rule) *problem {
	rw := rule.rewrite
	if rw == nil || rw.Path == nil {
		return nil
	}
	field := rule.rewriteField + ".path"
	switch rw.Path.Type {
	case gwv1.FullPathHTTPPathModifier:
		if !strings.HasPrefix(deref(rw.Path.ReplaceFullPath), "/") {
			return &problem{string(gwv1.RouteReasonUnsupportedValue), field + ".replaceFullPath: must start with /"}
		}
	case gwv1.PrefixMatchHTTPPathModifier:
		return checkPrefixMatches(rule, field+".replacePrefixMatch")
	default:
		return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
			"%s.type: %s is not supported; use ReplaceFullPath or ReplacePrefixMatch", field, rw.Path.Type)}
	}
	return nil
}

func checkPrefixMatches(rule *l7Rule, field string) *problem {
	for _, m := range rule.matches {
		if !m.isPrefix {
			return &problem{string(gwv1.RouteReasonUnsupportedValue), fmt.Sprintf(
				"%s: needs every match to be a PathPrefix match, matches[%d] is not; use ReplaceFullPath or PathPrefix matches", field, m.index)}
		}
	}
	return nil
}

// redirectAction builds the redirect of a rule. A scheme without a port redirects to the
// scheme's well-known port; ReplacePrefixMatch keeps the path and rewrites it with a transform.
func redirectAction(rule *l7Rule) *model.RedirectAction {
	rd := rule.redirect
	out := &model.RedirectAction{StatusCode: "HTTP_302"}
	if rd.StatusCode != nil {
		out.StatusCode = fmt.Sprintf("HTTP_%d", *rd.StatusCode)
	}
	if rd.Scheme != nil {
		out.Protocol = strings.ToUpper(*rd.Scheme)
		out.Port = "80"
		if out.Protocol == "HTTPS" {
			out.Port = "443"
		}
	}
	if rd.Port != nil {
		out.Port = portString(int32(*rd.Port))
	}
	if rd.Hostname != nil {
		out.Host = string(*rd.Hostname)
	}
	if rd.Path != nil && rd.Path.Type == gwv1.FullPathHTTPPathModifier {
		out.Path = deref(rd.Path.ReplaceFullPath)
	}
	if lrc := rule.lrc; lrc != nil {
		for _, a := range lrc.Spec.Actions {
			if a.RedirectConfig != nil && a.RedirectConfig.Query != nil {
				out.Query = *a.RedirectConfig.Query
			}
		}
	}
	return out
}

// transforms are the rule's rewrites for one match: host-header-rewrite for a hostname,
// url-rewrite for a path (a full path, or the match's prefix replaced).
func transforms(rule *l7Rule, m *l7Match) []model.Transform {
	var out []model.Transform
	var path *gwv1.HTTPPathModifier
	switch {
	case rule.rewrite != nil:
		if h := rule.rewrite.Hostname; h != nil {
			out = append(out, model.Transform{Type: transformHost, Regex: ".*", Replace: string(*h)})
		}
		path = rule.rewrite.Path
	case rule.redirect != nil:
		if p := rule.redirect.Path; p != nil && p.Type == gwv1.PrefixMatchHTTPPathModifier {
			path = p
		}
	}
	if path == nil {
		return out
	}
	if path.Type == gwv1.FullPathHTTPPathModifier {
		return append(out, model.Transform{Type: transformURL, Regex: "^([^?]*)", Replace: deref(path.ReplaceFullPath)})
	}
	return append(out, prefixRewrite(m.prefix, deref(path.ReplacePrefixMatch)))
}

// prefixRewrite replaces the matched path prefix. The prefix is escaped: the AWS Load
// Balancer Controller embeds it as written, so a . or + in a path acts as a regex operator.
func prefixRewrite(prefix, replacement string) model.Transform {
	regex := "^" + regexp.QuoteMeta(prefix) + "(/)?"
	replacement = strings.TrimRight(replacement, "/")
	if replacement == "" {
		return model.Transform{Type: transformURL, Regex: regex, Replace: "/"}
	}
	return model.Transform{Type: transformURL, Regex: regex, Replace: replacement + "$1"}
}
