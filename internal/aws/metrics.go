package aws

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/elbgateway/elbgateway/internal/metric"
)

// callCounter counts every attempt of every call, by service, operation and outcome, and makes
// each attempt wait for its family's bucket first (limits.go).
type callCounter struct {
	vec *prometheus.CounterVec
	// latency is each attempt's duration by service and operation, waits for the rate limit
	// excluded.
	latency *prometheus.HistogramVec
	// denied counts attempts AWS refused for want of permission (the IAM policy lacks the action).
	denied *prometheus.CounterVec
	limits *apiLimits

	mu     sync.Mutex
	counts map[string]int
}

func newCallCounter(reg prometheus.Registerer, limits RateLimits) (*callCounter, error) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "elbgateway_aws_api_calls_total",
		Help: "AWS API call attempts by service, operation and outcome (success, error, throttled).",
	}, []string{"service", "operation", "outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "elbgateway_aws_api_call_duration_seconds",
		Help:    "Duration of AWS API call attempts by service and operation.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"service", "operation"})
	denied := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "elbgateway_aws_api_permission_errors_total",
		Help: "AWS API call attempts refused for want of permission (AccessDenied, UnauthorizedOperation), by service and operation.",
	}, []string{"service", "operation"})
	rates := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "elbgateway_aws_api_rate_limit",
		Help: "Client-side rate limit of a family of AWS operations, in calls per second: the configured rate (--aws-api-limits), halved by each throttling answer and doubled back after each quiet 30 seconds.",
	}, []string{"family"})
	if reg != nil {
		var err error
		if rates, err = metric.Register(reg, rates); err != nil {
			return nil, err
		}
		if vec, err = metric.Register(reg, vec); err != nil {
			return nil, err
		}
		if latency, err = metric.Register(reg, latency); err != nil {
			return nil, err
		}
		if denied, err = metric.Register(reg, denied); err != nil {
			return nil, err
		}
	}
	l := newAPILimits(limits)
	l.showRates(rates)
	return &callCounter{
		vec:     vec,
		latency: latency,
		denied:  denied,
		limits:  l,
		counts:  map[string]int{},
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
	if err := c.limits.wait(ctx, service, op); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	start := time.Now()
	out, md, err := next.HandleFinalize(ctx, in)
	c.latency.WithLabelValues(service, op).Observe(time.Since(start).Seconds())
	if isPermissionError(err) {
		c.denied.WithLabelValues(service, op).Inc()
	}
	if isThrottle(err) {
		c.limits.throttled(service, op)
	}
	c.vec.WithLabelValues(service, op, outcome(err)).Inc()
	c.mu.Lock()
	c.counts[service+":"+op]++
	c.mu.Unlock()
	return out, md, err
}

// isPermissionError is true when AWS refused a call because the caller's policy does not allow it.
func isPermissionError(err error) bool {
	switch errorCode(err) {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return true
	}
	return false
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
