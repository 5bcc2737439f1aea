package elb

import (
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// healthRecorder keeps the states a health checker reports, per target.
type healthRecorder struct {
	mu     sync.Mutex
	states map[string][]targetHealth
}

func (r *healthRecorder) report(_ string, t Target, h targetHealth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states[t.ID] = append(r.states[t.ID], h)
}

// waitState waits until a target's last reported state is want and returns what it reported.
func (r *healthRecorder) waitState(t *testing.T, id, want string) targetHealth {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		hs := r.states[id]
		r.mu.Unlock()
		if len(hs) > 0 && hs[len(hs)-1].state == want {
			return hs[len(hs)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("target %s: states %+v, want the last to be %s", id, hs, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Health check transitions (ELB user guide, "Health checks for your target groups"): a new target
// is initial, healthy after HealthyThresholdCount consecutive successes, unhealthy after
// UnhealthyThresholdCount consecutive failures, and healthy again the same way; an HTTP check
// succeeds only on a code the matcher names; with checks disabled a target is unavailable.
// Traffic goes to healthy (or unavailable) targets only, and to all when none is (fail open).
func TestHealthTransitions(t *testing.T) {
	rec := &healthRecorder{states: map[string][]targetHealth{}}
	h := newHealthChecker(0.005, DefaultTargetAddr, rec.report) // a 10 s interval is 50 ms
	tcpL, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := tcpL.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	tcpPort := int32(tcpL.Addr().(*net.TCPAddr).Port)
	httpL, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && r.Header.Get("User-Agent") == "ELB-HealthChecker/2.0" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})}
	go func() { _ = srv.Serve(httpL) }()
	defer srv.Close()
	httpPort := int32(httpL.Addr().(*net.TCPAddr).Port)

	check := func(protocol, path, matcher string, enabled bool) HealthCheck {
		return HealthCheck{Enabled: enabled, Protocol: protocol, Port: "traffic-port", Path: path, Matcher: matcher,
			Interval: 10 * time.Second, Timeout: 5 * time.Second, HealthyThreshold: 3, Unhealthy: 2}
	}
	tcp := &TargetGroup{ARN: "tcp", HealthCheck: check("TCP", "", "", true),
		Targets: []Target{{ID: "10.0.0.1", IP: "10.0.0.1", Port: tcpPort, Addr: tcpL.Addr().String()}}}
	httpOK := &TargetGroup{ARN: "http-ok", HealthCheck: check("HTTP", "/healthz", "200-299", true),
		Targets: []Target{{ID: "10.0.0.2", IP: "10.0.0.2", Port: httpPort, Addr: httpL.Addr().String()}}}
	httpBad := &TargetGroup{ARN: "http-bad", HealthCheck: check("HTTP", "/", "200", true),
		Targets: []Target{{ID: "20.0.0.2", IP: "20.0.0.2", Port: httpPort, Addr: httpL.Addr().String()}}}
	off := &TargetGroup{ARN: "off", HealthCheck: check("TCP", "", "", false),
		Targets: []Target{{ID: "30.0.0.1", IP: "30.0.0.1", Port: 1, Addr: "127.0.0.1:1"}}}
	mixed := &TargetGroup{ARN: "mixed", HealthCheck: check("TCP", "", "", true), Targets: []Target{
		{ID: "40.0.0.1", IP: "40.0.0.1", Port: tcpPort, Addr: "127.0.0.1:1"}, // checks reach tcpL; traffic would go elsewhere
		{ID: "50.0.0.1", IP: "50.0.0.1", Port: 1, Addr: "127.0.0.1:2"},
	}}
	all := func(Target) bool { return true }
	ctx := t.Context()
	h.sync(ctx, map[string]*TargetGroup{"tcp": tcp, "http-ok": httpOK, "http-bad": httpBad, "off": off, "mixed": mixed})
	defer h.sync(ctx, nil)

	if first := rec.states["10.0.0.1"]; len(first) == 0 || first[0].state != stateInitial || first[0].reason != "Elb.RegistrationInProgress" {
		t.Errorf("a new target first reports %+v, want initial (Elb.RegistrationInProgress)", first)
	}
	rec.waitState(t, "10.0.0.1", stateHealthy)
	rec.waitState(t, "10.0.0.2", stateHealthy)
	if bad := rec.waitState(t, "20.0.0.2", stateUnhealthy); bad.reason != "Target.FailedHealthChecks" || bad.description != "Health checks failed with these codes: [500]" {
		t.Errorf("a check answered 500 against matcher 200: %+v", bad)
	}
	if got := rec.waitState(t, "30.0.0.1", stateUnavailable); got.reason != "Target.HealthCheckDisabled" {
		t.Errorf("checks disabled: %+v", got)
	}
	rec.waitState(t, "40.0.0.1", stateHealthy)
	rec.waitState(t, "50.0.0.1", stateUnhealthy)
	if r := h.routable(mixed, all); len(r) != 1 || r[0].ID != "40.0.0.1" {
		t.Errorf("routable %+v, want the healthy target only", r)
	}
	if r := h.routable(httpBad, all); len(r) != 1 {
		t.Errorf("no healthy target: routable %+v, want every target (fail open)", r)
	}
	if r := h.routable(off, all); len(r) != 1 {
		t.Errorf("checks disabled: routable %+v, want the target", r)
	}

	// The healthy threshold is counted in consecutive successes: three reports, none skipped.
	var seen []string
	for _, s := range rec.states["10.0.0.1"] {
		seen = append(seen, s.state)
	}
	if len(seen) != 2 || seen[1] != stateHealthy {
		t.Errorf("reports of 10.0.0.1: %v, want initial then healthy", seen)
	}
	_ = tcpL.Close()
	rec.waitState(t, "10.0.0.1", stateUnhealthy)
	if r := h.routable(tcp, all); len(r) != 1 {
		t.Errorf("the only target unhealthy: routable %+v, want it (fail open)", r)
	}
}
