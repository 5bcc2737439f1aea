package workloads

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// echoModes are echo-basic's servers: the variable that selects one (none for the HTTP server),
// and the variables naming its ports with their defaults, from echo-basic's source.
var echoModes = []struct {
	selector string
	ports    map[string]int32
}{
	{"GRPC_ECHO_SERVER", map[string]int32{"HTTP_PORT": 3000, "HTTPS_PORT": 8443}},
	{"TCP_ECHO_SERVER", map[string]int32{"TCP_PORT": 3000, "TLS_PORT": 8443}},
	{"UDP_ECHO_SERVER", map[string]int32{"UDP_PORT": 8080}},
	{"", map[string]int32{"HTTP_PORT": 3000, "H2C_PORT": 3001, "HTTPS_PORT": 8443}},
}

// Echoes runs one echo-basic process for each Ready Pod whose container runs the suite's
// echo-basic image, as that Pod would. echo-basic listens on every address, so each process gets
// free loopback ports of its own; Lookup tells where a Pod IP and container port landed. The
// suite's CoreDNS Pod gets a small in-process DNS responder (dns.go); Pods with another image get
// nothing and are listed by Unsupported.
type Echoes struct {
	bin string
	c   client.Client
	dir string

	mu          sync.Mutex
	running     map[string]*echoProc   // by Pod UID
	addrs       map[string]podPortAddr // "podIP:port" → where it landed, and whose it is
	unsupported map[string]string      // "namespace/name" → image
	errors      map[string]string      // "namespace/name" → why its process could not start
}

// podPortAddr is the loopback address serving one Pod IP and port, and the UID of the Pod it
// serves: a Pod IP freed by a deleted Pod goes to the next Pod, and the deleted Pod's stand-in,
// stopped later, must not take the new Pod's address away.
type podPortAddr struct{ uid, addr string }

type echoProc struct {
	cmd   *exec.Cmd
	done  chan struct{}
	addrs []string
	// closeFn ends an in-process stand-in (the CoreDNS one) instead of cmd.
	closeFn func()
}

// StartEchoes watches the Pods of the namespaces with prefix and runs their echo-basic processes
// until ctx ends.
func StartEchoes(ctx context.Context, c client.Client, echoBasic, namespacePrefix string) (*Echoes, error) {
	if info, err := os.Stat(echoBasic); err != nil || info.IsDir() {
		return nil, fmt.Errorf("%s is missing: run make conformance-cluster in the repository root", echoBasic)
	}
	dir, err := os.MkdirTemp("", "elbgateway-echo-")
	if err != nil {
		return nil, err
	}
	e := &Echoes{bin: echoBasic, c: c, dir: dir, running: map[string]*echoProc{}, addrs: map[string]podPortAddr{}, unsupported: map[string]string{}, errors: map[string]string{}}
	go e.loop(ctx, namespacePrefix)
	return e, nil
}

// Lookup returns the loopback address serving a Pod IP's container port over network ("tcp" or
// "udp": echo-basic's ports serve one each, and the address is the same for both).
func (e *Echoes) Lookup(podIP string, port int32) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.addrs[net.JoinHostPort(podIP, strconv.Itoa(int(port)))]
	return a.addr, ok
}

// Unsupported lists the Pods that got no process, with their image.
func (e *Echoes) Unsupported() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for pod, image := range e.unsupported {
		out = append(out, pod+" ("+image+")")
	}
	sort.Strings(out)
	return out
}

// Errors lists the Pods whose process could not start on the last try, with the reason.
func (e *Echoes) Errors() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for pod, why := range e.errors {
		out = append(out, pod+": "+why)
	}
	sort.Strings(out)
	return out
}

