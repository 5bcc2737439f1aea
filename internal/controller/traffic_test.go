package controller_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/elbgateway/elbgateway/internal/testenv"
	"github.com/elbgateway/elbgateway/internal/testenv/elb"
)

// startDataPlane serves what moto holds on loopback, reporting target health to the contract
// layer, with health checks 20 times faster than AWS's.
func startDataPlane(t *testing.T) *elb.DataPlane {
	t.Helper()
	dp, err := elb.Start(context.Background(), elb.Options{
		Endpoint: env.moto.Endpoint, Region: region,
		AccessKeyID: testenv.TestAccessKeyID, SecretAccessKey: testenv.TestSecretAccessKey,
		HealthReportURL: env.moto.Strict.URL + testenv.TargetHealthPath, HealthTimeScale: 0.05,
		DNSAddr: "127.0.0.1:0", Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Close)
	return dp
}

// startBackend serves HTTP on addr, answering with its name, as the pod behind an endpoint.
func startBackend(t *testing.T, addr, name string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s", name, r.Method, r.URL.Path)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

// TestSeedWalkthroughTraffic ends the seed's walkthrough as the seed does: a request to the
// load balancer's DNS name on the listener's port reaches the pod behind the TCPRoute and
// answers 200 — through the data plane's DialContext and through curl with --resolve. Its
// health checks mark the target healthy, and DescribeTargetHealth says so.
func TestSeedWalkthroughTraffic(t *testing.T) {
	ns := newNamespace(t)
	applyFiles(t, env.client, ns, seedFiles...)
	gw, _ := programmedGateway(t, env.client, ns, "aws-tcp-gateway")
	dnsName := gw.Status.Addresses[0].Value
	// The seed's EndpointSlice lists 192.0.2.10:3000; its stand-in listens where the data plane
	// maps that address.
	backendAddr, _ := elb.DefaultTargetAddr("192.0.2.10", 3000)
	startBackend(t, backendAddr, "backend-pod")
	dp := startDataPlane(t)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dp.DialContext}}
	url := "http://" + dnsName + ":8080/"
	var body string
	eventually(t, 30*timeoutScale, "GET "+url+" answers 200", func() error {
		if err := dp.Refresh(context.Background()); err != nil {
			return err
		}
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		body = string(b)
		return nil
	})
	if body != "backend-pod GET /" {
		t.Errorf("answer %q, want the backend's", body)
	}

	resolve, ok := dp.Resolve(dnsName, 8080)
	if !ok {
		t.Fatalf("no address for %s", dnsName)
	}
	out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "--resolve", resolve, url).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "200" {
		t.Errorf("curl --resolve %s %s: %s %v", resolve, url, out, err)
	}

	var health struct {
		TargetHealthDescriptions []struct{ TargetHealth struct{ State string } }
	}
	eventually(t, 30*timeoutScale, "DescribeTargetHealth healthy", func() error {
		var tgs struct{ TargetGroups []struct{ TargetGroupArn string } }
		cliJSON(t, &tgs, "elbv2", "describe-target-groups", "--load-balancer-arn", lbARNOf(t, dnsName))
		if len(tgs.TargetGroups) != 1 {
			return fmt.Errorf("target groups %+v", tgs.TargetGroups)
		}
		cliJSON(t, &health, "elbv2", "describe-target-health", "--target-group-arn", tgs.TargetGroups[0].TargetGroupArn)
		if len(health.TargetHealthDescriptions) != 1 || health.TargetHealthDescriptions[0].TargetHealth.State != "healthy" {
			return fmt.Errorf("target health %+v", health.TargetHealthDescriptions)
		}
		return nil
	})
}

// lbARNOf finds a load balancer's ARN by its DNS name.
func lbARNOf(t *testing.T, dnsName string) string {
	t.Helper()
	var lbs struct{ LoadBalancers []struct{ LoadBalancerArn, DNSName string } }
	cliJSON(t, &lbs, "elbv2", "describe-load-balancers")
	for _, lb := range lbs.LoadBalancers {
		if lb.DNSName == dnsName {
			return lb.LoadBalancerArn
		}
	}
	t.Fatalf("no load balancer named %s", dnsName)
	return ""
}

func trafficService(name, ip string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s}
spec:
  ports: [{name: http, port: 3000, targetPort: 3000}]
  selector: {app: %[1]s}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %[1]s-1
  labels: {kubernetes.io/service-name: %[1]s}
addressType: IPv4
ports: [{name: http, port: 3000, protocol: TCP}]
endpoints:
- addresses: [%[2]s]
  conditions: {ready: true, serving: true, terminating: false}
