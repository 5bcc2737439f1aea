package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/controller"
	"github.com/elbgateway/elbgateway/internal/model"
)

// statusFlags are the flags of `elbgateway status`.
type statusFlags struct {
	namespace   string
	output      string
	kubeconfig  string
	clusterName string
	region      string
	awsEndpoint string
	noAWS       bool
}

func (f *statusFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.namespace, "n", "default", "namespace of the Gateway(s)")
	fs.StringVar(&f.output, "o", "table", "output format: table, yaml or json")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fs.StringVar(&f.clusterName, "cluster-name", "", "the controller's --cluster-name: the stack is found by its ownership tags, which carry it")
	fs.StringVar(&f.region, "region", os.Getenv("AWS_REGION"), "AWS region (default AWS_REGION)")
	fs.StringVar(&f.awsEndpoint, "aws-endpoint", "", "AWS endpoint URL (default: the SDK's, honouring AWS_ENDPOINT_URL)")
	fs.BoolVar(&f.noAWS, "no-aws", false, "show the cluster side only; make no AWS call")
}

func (f *statusFlags) validate() error {
	var problems []string
	switch f.output {
	case "table", "yaml", "json":
	default:
		problems = append(problems, fmt.Sprintf("-o %q: want table, yaml or json", f.output))
	}
	if !f.noAWS {
		if f.clusterName == "" {
			problems = append(problems, "--cluster-name is required (the controller's, which tags the stack), or pass --no-aws")
		}
		if f.region == "" {
			problems = append(problems, "--region is required (or AWS_REGION), or pass --no-aws")
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// gatewayStatus joins a Gateway's and its routes' conditions with its stack in AWS.
type gatewayStatus struct {
	Gateway    string             `json:"gateway"`
	Class      string             `json:"class"`
	Addresses  []string           `json:"addresses,omitempty"`
	Conditions []metav1.Condition `json:"conditions"`
	Listeners  []listenerStatus   `json:"listeners,omitempty"`
	Routes     []routeStatus      `json:"routes,omitempty"`
	AWS        *awsStatus         `json:"aws,omitempty"`
}

type listenerStatus struct {
	Name           string             `json:"name"`
	AttachedRoutes int32              `json:"attachedRoutes"`
	Conditions     []metav1.Condition `json:"conditions"`
}

type routeStatus struct {
	Kind       string             `json:"kind"`
	Name       string             `json:"name"`
	Section    string             `json:"sectionName,omitempty"`
	Conditions []metav1.Condition `json:"conditions"`
}

// awsStatus is what AWS says of the Gateway's stack, found by its ownership tags.
type awsStatus struct {
	// Found is false when no load balancer carries the Gateway's tags.
	Found        bool                `json:"found"`
	LoadBalancer *model.LoadBalancer `json:"loadBalancer,omitempty"`
	Listeners    []awsListener       `json:"listeners,omitempty"`
	TargetGroups []awsTargetGroup    `json:"targetGroups,omitempty"`
	// Error is why AWS could not be read; the cluster side is still shown.
	Error string `json:"error,omitempty"`
}

type awsListener struct {
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
	Rules    int    `json:"rules"`
}

type awsTargetGroup struct {
	Name     string             `json:"name"`
	ARN      string             `json:"arn"`
	Protocol string             `json:"protocol"`
	Port     int32              `json:"port"`
	Type     string             `json:"targetType"`
	Targets  []aws.TargetHealth `json:"targets"`
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f statusFlags
	fs := flag.NewFlagSet("elbgateway status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	// Flags may come before or after the Gateway's name, as with kubectl.
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(names) > 1 {
		return fmt.Errorf("%w: one Gateway at most, got %s", errUsage, strings.Join(names, " "))
	}
	if err := f.validate(); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	scheme, err := controller.NewScheme()
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	// The route kinds and versions the cluster serves, as the controller finds them (TCPRoute,
	// UDPRoute and TLSRoute are v1alpha2 or v1alpha3 on older Gateway API CRDs).
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	apis, err := controller.DetectAPIs(d)
	if err != nil {
		return fmt.Errorf("finding the served Gateway API kinds: %w", err)
	}
	routeKinds := apis.RouteKinds()
	var gws []gwv1.Gateway
	if len(names) == 1 {
		var gw gwv1.Gateway
		if err := c.Get(ctx, types.NamespacedName{Namespace: f.namespace, Name: names[0]}, &gw); err != nil {
			if apierrors.IsNotFound(err) {
				return fmt.Errorf("Gateway %s/%s not found", f.namespace, names[0])
			}
			return fmt.Errorf("reading Gateway %s/%s: %w", f.namespace, names[0], err)
		}
		gws = append(gws, gw)
	} else {
		var list gwv1.GatewayList
		if err := c.List(ctx, &list, client.InNamespace(f.namespace)); err != nil {
			return fmt.Errorf("listing Gateways in %s: %w", f.namespace, err)
		}
		if len(list.Items) == 0 {
			return fmt.Errorf("no Gateway in namespace %s", f.namespace)
		}
		gws = list.Items
	}
	var cloud *aws.Cloud
	if !f.noAWS {
		if cloud, err = aws.New(ctx, aws.Options{Region: f.region, ClusterName: f.clusterName, Endpoint: f.awsEndpoint}); err != nil {
			return err
		}
	}
	out := make([]gatewayStatus, 0, len(gws))
	for i := range gws {
		s, err := statusOf(ctx, c, cloud, routeKinds, &gws[i])
		if err != nil {
			return err
		}
		out = append(out, s)
	}
	return printStatuses(stdout, f.output, out)
}

// statusOf reads one Gateway's class, routes and (with a Cloud) its stack in AWS.
func statusOf(ctx context.Context, c client.Client, cloud *aws.Cloud, routeKinds []schema.GroupVersionKind, gw *gwv1.Gateway) (gatewayStatus, error) {
	s := gatewayStatus{Gateway: gw.Namespace + "/" + gw.Name, Class: string(gw.Spec.GatewayClassName), Conditions: gw.Status.Conditions}
	for _, a := range gw.Status.Addresses {
		s.Addresses = append(s.Addresses, a.Value)
	}
	for _, l := range gw.Status.Listeners {
		s.Listeners = append(s.Listeners, listenerStatus{Name: string(l.Name), AttachedRoutes: l.AttachedRoutes, Conditions: l.Conditions})
	}
	routes, err := routesOf(ctx, c, routeKinds, gw)
	if err != nil {
		return s, err
	}
	s.Routes = routes
	if cloud == nil {
		return s, nil
	}
	var class gwv1.GatewayClass
	t := model.Network
	if err := c.Get(ctx, types.NamespacedName{Name: string(gw.Spec.GatewayClassName)}, &class); err == nil &&
		string(class.Spec.ControllerName) == "gateway.k8s.aws/alb" {
		t = model.Application
	}
	s.AWS = awsStackStatus(ctx, cloud, gw.Namespace+"/"+gw.Name, t)
	return s, nil
}

// awsStackStatus reads the Gateway's own stack: found by its tags, described read-only.
func awsStackStatus(ctx context.Context, cloud *aws.Cloud, stackID string, t model.LoadBalancerType) *awsStatus {
	st, err := cloud.Observe(ctx, stackID, t)
	if err != nil {
		return &awsStatus{Error: err.Error()}
	}
	out := &awsStatus{Found: st.LoadBalancer != nil, LoadBalancer: st.LoadBalancer}
	for _, l := range st.Listeners {
		out.Listeners = append(out.Listeners, awsListener{Port: l.Port, Protocol: l.Protocol, Rules: len(l.Rules)})
	}
	for _, tg := range st.TargetGroups {
		health, err := cloud.TargetHealth(ctx, tg.ARN)
		if err != nil {
			out.Error = err.Error()
		}
		out.TargetGroups = append(out.TargetGroups, awsTargetGroup{Name: tg.Name, ARN: tg.ARN, Protocol: tg.Protocol,
			Port: tg.Port, Type: tg.TargetType, Targets: health})
	}
	return out
}

// routesOf lists the routes of the served kinds whose status names the Gateway as a parent,
// with the conditions written for it. A kind whose CRD went since discovery is skipped.
func routesOf(ctx context.Context, c client.Client, routeKinds []schema.GroupVersionKind, gw *gwv1.Gateway) ([]routeStatus, error) {
	var out []routeStatus
	for _, gvk := range routeKinds {
		var list unstructured.UnstructuredList
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.List(ctx, &list); err != nil {
			if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("listing %ss: %w", gvk.Kind, err)
		}
		for _, r := range list.Items {
			parents, _, _ := unstructured.NestedSlice(r.Object, "status", "parents")
			for _, p := range parents {
				var ps gwv1.RouteParentStatus
				raw, err := json.Marshal(p)
				if err != nil || json.Unmarshal(raw, &ps) != nil {
					continue
				}
				ns := r.GetNamespace()
				if ps.ParentRef.Namespace != nil {
					ns = string(*ps.ParentRef.Namespace)
				}
				if string(ps.ParentRef.Name) != gw.Name || ns != gw.Namespace {
					continue
				}
				rs := routeStatus{Kind: gvk.Kind, Name: r.GetNamespace() + "/" + r.GetName(), Conditions: ps.Conditions}
				if ps.ParentRef.SectionName != nil {
					rs.Section = string(*ps.ParentRef.SectionName)
				}
				out = append(out, rs)
			}
		}
	}
	return out, nil
}

func printStatuses(w io.Writer, format string, all []gatewayStatus) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"gateways": all})
	case "yaml":
		raw, err := yaml.Marshal(map[string]any{"gateways": all})
		if err != nil {
			return err
		}
		_, err = w.Write(raw)
		return err
	}
	for i, s := range all {
		if i > 0 {
			fmt.Fprintln(w)
		}
		printStatus(w, s)
	}
	return nil
}

