// Package aws is the only place that reads and changes AWS: facts for translation, the observed
// state of a Gateway's stack (found by its tags), applying a plan, and registering targets.
package aws

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/shield"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Options configure a Cloud.
type Options struct {
	// Region is required.
	Region string
	// VPCID is the cluster's VPC: load balancers, target groups and security groups live there.
	VPCID string
	// ClusterName is the value of the elbv2.k8s.aws/cluster tag on everything we create.
	ClusterName string

	// Endpoint, if set, is the base URL of every service (a local AWS emulator). Otherwise the
	// SDK resolves endpoints, honouring AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
	// (for example AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2, AWS_ENDPOINT_URL_EC2).
	Endpoint string
	// Credentials, if set, replace the default chain (environment, shared config, web identity
	// for IRSA, container credentials for EKS Pod Identity, IMDS).
	Credentials aws.CredentialsProvider

	// Registerer receives the elbgateway_aws_api_calls_total counter; nil registers nothing.
	Registerer prometheus.Registerer
	// MaxRetries bounds the retries of one call (throttling, 5xx, network errors). Default 5.
	MaxRetries int
	// RateLimits bound our call rate per family of operations (limits.go); families left out
	// take DefaultLimits.
	RateLimits RateLimits

	// SubnetCacheTTL, when set, bounds how long the VPC's subnets are reused. Zero, the
	// default, reuses them until a resync pass reads AWS afresh (WithFreshRead) or AWS refuses
	// the subnets a load balancer names (facts.go).
	SubnetCacheTTL time.Duration
	// TagCacheTTL is how long ELB tags are reused; our writes update the cache. Default 20m.
	TagCacheTTL time.Duration
	// InventoryTTL is how often the region's load balancers and target groups are listed to
	// find which belong to which Gateway (ELBv2 cannot filter by tag); between listings Observe
	// describes only a Gateway's own ARNs, and our creates and deletes keep the index exact.
	// Shortened by up to a tenth at random. Default 10m.
	InventoryTTL time.Duration
	// NameCacheTTL is how long target group name → ARN look-ups are reused. Default 5m.
	NameCacheTTL time.Duration
	// NetworkCacheTTL is how long the network interfaces of targets and the tags of their
	// security groups are reused. Default 10m.
	NetworkCacheTTL time.Duration
	// CertificateListTTL is how long the account's ACM certificate list is reused. Default 1m.
	CertificateListTTL time.Duration
	// DeleteTimeout bounds the retries of a delete that waits for a dependency to go
	// (security group DependencyViolation, target group ResourceInUse). Default 2m.
	DeleteTimeout time.Duration
	// DeleteRetryInterval is the first pause between such retries; it doubles up to 10s. Default 2s.
	DeleteRetryInterval time.Duration
	// AppliedTrust bounds how long what the process remembers of a stack (the stack an apply
	// left, target group attributes, registered targets; fresh.go) is trusted. Zero, the
	// default, trusts it until the controller's next resync pass reads AWS afresh
	// (WithFreshRead) or a write on it fails.
	AppliedTrust time.Duration
	// ConsistencyRetryInterval is the first pause of the few retries of a call that names a
	// resource just created, which EC2 may not find for a moment; it doubles. Default 200ms.
	ConsistencyRetryInterval time.Duration
	// AllowedCertificateAuthorityARNs, when not empty, limit certificate discovery's private
	// certificates to those these private CAs issued (--allowed-certificate-authority-arns).
	AllowedCertificateAuthorityARNs []string
}

// Cloud talks to ELBv2 and EC2 for one cluster.
type Cloud struct {
	// quicGroups are the ARNs of the QUIC and TCP_QUIC target groups seen: their targets are
	// registered with a QUIC server ID.
	quicGroups sync.Map
	opts       Options
	elb        *elbv2.Client
	ec2        *ec2.Client
	waf        *wafv2.Client
	shield     *shield.Client
	// shieldActive caches an ACTIVE Shield Advanced subscription (addons.go).
	shieldActive *ttlCache[bool]
	calls        *callCounter
	tags         *tagCache
	subnets      *ttlCache[subnetRead]
	// subnetsMu makes reads of the VPC's subnets one at a time (facts.go).
	subnetsMu sync.Mutex
	// deletedTGs holds the ARNs of target groups we deleted, which AWS may still list for a
	// while: never adopted by name (apply_targetgroup.go).
	deletedTGs *ttlCache[bool]
	// vpcBlocks holds the VPC's CIDR blocks (targets.go).
	vpcBlocks *ttlCache[[]netip.Prefix]
	tgNames   *ttlCache[string]
	// tgAttrs holds target group attributes by ARN (tgattrs.go).
	tgAttrs *ttlCache[map[string]string]
	// registered holds target groups' registered targets by ARN (targets.go).
	registered *ttlCache[[]model.Target]
	acm        *acmState
	network    networkState
	inv        *inventory
	applied    appliedState
	// uncertain are names whose create may have half-succeeded (uncertain.go).
	uncertain uncertainNames
	now       func() time.Time
	// listPageSize is the page size of the inventory's region-wide listings.
	listPageSize int32
}

