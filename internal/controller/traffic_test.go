package controller_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/elbgateway/elbgateway/internal/testenv"
	"github.com/elbgateway/elbgateway/internal/testenv/elb"
)

// startDataPlane serves what moto holds on loopback, reporting target health to the contract
// layer, with health checks 20 times faster than AWS's, and the keys of imported certificates
// from the contract layer's side door.
// trafficTargetAddr maps a target's address and port to where its stand-in listens in this
// package's tests: a.b.c.d → 127.(b^64).c.d, apart from elb.DefaultTargetAddr's 127.b.c.d,
// which the demo (cmd/elbgateway, whose tests go test runs beside these) binds for the seed's
// endpoint.
func trafficTargetAddr(ip string, port int32) (string, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return "", false
	}
	b := a.As4()
	b[0], b[1] = 127, b[1]^64
	return netip.AddrPortFrom(netip.AddrFrom4(b), uint16(port)).String(), true
}

func startDataPlane(t *testing.T) *elb.DataPlane {
	t.Helper()
	dp, err := elb.Start(context.Background(), elb.Options{
		TargetAddr: trafficTargetAddr,
		Endpoint:   env.moto.Endpoint, Region: region,
		AccessKeyID: testenv.TestAccessKeyID, SecretAccessKey: testenv.TestSecretAccessKey,
		HealthReportURL: env.moto.Strict.URL + testenv.TargetHealthPath, HealthTimeScale: 0.05,
		PrivateKey: elb.KeyFromURL(env.moto.Strict.URL+testenv.CertificateKeyPath, region),
		DNSAddr:    "127.0.0.1:0", Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Close)
	return dp
}

// createTLSSecret creates a kubernetes.io/tls Secret.
func createTLSSecret(t *testing.T, ns, name string, certPEM, keyPEM []byte) {
	t.Helper()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM}}
	if err := env.client.Create(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
}

// getUntilOK has the data plane read AWS again and GETs url until it answers 200, and returns
// the answer's body.
func getUntilOK(t *testing.T, dp *elb.DataPlane, client *http.Client, url string) string {
	t.Helper()
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
	return body
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
	backendAddr, _ := trafficTargetAddr("192.0.2.10", 3000)
	startBackend(t, backendAddr, "backend-pod")
	dp := startDataPlane(t)

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dp.DialContext}}
	url := "http://" + dnsName + ":8080/"
	if body := getUntilOK(t, dp, client, url); body != "backend-pod GET /" {
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
		var tgs struct {
			TargetGroups []struct{ TargetGroupArn string }
		}
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
	var lbs struct {
		LoadBalancers []struct{ LoadBalancerArn, DNSName string }
	}
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
		addr, _ := trafficTargetAddr(ip, 3000)
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
		{"GET", "app.example.com", "/missing", nil, func(a answer) bool { return a.code == 500 }, "500 on that rule only"},
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

// TestHTTPSListenerServesTheSecretsCertificate: two HTTPS listeners on port 443 of one ALB
// Gateway, each with its own kubernetes.io/tls Secret, become one AWS listener with a default
// and an additional certificate imported into ACM; the data plane serves them with the keys the
// import carried. A client trusting only a Secret's certificate reaches the backend with 200 over
// the name the certificate covers — through Go's TLS client and through curl --cacert — and sees
// exactly the certificate ACM holds; a name neither covers gets the listener's default one.
func TestHTTPSListenerServesTheSecretsCertificate(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	certs := map[string][]byte{}
	for _, host := range []string{"a.secure.example.com", "b.secure.example.com"} {
		certPEM, keyPEM := selfSigned(t, host)
		certs[host] = certPEM
		createTLSSecret(t, ns, strings.SplitN(host, ".", 2)[0]+"-tls", certPEM, keyPEM)
	}
	ip := "10.0.201.1"
	backendAddr, _ := trafficTargetAddr(ip, 3000)
	startBackend(t, backendAddr, "svc-tls")
	applyYAML(t, env.client, ns, albClass+"---"+albConfig("")+"---"+albGateway("web", ""+
		"  - {name: a, protocol: HTTPS, port: 443, hostname: a.secure.example.com, tls: {certificateRefs: [{name: a-tls}]}}\n"+
		"  - {name: b, protocol: HTTPS, port: 443, hostname: b.secure.example.com, tls: {certificateRefs: [{name: b-tls}]}}\n")+
		"---\n"+trafficService("svc-tls", ip)+`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: secure}
spec:
  parentRefs: [{name: web}]
  rules:
  - backendRefs: [{name: svc-tls, port: 3000}]
`)
	gw, _ := programmedGateway(t, env.client, ns, "web")
	dnsName := gw.Status.Addresses[0].Value
	dp := startDataPlane(t)

	// The certificate ARNs of the listener, default first, and what ACM holds for each.
	lbARN := lbARNOf(t, dnsName)
	var defaultBody string
	acmBodies := map[string]bool{}
	eventually(t, 60*timeoutScale, "one HTTPS listener with both certificates", func() error {
		ls := listeners(t, lbARN)
		if len(ls) != 1 {
			return fmt.Errorf("listeners %+v", ls)
		}
		var all struct {
			Certificates []struct {
				CertificateArn string
				IsDefault      bool
			}
		}
		cliJSON(t, &all, "elbv2", "describe-listener-certificates", "--listener-arn", awssdk.ToString(ls[0].ListenerArn))
		if len(all.Certificates) != 2 {
			return fmt.Errorf("listener certificates %+v", all.Certificates)
		}
		for _, c := range all.Certificates {
			body := acmCertificateBody(t, c.CertificateArn)
			acmBodies[body] = true
			if c.IsDefault {
				defaultBody = body
			}
		}
		return nil
	})
	for host, certPEM := range certs {
		if !acmBodies[strings.TrimSpace(string(certPEM))] {
			t.Fatalf("ACM holds no certificate of the Secret for %s", host)
		}
	}
	lbAddr, ok := dp.Addr(dnsName)
	if !ok {
		t.Fatalf("the data plane does not serve %s", dnsName)
	}

	// get requests https://host/ from the load balancer's address, with SNI host, trusting roots.
	get := func(host string, roots *x509.CertPool) (int, string, *x509.Certificate, error) {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: host, InsecureSkipVerify: roots == nil},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, net.JoinHostPort(lbAddr.String(), "443"))
			}}}
		resp, err := client.Get("https://" + host + "/")
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.TLS.PeerCertificates[0], nil
	}
	for host, certPEM := range certs {
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(certPEM)
		var code int
		var body string
		var served *x509.Certificate
		eventually(t, 30*timeoutScale, "GET https://"+host+"/ answers 200", func() error {
			if err := dp.Refresh(ctx); err != nil {
				return err
			}
			var err error
			if code, body, served, err = get(host, roots); err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("status %d", code)
			}
			return nil
		})
		if body != "svc-tls GET /" {
			t.Errorf("https://%s/ answered %q, want the backend's", host, body)
		}
		if got := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: served.Raw}))); got != strings.TrimSpace(string(certPEM)) {
			t.Errorf("https://%s/ served serial %s, want the Secret's certificate (serial of ACM's)", host, served.SerialNumber)
		}

		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		resolve := fmt.Sprintf("%s:443:%s", host, lbAddr)
		out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
			"--cacert", caFile, "--resolve", resolve, "https://"+host+"/").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "200" {
			t.Errorf("curl --cacert --resolve %s https://%s/: %s %v", resolve, host, out, err)
		}
	}

	// A name no certificate covers gets the default certificate.
	_, _, served, err := get("other.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: served.Raw}))); got != defaultBody {
		t.Errorf("SNI other.example.com got %v, want the listener's default certificate", served.DNSNames)
	}
}

