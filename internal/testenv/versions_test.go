package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The kube-apiserver and etcd that tests run must be the releases the wrapper modules pin,
// and those must match the Kubernetes libraries the controller is built with.
func TestControlPlaneBinariesMatchPins(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	kube := requiredVersion(t, filepath.Join(root, "tools", "kube-apiserver", "go.mod"), "k8s.io/kubernetes")
	etcd := requiredVersion(t, filepath.Join(root, "tools", "etcd", "go.mod"), "go.etcd.io/etcd/server/v3")
	etcdClient := requiredVersion(t, filepath.Join(root, "tools", "kube-apiserver", "go.mod"), "go.etcd.io/etcd/client/v3")

	if minor := kubernetesMinor(t); !strings.HasPrefix(kube, "v"+minor+".") {
		t.Errorf("tools/kube-apiserver pins k8s.io/kubernetes %s, but go.mod's k8s.io/client-go is the %s release line", kube, minor)
	}
	if etcd != etcdClient {
		t.Errorf("tools/etcd pins etcd %s, but kube-apiserver %s uses the etcd %s client", etcd, kube, etcdClient)
	}

	apiServer, etcdBin, err := controlPlaneBinaries()
	if err != nil {
		t.Fatal(err)
	}
	if out := run(t, apiServer, "--version"); !strings.Contains(out, "Kubernetes "+kube+"\n") {
		t.Errorf("%s --version = %q, want Kubernetes %s: rebuild with make bin/kube-apiserver", apiServer, out, kube)
	}
	if out := run(t, etcdBin, "--version"); !strings.Contains(out, "etcd Version: "+strings.TrimPrefix(etcd, "v")+"\n") {
		t.Errorf("%s --version = %q, want etcd %s: rebuild with make bin/etcd", etcdBin, out, etcd)
	}
}

// kubernetesMinor is "1.36" for k8s.io/client-go v0.36.x in the main go.mod.
func kubernetesMinor(t *testing.T) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	v := requiredVersion(t, filepath.Join(root, "go.mod"), "k8s.io/client-go")
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 || parts[0] != "0" {
		t.Fatalf("k8s.io/client-go %s is not a v0.X.Y release", v)
	}
	return "1." + parts[1]
}

// requiredVersion reads module's version from a go.mod require line.
func requiredVersion(t *testing.T, gomod, module string) string {
	t.Helper()
	raw, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`)
	m := re.FindSubmatch(raw)
	if m == nil {
		t.Fatalf("%s requires no %s", gomod, module)
	}
	return string(m[1])
}

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	return string(out)
}
