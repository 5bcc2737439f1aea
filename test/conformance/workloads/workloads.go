// Package workloads gives the conformance run's kube-apiserver what a real cluster adds to it:
// kube-controller-manager (namespaces, Deployments and ReplicaSets, EndpointSlices, garbage
// collection), kube-scheduler, and kwok standing in for kubelets, so Deployments become Running,
// Ready Pods with IPs and Services get EndpointSlices. No container runs: the suite's backends
// are echo-basic processes on the loopback addresses the local data plane maps Pod IPs to.
package workloads

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

//go:embed stages.yaml
var stages []byte

// NodeAnnotation marks the Nodes kwok manages.
const NodeAnnotation = "kwok.x-k8s.io/node"

// Options say where the cluster is and which addresses Pods get.
type Options struct {
	// Assets is the directory holding kube-controller-manager, kube-scheduler and kwok.
	Assets string
	// Kubeconfig is a file reaching the API server with full rights.
	Kubeconfig string
	// PodCIDR is the range kwok takes Pod IPs from: a range of the VPC, so ip targets register.
	PodCIDR string
	// Nodes is how many Nodes to create; each gets an InternalIP from NodeCIDR.
	Nodes int
	// NodeCIDR is the range of the Nodes' InternalIPs.
	NodeCIDR string
	// Dir receives the processes' logs and configuration; a temporary directory when empty.
	Dir string
}

// Workloads is the running set of processes.
type Workloads struct {
	dir     string
	ownsDir bool
	mu      sync.Mutex
	procs   []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs kube-controller-manager, kube-scheduler and kwok against the API server and creates
// the Nodes. It returns once every Node is Ready.
func Start(ctx context.Context, c client.Client, opts Options) (*Workloads, error) {
	if opts.Nodes <= 0 {
		opts.Nodes = 1
	}
	w := &Workloads{dir: opts.Dir}
	if w.dir == "" {
		d, err := os.MkdirTemp("", "elbgateway-workloads-")
		if err != nil {
			return nil, err
		}
		w.dir, w.ownsDir = d, true
	}
	stagesPath := filepath.Join(w.dir, "kwok-stages.yaml")
	if err := os.WriteFile(stagesPath, stages, 0o600); err != nil {
		return nil, w.fail(err)
	}
	bin := func(name string) string { return filepath.Join(opts.Assets, name) }
	for _, p := range []struct {
		name string
		args []string
	}{
		{"kube-controller-manager", []string{
			"--kubeconfig=" + opts.Kubeconfig,
			"--leader-elect=false",
			"--use-service-account-credentials=false",
			"--controllers=namespace,deployment,replicaset,endpointslice,endpointslicemirroring,garbagecollector,serviceaccount",
			"--secure-port=0",
			"--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
			"--concurrent-service-endpoint-syncs=10",
		}},
		{"kube-scheduler", []string{
			"--kubeconfig=" + opts.Kubeconfig,
			"--authentication-kubeconfig=" + opts.Kubeconfig,
			"--authorization-kubeconfig=" + opts.Kubeconfig,
			"--leader-elect=false",
			"--secure-port=0",
		}},
		{"kwok", []string{
			"--kubeconfig=" + opts.Kubeconfig,
			"--config=" + stagesPath,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + NodeAnnotation + "=fake",
			"--cidr=" + opts.PodCIDR,
			"--server-address=",
		}},
	} {
		if err := w.run(p.name, bin(p.name), p.args); err != nil {
			return nil, w.fail(err)
		}
	}
	if err := w.createNodes(ctx, c, opts); err != nil {
		return nil, w.fail(err)
	}
	return w, nil
}

// run starts one process with its output in the directory.
func (w *Workloads) run(name, path string, args []string) error {
	if info, err := os.Stat(path); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is missing or not executable: run make conformance-cluster in the repository root", path)
	}
	logFile, err := os.Create(filepath.Join(w.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so Stop ends what it starts too; and it dies with the test process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	w.mu.Lock()
	w.procs = append(w.procs, p)
	w.mu.Unlock()
	return nil
}

// createNodes creates the Nodes kwok manages and waits until they are Ready.
func (w *Workloads) createNodes(ctx context.Context, c client.Client, opts Options) error {
	_, nodeNet, err := net.ParseCIDR(opts.NodeCIDR)
	if err != nil {
		return fmt.Errorf("node CIDR %q: %w", opts.NodeCIDR, err)
	}
	base := nodeNet.IP.To4()
	if base == nil {
		return fmt.Errorf("node CIDR %q is not IPv4", opts.NodeCIDR)
	}
	var names []string
	for i := 0; i < opts.Nodes; i++ {
		ip := net.IPv4(base[0], base[1], base[2], base[3]+byte(10+i))
		name := fmt.Sprintf("kwok-node-%d", i)
		names = append(names, name)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name,
				Annotations: map[string]string{NodeAnnotation: "fake"},
				Labels:      map[string]string{"kubernetes.io/hostname": name, "type": "kwok"}},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip.String()}}},
		}
		if err := c.Create(ctx, node); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating node %s: %w", name, err)
		}
	}
	for _, name := range names {
		if err := w.waitFor(ctx, func() (bool, error) {
			var n corev1.Node
			if err := c.Get(ctx, client.ObjectKey{Name: name}, &n); err != nil {
				return false, err
			}
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		}); err != nil {
			return fmt.Errorf("node %s never became Ready: %w", name, err)
		}
		// The API server taints a new Node not-ready (admission plugin TaintNodesByCondition) and
		// kube-controller-manager's node lifecycle controller lifts it once the Node is Ready; that
		// controller also evicts Pods from Nodes whose heartbeats stop, so it does not run here
		// and the taint is lifted by hand.
		var n corev1.Node
		if err := c.Get(ctx, client.ObjectKey{Name: name}, &n); err != nil {
			return err
		}
		patch := client.MergeFrom(n.DeepCopy())
		n.Spec.Taints = nil
		if err := c.Patch(ctx, &n, patch); err != nil {
			return fmt.Errorf("lifting the not-ready taint of node %s: %w", name, err)
		}
	}
	return nil
}

// waitFor polls cond until it holds, a process exits, or the context ends.
func (w *Workloads) waitFor(ctx context.Context, cond func() (bool, error)) error {
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		if err := w.exited(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// exited reports a process that has ended, with the end of its log.
func (w *Workloads) exited() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v): %s", p.name, p.err, w.tail(p.name))
		default:
		}
	}
	return nil
}

// tail is the end of a process's log.
func (w *Workloads) tail(name string) string {
	data, _ := os.ReadFile(filepath.Join(w.dir, name+".log"))
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(bytes.TrimSpace(data))
}

// Err reports a process that has ended before Stop.
func (w *Workloads) Err() error { return w.exited() }

// Logs returns the end of each process's log, for a failed test's output.
func (w *Workloads) Logs() string {
	var b bytes.Buffer
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.procs {
		fmt.Fprintf(&b, "--- %s\n%s\n", p.name, w.tail(p.name))
	}
	return b.String()
}

// Stop ends every process and removes the directory it made.
func (w *Workloads) Stop() {
	w.mu.Lock()
	procs := w.procs
	w.procs = nil
	w.mu.Unlock()
	for _, p := range procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	if w.ownsDir {
		_ = os.RemoveAll(w.dir)
	}
}

func (w *Workloads) fail(err error) error {
	w.Stop()
	return err
}
