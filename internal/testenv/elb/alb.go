package elb

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ALB semantics (Application Load Balancer user guide, "Listener rules"): the rules of a
// listener are evaluated in priority order, lowest first, and the default rule last; the first
// rule whose conditions all match performs its actions. Within one condition the values are
// alternatives. Host names compare case-insensitively, paths case-sensitively, both with the
// wildcards * (any characters) and ? (one character); header names case-insensitively, and their
// values case-insensitively with wildcards; methods case-sensitively; query-string key/value
// pairs case-insensitively with wildcards. Forward actions spread requests over their target
// groups by weight; a target group with no target answers 503, a target that refuses or resets
// the connection 502, one that does not answer within the idle timeout 504.

func (d *DataPlane) serveHTTP(addr, zone string, l Listener, cfg *tls.Config) (server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	h := &albHandler{d: d, listenerARN: l.ARN, zone: zone}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, TLSConfig: cfg}
	if cfg != nil {
		go func() { _ = srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = srv.Serve(ln) }()
	}
	return &httpServer{srv: srv, proto: l.Protocol}, nil
}

type albHandler struct {
	d           *DataPlane
	listenerARN string
	zone        string // of the node this handler stands for
}

func (h *albHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lb, l := h.d.listener(h.listenerARN)
	if l == nil {
		http.Error(w, "listener gone", http.StatusServiceUnavailable)
		return
	}
	rule := matchRule(l.Rules, r)
	actions := l.DefaultActions
	if rule != nil {
		actions = rule.Actions
		applyTransforms(rule.Transforms, r)
	}
	h.perform(w, r, lb, l, actions)
}

// matchRule is the first rule, by priority with the default last, whose conditions all match.
func matchRule(rules []elbtypes.Rule, r *http.Request) *elbtypes.Rule {
	ordered := slices.Clone(rules)
	slices.SortStableFunc(ordered, func(a, b elbtypes.Rule) int { return rulePriority(a) - rulePriority(b) })
	for i := range ordered {
		if ruleMatches(ordered[i], r) {
			return &ordered[i]
		}
	}
	return nil
}

func rulePriority(r elbtypes.Rule) int {
	if aws.ToBool(r.IsDefault) || aws.ToString(r.Priority) == "default" {
		return 1 << 30
	}
	n, err := strconv.Atoi(aws.ToString(r.Priority))
	if err != nil {
		return 1 << 29
	}
	return n
}

func ruleMatches(rule elbtypes.Rule, r *http.Request) bool {
	for _, c := range rule.Conditions {
		if !conditionMatches(c, r) {
			return false
		}
	}
	return true
}

func conditionMatches(c elbtypes.RuleCondition, r *http.Request) bool {
	field := aws.ToString(c.Field)
	anyOf := func(values []string, match func(string) bool) bool {
		for _, v := range values {
			if match(v) {
				return true
			}
		}
		return false
	}
	switch field {
	case "host-header":
		values := c.Values
		if c.HostHeaderConfig != nil {
			values = append(slices.Clone(values), c.HostHeaderConfig.Values...)
		}
		host := hostOnly(r.Host)
		return anyOf(values, func(v string) bool { return wildcard(strings.ToLower(v), strings.ToLower(host)) })
	case "path-pattern":
		values := c.Values
		if c.PathPatternConfig != nil {
			values = append(slices.Clone(values), c.PathPatternConfig.Values...)
		}
		return anyOf(values, func(v string) bool { return wildcard(v, r.URL.Path) })
	case "http-header":
		if c.HttpHeaderConfig == nil {
			return false
		}
		got := r.Header.Values(aws.ToString(c.HttpHeaderConfig.HttpHeaderName))
		if strings.EqualFold(aws.ToString(c.HttpHeaderConfig.HttpHeaderName), "host") {
			got = []string{r.Host}
		}
		return anyOf(c.HttpHeaderConfig.Values, func(v string) bool {
			return slices.ContainsFunc(got, func(g string) bool { return wildcard(strings.ToLower(v), strings.ToLower(g)) })
		})
	case "http-request-method":
		if c.HttpRequestMethodConfig == nil {
			return false
		}
		return slices.Contains(c.HttpRequestMethodConfig.Values, r.Method)
	case "query-string":
		if c.QueryStringConfig == nil {
			return false
		}
		q := r.URL.Query()
		for _, kv := range c.QueryStringConfig.Values {
			key, val := aws.ToString(kv.Key), strings.ToLower(aws.ToString(kv.Value))
			for k, vs := range q {
				if key != "" && !wildcard(strings.ToLower(key), strings.ToLower(k)) {
					continue
				}
				for _, v := range vs {
					if wildcard(val, strings.ToLower(v)) {
						return true
					}
				}
			}
		}
		return false
	case "source-ip":
		if c.SourceIpConfig == nil {
			return false
		}
		src := addrPortOf(remoteAddr(r)).Addr()
		return anyOf(c.SourceIpConfig.Values, func(v string) bool {
			p, err := netip.ParsePrefix(v)
			return err == nil && p.Contains(src)
		})
	}
	return false // a condition this data plane does not know never matches
}

