package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
	"github.com/elbgateway/elbgateway/internal/targets"
	"github.com/elbgateway/elbgateway/internal/translate"
)

// errRejected makes plan exit 1 after it printed everything: a manifest was rejected.
var errRejected = errors.New("rejected")

// planFlags are the flags of `elbgateway plan`.
type planFlags struct {
	files       stringList
	output      string
	namespace   string
	clusterName string
	vpcID       string
	region      string
	subnets     string
	gates       featureGates
	targetType  string
	scheme      string
	defaultTags tagsFlag
	quotas      quotaFlags
	awsEndpoint string
}

func (f *planFlags) register(fs *flag.FlagSet) {
	f.gates.gates = controller.Gates{NLB: true, ALB: true}
	fs.Var(&f.files, "f", "manifest file or directory (repeatable); directories are read recursively")
	fs.StringVar(&f.output, "o", "table", "output format: table or yaml")
	fs.StringVar(&f.namespace, "namespace", "default", "namespace of namespaced objects that name none")
	fs.StringVar(&f.clusterName, "cluster-name", "demo", "cluster name, as --cluster-name of the controller")
	fs.StringVar(&f.vpcID, "vpc-id", "vpc-0123456789abcdef0", "VPC of the load balancers and target groups")
	fs.StringVar(&f.region, "region", firstNonEmpty(os.Getenv("AWS_REGION"), "us-east-1"), "AWS region (names the synthetic subnets' zones)")
	fs.StringVar(&f.subnets, "subnets", "", "synthetic subnets as ID=ZONE pairs, comma-separated, each tagged for internal and internet-facing load balancers (default: three subnets in zones a, b and c of --region)")
	fs.Var(&f.gates, "feature-gates", "comma-separated Name=bool pairs: NLBGatewayAPI, ALBGatewayAPI (both default true)")
	fs.StringVar(&f.targetType, "default-target-type", "instance", "as the controller's --default-target-type")
	fs.StringVar(&f.scheme, "default-load-balancer-scheme", "internal", "as the controller's --default-load-balancer-scheme")
	fs.Var(&f.defaultTags, "default-tags", "as the controller's --default-tags")
	f.quotas.register(fs)
	fs.StringVar(&f.awsEndpoint, "aws-endpoint", "", "read facts and the existing resources from this AWS endpoint (credentials from the environment) and print the changes instead of the whole stack")
}

