package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/targets"
)

// Setup detects the served API versions and registers with the manager: the GatewayClass
// reconciler, a Gateway reconciler per enabled controller name, and the targets loop. It
// returns the gates in effect (a gate whose kinds the cluster does not serve is switched off).
func Setup(mgr ctrl.Manager, o Options) (Gates, error) {
	o.defaults()
	if o.Cloud == nil {
		return Gates{}, errors.New("controller: Options.Cloud is required")
	}
	if o.ClusterName == "" {
		return Gates{}, errors.New("controller: the cluster name is required (--cluster-name)")
	}
	logger := mgr.GetLogger().WithName("setup")
	d, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
	if err != nil {
		return Gates{}, err
	}
	apis, err := DetectAPIs(d)
	if err != nil {
		return Gates{}, err
	}
	gates, notes := apis.Restrict(o.Gates)
	for _, n := range notes {
		logger.Info(n)
	}
	for kind, gvk := range apis.Routes {
		logger.Info("watching routes", "kind", kind, "version", gvk.Version)
	}
	var controllers []string
	if gates.NLB {
		controllers = append(controllers, ControllerNLB)
	}
	if gates.ALB {
		controllers = append(controllers, ControllerALB)
	}
	if len(controllers) == 0 {
		return gates, nil
	}

	if err := addIndexes(context.Background(), mgr.GetFieldIndexer(), apis.RouteKinds()); err != nil {
		return gates, fmt.Errorf("adding field indexes: %w", err)
	}
	if apis.ListenerSet {
		if err := addListenerSetIndex(context.Background(), mgr.GetFieldIndexer()); err != nil {
			return gates, fmt.Errorf("adding field indexes: %w", err)
		}
	}
	if err := addLRCIndex(context.Background(), mgr.GetFieldIndexer(), apis.routeKindsOf(ControllerALB)); gates.ALB && err != nil {
		return gates, fmt.Errorf("adding field indexes: %w", err)
	}

	// The cache holds the Services routes name and their slices (narrow.go): the route informers
	// keep the set of named Services, and gather and the targets loop read through the resolver.
	resolver, err := newNarrowReader(context.Background(), mgr.GetCache(), mgr.GetAPIReader())
	if err != nil {
		return gates, fmt.Errorf("watching Services: %w", err)
	}
	for _, gvk := range apis.RouteKinds() {
		inf, err := mgr.GetCache().GetInformer(context.Background(), newRoute(gvk))
		if err != nil {
			return gates, fmt.Errorf("watching %s: %w", gvk.Kind, err)
		}
		if _, err := inf.AddEventHandler(routeRefsHandler(referencedServices, resolver.forget)); err != nil {
			return gates, fmt.Errorf("watching %s: %w", gvk.Kind, err)
		}
	}

	gauges, err := newGatewayMetrics(o.Registerer)
	if err != nil {
		return gates, fmt.Errorf("registering the Gateway metrics: %w", err)
	}
	writer := func(controllerName string) *statusWriter {
		return &statusWriter{client: mgr.GetClient(), reader: mgr.GetCache(), apis: apis, controller: controllerName,
			events: mgr.GetEventRecorder("elbgateway-" + controllerName[len("gateway.k8s.aws/"):]), opts: o, now: time.Now,
			metrics: gauges}
	}
	enabled := map[string]bool{}
	for _, c := range controllers {
		enabled[c] = true
	}
	if err := builder.ControllerManagedBy(mgr).Named("gatewayclass").For(&gwv1.GatewayClass{}).
		Watches(&awsv1.LoadBalancerConfiguration{}, handler.EnqueueRequestsFromMapFunc(classesOfLBC(mgr.GetCache()))).
		Complete(&classReconciler{reader: mgr.GetCache(), writer: writer(controllers[0]), controllers: enabled}); err != nil {
		return gates, err
	}
	for _, c := range controllers {
		if err := setupGateway(mgr, o, apis, c, writer(c), resolver); err != nil {
			return gates, err
		}
	}
	to := targets.Options{Cloud: o.Cloud, Registry: o.Targets, Resync: o.Resync, Reader: resolver,
		NodeRules: nodeRuleOptions(o), BorrowedRecheck: o.BorrowedRuleRecheck}
	if o.ReadinessGates.Enabled {
		health, ok := o.Cloud.(targets.HealthReader)
		if !ok {
			return gates, errors.New("controller: readiness gates need a Cloud that reads target health")
		}
		ns := o.ReadinessGates.Namespace
		if ns == "" {
			return gates, errors.New("controller: readiness gates need the namespace of their directory ConfigMap")
		}
		to.Health, to.Writer = health, mgr.GetClient()
		to.GatePoll, to.GateBackoffCap = o.ReadinessGates.Poll, o.ReadinessGates.BackoffCap
		if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
			return targets.PublishGates(ctx, mgr.GetAPIReader(), mgr.GetClient(), o.Targets, ns, time.Second)
		})); err != nil {
			return gates, err
		}
		directory := targets.NewGateDirectory(mgr.GetAPIReader(), ns, 2*time.Second)
		mgr.GetWebhookServer().Register(targets.WebhookPath, &webhook.Admission{
			Handler: targets.NewPodMutator(mgr.GetScheme(), directory, mgr.GetAPIReader())})
	}
	// Both gates need the configuration kinds served (APIs.Restrict).
	if err := setupConfigFinalizers(mgr, apis, mgr.GetEventRecorder("elbgateway")); err != nil {
		return gates, err
	}
	return gates, targets.Setup(mgr, to)
}