type stringAddr string

func (s stringAddr) Network() string { return "tcp" }
func (s stringAddr) String() string  { return string(s) }

func remoteAddr(r *http.Request) net.Addr { return stringAddr(r.RemoteAddr) }

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// wildcard matches s against pattern with * (any run of characters) and ? (one character).
func wildcard(pattern, s string) bool {
	p, t := 0, 0
	star, mark := -1, 0
	for t < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[t]):
			p++
			t++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, t
			p++
		case star >= 0:
			p = star + 1
			mark++
			t = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// applyTransforms rewrites the request as the rule's host-header-rewrite and url-rewrite
// transforms say: each replaces what its regular expression matches.
func applyTransforms(ts []elbtypes.RuleTransform, r *http.Request) {
	for _, t := range ts {
		switch {
		case t.HostHeaderRewriteConfig != nil:
			for _, rw := range t.HostHeaderRewriteConfig.Rewrites {
				if re, err := regexp.Compile(aws.ToString(rw.Regex)); err == nil {
					r.Host = re.ReplaceAllString(r.Host, aws.ToString(rw.Replace))
				}
			}
		case t.UrlRewriteConfig != nil:
			for _, rw := range t.UrlRewriteConfig.Rewrites {
				if re, err := regexp.Compile(aws.ToString(rw.Regex)); err == nil {
					target := re.ReplaceAllString(r.URL.RequestURI(), aws.ToString(rw.Replace))
					if u, err := url.ParseRequestURI(target); err == nil {
						r.URL.Path, r.URL.RawPath, r.URL.RawQuery = u.Path, u.RawPath, u.RawQuery
					}
				}
			}
		}
	}
}

// perform carries out a rule's actions: the last one is forward, redirect or fixed-response.
func (h *albHandler) perform(w http.ResponseWriter, r *http.Request, lb *LoadBalancer, l *Listener, actions []elbtypes.Action) {
	if len(actions) == 0 {
		http.Error(w, "no action", http.StatusInternalServerError)
		return
	}
	a := actions[len(actions)-1]
	switch a.Type {
	case elbtypes.ActionTypeEnumFixedResponse:
		fixedResponse(w, a.FixedResponseConfig)
	case elbtypes.ActionTypeEnumRedirect:
		redirect(w, r, l, a.RedirectConfig)
	case elbtypes.ActionTypeEnumForward:
		h.forward(w, r, lb, l, a)
	default:
		// authenticate-oidc / authenticate-cognito need an identity provider this data plane
		// does not stand in for.
		http.Error(w, "action "+string(a.Type)+" is not served by the local data plane", http.StatusNotImplemented)
	}
}

func fixedResponse(w http.ResponseWriter, c *elbtypes.FixedResponseActionConfig) {
	if c == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	if ct := aws.ToString(c.ContentType); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	code, err := strconv.Atoi(aws.ToString(c.StatusCode))
	if err != nil {
		code = http.StatusOK
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte(aws.ToString(c.MessageBody)))
}

