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
)

// callCounter counts every attempt of every call, by service, operation and outcome, and makes
// each attempt wait for its family's bucket first (limits.go).
type callCounter struct {
	vec    *prometheus.CounterVec
	limits *apiLimits

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
		vec:    vec,
		limits: newAPILimits(limits),
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
	if err := c.limits.wait(ctx, service, op); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	out, md, err := next.HandleFinalize(ctx, in)
	if isThrottle(err) {
		c.limits.throttled(service, op)
	}
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
