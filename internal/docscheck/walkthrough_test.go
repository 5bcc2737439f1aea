package docscheck

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// walkthroughs are the pages whose ```sh blocks TestWalkthroughsRun runs, in this order.
var walkthroughs = []string{"walkthrough-l4.md", "example-l7.md"}

// noRunMarker, on the line before a ```sh block, keeps the block out of TestWalkthroughsRun; the
// rest of the comment says why (a real cluster, real AWS).
const noRunMarker = "<!-- docs-test: not run"

type shBlock struct {
	page string
	line int
	text string
}

// shBlocks returns the ```sh blocks of a page that are to be run.
func shBlocks(t *testing.T, page string) (run []shBlock, skipped int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		start := i
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		if start > 0 && strings.HasPrefix(strings.TrimSpace(lines[start-1]), noRunMarker) {
			skipped++
			continue
		}
		run = append(run, shBlock{page: page, line: start + 1, text: strings.Join(body, "\n")})
	}
	return run, skipped
}

// firstYAML returns the first ```yaml block of a page: the manifest the page asks to save.
func firstYAML(t *testing.T, page string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", page))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)\n```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("docs/%s has no yaml block", page)
	}
	return string(m[1]) + "\n"
}

var (
	demoKubeconfig = regexp.MustCompile(`export KUBECONFIG=(\S+)`)
	demoAWSEnv     = regexp.MustCompile(`export (AWS_ACCESS_KEY_ID=\S+) (AWS_SECRET_ACCESS_KEY=\S+) (AWS_DEFAULT_REGION=\S+)`)
	demoEndpoint   = regexp.MustCompile(`aws --endpoint-url (\S+) `)
)

// TestWalkthroughsRun runs the shell blocks of the walkthroughs, as a reader would, against the
// demo stack (`elbgateway demo`: kube-apiserver, etcd, moto and the controller) with the
// environment the demo prints. A block that fails fails the test with its output.
func TestWalkthroughsRun(t *testing.T) {
	for _, tool := range []string{"kubectl", "aws", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the walkthroughs need %s on PATH: %v", tool, err)
		}
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-tags", "demo", "-o", filepath.Join(bin, "elbgateway"), "./cmd/elbgateway")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building elbgateway: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	demo := exec.Command(filepath.Join(bin, "elbgateway"), "demo")
	demo.Dir = root
	demo.Stderr = os.Stderr
	out, err := demo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	t.Cleanup(func() {
		_ = demo.Process.Signal(syscall.SIGTERM)
		select {
		case <-readDone:
		case <-time.After(time.Minute):
			_ = demo.Process.Kill()
			<-readDone
		}
		_ = demo.Wait()
	})

	// Read the demo's output until it says where its API server and AWS emulator are, then
	// drain it until the demo stops.
	var env []string
	ready := make(chan error, 1)
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		var seen strings.Builder
		for sc.Scan() {
			line := sc.Text()
			seen.WriteString(line + "\n")
			if m := demoKubeconfig.FindStringSubmatch(line); m != nil {
				env = append(env, "KUBECONFIG="+m[1])
			}
			if m := demoAWSEnv.FindStringSubmatch(line); m != nil {
				env = append(env, m[1], m[2], m[3])
			}
			if m := demoEndpoint.FindStringSubmatch(line); m != nil {
				env = append(env, "AWS_ENDPOINT_URL="+m[1])
			}
			if strings.HasPrefix(line, "Press Ctrl-C") {
				ready <- nil
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		ready <- &demoOutputError{seen.String()}
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the demo did not become ready")
	}
	if len(env) != 5 {
		t.Fatalf("the demo printed %d of the 5 settings the walkthroughs need: %v", len(env), env)
	}

	// The reader's directory: the repository's examples/, and the manifest example-l7.md asks
	// to save as example-l7.yaml.
	work := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "examples"), filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "example-l7.yaml"), []byte(firstYAML(t, "example-l7.md")), 0o644); err != nil {
		t.Fatal(err)
	}
	env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+work)

	ran := 0
	for _, page := range walkthroughs {
		blocks, _ := shBlocks(t, page)
		for _, b := range blocks {
			cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", b.text)
			cmd.Dir = work
			cmd.Env = env
			got, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("docs/%s line %d:\n%s\nfailed: %v\n%s", b.page, b.line, b.text, err, got)
			}
			t.Logf("docs/%s line %d ran:\n%s", b.page, b.line, got)
			ran++
		}
	}
	if ran == 0 {
		t.Fatal("no shell block ran")
	}
}

type demoOutputError struct{ output string }

func (e *demoOutputError) Error() string {
	return "the demo stopped before it was ready:\n" + e.output
}

// TestNoRunMarkersAreFew keeps the blocks the walkthrough test skips few: each must say why.
func TestNoRunMarkersAreFew(t *testing.T) {
	for _, page := range walkthroughs {
		run, skipped := shBlocks(t, page)
		if len(run) == 0 {
			t.Errorf("docs/%s has no shell block that runs", page)
		}
		if skipped > 1 {
			t.Errorf("docs/%s skips %d shell blocks; run them against the demo instead", page, skipped)
		}
	}
}