func (e *Echoes) loop(ctx context.Context, prefix string) {
	defer e.stopAll()
	for {
		var pods corev1.PodList
		if err := e.c.List(ctx, &pods); err == nil {
			e.sync(ctx, pods.Items, prefix)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sync starts processes for new Ready Pods and stops those of Pods that are gone.
func (e *Echoes) sync(ctx context.Context, pods []corev1.Pod, prefix string) {
	seen := map[string]bool{}
	for i := range pods {
		p := &pods[i]
		if !strings.HasPrefix(p.Namespace, prefix) || len(p.Spec.Containers) == 0 || p.DeletionTimestamp != nil || p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning {
			continue
		}
		uid := string(p.UID)
		seen[uid] = true
		e.mu.Lock()
		proc, running := e.running[uid]
		if running && proc.cmd != nil && proc.exited() {
			// Its echo-basic ended (a free port taken by another process before it bound it):
			// started again on new ports.
			e.forget(uid, proc)
			running = false
		}
		e.mu.Unlock()
		if running {
			continue
		}
		if image := p.Spec.Containers[0].Image; strings.Contains(image, "/coredns") {
			if err := e.startDNS(p); err != nil {
				e.mu.Lock()
				e.errors[p.Namespace+"/"+p.Name] = err.Error()
				e.mu.Unlock()
			} else {
				go e.markReady(ctx, p, nil, nil) // it listens before startDNS returns
			}
			continue
		} else if !strings.Contains(image, "/echo-basic") {
			// Another program: nothing stands in for it, and nothing to wait for.
			e.mu.Lock()
			e.unsupported[p.Namespace+"/"+p.Name] = image
			e.running[uid] = &echoProc{done: closed()}
			e.mu.Unlock()
			go e.markReady(ctx, p, nil, nil)
			continue
		}
		if err := e.start(ctx, p); err != nil {
			// A Secret it mounts may not exist yet: tried again on the next pass.
			e.mu.Lock()
			e.errors[p.Namespace+"/"+p.Name] = err.Error()
			e.mu.Unlock()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for uid, proc := range e.running {
		if !seen[uid] {
			proc.stop()
			e.forget(uid, proc)
		}
	}
}

// forget drops a stopped stand-in: its Pod's addresses, unless a newer Pod given the same IP
// (kwok hands a deleted Pod's IP to the next Pod) already holds them. Called with e.mu held.
func (e *Echoes) forget(uid string, proc *echoProc) {
	for _, a := range proc.addrs {
		if e.addrs[a].uid == uid {
			delete(e.addrs, a)
		}
	}
	delete(e.running, uid)
}

// start runs the Pod's first container as echo-basic would run in it.
func (e *Echoes) start(ctx context.Context, p *corev1.Pod) error {
	ctr := p.Spec.Containers[0]
	podDir := filepath.Join(e.dir, string(p.UID))
	if err := os.MkdirAll(podDir, 0o700); err != nil {
		return err
	}
	mounts, err := e.secretMounts(ctx, p, ctr, podDir)
	if err != nil {
		return err
	}
	env := map[string]string{}
	for _, v := range ctr.Env {
		switch {
		case v.ValueFrom != nil && v.ValueFrom.FieldRef != nil:
			switch v.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				env[v.Name] = p.Name
			case "metadata.namespace":
				env[v.Name] = p.Namespace
			case "status.podIP":
				env[v.Name] = p.Status.PodIP
			}
		case v.ValueFrom == nil:
			env[v.Name] = mounts.rewrite(v.Value)
		}
	}
	mode := echoModes[len(echoModes)-1]
	for _, m := range echoModes {
		if m.selector != "" && env[m.selector] != "" {
			mode = m
			break
		}
	}
	proc := &echoProc{done: make(chan struct{})}
	mapped := map[string]string{}
	var tcpAddrs []string // the TCP ports to wait for before the Pod is Ready
	for name, def := range mode.ports {
		port := def
		if v, ok := env[name]; ok {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return fmt.Errorf("%s=%q is not a port", name, v)
			}
			port = int32(n)
		}
		local, err := freePort(name == "UDP_PORT")
		if err != nil {
			return err
		}
		env[name] = strconv.Itoa(local)
		key := net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(port)))
		mapped[key] = net.JoinHostPort("127.0.0.1", strconv.Itoa(local))
		if name != "UDP_PORT" {
			tcpAddrs = append(tcpAddrs, mapped[key])
		}
		proc.addrs = append(proc.addrs, key)
	}
	cmd := exec.Command(e.bin)
	cmd.Env = append(os.Environ()[:0:0], "PATH="+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logFile, err := os.Create(filepath.Join(podDir, "echo.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	proc.cmd = cmd
	go func() { _ = cmd.Wait(); logFile.Close(); close(proc.done) }()
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.errors, p.Namespace+"/"+p.Name)
	e.running[string(p.UID)] = proc
	for k, v := range mapped {
		e.addrs[k] = podPortAddr{uid: string(p.UID), addr: v}
	}
	go e.markReady(ctx, p, tcpAddrs, proc.done)
	return nil
}

// markReady waits until one of the addresses accepts TCP connections (echo-basic opens its TLS
// ports only when given certificates, so one port answering says the process serves), then
// marks the Pod Ready, as a kubelet does once the container's readiness probe passes: kwok
// leaves Pods Running but not Ready, so no EndpointSlice lists a Pod (and no target is
// registered) before its stand-in listens. (An echo-basic UDP server has no TCP port to wait for; it binds at once.)
// It gives up when done (the process's end) closes.
func (e *Echoes) markReady(ctx context.Context, p *corev1.Pod, addrs []string, done <-chan struct{}) {
	for listening := len(addrs) == 0; !listening; {
		for _, a := range addrs {
			if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
				c.Close()
				listening = true
				break
			}
		}
		if listening {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	for ctx.Err() == nil {
		var cur corev1.Pod
		if err := e.c.Get(ctx, client.ObjectKeyFromObject(p), &cur); err != nil || cur.UID != p.UID {
			return // gone
		}
		patch := client.MergeFrom(cur.DeepCopy())
		now := metav1.Now()
		for _, t := range []corev1.PodConditionType{corev1.ContainersReady, corev1.PodReady} {
			found := false
			for i := range cur.Status.Conditions {
				if c := &cur.Status.Conditions[i]; c.Type == t {
					found = true
					if c.Status != corev1.ConditionTrue {
						c.Status, c.LastTransitionTime = corev1.ConditionTrue, now
					}
				}
			}
			if !found {
				cur.Status.Conditions = append(cur.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
			}
		}
		for i := range cur.Status.ContainerStatuses {
			cur.Status.ContainerStatuses[i].Ready = true
		}
		if err := e.c.Status().Patch(ctx, &cur, patch); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// secretDirs maps a container's secret volume mount paths to the directories holding their files.
type secretDirs map[string]string

func (m secretDirs) rewrite(v string) string {
	for mount, dir := range m {
		if v == mount || strings.HasPrefix(v, strings.TrimSuffix(mount, "/")+"/") {
			return dir + strings.TrimPrefix(v, strings.TrimSuffix(mount, "/"))
		}
	}
	return v
}

// secretMounts writes the Secret volumes the container mounts into podDir, as the kubelet would.
func (e *Echoes) secretMounts(ctx context.Context, p *corev1.Pod, ctr corev1.Container, podDir string) (secretDirs, error) {
	dirs := secretDirs{}
	for _, vm := range ctr.VolumeMounts {
		for _, vol := range p.Spec.Volumes {
			if vol.Name != vm.Name || vol.Secret == nil {
				continue
			}
			var s corev1.Secret
			if err := e.c.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: vol.Secret.SecretName}, &s); err != nil {
				return nil, fmt.Errorf("secret volume %s: %w", vol.Name, err)
			}
			dir := filepath.Join(podDir, "volumes", vol.Name)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, err
			}
			files := map[string][]byte{}
			if len(vol.Secret.Items) == 0 {
				for k, v := range s.Data {
					files[k] = v
				}
			}
			for _, it := range vol.Secret.Items {
				files[it.Path] = s.Data[it.Key]
			}
			for name, data := range files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					return nil, err
				}
			}
			dirs[vm.MountPath] = dir
		}
	}
	return dirs, nil
}

// startDNS stands in for the suite's CoreDNS Pod (its Corefile serves port 53) with an
// in-process DNS responder on a free loopback port.
func (e *Echoes) startDNS(p *corev1.Pod) error {
	const corednsPort = 53
	local, err := freePort(true)
	if err != nil {
		return err
	}
	srv, err := startDNS(local)
	if err != nil {
		return err
	}
	key := net.JoinHostPort(p.Status.PodIP, strconv.Itoa(corednsPort))
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.errors, p.Namespace+"/"+p.Name)
	e.running[string(p.UID)] = &echoProc{done: closed(), addrs: []string{key}, closeFn: srv.close}
	e.addrs[key] = podPortAddr{uid: string(p.UID), addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(local))}
	return nil
}

func (p *echoProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *echoProc) stop() {
	if p.closeFn != nil {
		p.closeFn()
	}
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (e *Echoes) stopAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for uid, p := range e.running {
		p.stop()
		delete(e.running, uid)
	}
	e.addrs = map[string]podPortAddr{}
	_ = os.RemoveAll(e.dir)
}

// freePort finds a free loopback port for TCP (and UDP when udp is set).
func freePort(udp bool) (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !udp {
			return port, nil
		}
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free loopback port")
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
