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

	"github.com/go-logr/logr"
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
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/targets"
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
	resync       time.Duration
	// allowedCAs is --allowed-certificate-authority-arns, comma-separated.
	allowedCAs string
	readiness  readinessGateFlags
}

// readinessGateFlags switch pod readiness gates on and configure the webhook server.
type readinessGateFlags struct {
	enabled bool
	port    int
	certDir string
	poll    time.Duration
}

func (f *readinessGateFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.enabled, "enable-pod-readiness-gate-inject", false, "serve the pod mutating webhook that adds readiness gates to pods behind ip target groups in namespaces labelled "+targets.ReadinessGateInjectLabel+"=enabled, and write the gates' conditions from the targets' health")
	fs.IntVar(&f.port, "webhook-port", 9443, "port of the webhook server (with --enable-pod-readiness-gate-inject)")
	fs.StringVar(&f.certDir, "webhook-cert-dir", "", "directory holding the webhook server's tls.crt and tls.key (default: controller-runtime's, <temp dir>/k8s-webhook-server/serving-certs)")
	fs.DurationVar(&f.poll, "readiness-gate-poll-interval", targets.DefaultGatePoll, "how often a target group's health is read while some pod's readiness gate of it is pending")
}

func (f *readinessGateFlags) validate() []string {
	var problems []string
	if f.port <= 0 || f.port > 65535 {
		problems = append(problems, fmt.Sprintf("--webhook-port %d: use a port from 1 to 65535", f.port))
	}
	if f.enabled && os.Getenv(podNamespaceEnv) == "" {
		problems = append(problems, fmt.Sprintf("--enable-pod-readiness-gate-inject needs $%s, the namespace where the replicas share the readiness gate directory (the chart sets it)", podNamespaceEnv))
	}
	if f.poll < time.Second {
		problems = append(problems, fmt.Sprintf("--readiness-gate-poll-interval %s: use at least 1s", f.poll))
	}
	return problems
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
	fs.StringVar(&f.region, "aws-region", os.Getenv("AWS_REGION"), "AWS region (default: $AWS_REGION, else the instance metadata service's)")
	fs.StringVar(&f.vpcID, "aws-vpc-id", "", "ID of the cluster's VPC, where load balancers and target groups are created (default: the VPC of the instance, from the instance metadata service)")
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
	fs.DurationVar(&f.resync, "resync-period", 10*time.Minute, "how often each Gateway and target group is reconciled without events, reading AWS afresh to find and repair drift (at least 1m)")
	fs.StringVar(&f.allowedCAs, "allowed-certificate-authority-arns", "", "comma-separated ARNs of private CAs (AWS Private CA): certificate discovery then skips private certificates other CAs issued (default: all)")
	f.leader.register(fs)
	f.readiness.register(fs)
	f.sgs.register(fs)
	f.quotas.register(fs)
}

// allowedCertificateAuthorities splits --allowed-certificate-authority-arns.
func (f *controllerFlags) allowedCertificateAuthorities() []string {
	var out []string
	for _, a := range strings.Split(f.allowedCAs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (f *controllerFlags) validate() error {
	var problems []string
	if f.clusterName == "" {
		problems = append(problems, "--cluster-name is required")
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
	if f.resync < time.Minute {
		problems = append(problems, fmt.Sprintf("--resync-period %s: use at least 1m", f.resync))
	}
	for _, arn := range f.allowedCertificateAuthorities() {
		if parts := strings.SplitN(arn, ":", 6); len(parts) != 6 || parts[0] != "arn" || parts[2] != "acm-pca" {
			problems = append(problems, fmt.Sprintf("--allowed-certificate-authority-arns %q: not the ARN of a private CA (arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID)", arn))
		}
	}
	problems = append(problems, f.leader.validate()...)
	problems = append(problems, f.readiness.validate()...)
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
	logger := setLogger(f.logLevel, stderr)
	if pct := setGCPercent(); pct > 0 {
		logger.WithName("setup").V(1).Info("Go collector target", "GOGC", pct)
	}
	if limit := setMemoryLimit(); limit > 0 {
		logger.WithName("setup").Info("Go memory limit from the container's", "bytes", limit)
	}
	if err := f.discoverPlacement(ctx, logger.WithName("setup")); err != nil {
		return err
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	cloud, err := aws.New(ctx, aws.Options{
		Region: f.region, VPCID: f.vpcID, ClusterName: f.clusterName, Registerer: metrics.Registry,
		RateLimits: f.apiLimits.limits, InventoryTTL: f.inventoryTTL,
		AllowedCertificateAuthorityARNs: f.allowedCertificateAuthorities(),
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

// discoverPlacement fills in --aws-region and --aws-vpc-id, when not given, from the instance
// metadata service of the node the controller runs on.
func (f *controllerFlags) discoverPlacement(ctx context.Context, log logr.Logger) error {
	if f.region != "" && f.vpcID != "" {
		return nil
	}
	p, err := aws.DiscoverPlacement(ctx, aws.Placement{Region: f.region, VPCID: f.vpcID})
	if err != nil {
		err = fmt.Errorf("%s not given and not found in the instance metadata service: "+
			"pass them (Helm values region and vpcId), or let the pod reach IMDSv2 "+
			"(a hop limit of 2 in the node's metadata options): %w", missingPlacementFlags(f), err)
		log.Error(err, "cannot tell where to create load balancers")
		return err
	}
	log.Info("found the placement in the instance metadata service", "region", p.Region, "vpcID", p.VPCID,
		"regionFromFlag", f.region != "", "vpcFromFlag", f.vpcID != "")
	f.region, f.vpcID = p.Region, p.VPCID
	return nil
}

// missingPlacementFlags names the placement flags that were not given.
func missingPlacementFlags(f *controllerFlags) string {
	switch {
	case f.region == "" && f.vpcID == "":
		return "--aws-region and --aws-vpc-id were"
	case f.region == "":
		return "--aws-region was"
	default:
		return "--aws-vpc-id was"
	}
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
	if o.flags.readiness.enabled {
		mo.WebhookServer = webhook.NewServer(webhook.Options{Port: o.flags.readiness.port, CertDir: o.flags.readiness.certDir})
	}
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
		Resync:            o.flags.resync,
		Registerer:        metrics.Registry,
		ReadinessGates: controller.ReadinessGateOptions{Enabled: o.flags.readiness.enabled, Poll: o.flags.readiness.poll,
			Namespace: os.Getenv(podNamespaceEnv)},
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
// It returns the logger, for the messages of start-up.
func setLogger(level string, w io.Writer) logr.Logger {
	lvl, _ := logLevel(level)
	logger := zap.New(zap.Level(lvl), zap.WriteTo(w))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	return logger
}
