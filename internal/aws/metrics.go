package aws

import (
	"context"
	"errors"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Limit is a token bucket: PerSecond calls on average, Burst at once.
type Limit struct {
	PerSecond float64
	Burst     int
}

// RateLimits are the client-side limits per operation class. AWS throttles per account and
// region, shared with everything else the account runs, so we stay well below its limits.
type RateLimits struct {
	// Read covers Describe*, Get* and List*. Default 50/s, burst 200.
	Read Limit
	// Write covers the other changes. Default 3/s, burst 20.
	Write Limit
	// Targets covers RegisterTargets and DeregisterTargets. Default 4/s, burst 20.
	Targets Limit
}

func (r RateLimits) withDefaults() RateLimits {
	def := func(l, d Limit) Limit {
		if l.PerSecond <= 0 {
			l.PerSecond = d.PerSecond
		}
		if l.Burst <= 0 {
			l.Burst = d.Burst
		}
		return l
	}
	r.Read = def(r.Read, Limit{50, 200})
	r.Write = def(r.Write, Limit{3, 20})
	r.Targets = def(r.Targets, Limit{4, 20})
	return r
}

// callCounter counts every attempt of every call, by service, operation and outcome, and makes
// each attempt wait for its class's rate limiter first.
type callCounter struct {
	vec      *prometheus.CounterVec
	limiters map[string]*rate.Limiter

	mu     sync.Mutex
	counts map[string]int
}

func newCallCounter(reg prometheus.Registerer, limits RateLimits) (*callCounter, error) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "elbgateway_aws_api_calls_total",
		Help: "AWS API call attempts by service, operation and outcome (success, error, throttled).",
	}, []string{"service", "operation", "outcome"})
	if reg != nil {
		if err := reg.Register(vec); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			vec = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return &callCounter{
		vec: vec,
		limiters: map[string]*rate.Limiter{
			"read":    rate.NewLimiter(rate.Limit(limits.Read.PerSecond), limits.Read.Burst),
			"write":   rate.NewLimiter(rate.Limit(limits.Write.PerSecond), limits.Write.Burst),
			"targets": rate.NewLimiter(rate.Limit(limits.Targets.PerSecond), limits.Targets.Burst),
		},
		counts: map[string]int{},
	}, nil
}

// apiOptions installs the middleware after the retry step, so every attempt is limited and counted.
func (c *callCounter) apiOptions() func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		mw := middleware.FinalizeMiddlewareFunc("elbgatewayCallCounter", c.handle)
		if err := stack.Finalize.Insert(mw, "Retry", middleware.After); err != nil {
			return stack.Finalize.Add(mw, middleware.After)
		}
		return nil
	}
}

func (c *callCounter) handle(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	service := serviceLabel(awsmiddleware.GetServiceID(ctx))
	op := awsmiddleware.GetOperationName(ctx)
	if err := c.limiters[operationClass(op)].Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	out, md, err := next.HandleFinalize(ctx, in)
	c.vec.WithLabelValues(service, op, outcome(err)).Inc()
	c.mu.Lock()
	c.counts[service+":"+op]++
	c.mu.Unlock()
	return out, md, err
}

func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

func serviceLabel(id string) string {
	switch id {
	case "Elastic Load Balancing v2":
		return "elbv2"
	default:
		return strings.ToLower(strings.ReplaceAll(id, " ", ""))
	}
}

func operationClass(op string) string {
	switch {
	case strings.HasPrefix(op, "Describe"), strings.HasPrefix(op, "Get"), strings.HasPrefix(op, "List"):
		return "read"
	case op == "RegisterTargets", op == "DeregisterTargets":
		return "targets"
	default:
		return "write"
	}
}

func outcome(err error) string {
	if err == nil {
		return "success"
	}
	if isThrottle(err) {
		return "throttled"
	}
	return "error"
}

func isThrottle(err error) bool {
	switch errorCode(err) {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
		return true
	}
	return false
}

// errorCode is the AWS error code of err, or "".
// errorMessage is the message of an AWS API error ("" for other errors).
func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