// startUDPEcho answers each datagram on addr with name and what it carried, as a UDP pod would,
// and accepts TCP connections on the same address for the load balancer's health checks while
// tcpHealth is open; closing it fails them.
func startUDPEcho(t *testing.T, addr, name string) (tcpHealth net.Listener) {
	t.Helper()
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = conn.WriteTo([]byte(name+" "+string(buf[:n])), from)
		}
	}()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	return l
}

// TestUDPRouteTraffic: a datagram sent to an NLB Gateway's UDP listener reaches the pod behind
// the UDPRoute, and its answer comes back from the load balancer's address. The UDP target
// group is health-checked with its health check protocol (TCP, as AWS has it: a UDP target group
// is never checked over UDP), so the target is healthy while its TCP port accepts and unhealthy
// once it does not, even though it still echoes.
func TestUDPRouteTraffic(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: echo, protocol: UDP, port: 5300}\n")
	backendAddr, _ := trafficTargetAddr("192.0.2.10", 3000)
	health := startUDPEcho(t, backendAddr, "backend-pod")
	applyYAML(t, env.client, ns, ipTargets+"---"+route("UDPRoute", "echo", "echo", "", "backend", 3000))
	gw, _ := programmedGateway(t, env.client, ns, "gw")
	dnsName := gw.Status.Addresses[0].Value
	lbARN := lbARNOf(t, dnsName)
	waitListeners(t, lbARN, "UDP:5300")
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 || tgs[0].Protocol != "UDP" {
		t.Fatalf("target groups %+v, want one UDP", tgs)
	}
	tgARN := awssdk.ToString(tgs[0].TargetGroupArn)
	if p := string(tgs[0].HealthCheckProtocol); p == "UDP" {
		t.Fatalf("the UDP target group's health check protocol is %s; AWS checks UDP groups over TCP, HTTP or HTTPS", p)
	}
	dp := startDataPlane(t)

	conn, err := dp.DialContext(context.Background(), "udp", net.JoinHostPort(dnsName, "5300"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var answer string
	eventually(t, 30*timeoutScale, "a datagram to "+dnsName+":5300 is answered", func() error {
		if err := dp.Refresh(context.Background()); err != nil {
			return err
		}
		if _, err := conn.Write([]byte("ping")); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 2048)
		n, err := conn.Read(buf)
		if err != nil {
			return err
		}
		answer = string(buf[:n])
		return nil
	})
	if answer != "backend-pod ping" {
		t.Errorf("answer %q, want the backend's echo", answer)
	}
	if lbAddr, _ := dp.Addr(dnsName); conn.RemoteAddr().String() != net.JoinHostPort(lbAddr.String(), "5300") {
		t.Errorf("the answer came from %s, want the load balancer's %s:5300", conn.RemoteAddr(), lbAddr)
	}

	state := func() (string, error) {
		var health struct {
			TargetHealthDescriptions []struct{ TargetHealth struct{ State string } }
		}
		cliJSON(t, &health, "elbv2", "describe-target-health", "--target-group-arn", tgARN)
		if len(health.TargetHealthDescriptions) != 1 {
			return "", fmt.Errorf("targets %+v", health.TargetHealthDescriptions)
		}
		return health.TargetHealthDescriptions[0].TargetHealth.State, nil
	}
	for _, want := range []string{"healthy", "unhealthy"} {
		if want == "unhealthy" {
			_ = health.Close() // the TCP health port stops accepting; UDP still echoes
		}
		eventually(t, 60*timeoutScale, "DescribeTargetHealth "+want, func() error {
			got, err := state()
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("state %s", got)
			}
			return nil
		})
	}
}

