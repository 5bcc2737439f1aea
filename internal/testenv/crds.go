package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// legacyL4Kinds are the route kinds that Gateway API v1.2 to v1.4 served as v1alpha2 only.
var legacyL4Kinds = map[string]bool{"TCPRoute": true, "UDPRoute": true, "TLSRoute": true}

// legacyVersion is the only version legacy clusters serve for legacyL4Kinds.
const legacyVersion = "v1alpha2"

// GatewayAPICRDs returns the Gateway API CRDs of the channel opts choose, taken from the
// sigs.k8s.io/gateway-api module that go.mod pins, rewritten for opts.LegacyL4Routes.
func GatewayAPICRDs(opts ClusterOptions) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	channel := opts.GatewayAPIChannel
	if channel == "" {
		channel = ChannelExperimental
	}
	if channel != ChannelExperimental && channel != ChannelStandard {
		return nil, fmt.Errorf("GatewayAPIChannel %q is not a Gateway API channel: use %q or %q", channel, ChannelExperimental, ChannelStandard)
	}
	mod, err := GatewayAPIDir()
	if err != nil {
		return nil, err
	}
	crds, err := ReadCRDs(filepath.Join(mod, "config", "crd", channel))
	if err != nil {
		return nil, err
	}
	if !opts.LegacyL4Routes {
		return crds, nil
	}
	// Older releases shipped the L4 routes in the experimental channel only.
	experimental, err := ReadCRDs(filepath.Join(mod, "config", "crd", ChannelExperimental))
	if err != nil {
		return nil, err
	}
	out := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(crds)+len(legacyL4Kinds))
	for _, crd := range crds {
		if !legacyL4Kinds[crd.Spec.Names.Kind] {
			out = append(out, crd)
		}
	}
	for _, crd := range experimental {
		if !legacyL4Kinds[crd.Spec.Names.Kind] {
			continue
		}
		legacy, err := onlyVersion(crd, legacyVersion)
		if err != nil {
			return nil, err
		}
		out = append(out, legacy)
	}
	sortCRDs(out)
	return out, nil
}

// onlyVersion returns a copy of crd that serves and stores version alone.
func onlyVersion(crd *apiextensionsv1.CustomResourceDefinition, version string) (*apiextensionsv1.CustomResourceDefinition, error) {
	out := crd.DeepCopy()
	out.Spec.Versions = nil
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		v := *v.DeepCopy()
		v.Served, v.Storage = true, true
		v.Deprecated, v.DeprecationWarning = false, nil
		out.Spec.Versions = append(out.Spec.Versions, v)
	}
	if len(out.Spec.Versions) == 0 {
		return nil, fmt.Errorf("CRD %s has no version %s to keep", crd.Name, version)
	}
	return out, nil
}

// ReadCRDs reads every CustomResourceDefinition in the .yaml files of dir (other kinds, such as
// the Gateway API's ValidatingAdmissionPolicy, are skipped), sorted by name.
func ReadCRDs(dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		got, err := readCRDFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		crds = append(crds, got...)
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("no CustomResourceDefinition in %s", dir)
	}
	sortCRDs(crds)
	return crds, nil
}

func readCRDFile(path string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	reader := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	var crds []*apiextensionsv1.CustomResourceDefinition
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return crds, nil
		}
		if err != nil {
			return nil, err
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, err
		}
		if meta.Kind != "CustomResourceDefinition" {
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(doc, crd); err != nil {
			return nil, err
		}
		crds = append(crds, crd)
	}
}

func sortCRDs(crds []*apiextensionsv1.CustomResourceDefinition) {
	sort.Slice(crds, func(i, j int) bool { return crds[i].Name < crds[j].Name })
}

var (
	repoRootOnce sync.Once
	repoRoot     string
	repoRootErr  error

	gatewayDirOnce sync.Once
	gatewayDir     string
	gatewayDirErr  error
)

// RepoRoot is the directory holding go.mod, found by walking up from the working directory.
func RepoRoot() (string, error) {
	repoRootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			repoRootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				repoRoot = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				repoRootErr = errors.New("no go.mod in the working directory or above it: run from inside the elbgateway repository")
				return
			}
			dir = parent
		}
	})
	return repoRoot, repoRootErr
}

// GatewayAPIDir is the module directory of the sigs.k8s.io/gateway-api version go.mod pins,
// as `go list -m` reports it (downloading the module if the module cache lacks it).
func GatewayAPIDir() (string, error) {
	gatewayDirOnce.Do(func() {
		gatewayDir, gatewayDirErr = moduleDir("sigs.k8s.io/gateway-api")
	})
	return gatewayDir, gatewayDirErr
}

func moduleDir(module string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	out, err := goCommand(root, "list", "-m", "-f", "{{.Dir}}", module)
	if err != nil {
		return "", err
	}
	if dir := strings.TrimSpace(string(out)); dir != "" {
		return dir, nil
	}
	out, err = goCommand(root, "mod", "download", "-json", module)
	if err != nil {
		return "", err
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s gave no module directory: %s", module, out)
	}
	return info.Dir, nil
}

func goCommand(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
