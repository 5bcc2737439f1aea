package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

// lrcRequeue is how soon a ListenerRuleConfiguration that is not accepted is looked at again.
// A configuration that a Gateway's route uses also follows its Secret through the Gateway
// controller's per-Secret watch; one that no route uses is noticed this way.
const lrcRequeue = 30 * time.Second

// indexLRCSecret indexes ListenerRuleConfigurations by the namespace/name of the Secret their
// authenticate-oidc action names.
const indexLRCSecret = "elbgateway.lrcsecret"

// setupLRCStatus registers the ListenerRuleConfiguration status reconciler. It hears of the
// changes of the Secrets the ALB controller's watcher watches.
func setupLRCStatus(mgr ctrl.Manager, secrets *secretWatcher) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &awsv1.ListenerRuleConfiguration{}, indexLRCSecret,
		func(o client.Object) []string {
			if k := oidcSecretKey(o.(*awsv1.ListenerRuleConfiguration)); k != "" {
				return []string{k}
			}
			return nil
		}); err != nil {
		return fmt.Errorf("adding field indexes: %w", err)
	}
	src := &lrcsOfSecret{reader: mgr.GetCache()}
	secrets.onChange = src.notify
	return builder.ControllerManagedBy(mgr).Named("listenerruleconfiguration").For(&awsv1.ListenerRuleConfiguration{}).
		WatchesRawSource(src).
		Complete(&lrcReconciler{reader: mgr.GetCache(), secrets: mgr.GetAPIReader(), client: mgr.GetClient()})
}

// lrcsOfSecret queues the configurations that name a Secret when the Secret changes.
type lrcsOfSecret struct {
	reader client.Reader
	mu     sync.Mutex
	queue  workqueue.TypedRateLimitingInterface[reconcile.Request]
}

func (s *lrcsOfSecret) Start(_ context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = queue
	return nil
}

func (s *lrcsOfSecret) String() string { return "ListenerRuleConfigurations of changed OIDC Secrets" }

func (s *lrcsOfSecret) notify(key string) {
	s.mu.Lock()
	queue := s.queue
	s.mu.Unlock()
	if queue == nil {
		return
	}
	var list awsv1.ListenerRuleConfigurationList
	if err := s.reader.List(context.Background(), &list, client.MatchingFields{indexLRCSecret: key}); err != nil {
		return
	}
	for _, lrc := range list.Items {
		queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: lrc.Namespace, Name: lrc.Name}})
	}
}

// lrcReconciler writes status.accepted and status.message of ListenerRuleConfigurations: one
// whose authenticate-oidc action names a Secret that is missing, or lacks the client keys, is
// not accepted, and the message says what to create.
type lrcReconciler struct {
	reader client.Reader // the informer cache
	// secrets reads Secrets from the API server: they are never cached.
	secrets client.Reader
	client  client.Client
}

func (r *lrcReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var lrc awsv1.ListenerRuleConfiguration
	if err := r.reader.Get(ctx, req.NamespacedName, &lrc); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	accepted, message, err := r.check(ctx, &lrc)
	if err != nil {
		return reconcile.Result{}, err
	}
	next := lrc.DeepCopy()
	next.Status.Accepted = &accepted
	next.Status.Message = nil
	if message != "" {
		next.Status.Message = &message
	}
	gen := lrc.Generation
	next.Status.ObservedGeneration = &gen
	if !equality.Semantic.DeepEqual(lrc.Status, next.Status) {
		if err := r.client.Status().Patch(ctx, next, client.MergeFromWithOptions(&lrc, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsNotFound(err) {
				return reconcile.Result{}, nil
			}
			return retryConflict(reconcile.Result{}, fmt.Errorf("writing the status of %s %s: %w", lrcKind, req, err))
		}
	}
	if !accepted {
		return reconcile.Result{RequeueAfter: lrcRequeue}, nil
	}
	return reconcile.Result{}, nil
}

// check says whether a configuration can be used: the Secret of its authenticate-oidc action
// exists and holds a client ID and secret. Only those two values are read and never logged.
func (r *lrcReconciler) check(ctx context.Context, lrc *awsv1.ListenerRuleConfiguration) (bool, string, error) {
	for i, a := range lrc.Spec.Actions {
		if a.Type == awsv1.ActionTypeAuthenticateOIDC && (a.AuthenticateOIDCConfig == nil || a.AuthenticateOIDCConfig.Secret == nil ||
			a.AuthenticateOIDCConfig.Secret.Name == "") {
			return false, fmt.Sprintf("spec.actions[%d].authenticateOIDCConfig.secret.name: name the Secret holding clientID and clientSecret", i), nil
		}
	}
	key := oidcSecretKey(lrc)
	if key == "" {
		return true, "", nil
	}
	ns, name := splitKey(key)
	var s corev1.Secret
	err := r.secrets.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &s)
	if apierrors.IsNotFound(err) {
		return false, fmt.Sprintf("secret [%s] not found: create it in namespace %s with keys clientID and clientSecret", key, ns), nil
	}
	if err != nil {
		return false, "", fmt.Errorf("reading Secret %s: %w", key, err)
	}
	c := oidcClientOf(&s)
	if c.ClientID == "" || c.ClientSecret == "" {
		return false, fmt.Sprintf("secret [%s] needs keys clientID (or clientId) and clientSecret; add the missing one", key), nil
	}
	return true, "", nil
}
