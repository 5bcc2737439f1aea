package controller_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// The ALB scenarios' shared parts: the class, a configuration, certificates in moto's ACM,
// and readers of listeners, rules and route conditions.

const albController = "gateway.k8s.aws/alb"

const albClass = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: aws-alb-gateway-class
spec:
  controllerName: gateway.k8s.aws/alb
`

// albConfig is an internet-facing LoadBalancerConfiguration named alb-config; with a
// certificate ARN, its HTTPS:443 listener uses that certificate.
func albConfig(certARN string) string {
	out := `
apiVersion: gateway.k8s.aws/v1
kind: LoadBalancerConfiguration
metadata:
  name: alb-config
spec:
  scheme: internet-facing
`
	if certARN != "" {
		out += fmt.Sprintf("  listenerConfigurations:\n  - protocolPort: HTTPS:443\n    defaultCertificate: %s\n", certARN)
	}
	return out
}

// albGateway is a Gateway of the ALB class with alb-config and the given listeners.
func albGateway(name, listenersYAML string) string {
	return fmt.Sprintf(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: %s
spec:
  gatewayClassName: aws-alb-gateway-class
  infrastructure:
    parametersRef: {group: gateway.k8s.aws, kind: LoadBalancerConfiguration, name: alb-config}
  listeners:
%s`, name, listenersYAML)
}

// importCertificate imports a self-signed certificate for domain into moto's ACM and returns
// its ARN.
func importCertificate(t *testing.T, domain string) string {
	t.Helper()
	return importTaggedCertificate(t, domain, nil)
}

// importTaggedCertificate is importCertificate with tags.
func importTaggedCertificate(t *testing.T, domain string, tags map[string]string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: domain},
		DNSNames:     []string{domain},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	out, err := acm.NewFromConfig(testenv.AWSConfig(env.moto.Endpoint, region)).ImportCertificate(context.Background(),
		&acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM, Tags: acmTags(tags)})
	if err != nil {
		t.Fatal(err)
	}
	return awssdk.ToString(out.CertificateArn)
}

