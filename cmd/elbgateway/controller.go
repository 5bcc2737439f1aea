package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
)

// controllerFlags are the flags of `elbgateway controller`.
type controllerFlags struct {
	clusterName  string
	region       string
	vpcID        string
	gates        featureGates
	targetType   string
	scheme       string
	metricsAddr  string
	probeAddr    string
	pprofAddr    string
	kubeconfig   string
	logLevel     string
	leader       leaderFlags
	defaultTags  tagsFlag
	quotas       quotaFlags
	sgs          securityGroupFlags
	workersNLB   int
	workersALB   int
	apiLimits    apiLimitsFlag
	inventoryTTL time.Duration
}

// apiLimitsFlag is --aws-api-limits: "family=perSecond:burst,…".
type apiLimitsFlag struct{ limits aws.RateLimits }

func (f *apiLimitsFlag) String() string { return f.limits.String() }

func (f *apiLimitsFlag) Set(s string) error {
	l, err := aws.ParseRateLimits(s)
	if err != nil {
		return err
	}
	f.limits = l
	return nil
}

func (f *controllerFlags) register(fs *flag.FlagSet) {
	f.gates.gates = controller.Gates{NLB: true, ALB: true}
	fs.StringVar(&f.clusterName, "cluster-name", "", "name of the Kubernetes cluster (required); tags every AWS resource")
	fs.StringVar(&f.region, "aws-region", os.Getenv("AWS_REGION"), "AWS region (default: $AWS_REGION)")
	fs.StringVar(&f.vpcID, "aws-vpc-id", "", "ID of the cluster's VPC (required): load balancers and target groups are created there")
	fs.Var(&f.gates, "feature-gates", "comma-separated Name=bool pairs: NLBGatewayAPI, ALBGatewayAPI (both default true)")
	fs.StringVar(&f.targetType, "default-target-type", "instance", "target type when no TargetGroupConfiguration sets one: instance or ip")
	fs.StringVar(&f.scheme, "default-load-balancer-scheme", "internal", "scheme when no LoadBalancerConfiguration sets one: internal or internet-facing")
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; 0 switches it off")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":61779", "address of the /healthz and /readyz endpoints")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "0", "address of Go's /debug/pprof/ profiles (heap, CPU, goroutines); 0 switches them off")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, in-cluster config, or ~/.kube/config)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Var(&f.defaultTags, "default-tags", "comma-separated key=value AWS tags put on every resource the controller creates")
	fs.IntVar(&f.workersNLB, "nlb-gateway-max-concurrent-reconciles", controller.DefaultWorkers, "how many NLB Gateways are reconciled at once")
	fs.IntVar(&f.workersALB, "alb-gateway-max-concurrent-reconciles", controller.DefaultWorkers, "how many ALB Gateways are reconciled at once")
	fs.Var(&f.apiLimits, "aws-api-limits", "client-side AWS call rates by family, family=perSecond:burst,… (default "+aws.DefaultLimits().String()+")")
	fs.DurationVar(&f.inventoryTTL, "aws-inventory-ttl", 10*time.Minute, "how often the region's load balancers and target groups are listed to find each Gateway's (at least 1m; longer on busy accounts)")
	f.leader.register(fs)
	f.sgs.register(fs)
	f.quotas.register(fs)
}

