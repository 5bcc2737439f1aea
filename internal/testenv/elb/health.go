package elb

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Target health as the ELB user guide describes it ("Health checks for your target groups"):
// a newly registered target is initial; it turns healthy after HealthyThresholdCount consecutive
// successful checks and unhealthy after UnhealthyThresholdCount consecutive failures, and moves
// between the two the same way. A TCP check succeeds when the connection opens within the
// timeout; an HTTP(S) check when the answer's status code matches the matcher. With health checks
// disabled a target is unavailable and receives traffic. Traffic goes to healthy targets only,
// and to every target when none is healthy ("fail open").

// Health states, as DescribeTargetHealth names them.
const (
	stateInitial     = "initial"
	stateHealthy     = "healthy"
	stateUnhealthy   = "unhealthy"
	stateUnavailable = "unavailable"
)

type targetHealth struct {
	state, reason, description string
	successes, failures        int
}

// healthChecker runs the checks of every registered target and remembers their state.
type healthChecker struct {
	scale      float64 // multiplies intervals and timeouts; 1 is AWS's timing
	targetAddr func(ip string, port int32) (string, bool)
	report     func(tgARN string, t Target, h targetHealth)

	mu      sync.Mutex
	states  map[string]map[string]*targetHealth // target group → target key
	running map[string]context.CancelFunc       // "tg|target" → its checker
}

func newHealthChecker(scale float64, targetAddr func(string, int32) (string, bool), report func(string, Target, targetHealth)) *healthChecker {
	if scale <= 0 {
		scale = 1
	}
	return &healthChecker{scale: scale, targetAddr: targetAddr, report: report,
		states: map[string]map[string]*targetHealth{}, running: map[string]context.CancelFunc{}}
}

// sync starts checks for new targets and stops those of targets that are gone.
func (h *healthChecker) sync(ctx context.Context, tgs map[string]*TargetGroup) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for arn, tg := range tgs {
		if h.states[arn] == nil {
			h.states[arn] = map[string]*targetHealth{}
		}
		for _, t := range tg.Targets {
			k := arn + "|" + t.key() + "|" + healthKey(tg.HealthCheck)
			seen[k] = true
			if _, ok := h.running[k]; ok {
				continue
			}
			st := h.states[arn][t.key()]
			if st == nil {
				st = &targetHealth{state: stateInitial, reason: "Elb.RegistrationInProgress", description: "Target registration is in progress"}
				h.states[arn][t.key()] = st
				h.report(arn, t, *st)
			}
			cctx, cancel := context.WithCancel(ctx)
			h.running[k] = cancel
			go h.check(cctx, arn, tg.HealthCheck, t)
		}
	}
	for k, cancel := range h.running {
		if !seen[k] {
			cancel()
			delete(h.running, k)
		}
	}
	for arn, byTarget := range h.states {
		tg, ok := tgs[arn]
		if !ok {
			delete(h.states, arn)
			continue
		}
		for key := range byTarget {
			if !containsTarget(tg.Targets, key) {
				delete(byTarget, key)
			}
		}
	}
}

func containsTarget(ts []Target, key string) bool {
	for _, t := range ts {
		if t.key() == key {
			return true
		}
	}
	return false
}

func healthKey(c HealthCheck) string {
	return strings.Join([]string{strconv.FormatBool(c.Enabled), c.Protocol, c.Port, c.Path, c.Matcher,
		c.Interval.String(), c.Timeout.String(), strconv.Itoa(c.HealthyThreshold), strconv.Itoa(c.Unhealthy)}, "/")
}

