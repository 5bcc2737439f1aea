package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Gateway API release channels, the directories under config/crd of the gateway-api module.
const (
	ChannelExperimental = "experimental"
	ChannelStandard     = "standard"
)

// AssetsEnv names the environment variable that points at the directory holding the
// kube-apiserver and etcd binaries. Without it, the repository's bin/ is used.
const AssetsEnv = "ELBGATEWAY_ASSETS"

// ClusterOptions choose which CRDs a Cluster serves.
type ClusterOptions struct {
	// GatewayAPIChannel is ChannelExperimental (the default when empty) or ChannelStandard.
	GatewayAPIChannel string
	// LegacyL4Routes installs TCPRoute, UDPRoute and TLSRoute with v1alpha2 as the only
	// served and stored version, as on clusters that run the Gateway API v1.2 to v1.4 CRDs.
	LegacyL4Routes bool
	// Webhooks installs the pod readiness gate webhook of config/webhook, pointed at a local
	// webhook server the test runs with the Cluster's Webhook* settings.
	Webhooks bool
	// DualStackServices gives the API server an IPv6 service range next to the IPv4 one, so
	// that Services may have both IP families.
	DualStackServices bool
}

// Cluster is a running kube-apiserver + etcd started through envtest, with the
// gateway.k8s.aws and Gateway API CRDs installed.
type Cluster struct {
	// Config reaches the API server as a member of system:masters.
	Config *rest.Config
	// Kubeconfig is the same access as a kubeconfig file's contents.
	Kubeconfig []byte
	// KubeconfigPath is a file holding Kubeconfig, for kubectl --kubeconfig; removed by Stop.
	KubeconfigPath string
	// WebhookHost, WebhookPort and WebhookCertDir are where the API server expects the webhook
	// server (with ClusterOptions.Webhooks) and the serving certificate it trusts.
	WebhookHost    string
	WebhookPort    int
	WebhookCertDir string

	env *envtest.Environment
	dir string
}

// StartCluster starts kube-apiserver and etcd from the assets directory (see AssetsEnv) and
// installs the CRDs that opts select. It takes a few seconds; see docs/development.md.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	apiServer, etcd, err := controlPlaneBinaries()
	if err != nil {
		return nil, err
	}
	crds, err := clusterCRDs(opts)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    filepath.Dir(apiServer),
		CRDs:                     crds,
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
		AttachControlPlaneOutput: os.Getenv("ELBGATEWAY_CLUSTER_LOG") != "",
	}
	env.ControlPlane.APIServer = &envtest.APIServer{Path: apiServer}
	if opts.DualStackServices {
		env.ControlPlane.APIServer.Configure().Set("service-cluster-ip-range", "10.0.0.0/24,fd00:10:96::/112")
	}
	env.ControlPlane.Etcd = &envtest.Etcd{Path: etcd}
	env.CRDInstallOptions.MaxTime = time.Minute
	if opts.Webhooks {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		env.WebhookInstallOptions = envtest.WebhookInstallOptions{
			Paths: []string{filepath.Join(root, "config", "webhook")}, LocalServingHost: "127.0.0.1", MaxTime: time.Minute,
		}
	}

	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	c := &Cluster{Config: cfg, Kubeconfig: env.KubeConfig, env: env}
	if opts.Webhooks {
		w := env.WebhookInstallOptions
		c.WebhookHost, c.WebhookPort, c.WebhookCertDir = w.LocalServingHost, w.LocalServingPort, w.LocalServingCertDir
	}
	if err := c.writeKubeconfig(); err != nil {
		_ = c.Stop()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// Stop ends kube-apiserver and etcd and removes the kubeconfig file.
func (c *Cluster) Stop() error {
	if c == nil || c.env == nil {
		return nil
	}
	err := c.env.Stop()
	if c.dir != "" {
		err = errors.Join(err, os.RemoveAll(c.dir))
	}
	return err
}

func (c *Cluster) writeKubeconfig() error {
	dir, err := os.MkdirTemp("", "elbgateway-cluster-")
	if err != nil {
		return err
	}
	c.dir = dir
	c.KubeconfigPath = filepath.Join(dir, "kubeconfig")
	return os.WriteFile(c.KubeconfigPath, c.Kubeconfig, 0o600)
}

// controlPlaneBinaries returns the paths of kube-apiserver and etcd, or an error that says
// how to build them.
func controlPlaneBinaries() (apiServer, etcd string, err error) {
	dir := os.Getenv(AssetsEnv)
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", "", err
		}
		dir = filepath.Join(root, "bin")
	}
	apiServer = filepath.Join(dir, "kube-apiserver")
	etcd = filepath.Join(dir, "etcd")
	for _, p := range []string{apiServer, etcd} {
		info, err := os.Stat(p)
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			return "", "", fmt.Errorf("%s is missing or not executable: run make bin/kube-apiserver bin/etcd in the repository root (or set %s to a directory holding both)", p, AssetsEnv)
		}
	}
	return apiServer, etcd, nil
}

// clusterCRDs reads our CRDs and the Gateway API CRDs of the chosen channel.
func clusterCRDs(opts ClusterOptions) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	ours, err := ReadCRDs(filepath.Join(root, "config", "crd", "bases"))
	if err != nil {
		return nil, err
	}
	gateway, err := GatewayAPICRDs(opts)
	if err != nil {
		return nil, err
	}
	return append(ours, gateway...), nil
}