func printStatus(w io.Writer, s gatewayStatus) {
	fmt.Fprintf(w, "Gateway %s (class %s)", s.Gateway, s.Class)
	if len(s.Addresses) > 0 {
		fmt.Fprintf(w, " address %s", strings.Join(s.Addresses, ", "))
	}
	fmt.Fprintln(w)
	var conds [][]string
	add := func(object string, cs []metav1.Condition) {
		for _, c := range cs {
			conds = append(conds, []string{object, c.Type, string(c.Status), c.Reason, c.Message})
		}
	}
	add("Gateway", s.Conditions)
	for _, l := range s.Listeners {
		add(fmt.Sprintf("listener %s (%d routes)", l.Name, l.AttachedRoutes), l.Conditions)
	}
	for _, r := range s.Routes {
		obj := r.Kind + " " + r.Name
		if r.Section != "" {
			obj += " → " + r.Section
		}
		add(obj, r.Conditions)
	}
	section(w, "CONDITIONS", []string{"OBJECT", "TYPE", "STATUS", "REASON", "MESSAGE"}, conds)
	a := s.AWS
	switch {
	case a == nil:
		return
	case a.Error != "" && !a.Found:
		fmt.Fprintf(w, "\nAWS: could not be read: %s\n", a.Error)
		return
	case !a.Found:
		fmt.Fprintln(w, "\nAWS: no load balancer carries this Gateway's tags (not created yet, or another --cluster-name)")
		return
	}
	lb := a.LoadBalancer
	section(w, "LOAD BALANCER", []string{"NAME", "STATE", "SCHEME", "DNS NAME", "ARN"}, [][]string{{lb.Name, lb.State, lb.Scheme, lb.DNSName, lb.ARN}})
	var ls [][]string
	for _, l := range a.Listeners {
		ls = append(ls, []string{fmt.Sprint(l.Port), l.Protocol, fmt.Sprint(l.Rules)})
	}
	section(w, "LISTENERS", []string{"PORT", "PROTOCOL", "RULES"}, ls)
	var tgs [][]string
	for _, tg := range a.TargetGroups {
		if len(tg.Targets) == 0 {
			tgs = append(tgs, []string{tg.Name, tg.Protocol + ":" + fmt.Sprint(tg.Port), tg.Type, "(none)", "", ""})
		}
		for _, t := range tg.Targets {
			tgs = append(tgs, []string{tg.Name, tg.Protocol + ":" + fmt.Sprint(tg.Port), tg.Type, fmt.Sprintf("%s:%d", t.ID, t.Port), t.State, t.Reason})
		}
	}
	section(w, "TARGET GROUPS", []string{"NAME", "PROTOCOL:PORT", "TYPE", "TARGET", "HEALTH", "REASON"}, tgs)
	if a.Error != "" {
		fmt.Fprintf(w, "\nAWS read error: %s\n", a.Error)
	}
}