---
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata: {name: %[1]s-ip}
spec:
  targetReference: {name: %[1]s}
  defaultConfiguration: {targetType: ip}
`, name, ip)
}

const trafficRoutes = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app}
spec:
  parentRefs: [{name: web}]
  hostnames: [app.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: X-Env, value: canary}]}]
    backendRefs: [{name: svc-b, port: 3000}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: svc-a, port: 3000}]
  - matches: [{path: {type: Exact, value: /submit}, method: POST}]
    backendRefs: [{name: svc-c, port: 3000}]
  - matches: [{path: {type: PathPrefix, value: /missing}}]
    backendRefs: [{name: svc-missing, port: 3000}]
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, statusCode: 301}
`

// TestHTTPRouteTraffic sends requests through an ALB the controller programmed: each reaches the
// backend its route's matches name — host, path, header and method — a rule whose backend does
// not exist answers an error on that rule only, and a redirect filter answers 301 with the
// Location the filter asks for.
func TestHTTPRouteTraffic(t *testing.T) {
	ns := newNamespace(t)
	var objs strings.Builder
	objs.WriteString(albClass + "---" + albConfig("") + "---" + albGateway("web", "  - {name: http, protocol: HTTP, port: 80}\n"))
	for i, name := range []string{"svc-a", "svc-b", "svc-c"} {
		ip := fmt.Sprintf("10.0.200.%d", i+1)
		addr, _ := elb.DefaultTargetAddr(ip, 3000)
		startBackend(t, addr, name)
		fmt.Fprintf(&objs, "---\n%s", trafficService(name, ip))
	}
	objs.WriteString("---" + trafficRoutes)
	applyYAML(t, env.client, ns, objs.String())
	gw, _ := programmedGateway(t, env.client, ns, "web")
	dnsName := gw.Status.Addresses[0].Value
	dp := startDataPlane(t)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dp.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	type answer struct {
		code     int
		body     string
		location string
	}
	do := func(method, host, path string, header map[string]string) (answer, error) {
		req, err := http.NewRequest(method, "http://"+dnsName+path, nil)
		if err != nil {
			return answer{}, err
		}
		req.Host = host
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return answer{}, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, string(b), resp.Header.Get("Location")}, nil
	}
	// Until every rule is in AWS and the data plane has read it.
	eventually(t, 60*timeoutScale, "the routes' rules served", func() error {
		if err := dp.Refresh(context.Background()); err != nil {
			return err
		}
		a, err := do("GET", "app.example.com", "/old", nil)
		if err != nil {
			return err
		}
		if a.code != http.StatusMovedPermanently {
			return fmt.Errorf("GET /old: %d", a.code)
		}
		return nil
	})
	for _, c := range []struct {
		method, host, path string
		header             map[string]string
		check              func(answer) bool
		want               string
	}{
		{"GET", "app.example.com", "/api/items", map[string]string{"X-Env": "canary"}, func(a answer) bool { return a.code == 200 && a.body == "svc-b GET /api/items" }, "svc-b"},
		{"GET", "app.example.com", "/api/items", nil, func(a answer) bool { return a.code == 200 && a.body == "svc-a GET /api/items" }, "svc-a"},
		{"GET", "app.example.com", "/api", nil, func(a answer) bool { return a.code == 200 && a.body == "svc-a GET /api" }, "svc-a"},
		{"POST", "app.example.com", "/submit", nil, func(a answer) bool { return a.code == 200 && a.body == "svc-c POST /submit" }, "svc-c"},
		{"GET", "app.example.com", "/submit", nil, func(a answer) bool { return a.code == 404 }, "404 (no rule matches)"},
		{"GET", "other.example.com", "/api/items", nil, func(a answer) bool { return a.code == 404 }, "404 (another host)"},
		{"GET", "app.example.com", "/missing", nil, func(a answer) bool { return a.code == 503 }, "503 on that rule only"},
		{"GET", "app.example.com", "/old/page?x=1", nil, func(a answer) bool {
			return a.code == 301 && a.location == "https://app.example.com/old/page?x=1"
		}, "301 to https"},
	} {
		a, err := do(c.method, c.host, c.path, c.header)
		if err != nil {
			t.Errorf("%s %s%s: %v", c.method, c.host, c.path, err)
			continue
		}
		if !c.check(a) {
			t.Errorf("%s %s%s %v: %d %q (Location %q), want %s", c.method, c.host, c.path, c.header, a.code, a.body, a.location, c.want)
		}
	}
}