func (f *planFlags) validate() error {
	var problems []string
	if len(f.files) == 0 {
		problems = append(problems, "-f is required: a manifest file or directory")
	}
	if f.output != "table" && f.output != "yaml" {
		problems = append(problems, fmt.Sprintf("-o %q: use table or yaml", f.output))
	}
	if f.targetType != "instance" && f.targetType != "ip" {
		problems = append(problems, fmt.Sprintf("--default-target-type %q: use instance or ip", f.targetType))
	}
	if f.scheme != "internal" && f.scheme != "internet-facing" {
		problems = append(problems, fmt.Sprintf("--default-load-balancer-scheme %q: use internal or internet-facing", f.scheme))
	}
	if _, err := syntheticSubnets(f.subnets, f.region, f.clusterName); err != nil {
		problems = append(problems, err.Error())
	}
	problems = append(problems, f.quotas.validate()...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// gatewayPlan is the plan of one Gateway: what translation wants, what it says of every object,
// the targets the manifests' EndpointSlices and Nodes give, and (with --aws-endpoint) the
// changes to what exists.
type gatewayPlan struct {
	Gateway        string                    `json:"gateway"`
	ControllerName string                    `json:"controllerName"`
	Stack          *model.Stack              `json:"stack"`
	Status         *status.Set               `json:"status"`
	Targets        map[string][]model.Target `json:"targets,omitempty"`
	Changes        []string                  `json:"changes,omitempty"`
	// Observed says whether Changes were computed against AWS.
	Observed bool `json:"observed,omitempty"`
}

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f planFlags
	if err := parseFlags("plan", args, stderr, &f, " (pass manifests with -f)"); err != nil {
		return err
	}
	in, err := loadManifests(f.files, f.namespace)
	if err != nil {
		return err
	}
	for _, s := range in.skipped {
		fmt.Fprintf(stderr, "skipped %s\n", s)
	}
	facts, cloud, err := f.factsSource(ctx)
	if err != nil {
		return err
	}
	snaps, err := controller.Snapshots(ctx, in.objects, controller.OfflineOptions{
		Settings: snapshot.Settings{ClusterName: f.clusterName, VPCID: f.vpcID, DefaultScheme: f.scheme,
			DefaultTargetType: f.targetType, DefaultTags: f.defaultTags.tags, Quotas: f.quotas.q},
		Gates: f.gates.gates,
		Facts: facts,
	})
	if err != nil {
		return err
	}
	if len(snaps) == 0 {
		return errors.New("no Gateway to plan: the manifests hold no Gateway whose GatewayClass (also in the manifests) has controllerName gateway.k8s.aws/nlb or gateway.k8s.aws/alb")
	}
	plans := make([]gatewayPlan, 0, len(snaps))
	for _, s := range snaps {
		p, err := planGateway(ctx, s, in, cloud)
		if err != nil {
			return err
		}
		plans = append(plans, p)
	}
	if err := printPlans(stdout, f.output, plans); err != nil {
		return err
	}
	if rejections := rejections(plans); len(rejections) > 0 {
		for _, r := range rejections {
			fmt.Fprintln(stderr, "rejected:", r)
		}
		return errRejected
	}
	return nil
}

// planGateway translates one snapshot and, with a Cloud, diffs it against what exists.
func planGateway(ctx context.Context, s *snapshot.Snapshot, in *loaded, cloud *aws.Cloud) (gatewayPlan, error) {
	desired, set := translate.Gateway(s)
	p := gatewayPlan{
		Gateway:        s.Gateway.Namespace + "/" + s.Gateway.Name,
		ControllerName: s.Settings.ControllerName,
		Stack:          desired,
		Status:         set,
		Targets:        planTargets(desired, in),
	}
	if cloud == nil {
		return p, nil
	}
	observed, err := cloud.Observe(ctx, desired.ID, desired.Type)
	if err != nil {
		return p, fmt.Errorf("reading the existing resources of Gateway %s: %w", p.Gateway, err)
	}
	p.Observed = true
	p.Changes = []string{}
	for _, c := range plan.Diff(desired, observed) {
		p.Changes = append(p.Changes, c.String())
	}
	return p, nil
}

// planTargets lists each target group's targets from the manifests' EndpointSlices (ip) and
// Nodes (instance), as the targets loop would register them.
func planTargets(s *model.Stack, in *loaded) map[string][]model.Target {
	var slices []discoveryv1.EndpointSlice
	var nodes []corev1.Node
	for _, o := range in.objects {
		switch x := o.(type) {
		case *discoveryv1.EndpointSlice:
			slices = append(slices, *x)
		case *corev1.Node:
			nodes = append(nodes, *x)
		}
	}
	out := map[string][]model.Target{}
	for _, tg := range s.TargetGroups {
		if tg.Backend == nil {
			continue
		}
		var ts []model.Target
		if tg.TargetType == "instance" {
			ts = targets.FromNodes(*tg.Backend, nodes)
		} else {
			ts = targets.OfFamily(targets.FromEndpointSlices(*tg.Backend, slices), tg.IPAddressType)
		}
		if len(ts) > 0 {
			out[tg.ID] = ts
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// factsSource returns synthetic facts, or a Cloud that reads them from --aws-endpoint.
func (f *planFlags) factsSource(ctx context.Context) (controller.FactsSource, *aws.Cloud, error) {
	if f.awsEndpoint == "" {
		subnets, err := syntheticSubnets(f.subnets, f.region, f.clusterName)
		if err != nil {
			return nil, nil, err
		}
		return staticFacts{subnets: subnets}, nil, nil
	}
	cloud, err := aws.New(ctx, aws.Options{Region: f.region, VPCID: f.vpcID, ClusterName: f.clusterName, Endpoint: f.awsEndpoint})
	if err != nil {
		return nil, nil, err
	}
	return cloud, cloud, nil
}

// staticFacts are the AWS facts of a VPC that exists only on paper: its subnets, no load
// balancer yet, no out-of-band target groups, no certificates.
type staticFacts struct {
	subnets []snapshot.Subnet
}

func (s staticFacts) Facts(context.Context, aws.FactsRequest) (snapshot.AWSFacts, error) {
	return snapshot.AWSFacts{Subnets: append([]snapshot.Subnet(nil), s.subnets...)}, nil
}

// syntheticSubnets parses --subnets (ID=ZONE,...) or makes three subnets in zones a, b, c.
// Each is tagged for both load balancer schemes and shared with the cluster.
func syntheticSubnets(spec, region, clusterName string) ([]snapshot.Subnet, error) {
	type pair struct{ id, zone string }
	var pairs []pair
	if strings.TrimSpace(spec) == "" {
		for i, z := range []string{"a", "b", "c"} {
			pairs = append(pairs, pair{fmt.Sprintf("subnet-%017d", i+1), region + z})
		}
	}
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		id, zone, ok := strings.Cut(p, "=")
		if !ok || !strings.HasPrefix(id, "subnet-") || zone == "" {
			return nil, fmt.Errorf("--subnets %q: use subnet-ID=ZONE pairs, for example subnet-0a1=us-east-1a", p)
		}
		pairs = append(pairs, pair{id, zone})
	}
	out := make([]snapshot.Subnet, 0, len(pairs))
	for i, p := range pairs {
		out = append(out, snapshot.Subnet{
			ID: p.id, AvailabilityZone: p.zone, CIDR: fmt.Sprintf("10.0.%d.0/24", i), AvailableIPs: 250,
			Tags: map[string]string{
				"kubernetes.io/role/elb": "1", "kubernetes.io/role/internal-elb": "1",
				"kubernetes.io/cluster/" + clusterName: "shared",
			},
		})
	}
	return out, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