// New loads the AWS configuration (region from Options, credentials from Options or the default
// chain) and builds the clients with call counting, rate limiting and bounded retries.
func New(ctx context.Context, o Options) (*Cloud, error) {
	if o.Region == "" {
		return nil, errors.New("aws: region is required (set --aws-region or AWS_REGION)")
	}
	o = withDefaults(o)
	calls, err := newCallCounter(o.Registerer, o.RateLimits)
	if err != nil {
		return nil, err
	}
	loaders := []func(*config.LoadOptions) error{
		config.WithRegion(o.Region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxRetries + 1
				so.MaxBackoff = 20 * time.Second
			})
		}),
		config.WithAPIOptions([]func(*middleware.Stack) error{calls.apiOptions()}),
	}
	if o.Credentials != nil {
		loaders = append(loaders, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("aws: loading configuration: %w", err)
	}
	c := &Cloud{
		opts:  o,
		calls: calls,
		tags:  newTagCache(o.TagCacheTTL),
		now:   time.Now,
		inv:   newInventory(),

		listPageSize: inventoryPageSize,
	}
	c.subnets = newTTLCache[subnetRead](o.SubnetCacheTTL)
	c.tgNames = newTTLCache[string](o.NameCacheTTL)
	c.vpcBlocks = newTTLCache[[]netip.Prefix](o.NetworkCacheTTL)
	c.deletedTGs = newTTLCache[bool](o.NameCacheTTL)
	c.tgAttrs = newTTLCache[map[string]string](o.AppliedTrust)
	c.registered = newTTLCache[[]model.Target](o.AppliedTrust)
	c.elb = elbv2.NewFromConfig(cfg, func(eo *elbv2.Options) {
		if o.Endpoint != "" {
			eo.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	c.ec2 = ec2.NewFromConfig(cfg, func(eo *ec2.Options) {
		if o.Endpoint != "" {
			eo.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	c.waf = wafv2.NewFromConfig(cfg, func(wo *wafv2.Options) {
		if o.Endpoint != "" {
			wo.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	c.shield = shield.NewFromConfig(cfg, func(so *shield.Options) {
		// Shield Advanced's API is served in us-east-1 only ("shield.us-east-1.amazonaws.com").
		so.Region = "us-east-1"
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
	})
	c.shieldActive = newTTLCache[bool](shieldSubscriptionTTL)
	c.acm = newACMState(acm.NewFromConfig(cfg, func(ao *acm.Options) {
		if o.Endpoint != "" {
			ao.BaseEndpoint = aws.String(o.Endpoint)
		}
	}), o.TagCacheTTL, o.CertificateListTTL)
	return c, nil
}

func withDefaults(o Options) Options {
	if o.MaxRetries <= 0 {
		o.MaxRetries = 5
	}
	if o.TagCacheTTL <= 0 {
		o.TagCacheTTL = 20 * time.Minute
	}
	if o.InventoryTTL <= 0 {
		o.InventoryTTL = 10 * time.Minute
	}
	if o.NameCacheTTL <= 0 {
		o.NameCacheTTL = 5 * time.Minute
	}
	if o.NetworkCacheTTL <= 0 {
		o.NetworkCacheTTL = 10 * time.Minute
	}
	if o.CertificateListTTL <= 0 {
		o.CertificateListTTL = certListTTL
	}
	if o.DeleteTimeout <= 0 {
		o.DeleteTimeout = 2 * time.Minute
	}
	if o.DeleteRetryInterval <= 0 {
		o.DeleteRetryInterval = 2 * time.Second
	}
	o.RateLimits = o.RateLimits.withDefaults()
	return o
}

// CallCounts returns how many calls (attempts, retries included) this Cloud made, keyed
// "service:Operation", for example "elbv2:DescribeTags" or "ec2:DescribeSubnets".
func (c *Cloud) CallCounts() map[string]int { return c.calls.snapshot() }