func (f *controllerFlags) validate() error {
	var problems []string
	if f.clusterName == "" {
		problems = append(problems, "--cluster-name is required")
	}
	if f.region == "" {
		problems = append(problems, "--aws-region is required (or set AWS_REGION)")
	}
	if f.vpcID == "" {
		problems = append(problems, "--aws-vpc-id is required")
	}
	if f.targetType != "instance" && f.targetType != "ip" {
		problems = append(problems, fmt.Sprintf("--default-target-type %q: use instance or ip", f.targetType))
	}
	if f.scheme != "internal" && f.scheme != "internet-facing" {
		problems = append(problems, fmt.Sprintf("--default-load-balancer-scheme %q: use internal or internet-facing", f.scheme))
	}
	if _, err := logLevel(f.logLevel); err != nil {
		problems = append(problems, err.Error())
	}
	if f.inventoryTTL < time.Minute {
		problems = append(problems, fmt.Sprintf("--aws-inventory-ttl %s: use at least 1m", f.inventoryTTL))
	}
	problems = append(problems, f.leader.validate()...)
	problems = append(problems, f.sgs.validate()...)
	problems = append(problems, f.quotas.validate()...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func runController(ctx context.Context, args []string, stderr io.Writer) error {
	var f controllerFlags
	if err := parseFlags("controller", args, stderr, &f, ""); err != nil {
		return err
	}
	setLogger(f.logLevel, stderr)
	if limit := setMemoryLimit(); limit > 0 {
		ctrl.Log.WithName("setup").Info("Go memory limit from the container's", "bytes", limit)
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	cloud, err := aws.New(ctx, aws.Options{
		Region: f.region, VPCID: f.vpcID, ClusterName: f.clusterName, Registerer: metrics.Registry,
		RateLimits: f.apiLimits.limits, InventoryTTL: f.inventoryTTL,
	})
	if err != nil {
		return err
	}
	mgr, err := newManager(cfg, managerOptions{flags: f, cloud: cloud})
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// managerOptions are what newManager wires together.
type managerOptions struct {
	flags controllerFlags
	cloud controller.Cloud
	// inProcess allows more than one manager per process (the demo, tests).
	inProcess bool
}

// newManager builds the controller-runtime manager with elbgateway's controllers.
func newManager(cfg *rest.Config, o managerOptions) (ctrl.Manager, error) {
	scheme, err := controller.NewScheme()
	if err != nil {
		return nil, err
	}
	mo := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: o.flags.metricsAddr},
		HealthProbeBindAddress: o.flags.probeAddr,
		PprofBindAddress:       o.flags.pprofAddr,
		// Secrets are read one by one through their own watches, never cached cluster-wide.
		Client: controller.ClientOptions(),
		// The cache keeps only the fields the controllers read (cachetransform.go).
		Cache: controller.CacheOptions(),
	}
	o.flags.leader.apply(&mo)
	if o.inProcess {
		skip := true
		mo.Controller = ctrlconfig.Controller{SkipNameValidation: &skip}
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		if mo.LeaderElection && mo.LeaderElectionNamespace == "" {
			return nil, fmt.Errorf("creating the manager: %w (outside a pod, set --leader-election-namespace or $%s, or pass --leader-elect=false)", err, podNamespaceEnv)
		}
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	gates, err := controller.Setup(mgr, controller.Options{
		ClusterName:       o.flags.clusterName,
		VPCID:             o.flags.vpcID,
		Region:            o.flags.region,
		Gates:             o.flags.gates.gates,
		DefaultScheme:     o.flags.scheme,
		DefaultTargetType: o.flags.targetType,
		DefaultTags:       o.flags.defaultTags.tags,
		Quotas:            o.flags.quotas.q,
		Cloud:             o.cloud,
		SecurityGroups:    o.flags.sgs.options(),
		Workers:           controller.Workers{NLB: o.flags.workersNLB, ALB: o.flags.workersALB},
		Registerer:        metrics.Registry,
	})
	if err != nil {
		return nil, err
	}
	mgr.GetLogger().Info("controllers enabled", controller.GateNLB, gates.NLB, controller.GateALB, gates.ALB)
	return mgr, nil
}

// restConfig loads the kubeconfig named by --kubeconfig, else controller-runtime's usual places.
func restConfig(path string) (*rest.Config, error) {
	if path != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("loading --kubeconfig %s: %w", path, err)
		}
		return cfg, nil
	}
	cfg, err := config.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("finding the cluster (set --kubeconfig or KUBECONFIG): %w", err)
	}
	return cfg, nil
}

func logLevel(s string) (zapcore.Level, error) {
	switch s {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info":
		return zapcore.InfoLevel, nil
	case "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	return 0, fmt.Errorf("--log-level %q: use debug, info, warn or error", s)
}

// setLogger sends controller-runtime's logs, and client-go's (leader election, for one), as
// structured JSON lines at the chosen level to w.
func setLogger(level string, w io.Writer) {
	lvl, _ := logLevel(level)
	logger := zap.New(zap.Level(lvl), zap.WriteTo(w))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
}
