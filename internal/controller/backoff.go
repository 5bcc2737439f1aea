package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/status"
)

// A Gateway whose reconcile fails is retried after a pause of its own that starts at
// backoffBase and doubles per failure up to backoffCap, with jitter. A failure AWS will answer
// the same way until the request changes (aws.Permanent: validation, quota, a referenced
// resource that does not exist) waits the cap at once. Events on the Gateway or its inputs do
// not cut the pause short unless they change what the Gateway asks of AWS (its fingerprint:
// the desired stack); then the count starts over. A Warning event is recorded once per
// distinct failure; the Programmed condition carries how often it happened.

const (
	backoffBase = time.Second
	backoffCap  = 5 * time.Minute
)

// failureState is what the backoff remembers of one Gateway.
type failureState struct {
	fingerprint string
	failures    int
	next        time.Time
	// warned are the failures already recorded as Warning events, by reason and message.
	warned map[string]int
}

// backoff holds the failure state of every Gateway of one controller.
type backoff struct {
	mu    sync.Mutex
	state map[string]*failureState
	now   func() time.Time
	base  time.Duration
	cap   time.Duration
}

// newBackoff pauses failing Gateways up to limit (backoffCap when zero).
func newBackoff(limit time.Duration) *backoff {
	if limit <= 0 {
		limit = backoffCap
	}
	return &backoff{state: map[string]*failureState{}, now: time.Now, base: backoffBase, cap: limit}
}

// waiting says how long a Gateway must still wait before it may call AWS again: positive only
// while it is backing off and its fingerprint is unchanged.
func (b *backoff) waiting(key, fingerprint string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state[key]
	if s == nil || s.fingerprint != fingerprint {
		return 0
	}
	return s.next.Sub(b.now())
}

// failed records a failure and returns the pause before the next attempt and how many times in
// a row the Gateway failed with this fingerprint.
func (b *backoff) failed(key, fingerprint string, permanent bool) (time.Duration, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state[key]
	if s == nil || s.fingerprint != fingerprint {
		warned := map[string]int{}
		if s != nil {
			warned = s.warned
		}
		s = &failureState{fingerprint: fingerprint, warned: warned}
		b.state[key] = s
	}
	s.failures++
	d := b.cap
	if !permanent && s.failures < 32 {
		d = min(b.base<<(s.failures-1), b.cap)
	}
	// Up to a fifth less, so that Gateways failing together spread their retries.
	d -= time.Duration(rand.Int64N(int64(d)/5 + 1))
	s.next = b.now().Add(d)
	return d, s.failures
}

// warn says whether a Warning with this reason and message is new for the Gateway, and counts it.
func (b *backoff) warn(key, reason, message string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state[key]
	if s == nil {
		s = &failureState{warned: map[string]int{}}
		b.state[key] = s
	}
	k := reason + "\x00" + normalizeAWSMessage(message)
	s.warned[k]++
	return s.warned[k] == 1
}

// succeeded forgets the Gateway's failures: the next failure starts over and warns again.
func (b *backoff) succeeded(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.state, key)
}

// requestID matches the parts of an AWS error message that differ between identical failures.
var requestID = regexp.MustCompile(`(?i)request ?id: [0-9a-f-]+|RequestID: [^,]*`)

func normalizeAWSMessage(s string) string { return requestID.ReplaceAllString(s, "") }

// fingerprint is what a Gateway asks of AWS: a hash of its desired stack. Translation is pure,
// so the same inputs give the same fingerprint; nil (translation did not run) is "".
func fingerprint(desired *model.Stack) string {
	if desired == nil {
		return ""
	}
	b, err := json.Marshal(desired)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// retryInfo is what the status writer says about a failure's retry.
type retryInfo struct {
	// after is the pause before the next attempt; 0 leaves it to controller-runtime.
	after time.Duration
	// attempts is how many times in a row the Gateway failed asking the same of AWS.
	attempts int
	// permanent is true when AWS will refuse the same request again (aws.Permanent).
	permanent bool
	// code is the AWS error code, if any.
	code string
	// warn is true when the failure is new for the Gateway and gets a Warning event.
	warn bool
}

func (r retryInfo) String() string {
	if r.after <= 0 {
		return "retrying with backoff"
	}
	next := r.after.Round(time.Second)
	if r.permanent {
		return fmt.Sprintf("AWS refuses this request (%s) until the Gateway or what it refers to changes; failed %d time(s), next attempt in %s", r.code, r.attempts, next)
	}
	return fmt.Sprintf("failed %d time(s), next attempt in %s", r.attempts, next)
}

// failed backs the Gateway off after a failed step and reports it (statusWriter.failed).
// A write conflict (the cache was behind) is retried at once and does not count.
func (r *gatewayReconciler) failed(ctx context.Context, gw *gwv1.Gateway, routes *status.Set, key, fp, step string, err error) (reconcile.Result, error) {
	if r.backoff == nil {
		return r.writer.failedWith(ctx, gw, routes, step, err, retryInfo{warn: true})
	}
	if apierrors.IsConflict(errors.Unwrap(err)) || apierrors.IsConflict(err) {
		return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	info := retryInfo{permanent: aws.Permanent(err), code: aws.ErrorCode(err)}
	info.after, info.attempts = r.backoff.failed(key, fp, info.permanent)
	info.warn = r.backoff.warn(key, "Failed"+step, err.Error())
	return r.writer.failedWith(ctx, gw, routes, step, err, info)
}

// applyWarned says whether the events of a failed apply are new for the Gateway: a plan that
// fails the same way again records no events.
func (r *gatewayReconciler) applyWarned(key string, err error) bool {
	return err == nil || r.backoff == nil || r.backoff.warn(key, "apply", err.Error())
}

// partlyFailed backs the Gateway off after an apply that AWS refused in part. The refused
// changes are reported on their objects already (statusWriter.report); the events were recorded
// by apply.
func (r *gatewayReconciler) partlyFailed(key, fp string, err error) (reconcile.Result, error) {
	if r.backoff == nil {
		return reconcile.Result{}, err
	}
	after, _ := r.backoff.failed(key, fp, aws.Permanent(err))
	return reconcile.Result{RequeueAfter: after}, nil
}