// redirect answers with the redirect's Location: each component is the configured one, with the
// placeholders #{protocol}, #{host}, #{port}, #{path} and #{query} standing for the request's.
func redirect(w http.ResponseWriter, r *http.Request, l *Listener, c *elbtypes.RedirectActionConfig) {
	if c == nil {
		http.Error(w, "redirect without configuration", http.StatusInternalServerError)
		return
	}
	protocol := strings.ToLower(l.Protocol)
	host := hostOnly(r.Host)
	port := strconv.Itoa(int(l.Port))
	// "#{path}" is the request's path without its leading "/": the default path is "/#{path}".
	path := strings.TrimPrefix(r.URL.Path, "/")
	query := r.URL.RawQuery
	expand := func(v, def string) string {
		if v == "" {
			v = def
		}
		return strings.NewReplacer("#{protocol}", protocol, "#{host}", host, "#{port}", port, "#{path}", path, "#{query}", query).Replace(v)
	}
	outProto := strings.ToLower(expand(aws.ToString(c.Protocol), "#{protocol}"))
	outHost := expand(aws.ToString(c.Host), "#{host}")
	outPort := expand(aws.ToString(c.Port), "#{port}")
	outPath := expand(aws.ToString(c.Path), "/#{path}")
	outQuery := expand(aws.ToString(c.Query), "#{query}")
	loc := outProto + "://" + outHost
	if !(outProto == "http" && outPort == "80") && !(outProto == "https" && outPort == "443") {
		loc += ":" + outPort
	}
	loc += outPath
	if outQuery != "" {
		loc += "?" + outQuery
	}
	code := http.StatusFound
	if c.StatusCode == elbtypes.RedirectActionStatusCodeEnumHttp301 {
		code = http.StatusMovedPermanently
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(code)
}

// forward sends the request to a target of the action's target groups.
func (h *albHandler) forward(w http.ResponseWriter, r *http.Request, lb *LoadBalancer, l *Listener, a elbtypes.Action) {
	arn, sticky := h.stickyGroup(r, a)
	if arn == "" {
		var ok bool
		if arn, ok = h.d.forwardGroup([]elbtypes.Action{a}); !ok {
			http.Error(w, "no target group", http.StatusServiceUnavailable)
			return
		}
	}
	tg, ok := h.d.targetGroup(arn)
	if !ok {
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		return
	}
	t, ok := h.stickyTarget(r, lb, tg)
	if !ok {
		if t, ok = h.d.pickTarget(lb, tg, h.zone); !ok {
			http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	if sticky {
		http.SetCookie(w, &http.Cookie{Name: "AWSALBTG", Value: hex.EncodeToString([]byte(arn)), Path: "/"})
	}
	if tg.Attributes["stickiness.enabled"] == "true" && tg.Attributes["stickiness.type"] == "lb_cookie" {
		http.SetCookie(w, &http.Cookie{Name: "AWSALB", Value: hex.EncodeToString([]byte(t.key())), Path: "/"})
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			if tg.Protocol == "HTTPS" {
				pr.Out.URL.Scheme = "https"
			}
			pr.Out.URL.Host = t.Addr
			pr.Out.Host = pr.In.Host
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
			proto := "http"
			if pr.In.TLS != nil {
				proto = "https"
			}
			pr.Out.Header.Set("X-Forwarded-Proto", proto)
			pr.Out.Header.Set("X-Forwarded-Port", strconv.Itoa(int(l.Port)))
			pr.Out.Header.Del("X-Forwarded-Host")
			if pr.Out.Header.Get("X-Amzn-Trace-Id") == "" {
				pr.Out.Header.Set("X-Amzn-Trace-Id", traceID())
			}
		},
		Transport: h.d.transport(tg),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				http.Error(w, "504 Gateway Time-out", http.StatusGatewayTimeout)
			case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
				http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
			default:
				http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
			}
		},
	}
	proxy.ServeHTTP(w, r)
}

// stickyGroup honours group stickiness (the AWSALBTG cookie) of a weighted forward.
func (h *albHandler) stickyGroup(r *http.Request, a elbtypes.Action) (string, bool) {
	fc := a.ForwardConfig
	if fc == nil || fc.TargetGroupStickinessConfig == nil || !aws.ToBool(fc.TargetGroupStickinessConfig.Enabled) {
		return "", false
	}
	if c, err := r.Cookie("AWSALBTG"); err == nil {
		if raw, err := hex.DecodeString(c.Value); err == nil {
			arn := string(raw)
			for _, t := range fc.TargetGroups {
				if aws.ToString(t.TargetGroupArn) == arn {
					return arn, true
				}
			}
		}
	}
	arn, _ := h.d.forwardGroup([]elbtypes.Action{a})
	return arn, true
}

// stickyTarget honours target stickiness (the AWSALB cookie) when it names a routable target.
func (h *albHandler) stickyTarget(r *http.Request, lb *LoadBalancer, tg *TargetGroup) (Target, bool) {
	if tg.Attributes["stickiness.enabled"] != "true" {
		return Target{}, false
	}
	c, err := r.Cookie("AWSALB")
	if err != nil {
		return Target{}, false
	}
	raw, err := hex.DecodeString(c.Value)
	if err != nil {
		return Target{}, false
	}
	for _, t := range h.d.health.routable(tg, reachable(lb, tg, h.zone)) {
		if t.key() == string(raw) {
			return t, true
		}
	}
	return Target{}, false
}

// transport is the HTTP transport to a target group's targets, one per protocol and version:
// HTTP/1.1 to HTTP1 groups; HTTP/2 to HTTP2 and GRPC groups, in cleartext (h2c, prior
// knowledge) to HTTP ones and negotiated over TLS to HTTPS ones. Targets' certificates are not
// verified, as ELB does not verify them.
func (d *DataPlane) transport(tg *TargetGroup) http.RoundTripper {
	key := tg.Protocol + "/" + tg.ProtocolVersion
	d.trMu.Lock()
	defer d.trMu.Unlock()
	if rt, ok := d.transports[key]; ok {
		return rt
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: true},
		ResponseHeaderTimeout: 60 * time.Second, // the ALB idle timeout's default
		MaxIdleConnsPerHost:   16,
	}
	var p http.Protocols
	switch {
	case (tg.ProtocolVersion == "HTTP2" || tg.ProtocolVersion == "GRPC") && tg.Protocol == "HTTPS":
		p.SetHTTP2(true)
		tr.ForceAttemptHTTP2 = true
	case tg.ProtocolVersion == "HTTP2" || tg.ProtocolVersion == "GRPC":
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
	}
	tr.Protocols = &p
	d.transports[key] = tr
	return tr
}

func traceID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", time.Now().Unix(), hex.EncodeToString(b))
}
