//go:build demo

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/elbgateway/elbgateway/internal/testenv/elb"
)

// startDemoBackend serves, on addr, what the seed's backend pod would: an answer naming itself.
func startDemoBackend(addr string) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("the seed's backend on %s: %w", addr, err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello from backend (pod IP %s, seen from %s) for %s %s\n", demoEndpoint, r.RemoteAddr, r.Method, r.URL.Path)
	})}
	go func() { _ = srv.Serve(l) }()
	return func() { _ = srv.Close() }, nil
}

// waitResolvable waits until the data plane serves the load balancer and returns curl's
// --resolve argument for it.
func waitResolvable(ctx context.Context, dp *elb.DataPlane, dnsName string, port int32) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := dp.Refresh(ctx); err != nil && time.Now().After(deadline) {
			return "", err
		}
		if r, ok := dp.Resolve(dnsName, port); ok {
			return r, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the data plane does not serve %s", dnsName)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// curlOnce requests url as the seed's curl does, with curl when it is installed, and returns the
// status line and body it printed.
func curlOnce(ctx context.Context, resolve, url string) (string, error) {
	if _, err := exec.LookPath("curl"); err == nil {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		out, err := exec.CommandContext(cctx, "curl", "-sS", "--retry", "5", "--retry-connrefused", "--retry-delay", "1",
			"-w", "HTTP %{http_code}\n", "--resolve", resolve, url).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("curl: %v: %s", err, out)
		}
		return string(out), nil
	}
	parts := strings.SplitN(resolve, ":", 3)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort(parts[2], parts[1]))
		}}}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Fprintln(os.Stderr, "(curl is not installed: the request was made by the demo itself)")
	return fmt.Sprintf("%sHTTP %d\n", body, resp.StatusCode), nil
}