// TestTLSRouteTraffic: on one NLB Gateway, a TLS listener in mode Passthrough becomes a TCP
// listener that carries the client's TLS to the backend untouched (the client sees the
// backend's own certificate), and one in mode Terminate becomes a TLS listener that terminates
// with the Secret's certificate, imported into ACM, and sends the plaintext on.
func TestTLSRouteTraffic(t *testing.T) {
	ns := newNamespace(t)
	gwCert, gwKey := selfSigned(t, "app.example.com")
	createTLSSecret(t, ns, "gw-tls", gwCert, gwKey)
	// The passthrough backend serves TLS with a certificate of its own.
	podCert, podKey := selfSigned(t, "app.example.com")
	pair, err := tls.X509KeyPair(podCert, podKey)
	if err != nil {
		t.Fatal(err)
	}
	passIP, termIP := "10.0.202.1", "10.0.202.2"
	passAddr, _ := trafficTargetAddr(passIP, 3000)
	pl, err := tls.Listen("tcp", passAddr, &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	passSrv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "svc-pass tls=%v", r.TLS != nil)
	})}
	go func() { _ = passSrv.Serve(pl) }()
	t.Cleanup(func() { _ = passSrv.Close() })
	// Its TCP health checks connect and leave: the TLS server sees them as failed handshakes.
	termAddr, _ := trafficTargetAddr(termIP, 3000)
	startBackend(t, termAddr, "svc-term")

	scenario(t, ns, "  - {name: pass, protocol: TLS, port: 8443, hostname: app.example.com, tls: {mode: Passthrough}}\n"+
		"  - {name: term, protocol: TLS, port: 9443, hostname: app.example.com, tls: {mode: Terminate, certificateRefs: [{name: gw-tls}]}}\n")
	applyYAML(t, env.client, ns, trafficService("svc-pass", passIP)+"\n---\n"+trafficService("svc-term", termIP)+"\n---\n"+
		route("TLSRoute", "pass", "pass", "", "svc-pass", 3000)+"\n---\n"+route("TLSRoute", "term", "term", "", "svc-term", 3000))
	gw, lbARN := programmedGateway(t, env.client, ns, "gw")
	dnsName := gw.Status.Addresses[0].Value
	waitListeners(t, lbARN, "TCP:8443,TLS:9443")
	dp := startDataPlane(t)

	roots := func(pemCert []byte) *x509.CertPool {
		p := x509.NewCertPool()
		p.AppendCertsFromPEM(pemCert)
		return p
	}
	for _, c := range []struct {
		port  string
		trust []byte
		want  string
	}{
		{"8443", podCert, "svc-pass tls=true"}, // the backend's certificate, end to end
		{"9443", gwCert, "svc-term GET /"},     // the Secret's certificate, plaintext behind
	} {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dp.DialContext,
			TLSClientConfig: &tls.Config{RootCAs: roots(c.trust), ServerName: "app.example.com"}}}
		url := "https://" + net.JoinHostPort(dnsName, c.port) + "/"
		if body := getUntilOK(t, dp, client, url); body != c.want {
			t.Errorf("port %s answered %q, want %q", c.port, body, c.want)
		}
	}
}