func acmTags(tags map[string]string) []acmtypes.Tag {
	var out []acmtypes.Tag
	for k, v := range tags {
		out = append(out, acmtypes.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
	}
	return out
}

// parentCondition returns a condition of a controller's status.parents entry of a route.
func parentCondition(controllerName, apiVersion, kind, ns, name, condType string) (*metav1.Condition, error) {
	return parentConditionOf(env.client, controllerName, routeRef{apiVersion: apiVersion, kind: kind, ns: ns, name: name}, condType)
}

// waitRouteCondition waits until every status.parents entry of ours (there may be one per
// listener) carries condType with the given status and reason ("" for any reason), and
// returns the condition.
func waitRouteCondition(t *testing.T, kind, ns, name, condType string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	var got *metav1.Condition
	eventually(t, 30*timeoutScale, fmt.Sprintf("%s %s/%s %s=%s/%s", kind, ns, name, condType, status, reason), func() error {
		c, err := parentCondition(albController, "gateway.networking.k8s.io/v1", kind, ns, name, condType)
		if err != nil {
			return err
		}
		if c.Status != status || reason != "" && c.Reason != reason {
			return fmt.Errorf("%s=%s/%s %q", condType, c.Status, c.Reason, c.Message)
		}
		got = c
		return nil
	})
	return got
}

// rules returns a listener's rules without the default one, by priority.
func rules(t *testing.T, listenerARN string) []elbtypes.Rule {
	t.Helper()
	var out []elbtypes.Rule
	in := &elbv2.DescribeRulesInput{ListenerArn: &listenerARN}
	for {
		page, err := env.elb.DescribeRules(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rules {
			if !awssdk.ToBool(r.IsDefault) {
				out = append(out, r)
			}
		}
		if page.NextMarker == nil {
			break
		}
		in.Marker = page.NextMarker
	}
	sort.Slice(out, func(i, j int) bool { return priorityOf(out[i]) < priorityOf(out[j]) })
	return out
}

func priorityOf(r elbtypes.Rule) int {
	var p int
	_, _ = fmt.Sscanf(awssdk.ToString(r.Priority), "%d", &p)
	return p
}

// ruleText prints a rule's conditions and actions (not its ARN or priority), for comparisons.
func ruleText(r elbtypes.Rule) string {
	var parts []string
	for _, c := range r.Conditions {
		values := c.Values
		if c.PathPatternConfig != nil {
			values = c.PathPatternConfig.Values
		}
		if c.HostHeaderConfig != nil {
			values = c.HostHeaderConfig.Values
		}
		parts = append(parts, awssdk.ToString(c.Field)+"="+strings.Join(values, "|"))
	}
	for _, a := range r.Actions {
		s := string(a.Type)
		switch {
		case a.FixedResponseConfig != nil:
			s += ":" + awssdk.ToString(a.FixedResponseConfig.StatusCode)
		case a.ForwardConfig != nil:
			for _, tg := range a.ForwardConfig.TargetGroups {
				s += ":" + awssdk.ToString(tg.TargetGroupArn)
			}
		case a.TargetGroupArn != nil:
			s += ":" + awssdk.ToString(a.TargetGroupArn)
		case a.AuthenticateOidcConfig != nil:
			s += ":" + awssdk.ToString(a.AuthenticateOidcConfig.ClientId)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// listenerByPort returns the ARN of the load balancer's listener on a port.
func listenerByPort(t *testing.T, lbARN string, port int32) string {
	t.Helper()
	for _, l := range listeners(t, lbARN) {
		if awssdk.ToInt32(l.Port) == port {
			return awssdk.ToString(l.ListenerArn)
		}
	}
	t.Fatalf("no listener on port %d: %s", port, listenerSummary(listeners(t, lbARN)))
	return ""
}

// writeCalls is the delta of AWS write calls between two CallCounts (reads and target
// registrations left out), by service:operation.
func writeCalls(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range after {
		name := op[strings.Index(op, ":")+1:]
		if strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") ||
			name == "RegisterTargets" || name == "DeregisterTargets" {
			continue
		}
		if d := n - before[op]; d != 0 {
			out[op] = d
		}
	}
	return out
}

// quiet waits until no AWS write call has been made for a second, so that a following count
// sees one change's calls only, and returns the call counts.
func quiet(t *testing.T) map[string]int {
	t.Helper()
	last := env.cloud.CallCounts()
	stable := time.Now()
	deadline := time.Now().Add(30 * timeoutScale)
	for time.Since(stable) < time.Second {
		if time.Now().After(deadline) {
			t.Fatalf("AWS writes did not stop within 30s: %v", writeCalls(last, env.cloud.CallCounts()))
		}
		time.Sleep(100 * time.Millisecond)
		now := env.cloud.CallCounts()
		if len(writeCalls(last, now)) > 0 {
			stable = time.Now()
		}
		last = now
	}
	return last
}

// albLeftovers lists what moto still holds of an ALB stack: load balancers, listeners and
// target groups tagged with it, and its security groups.
func albLeftovers(t *testing.T, stack string) []string {
	t.Helper()
	left := taggedELBResources(t, "", "gateway.k8s.aws.alb/stack", stack)
	for _, g := range securityGroups(t, tagFilter("gateway.k8s.aws.alb/stack", stack)) {
		left = append(left, awssdk.ToString(g.GroupId))
	}
	sort.Strings(left)
	return left
}

// stackTargetGroups returns the target groups tagged with an ALB stack, by name. (moto leaves
// a target group that a ModifyRule starts forwarding to out of DescribeTargetGroups by load
// balancer, so the tests find them by tag.)
func stackTargetGroups(t *testing.T, stack string) []elbtypes.TargetGroup {
	t.Helper()
	all, err := env.elb.DescribeTargetGroups(context.Background(), &elbv2.DescribeTargetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	arns := make([]string, 0, len(all.TargetGroups))
	for _, tg := range all.TargetGroups {
		arns = append(arns, awssdk.ToString(tg.TargetGroupArn))
	}
	owned := taggedARNs(t, arns, "gateway.k8s.aws.alb/stack", stack)
	var out []elbtypes.TargetGroup
	for _, tg := range all.TargetGroups {
		if owned[awssdk.ToString(tg.TargetGroupArn)] {
			out = append(out, tg)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return awssdk.ToString(out[i].TargetGroupName) < awssdk.ToString(out[j].TargetGroupName)
	})
	return out
}

// loadBalancerGone is nil once the load balancer ARN no longer exists.
func loadBalancerGone(arn string) error {
	_, err := env.elb.DescribeLoadBalancers(context.Background(), &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	var nf *elbtypes.LoadBalancerNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("load balancer %s still exists", arn)
}
