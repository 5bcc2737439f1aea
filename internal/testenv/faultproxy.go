package testenv

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// FaultKind is what a FaultProxy does to a call its rule selects.
type FaultKind string

// The faults a FaultProxy injects.
const (
	// FaultNone forwards every call.
	FaultNone FaultKind = ""
	// FaultThrottle answers HTTP 400 with the service's throttling error: Throttling for the
	// Query protocol (ELBv2), RequestLimitExceeded for EC2, ThrottlingException for JSON (ACM).
	FaultThrottle FaultKind = "throttle"
	// FaultServerError answers FaultRule.Status (503 when zero) with a service-unavailable error.
	FaultServerError FaultKind = "5xx"
	// FaultDelay waits FaultRule.Delay, then forwards the call.
	FaultDelay FaultKind = "delay"
	// FaultDrop closes the connection without an answer.
	FaultDrop FaultKind = "drop"
	// FaultLoseResponse forwards the call, so AWS acts on it, then closes the connection
	// without passing the answer on: the caller cannot tell whether the call took effect.
	FaultLoseResponse FaultKind = "lose-response"
	// FaultRefuse answers FaultRule.Status (400 when zero) with the AWS error FaultRule.Code,
	// as AWS refuses an input: the call does not reach the emulator.
	FaultRefuse FaultKind = "refuse"
)

// FaultRule selects calls and says what to do to them. The zero rule forwards everything.
type FaultRule struct {
	Kind FaultKind
	// Action limits the rule to one AWS action ("DescribeLoadBalancers"); empty means all.
	Action string
	// Service limits the rule to one signing name ("elasticloadbalancing", "ec2", "acm").
	Service string
	// Share is the fraction of the selected calls that get the fault, spread evenly and
	// deterministically (0.5 hits every second call); 0 means every call.
	Share float64
	// Times caps how many faults the rule injects; 0 means no cap.
	Times int
	// Delay is how long FaultDelay waits.
	Delay time.Duration
	// Status is the HTTP status FaultServerError answers with (500–599), or FaultRefuse (400
	// when zero).
	Status int
	// Code is the AWS error code FaultRefuse answers with ("CertificateNotFound").
	Code string
	// BodyContains limits the rule to calls whose request body contains it (a form field such
	// as "Protocol=HTTPS", as the query protocols encode it).
	BodyContains string
}

// FaultProxy is a reverse proxy on 127.0.0.1 in front of an AWS endpoint (moto) that counts
// calls per action and injects the faults of its current rules.
type FaultProxy struct {
	// URL is the proxy's base URL, to use as the SDK's or CLI's endpoint.
	URL string

	target   *url.URL
	server   *http.Server
	listener net.Listener

	mu       sync.Mutex
	rules    []ruleState
	counts   map[string]int
	services map[string]int
}

// ruleState is a rule with its share and Times accounting.
type ruleState struct {
	FaultRule
	credit   float64
	injected int
}

// NewFaultProxy starts a proxy to target (a base URL such as Moto.Endpoint) on a free
// loopback port, forwarding every call until SetFault says otherwise.
func NewFaultProxy(target string) (*FaultProxy, error) {
	u, l, err := listenInFrontOf("fault proxy", target)
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{
		URL:      "http://" + l.Addr().String(),
		target:   u,
		listener: l,
		counts:   map[string]int{},
		services: map[string]int{},
	}
	forward := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }}
	p.server = &http.Server{Handler: p.handler(forward), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.server.Serve(l) }()
	return p, nil
}

// SetFault replaces the current rules with rule and restarts its share and Times accounting.
func (p *FaultProxy) SetFault(rule FaultRule) { p.SetFaults(rule) }

// SetFaults replaces the current rules. A call gets the fault of the first rule that selects
// it and has not used up its Times; a rule whose share skips the call passes it on to the next.
// No rules forwards everything.
func (p *FaultProxy) SetFaults(rules ...FaultRule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = p.rules[:0]
	for _, r := range rules {
		p.rules = append(p.rules, ruleState{FaultRule: r})
	}
}

// Injected is how many faults the current rules have injected.
func (p *FaultProxy) Injected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.rules {
		n += r.injected
	}
	return n
}

// Counts returns the calls received per action, faulted ones included. EC2 and ELBv2 share
// some action names (DescribeTags); ServiceCounts tells them apart.
func (p *FaultProxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.counts)
}

// ServiceCounts returns the calls received per "service:Action", e.g. "ec2:DescribeTags".
func (p *FaultProxy) ServiceCounts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.services)
}

// ResetCounts forgets the calls counted so far.
func (p *FaultProxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts, p.services = map[string]int{}, map[string]int{}
}

