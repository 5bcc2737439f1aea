//go:build demo

package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestMakeDemoStopsWithMake starts `make demo` as a user does and sends one stop signal to the
// make process alone, as timeout(1), a CI runner or a supervisor does: every process the demo
// started must end and every temporary directory it made must be gone. While the demo runs, the
// controller's metrics are served at the URL it prints.
func TestMakeDemoStopsWithMake(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is not on PATH")
	}
	// A process started with SIGINT or SIGHUP ignored passes that on to make, which then ignores
	// the signal; handling them here gives make the default disposition a terminal gives it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(signalNames[sig], func(t *testing.T) { testMakeDemoStop(t, root, sig) })
	}
}

func testMakeDemoStop(t *testing.T, root string, sig syscall.Signal) {
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "-C", root, "demo")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens below, nothing this test started outlives it.
	var tree []procInfo
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		for _, p := range tree {
			if p.alive() {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()

	var out testenv.LockedBuffer
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			_, _ = out.Write([]byte(sc.Text() + "\n"))
			if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	output := out.String

	select {
	case <-ready:
	case err := <-exited:
		t.Fatalf("make demo exited before the demo was ready: %v\n%s", err, output())
	case <-time.After(10 * time.Minute):
		t.Fatalf("the demo was not ready after 10 minutes:\n%s", output())
	}

	tree = descendants(t, cmd.Process.Pid)
	for _, want := range []string{"etcd", "kube-apiserver", "moto_server"} {
		if !hasProc(tree, want) {
			t.Errorf("no %s among the processes make demo started: %v", want, tree)
		}
	}
	m := regexp.MustCompile(`its metrics: (http://127\.0\.0\.1:\d+/metrics)`).FindStringSubmatch(output())
	if m == nil {
		t.Errorf("the demo prints no metrics URL:\n%s", output())
	} else if body, err := get(m[1]); err != nil {
		t.Errorf("GET %s: %v", m[1], err)
	} else if !strings.Contains(body, "elbgateway_aws_api_calls_total{") || !strings.Contains(body, "controller_runtime_reconcile_total{") {
		t.Errorf("the metrics at %s lack the controller's counters:\n%s", m[1], body)
	}

	if err := syscall.Kill(cmd.Process.Pid, sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(3 * time.Minute):
		t.Fatalf("make still runs 3 minutes after %s:\n%s", signalNames[sig], output())
	}
	// The demo waits for the processes it stops, so by the time make is gone they are too; the
	// loop only covers a process that is still being reaped.
	for i := 0; i < 100 && anyAlive(tree); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range tree {
		if p.alive() {
			t.Errorf("%s (pid %d) survived %s to make", p.comm, p.pid, signalNames[sig])
		}
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("%s left behind in TMPDIR after %s", e.Name(), signalNames[sig])
	}
	if !strings.Contains(output(), "==> stopped: ") {
		t.Errorf("the demo did not report stopping:\n%s", output())
	}
	if t.Failed() {
		t.Logf("output:\n%s", output())
	}
}

// procInfo names one process; start (clock ticks after boot) tells a reused pid apart.
type procInfo struct {
	pid, ppid int
	comm      string
	start     uint64
}

func (p procInfo) String() string { return fmt.Sprintf("%s(%d)", p.comm, p.pid) }

func (p procInfo) alive() bool {
	q, err := readProc(p.pid)
	return err == nil && q.start == p.start && q.comm != "" && !q.zombie()
}

func (p procInfo) zombie() bool { return p.comm == "\x00zombie" }

// readProc parses /proc/PID/stat (proc(5)): pid (comm) state ppid ... starttime (field 22).
func readProc(pid int) (procInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procInfo{}, err
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return procInfo{}, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	f := strings.Fields(s[closing+1:])
	if len(f) < 20 {
		return procInfo{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	p := procInfo{pid: pid, comm: s[open+1 : closing]}
	if f[0] == "Z" {
		p.comm = "\x00zombie"
	}
	p.ppid, _ = strconv.Atoi(f[1])
	p.start, _ = strconv.ParseUint(f[19], 10, 64)
	return p, nil
}

// descendants lists the processes below pid.
func descendants(t *testing.T, pid int) []procInfo {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	children := map[int][]procInfo{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := readProc(n); err == nil {
			children[p.ppid] = append(children[p.ppid], p)
		}
	}
	var out []procInfo
	queue := []int{pid}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
		queue = queue[1:]
	}
	return out
}

func hasProc(ps []procInfo, name string) bool {
	for _, p := range ps {
		if strings.Contains(p.comm, name) {
			return true
		}
	}
	return false
}

func anyAlive(ps []procInfo) bool {
	for _, p := range ps {
		if p.alive() {
			return true
		}
	}
	return false
}

func get(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s", resp.Status)
	}
	return string(b), err
}