// setupGateway registers the Gateway reconciler of one controller name and its watches.
func setupGateway(mgr ctrl.Manager, o Options, apis APIs, controllerName string, w *statusWriter, resolver client.Reader) error {
	m := &mapper{reader: mgr.GetCache(), routeKinds: apis.routeKindsOf(controllerName), listenerSets: apis.ListenerSet}
	r := &gatewayReconciler{
		controller: controllerName,
		reader:     mgr.GetCache(),
		cloud:      o.Cloud,
		gatherer: &gatherer{reader: resolver, cloud: o.Cloud, apis: apis, controller: controllerName,
			settings: snapshot.Settings{
				ControllerName: controllerName, ClusterName: o.ClusterName, VPCID: o.VPCID,
				DefaultScheme: o.DefaultScheme, DefaultTargetType: o.DefaultTargetType,
				DefaultSSLPolicy: o.DefaultSSLPolicy, DefaultTags: o.DefaultTags,
				Quotas: o.Quotas,
			}},
		writer:   w,
		registry: o.Targets,
		fresh:    aws.NewFreshPasses(o.Resync),
		opts:     o,
		backoff:  newBackoff(o.RetryCap),
	}
	workers := o.Workers.NLB
	if controllerName == ControllerALB {
		workers = o.Workers.ALB
	}
	b := builder.ControllerManagedBy(mgr).
		Named(reconcilerName(controllerName)).
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: workers}).
		For(&gwv1.Gateway{}, builder.WithPredicates(specChanged())).
		Watches(&gwv1.GatewayClass{}, handler.EnqueueRequestsFromMapFunc(m.gatewayClass), builder.WithPredicates(specChanged())).
		Watches(&gwv1.Gateway{}, handler.EnqueueRequestsFromMapFunc(m.backendGateway)).
		Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(m.service), builder.WithPredicates(cachedObjectChanged())).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(m.namespace), builder.WithPredicates(namespaceLabelsChanged())).
		Watches(&awsv1.LoadBalancerConfiguration{}, handler.EnqueueRequestsFromMapFunc(m.loadBalancerConfiguration), builder.WithPredicates(specChanged())).
		Watches(&awsv1.TargetGroupConfiguration{}, handler.EnqueueRequestsFromMapFunc(m.targetGroupConfiguration), builder.WithPredicates(specChanged()))
	for _, gvk := range apis.RouteKinds() {
		b = b.Watches(newRoute(gvk), handler.EnqueueRequestsFromMapFunc(m.route), builder.WithPredicates(specChanged()))
	}
	if apis.ListenerSet {
		b = b.Watches(&gwv1.ListenerSet{}, handler.EnqueueRequestsFromMapFunc(m.listenerSet), builder.WithPredicates(specChanged()))
	}
	if apis.ReferenceGrant {
		b = b.Watches(apis.referenceGrantObject(), handler.EnqueueRequestsFromMapFunc(m.referenceGrant), builder.WithPredicates(specChanged()))
	}
	b = b.WatchesRawSource(problemSource(o.Targets))
	if apis.TargetGroupBinding {
		b = b.Watches(lbcBindingObject(), handler.EnqueueRequestsFromMapFunc(lbcBindingGateway(controllerName)))
	}
	if controllerName == ControllerALB && apis.ListenerRuleConfiguration {
		b = b.Watches(&awsv1.ListenerRuleConfiguration{}, handler.EnqueueRequestsFromMapFunc(m.listenerRuleConfiguration), builder.WithPredicates(specChanged()))
	}
	// OIDC client secrets (ALB) and TLS certificate secrets (both) share the per-Secret watches.
	secrets, err := newSecretWatcher(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return err
	}
	r.gatherer.secrets = secrets
	b = b.WatchesRawSource(secrets)
	if controllerName == ControllerALB && apis.ListenerRuleConfiguration {
		if err := setupLRCStatus(mgr, secrets); err != nil {
			return err
		}
	}
	return b.Complete(r)
}

func classesOfLBC(reader interface {
	List(context.Context, client.ObjectList, ...client.ListOption) error
}) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var classes gwv1.GatewayClassList
		if err := reader.List(ctx, &classes, client.MatchingFields{indexLBC: o.GetNamespace() + "/" + o.GetName()}); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(classes.Items))
		for _, c := range classes.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: c.Name}})
		}
		return out
	}
}