// check probes one target until its context ends.
func (h *healthChecker) check(ctx context.Context, tgARN string, c HealthCheck, t Target) {
	if !c.Enabled {
		h.set(tgARN, t, func(st *targetHealth) {
			st.state, st.reason, st.description = stateUnavailable, "Target.HealthCheckDisabled", "Health checks are disabled"
		})
		return
	}
	interval := time.Duration(float64(c.Interval) * h.scale)
	timeout := time.Duration(float64(c.Timeout) * h.scale)
	for {
		ok, why := h.probe(ctx, c, t, timeout)
		h.set(tgARN, t, func(st *targetHealth) {
			if ok {
				st.successes, st.failures = st.successes+1, 0
				if st.state != stateHealthy && st.successes >= max(c.HealthyThreshold, 1) {
					st.state, st.reason, st.description = stateHealthy, "", ""
				}
				return
			}
			st.failures, st.successes = st.failures+1, 0
			if st.state != stateUnhealthy && st.failures >= max(c.Unhealthy, 1) {
				st.state, st.reason, st.description = stateUnhealthy, "Target.FailedHealthChecks", why
			}
		})
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// set changes a target's state and reports a change.
func (h *healthChecker) set(tgARN string, t Target, change func(*targetHealth)) {
	h.mu.Lock()
	st := h.states[tgARN][t.key()]
	if st == nil {
		h.mu.Unlock()
		return
	}
	before := st.state
	change(st)
	after := *st
	h.mu.Unlock()
	if after.state != before {
		h.report(tgARN, t, after)
	}
}

// probe runs one check.
func (h *healthChecker) probe(ctx context.Context, c HealthCheck, t Target, timeout time.Duration) (bool, string) {
	if t.IP == "" {
		return false, "Target has no address"
	}
	addr, ok := h.targetAddr(t.IP, c.port(t))
	if !ok {
		return false, "Target has no address"
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch c.Protocol {
	case "HTTP", "HTTPS":
		scheme := "http"
		if c.Protocol == "HTTPS" {
			scheme = "https"
		}
		path := c.Path
		if path == "" {
			path = "/"
		}
		req, err := http.NewRequestWithContext(cctx, http.MethodGet, scheme+"://"+addr+path, nil)
		if err != nil {
			return false, err.Error()
		}
		req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // targets' certificates are not verified, as ELB does
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			if cctx.Err() != nil {
				return false, "Request timed out"
			}
			return false, "Health checks failed"
		}
		resp.Body.Close()
		if !matchCode(c.Matcher, resp.StatusCode) {
			return false, "Health checks failed with these codes: [" + strconv.Itoa(resp.StatusCode) + "]"
		}
		return true, ""
	default:
		var d net.Dialer
		conn, err := d.DialContext(cctx, "tcp", addr)
		if err != nil {
			return false, "Health checks failed"
		}
		conn.Close()
		return true, ""
	}
}

// matchCode says whether code matches a matcher: "200", "200,202", "200-299"; empty means 200.
func matchCode(matcher string, code int) bool {
	if matcher == "" {
		matcher = "200"
	}
	for _, part := range strings.Split(matcher, ",") {
		part = strings.TrimSpace(part)
		if lo, hi, ok := strings.Cut(part, "-"); ok {
			l, err1 := strconv.Atoi(lo)
			u, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil && code >= l && code <= u {
				return true
			}
			continue
		}
		if n, err := strconv.Atoi(part); err == nil && n == code {
			return true
		}
	}
	return false
}

// routable is the targets of a group that keep selects and that receive traffic: the healthy
// (or unavailable, with checks off) ones, or all of them when none is (fail open).
func (h *healthChecker) routable(tg *TargetGroup, keep func(Target) bool) []Target {
	h.mu.Lock()
	defer h.mu.Unlock()
	var all, out []Target
	for _, t := range tg.Targets {
		if t.Addr == "" || !keep(t) {
			continue
		}
		all = append(all, t)
		if st := h.states[tg.ARN][t.key()]; st != nil && (st.state == stateHealthy || st.state == stateUnavailable) {
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	return all
}

// State is a target's health as the data plane sees it.
func (h *healthChecker) state(tgARN string, t Target) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.states[tgARN][t.key()]; st != nil {
		return st.state
	}
	return ""
}

// healthReporter posts health changes to the test environment's contract layer, so that
// DescribeTargetHealth answers them.
func healthReporter(url, region string) func(string, Target, targetHealth) {
	if url == "" {
		return func(string, Target, targetHealth) {}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	return func(tgARN string, t Target, h targetHealth) {
		body, _ := json.Marshal(map[string]any{"region": region, "targetGroupArn": tgARN, "targets": []map[string]any{{
			"id": t.ID, "port": t.Port, "state": h.state, "reason": h.reason, "description": h.description}}})
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
	}
}