// Close stops the proxy.
func (p *FaultProxy) Close() error {
	err := p.server.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (p *FaultProxy) handler(forward http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call, err := identify(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rule, hit := p.record(call)
		if !hit {
			forward.ServeHTTP(w, r)
			return
		}
		switch rule.Kind {
		case FaultThrottle:
			writeAWSError(w, call, http.StatusBadRequest, throttleCode(call), faultMessage, faultRequestID)
		case FaultServerError:
			status := rule.Status
			if status < 500 || status > 599 {
				status = http.StatusServiceUnavailable
			}
			writeAWSError(w, call, status, unavailableCode(call), faultMessage, faultRequestID)
		case FaultDelay:
			select {
			case <-time.After(rule.Delay):
				forward.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		case FaultDrop:
			drop(w)
		case FaultRefuse:
			status := rule.Status
			if status == 0 {
				status = http.StatusBadRequest
			}
			writeAWSError(w, call, status, rule.Code, faultMessage, faultRequestID)
		case FaultLoseResponse:
			forward.ServeHTTP(httptest.NewRecorder(), r)
			drop(w)
		default:
			forward.ServeHTTP(w, r)
		}
	})
}

// record counts call and decides which rule, if any, faults it.
func (p *FaultProxy) record(c awsCall) (FaultRule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.action != "" {
		p.counts[c.action]++
		p.services[c.service+":"+c.action]++
	}
	for i := range p.rules {
		if p.rules[i].hits(c) {
			return p.rules[i].FaultRule, true
		}
	}
	return FaultRule{}, false
}

// hits decides whether the rule faults call c, and counts it if so.
func (r *ruleState) hits(c awsCall) bool {
	if r.Kind == FaultNone ||
		(r.Action != "" && r.Action != c.action) ||
		(r.Service != "" && r.Service != c.service) ||
		(r.BodyContains != "" && !strings.Contains(c.body, r.BodyContains)) ||
		(r.Times > 0 && r.injected >= r.Times) {
		return false
	}
	share := r.Share
	if share <= 0 || share > 1 {
		share = 1
	}
	r.credit += share
	if r.credit < 1-1e-9 {
		return false
	}
	r.credit--
	r.injected++
	return true
}

func copyCounts(in map[string]int) map[string]int {
	out := make(map[string]int, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// drop ends the connection without writing a response.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// awsCall is what the proxy knows of one request.
type awsCall struct {
	service string // signing name from the SigV4 credential scope
	action  string
	json    bool // JSON protocol (X-Amz-Target), as ACM uses
	body    string
}

// identify reads the action from X-Amz-Target or the form's Action, leaving r.Body readable.
func identify(r *http.Request) (awsCall, error) {
	c := awsCall{service: signingName(r.Header.Get("Authorization"))}
	c.action = r.URL.Query().Get("Action")
	if r.Body != nil && r.Method == http.MethodPost {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return c, fmt.Errorf("reading request body: %w", err)
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		c.body = string(body)
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		c.json = true
		c.action = target[strings.LastIndex(target, ".")+1:]
		return c, nil
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if form, err := url.ParseQuery(c.body); err == nil && form.Get("Action") != "" {
			c.action = form.Get("Action")
		}
	}
	return c, nil
}

// signingName takes "elasticloadbalancing" out of
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/elasticloadbalancing/aws4_request, ...".
func signingName(authorization string) string { return credentialScope(authorization, 3) }

// credentialScope returns part i of a SigV4 credential scope (key/date/region/service/
// aws4_request), or "" when the header has none.
func credentialScope(authorization string, i int) string {
	_, cred, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[i]
}

func throttleCode(c awsCall) string {
	switch {
	case c.json:
		return "ThrottlingException"
	case c.service == "ec2":
		return "RequestLimitExceeded"
	default:
		return "Throttling"
	}
}

func unavailableCode(c awsCall) string {
	if c.service == "ec2" {
		return "Unavailable"
	}
	return "ServiceUnavailable"
}

const (
	faultRequestID = "00000000-0000-4000-8000-00000fa017ed"
	faultMessage   = "injected by the test fault proxy"
)

// writeAWSError answers in the error format the client's protocol parses: the JSON protocol's
// {"__type","message"} (ACM), EC2's <Response><Errors>, or the Query protocol's <ErrorResponse>
// (ELBv2), whose Type is Sender for 4xx and Receiver for 5xx.
func writeAWSError(w http.ResponseWriter, c awsCall, status int, code, message, requestID string) {
	w.Header().Set("X-Amzn-RequestId", requestID)
	switch {
	case c.json:
		w.Header().Set("Content-Type", contentTypeJSON)
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		body, _ := json.Marshal(struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}{code, message})
		_, _ = w.Write(body)
	case c.service == "ec2":
		w.Header().Set("Content-Type", contentTypeXML)
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			xmlText(code), xmlText(message), xmlText(requestID))
	default:
		kind := "Sender"
		if status >= 500 {
			kind = "Receiver"
		}
		w.Header().Set("Content-Type", contentTypeXML)
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			kind, xmlText(code), xmlText(message), xmlText(requestID))
	}
}

// xmlText escapes s for XML character data.
func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// listenInFrontOf parses the base URL a proxy (what) forwards to and opens the free loopback
// port it listens on.
func listenInFrontOf(what, target string) (*url.URL, net.Listener, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, nil, fmt.Errorf("%s target %q is not a base URL like http://127.0.0.1:5000", what, target)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	return u, l, nil
}
