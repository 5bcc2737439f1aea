// Package testenv starts the real components tests and the demo run against: moto_server as AWS,
// and kube-apiserver + etcd through envtest.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Moto is a running moto_server on a loopback port behind the strict AWS contract layer.
type Moto struct {
	// Endpoint is the base URL of the strict layer in front of moto, http://127.0.0.1:PORT:
	// every AWS client uses it, so AWS's contract holds for all of them.
	Endpoint string
	// Strict is the contract layer; its knobs are off by default.
	Strict *Strict
	// direct is moto_server's own base URL, for the layer and for tests that compare the layer
	// with plain moto.
	direct string
	cmd    *exec.Cmd
	done   chan struct{}
}

// StartMoto starts moto_server (from PATH) on a free loopback port, waits until it answers, and
// starts the strict layer in front of it (Endpoint).
func StartMoto(ctx context.Context) (*Moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found on PATH: install moto 5.x with its server extra (pip install 'moto[server]')")
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Getenv("ELBGATEWAY_MOTO_LOG") != "" {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting moto_server: %w", err)
	}
	m := &Moto{direct: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(m.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.direct+"/moto-api/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if m.Strict, err = NewStrict(m.direct); err != nil {
				m.Stop()
				return nil, fmt.Errorf("starting the strict layer: %w", err)
			}
			m.Endpoint = m.Strict.URL
			return m, nil
		}
		select {
		case <-m.done:
			return nil, errors.New("moto_server exited during start-up (run with ELBGATEWAY_MOTO_LOG=1 to see why)")
		case <-ctx.Done():
			m.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, errors.New("moto_server did not answer within 60s")
		}
	}
}

// Reset forgets every resource moto holds, and what the strict layer remembered of them.
func (m *Moto) Reset(ctx context.Context) error {
	if m.Strict != nil {
		m.Strict.reset()
		defer m.Strict.startRoutingWrite()()
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.direct+"/moto-api/reset", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: %s", resp.Status)
	}
	return nil
}

// Stop ends the strict layer, moto_server and its children.
func (m *Moto) Stop() {
	if m == nil || m.cmd.Process == nil {
		return
	}
	if m.Strict != nil {
		_ = m.Strict.Close()
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
}

// FreePort returns a TCP port that is free on 127.0.0.1 now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
