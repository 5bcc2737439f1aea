package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// seedHTTPRoute is seed 000's L7 example route, verbatim.
const seedHTTPRoute = `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata:
  name: my-http-app-route
  namespace: example-ns
spec:
  parentRefs:
  - group: gateway.networking.k8s.io
    kind: Gateway
    name: my-alb-gateway
    sectionName: http
  - group: gateway.networking.k8s.io
    kind: Gateway
    name: my-alb-gateway
    sectionName: https
  rules:
  - backendRefs:
    - name: my-http-service
      port: 9000
`

// seedHTTPService is the Service the seed's route names, with one ready endpoint and ip targets.
const seedHTTPService = `
apiVersion: v1
kind: Service
metadata:
  name: my-http-service
spec:
  ports:
  - {name: http, port: 9000, targetPort: 8080}
  selector: {app: my-http-app}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: my-http-service-1
  labels: {kubernetes.io/service-name: my-http-service}
addressType: IPv4
ports:
- {name: http, port: 8080, protocol: TCP}
endpoints:
- addresses: [192.0.2.20]
  conditions: {ready: true, serving: true, terminating: false}
---
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata:
  name: my-http-service-ip
spec:
  targetReference: {name: my-http-service}
  defaultConfiguration: {targetType: ip}
`

// cliRules is what `aws elbv2 describe-rules` prints of a listener's rules.
type cliRules struct {
	Rules []struct {
		Priority  string
		IsDefault bool
		Actions   []struct {
			Type                string
			FixedResponseConfig struct{ StatusCode string }
			ForwardConfig       struct {
				TargetGroups []struct{ TargetGroupArn string }
			}
		}
	}
}

// TestSeed000L7Example applies seed 000's L7 example: the route first without its Service (a
// 500 fixed response on every listener), then with it (forward to an ip target group with the
// endpoint registered), then deletes the Gateway.
func TestSeed000L7Example(t *testing.T) {
	ctx := context.Background()
	const ns = "example-ns"
	if err := env.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	cert := importCertificate(t, "app.example.com")
	applyYAML(t, env.client, ns, albClass+"---"+albConfig(cert)+"---"+albGateway("my-alb-gateway", `
  - {name: http, protocol: HTTP, port: 80}
  - {name: https, protocol: HTTPS, port: 443}
`)+"---"+seedHTTPRoute)

	_, lbARN := programmedGateway(t, env.client, ns, "my-alb-gateway")
	waitRouteCondition(t, "HTTPRoute", ns, "my-http-app-route", string(gwv1.RouteConditionResolvedRefs),
		metav1.ConditionFalse, string(gwv1.RouteReasonBackendNotFound))
	waitListeners(t, lbARN, "HTTP:80,HTTPS:443")

	var ls struct {
		Listeners []struct {
			ListenerArn    string
			Port           int32
			Certificates   []struct{ CertificateArn string }
			DefaultActions []struct {
				Type                string
				FixedResponseConfig struct{ StatusCode string }
			}
		}
	}
	cliJSON(t, &ls, "elbv2", "describe-listeners", "--load-balancer-arn", lbARN)
	for _, l := range ls.Listeners {
		if len(l.DefaultActions) != 1 || l.DefaultActions[0].Type != "fixed-response" || l.DefaultActions[0].FixedResponseConfig.StatusCode != "404" {
			t.Errorf("listener %d default actions %+v, want fixed-response 404", l.Port, l.DefaultActions)
		}
		if l.Port == 443 && (len(l.Certificates) == 0 || l.Certificates[0].CertificateArn != cert) {
			t.Errorf("HTTPS listener certificates %+v, want %s", l.Certificates, cert)
		}
	}
	for _, l := range ls.Listeners {
		eventually(t, 30*timeoutScale, fmt.Sprintf("a 500 rule on listener %d", l.Port), func() error {
			var rs cliRules
			cliJSON(t, &rs, "elbv2", "describe-rules", "--listener-arn", l.ListenerArn)
			for _, r := range rs.Rules {
				if !r.IsDefault && len(r.Actions) == 1 && r.Actions[0].Type == "fixed-response" && r.Actions[0].FixedResponseConfig.StatusCode == "500" {
					return nil
				}
			}
			return fmt.Errorf("rules %+v", rs.Rules)
		})
	}
	if tgs := stackTargetGroups(t, ns+"/my-alb-gateway"); len(tgs) != 0 {
		t.Errorf("%d target groups for a missing Service, want none", len(tgs))
	}

	applyYAML(t, env.client, ns, seedHTTPService)
	waitRouteCondition(t, "HTTPRoute", ns, "my-http-app-route", string(gwv1.RouteConditionResolvedRefs), metav1.ConditionTrue, "")
	var tgARN string
	eventually(t, 30*timeoutScale, "one HTTP ip target group", func() error {
		tgs := stackTargetGroups(t, ns+"/my-alb-gateway")
		if len(tgs) != 1 || tgs[0].Protocol != "HTTP" || tgs[0].TargetType != "ip" || awssdk.ToInt32(tgs[0].Port) != 8080 {
			return fmt.Errorf("target groups %+v", tgs)
		}
		tgARN = awssdk.ToString(tgs[0].TargetGroupArn)
		return nil
	})
	for _, l := range ls.Listeners {
		eventually(t, 30*timeoutScale, fmt.Sprintf("listener %d forwards to the target group", l.Port), func() error {
			var rs cliRules
			cliJSON(t, &rs, "elbv2", "describe-rules", "--listener-arn", l.ListenerArn)
			var got []string
			for _, r := range rs.Rules {
				if r.IsDefault {
					continue
				}
				for _, a := range r.Actions {
					got = append(got, a.Type)
					if a.Type == "forward" && len(a.ForwardConfig.TargetGroups) == 1 && a.ForwardConfig.TargetGroups[0].TargetGroupArn == tgARN && len(rs.Rules) == 2 {
						return nil
					}
				}
			}
			return fmt.Errorf("rule actions %v", got)
		})
	}
	waitTargets(t, "the endpoint registered", tgARN, "192.0.2.20:8080")
	gw, _ := programmedGateway(t, env.client, ns, "my-alb-gateway")
	var lbs struct {
		LoadBalancers []struct{ Type, DNSName string }
	}
	cliJSON(t, &lbs, "elbv2", "describe-load-balancers", "--load-balancer-arns", lbARN)
	if len(lbs.LoadBalancers) != 1 || lbs.LoadBalancers[0].Type != "application" {
		t.Fatalf("load balancers %+v, want one application load balancer", lbs.LoadBalancers)
	}
	if got := gw.Status.Addresses[0].Value; got != strings.ToLower(lbs.LoadBalancers[0].DNSName) {
		t.Errorf("Gateway address %q, load balancer DNS name %q", got, lbs.LoadBalancers[0].DNSName)
	}

	t.Run("deleting the Gateway leaves nothing", func(t *testing.T) {
		if left := albLeftovers(t, ns+"/my-alb-gateway"); len(left) == 0 {
			t.Fatal("the stack owns nothing before the deletion: the check below would prove nothing")
		}
		if err := env.client.Delete(ctx, gw); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*timeoutScale, "Gateway gone", func() error {
			err := env.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: gw.Name}, &gwv1.Gateway{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (%v)", err)
		})
		if err := loadBalancerGone(lbARN); err != nil {
			t.Error(err)
		}
		if left := albLeftovers(t, ns+"/my-alb-gateway"); len(left) != 0 {
			t.Errorf("left in AWS: %v", left)
		}
	})
}
