package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/status"
	"github.com/elbgateway/elbgateway/internal/targets"
	"github.com/elbgateway/elbgateway/internal/translate"
)

// Plan's exit codes (docs/plan.md): 0 the manifests plan cleanly; 1 a manifest is rejected
// (or cannot be read); 2 usage; 3 nothing is rejected but something is dropped or partly
// invalid (a conflicted listener, a route rule beyond a quota, PartiallyInvalid).
var (
	// errRejected makes plan exit 1 after it printed everything.
	errRejected = errors.New("rejected")
	// errPartial makes plan exit 3 after it printed everything.
	errPartial = errors.New("partially applied")
	// errUsage wraps a command-line mistake: exit 2.
	errUsage = errors.New("usage")
)

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
	fs.Var(&f.files, "f", "manifest file or directory (repeatable); directories are read recursively; - reads standard input")
	fs.StringVar(&f.output, "o", "table", "output format: table, yaml or json")
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
	fs.StringVar(&f.awsEndpoint, "aws-endpoint", "", "read facts and the existing resources from this AWS endpoint, the base URL of every service, or `aws` for AWS's own regional endpoints (credentials from the environment), and print the changes instead of the whole stack")
}

func (f *planFlags) validate() error {
	var problems []string
	if len(f.files) == 0 {
		problems = append(problems, "-f is required: a manifest file or directory")
	}
	if f.output != "table" && f.output != "yaml" && f.output != "json" {
		problems = append(problems, fmt.Sprintf("-o %q: use table, yaml or json", f.output))
	}
	if n := slices.Index(f.files, stdinPath); n >= 0 && slices.Index(f.files[n+1:], stdinPath) >= 0 {
		problems = append(problems, "-f - is given twice: standard input is read once")
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
	// ResolvedAtApplyTime lists, offline, what the stack uses that only AWS can tell (a
	// certificate discovered by hostname, a target group or security group by name).
	ResolvedAtApplyTime []string `json:"resolvedAtApplyTime,omitempty"`
	// Observed says whether Changes were computed against AWS.
	Observed bool `json:"observed,omitempty"`
}

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f planFlags
	if err := parseFlags("plan", args, stderr, &f, " (pass manifests with -f)"); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	in, err := loadManifests(f.files, f.namespace)
	if err != nil {
		return err
	}
	for _, s := range in.skipped {
		fmt.Fprintf(stderr, "skipped %s\n", s)
	}
	facts, cloud, err := f.factsSource(ctx, in.objects)
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
	rejected, partial := rejections(plans)
	for _, r := range rejected {
		fmt.Fprintln(stderr, "rejected:", r)
	}
	for _, r := range partial {
		fmt.Fprintln(stderr, "dropped:", r)
	}
	switch {
	case len(rejected) > 0:
		return errRejected
	case len(partial) > 0:
		return errPartial
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
		p.ResolvedAtApplyTime = pendingLookups(desired)
		return p, nil
	}
	observed, err := cloud.Observe(ctx, desired.ID, desired.Type)
	if err != nil {
		return p, fmt.Errorf("reading the existing resources of Gateway %s: %w", p.Gateway, err)
	}
	p.Observed = true
	adoptObservedNames(s, desired, observed)
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
func (f *planFlags) factsSource(ctx context.Context, objs []client.Object) (controller.FactsSource, *aws.Cloud, error) {
	if f.awsEndpoint == "" {
		subnets, err := syntheticSubnets(f.subnets, f.region, f.clusterName)
		if err != nil {
			return nil, nil, err
		}
		return staticFacts{subnets: subnets, region: f.region, hosts: manifestHostnames(objs)}, nil, nil
	}
	cloud, err := aws.New(ctx, aws.Options{Region: f.region, VPCID: f.vpcID, ClusterName: f.clusterName, Endpoint: serviceEndpoint(f.awsEndpoint)})
	if err != nil {
		return nil, nil, err
	}
	return cloud, cloud, nil
}

// serviceEndpoint is the base URL every AWS client is given for --aws-endpoint: none (each
// service's own regional endpoint) for "aws", the flag's URL otherwise (an emulator serving
// every service at one address).
func serviceEndpoint(flag string) string {
	if flag == "aws" {
		return ""
	}
	return flag
}

// staticFacts are the AWS facts of a VPC that exists only on paper: its subnets and no load
// balancer yet. What the controller looks up by name (out-of-band target groups, security
// groups by Name tag, ACM certificates by hostname) cannot be known without AWS: each look-up
// gets a placeholder (pendingRef) that the plan shows as resolved at apply time.
type staticFacts struct {
	subnets []snapshot.Subnet
	region  string
	// hosts are the hostnames of the manifests' listeners and routes, which discovery may
	// look certificates up for.
	hosts []string
}

func (s staticFacts) Facts(_ context.Context, req aws.FactsRequest) (snapshot.AWSFacts, error) {
	f := snapshot.AWSFacts{Subnets: append([]snapshot.Subnet(nil), s.subnets...)}
	for _, name := range req.TargetGroupNames {
		if f.TargetGroupARNs == nil {
			f.TargetGroupARNs = map[string]string{}
		}
		f.TargetGroupARNs[name] = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:000000000000:targetgroup/%s/%s", s.region, pendingMark, name)
	}
	for _, name := range req.SecurityGroupNames {
		if f.SecurityGroupIDs == nil {
			f.SecurityGroupIDs = map[string]string{}
		}
		f.SecurityGroupIDs[name] = "sg-" + pendingMark + "/" + name
	}
	if req.Certificates {
		for _, h := range s.hosts {
			f.Certificates = append(f.Certificates, snapshot.Certificate{
				ARN: fmt.Sprintf("arn:aws:acm:%s:000000000000:certificate/%s/%s", s.region, pendingMark, h), DomainNames: []string{h}})
		}
	}
	return f, nil
}

// pendingMark is in every placeholder staticFacts answers with.
const pendingMark = "resolved-at-apply-time"

var pendingRE = regexp.MustCompile(`"([^"]*` + pendingMark + `/[^"]*)"`)

// pendingText says what a placeholder stands for; false when s is none.
func pendingText(s string) (string, bool) {
	before, name, ok := strings.Cut(s, pendingMark+"/")
	switch {
	case !ok:
		return s, false
	case strings.HasSuffix(before, ":certificate/"):
		return "the issued ACM certificate that best covers " + name + " (resolved at apply time)", true
	case strings.HasSuffix(before, ":targetgroup/"):
		return "target group " + name + " (ARN resolved at apply time)", true
	case before == "sg-":
		return "security group named " + name + " (ID resolved at apply time)", true
	}
	return s, false
}

// pendingLookups lists, sorted, what the stack uses that only AWS can answer.
func pendingLookups(stack *model.Stack) []string {
	if stack == nil {
		return nil
	}
	js, err := json.Marshal(stack)
	if err != nil {
		return nil
	}
	set := map[string]bool{}
	for _, m := range pendingRE.FindAllStringSubmatch(string(js), -1) {
		if text, ok := pendingText(m[1]); ok {
			set[text] = true
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// manifestHostnames are the hostnames of the Gateways' listeners and of the routes, sorted.
func manifestHostnames(objs []client.Object) []string {
	set := map[string]bool{}
	for _, o := range objs {
		switch x := o.(type) {
		case *gwv1.Gateway:
			for _, l := range x.Spec.Listeners {
				if l.Hostname != nil && *l.Hostname != "" {
					set[strings.ToLower(string(*l.Hostname))] = true
				}
			}
		case *unstructured.Unstructured:
			hosts, _, _ := unstructured.NestedStringSlice(x.Object, "spec", "hostnames")
			for _, h := range hosts {
				set[strings.ToLower(h)] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// syntheticSubnets parses --subnets (ID=ZONE,...) or makes three subnets in zones a, b, c.
// Each is tagged for both load balancer schemes, shared with the cluster, and dual-stack (an IPv6
// /64 from the documentation range), so that dual-stack configurations plan too.
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
			IPv6CIDRs: []string{fmt.Sprintf("2001:db8:0:%x::/64", i+1)},
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

// adoptObservedNames gives the desired stack the names of the stack found in AWS when the
// manifests cannot tell them. Generated load balancer and security group names hash the
// Gateway's UID, which the API server assigns and manifest files do not carry; the observed
// stack was found by its ownership tags (cluster and Gateway), so it is this Gateway's, and its
// names are the ones the controller generated from the real UID. Only the scheme, the other
// part of the load balancer name's hash, still decides a replacement. A configured
// loadBalancerName, or a manifest that carries the UID, keeps the translated names.
func adoptObservedNames(s *snapshot.Snapshot, desired, observed *model.Stack) {
	if s.Gateway == nil || s.Gateway.UID != "" || desired == nil || observed == nil {
		return
	}
	want, have := desired.LoadBalancer, observed.LoadBalancer
	if want == nil || have == nil {
		return
	}
	// The name is generated when it depends on the UID: probe with another one.
	probe, gw := *s, *s.Gateway
	gw.UID = "uid-probe"
	probe.Gateway = &gw
	if generated := translate.LoadBalancerName(&probe) != translate.LoadBalancerName(s); generated && want.Scheme == have.Scheme {
		want.Name = have.Name
	}
	var observedSG *model.SecurityGroup
	for i := range observed.SecurityGroups {
		if observed.SecurityGroups[i].ID == model.ManagedSecurityGroupID {
			observedSG = &observed.SecurityGroups[i]
		}
	}
	if observedSG == nil {
		return
	}
	for i := range desired.SecurityGroups {
		if desired.SecurityGroups[i].ID == model.ManagedSecurityGroupID {
			desired.SecurityGroups[i].Name = observedSG.Name
		}
	}
}
