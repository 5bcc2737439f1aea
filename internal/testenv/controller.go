package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// BuildController builds the elbgateway command of the repository into dir, statically as it
// ships, and returns the binary's path.
func BuildController(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "elbgateway")
	// As the Dockerfile and make build build it: stripped, without the demo (-tags demo).
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/elbgateway")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/elbgateway: %w\n%s", err, out)
	}
	return bin, nil
}

// ControllerOptions are what a controller process runs with.
type ControllerOptions struct {
	// Binary is the elbgateway command (see BuildController).
	Binary string
	// Kubeconfig is the kubeconfig file it reaches the API server with.
	Kubeconfig string
	// AWSEndpoint receives every AWS call (moto, or a proxy in front of it).
	AWSEndpoint, Region, ClusterName, VPCID string
	// Args are more flags of `elbgateway controller`.
	Args []string
}

// Controller is a running `elbgateway controller` process.
type Controller struct {
	cmd  *exec.Cmd
	done chan struct{}
	logs LockedBuffer
}

// StartController runs `elbgateway controller` against the API server and AWS endpoint of o,
// as one replica (no leader election), with its metrics and probe endpoints on free loopback
// ports. It returns once the process has started; Stop ends it.
func StartController(o ControllerOptions) (*Controller, error) {
	if o.Binary == "" || o.Kubeconfig == "" || o.AWSEndpoint == "" {
		return nil, errors.New("StartController: Binary, Kubeconfig and AWSEndpoint are required")
	}
	args := append([]string{"controller",
		"--kubeconfig=" + o.Kubeconfig,
		"--cluster-name=" + o.ClusterName,
		"--aws-region=" + o.Region,
		"--aws-vpc-id=" + o.VPCID,
		"--leader-elect=false",
		"--metrics-bind-address=0",
		"--health-probe-bind-address=127.0.0.1:0",
	}, o.Args...)
	c := &Controller{done: make(chan struct{})}
	c.cmd = exec.Command(o.Binary, args...)
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.cmd.Env = append(cliEnv(),
		"AWS_ENDPOINT_URL="+o.AWSEndpoint,
		"AWS_ACCESS_KEY_ID="+TestAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+TestSecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
	)
	c.cmd.Stdout, c.cmd.Stderr = &c.logs, &c.logs
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Binary, err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	return c, nil
}

// Exited says whether the process has ended.
func (c *Controller) Exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Pid is the process's ID, to read its resource use.
func (c *Controller) Pid() int { return c.cmd.Process.Pid }

// Logs returns what the process has written so far.
func (c *Controller) Logs() string { return c.logs.String() }

// Stop interrupts the process (it shuts down cleanly on SIGINT) and kills it after 10s.
func (c *Controller) Stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
}

// LockedBuffer is a bytes.Buffer that goroutines may write and read at once: a process's
// output, a logger's, read by the test while they run. Its zero value is empty and ready.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
