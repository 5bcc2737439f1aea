package elb

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// testPlane serves a snapshot as if AWS held it, with no AWS behind it.
func testPlane(t *testing.T, s *Snapshot, key func(context.Context, string) ([]byte, error)) *DataPlane {
	t.Helper()
	d := newDataPlane(Options{Region: "us-east-1", PrivateKey: key, HealthTimeScale: 0.01, Logf: t.Logf})
	if s.TargetGroups == nil {
		s.TargetGroups = map[string]*TargetGroup{}
	}
	if err := d.apply(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// freePort is a port free on every one of addrs for TCP and UDP.
func freePort(t *testing.T, addrs ...netip.Addr) int32 {
	t.Helper()
	free := func(a netip.Addr, port int) bool {
		l, err := net.Listen("tcp", netip.AddrPortFrom(a, uint16(port)).String())
		if err != nil {
			return false
		}
		_ = l.Close()
		u, err := net.ListenPacket("udp", netip.AddrPortFrom(a, uint16(port)).String())
		if err != nil {
			return false
		}
		_ = u.Close()
		return true
	}
	for range 50 {
		l, err := net.Listen("tcp", netip.AddrPortFrom(addrs[0], 0).String())
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !slices.ContainsFunc(addrs, func(a netip.Addr) bool { return !free(a, port) }) {
			return int32(port)
		}
	}
	t.Fatal("no free port")
	return 0
}

func forwardTo(arn string) []elbtypes.Action {
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}}
}

// nlb is a network load balancer in two zones with one listener forwarding to tg.
func nlb(t *testing.T, name, protocol string, tg string, certs ...string) (LoadBalancer, int32) {
	lb := LoadBalancer{ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/" + name + "/1",
		Name: name, DNSName: name + ".elb.us-east-1.amazonaws.com", Type: "network"}
	lb.Addr = LoadBalancerAddr(lb.ARN)
	lb.Zones = []Zone{{Name: "us-east-1a", Addr: lb.Addr}, {Name: "us-east-1b", Addr: LoadBalancerAddr(lb.ARN + "/us-east-1b")}}
	port := freePort(t, lb.Zones[0].Addr, lb.Zones[1].Addr)
	lb.Listeners = []Listener{{ARN: lb.ARN + "/listener", Port: port, Protocol: protocol, DefaultActions: forwardTo(tg),
		SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", Certificates: certs}}
	return lb, port
}

// noChecks is a target group whose targets receive traffic without health checks.
func noChecks(arn, protocol string, attrs map[string]string, targets ...Target) *TargetGroup {
	return &TargetGroup{ARN: arn, Protocol: protocol, TargetType: "ip", Attributes: attrs, Targets: targets}
}

// tcpRecorder accepts one connection at a time on addr and sends what it saw on seen: the
// address the connection came from and what it read, then answers "ok".
func tcpRecorder(t *testing.T, addr string) <-chan [2]string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	seen := make(chan [2]string, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// What arrives until the sender pauses (a proxy protocol header may come on its own).
			var got []byte
			buf := make([]byte, 256)
			for {
				_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				n, err := c.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			seen <- [2]string{c.RemoteAddr().(*net.TCPAddr).IP.String(), string(got)}
			_, _ = c.Write([]byte("ok"))
			_ = c.Close()
		}
	}()
	return seen
}

// NLB TCP (NLB user guide, "Client IP preservation" and "Proxy protocol"): with
// preserve_client_ip.enabled the target sees the client's address, without it the load
// balancer's; with proxy_protocol_v2.enabled the connection starts with a v2 header carrying the
// client's and the listener's addresses.
func TestNLBClientIPAndProxyProtocol(t *testing.T) {
	for _, c := range []struct {
		name         string
		preserve     string
		proxy        bool
		wantFromLB   bool
		wantHeader   bool
		targetOctets string
	}{
		{"client IP preserved", "true", false, false, false, "10.61.0.1"},
		{"client IP not preserved", "false", false, true, false, "10.61.0.2"},
		{"proxy protocol v2", "false", true, true, true, "10.61.0.3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, _ := DefaultTargetAddr(c.targetOctets, 3000)
			seen := tcpRecorder(t, addr)
			lb, port := nlb(t, strings.ReplaceAll(c.name, " ", "-"), "TCP", "tg")
			attrs := map[string]string{"preserve_client_ip.enabled": c.preserve, "proxy_protocol_v2.enabled": fmt.Sprint(c.proxy)}
			d := testPlane(t, &Snapshot{LoadBalancers: []LoadBalancer{lb}, TargetGroups: map[string]*TargetGroup{
				"tg": noChecks("tg", "TCP", attrs, Target{ID: c.targetOctets, IP: c.targetOctets, Port: 3000, Addr: addr})}}, nil)
			conn, err := d.DialContext(t.Context(), "tcp", net.JoinHostPort(lb.DNSName, fmt.Sprint(port)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			client := addrPortOf(conn.LocalAddr())
			if _, err := conn.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			reply, _ := io.ReadAll(conn)
			got := <-seen
			if string(reply) != "ok" {
				t.Errorf("reply %q", reply)
			}
			if from := got[0]; (from == lb.Addr.String()) != c.wantFromLB {
				t.Errorf("the target saw the connection from %s (client %s, load balancer %s)", from, client.Addr(), lb.Addr)
			}
			want := "hello"
			if c.wantHeader {
				want = string(proxyV2Header(client, netip.AddrPortFrom(lb.Addr, uint16(port)), false)) + "hello"
			}
			if got[1] != want {
				t.Errorf("the target read % x, want % x", got[1], want)
			}
		})
	}
}

// NLB UDP: each datagram of a flow goes to the same target and the answers come back from the
// listener's address; a TCP_UDP listener carries both on one port.
func TestNLBUDPAndTCPUDP(t *testing.T) {
	addr, _ := DefaultTargetAddr("10.62.0.1", 3000)
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(append([]byte("echo "), buf[:n]...), from)
		}
	}()
	seen := tcpRecorder(t, addr)
	lb, port := nlb(t, "udp", "TCP_UDP", "tg")
	d := testPlane(t, &Snapshot{LoadBalancers: []LoadBalancer{lb}, TargetGroups: map[string]*TargetGroup{
		"tg": noChecks("tg", "TCP_UDP", map[string]string{"preserve_client_ip.enabled": "true"}, Target{ID: "10.62.0.1", IP: "10.62.0.1", Port: 3000, Addr: addr})}}, nil)
	conn, err := d.DialContext(t.Context(), "udp", net.JoinHostPort(lb.DNSName, fmt.Sprint(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, msg := range []string{"one", "two"} {
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 1500)
		n, err := conn.Read(buf)
		if err != nil || string(buf[:n]) != "echo "+msg {
			t.Fatalf("datagram %q: answer %q %v", msg, buf[:n], err)
		}
	}
	tc, err := d.DialContext(t.Context(), "tcp", net.JoinHostPort(lb.DNSName, fmt.Sprint(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	_, _ = tc.Write([]byte("over tcp"))
	if reply, _ := io.ReadAll(tc); string(reply) != "ok" || (<-seen)[1] != "over tcp" {
		t.Errorf("TCP on the TCP_UDP listener: %q", reply)
	}
}

// An NLB TLS listener terminates TLS with the certificate ACM holds for the name the client asks
// for (SNI), the default one otherwise, and forwards the plaintext; an ALB HTTPS listener the
// same, and answers HTTP/2 to gRPC clients, speaking h2c to a GRPC target group and passing the
// target's trailers back.
func TestTLSTermination(t *testing.T) {
	certA, keyA := certFor(t, "a.example.com")
	certB, keyB := certFor(t, "b.example.com")
	keys := map[string][]byte{"arn:cert-a": keyA, "arn:cert-b": keyB}
	key := func(_ context.Context, arn string) ([]byte, error) { return keys[arn], nil }
	bodies := map[string]CertificateBody{"arn:cert-a": {Certificate: string(certA)}, "arn:cert-b": {Certificate: string(certB)}}

	tcpAddr, _ := DefaultTargetAddr("10.63.0.1", 3000)
	seen := tcpRecorder(t, tcpAddr)
	grpcAddr, _ := DefaultTargetAddr("10.63.0.2", 50051)
	gl, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	target := &http.Server{Protocols: &h2c, ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = fmt.Fprintf(w, "%s %s xff=%s proto=%s", r.Proto, r.URL.Path, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"))
		w.Header().Set("Grpc-Status", "0")
	})}
	go func() { _ = target.Serve(gl) }()
	defer target.Close()

	nl, nport := nlb(t, "tls", "TLS", "tcp-tg", "arn:cert-a", "arn:cert-b")
	al := LoadBalancer{ARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/grpc/1", Name: "grpc",
		DNSName: "grpc.elb.us-east-1.amazonaws.com", Type: "application"}
	al.Addr = LoadBalancerAddr(al.ARN)
	aport := freePort(t, al.Addr)
	al.Listeners = []Listener{{ARN: al.ARN + "/https", Port: aport, Protocol: "HTTPS", SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
		Certificates: []string{"arn:cert-b"}, DefaultActions: forwardTo("grpc-tg")}}
	grpcTG := noChecks("grpc-tg", "HTTP", nil, Target{ID: "10.63.0.2", IP: "10.63.0.2", Port: 50051, Addr: grpcAddr})
	grpcTG.ProtocolVersion = "GRPC"
	testPlane(t, &Snapshot{LoadBalancers: []LoadBalancer{nl, al}, Certificates: bodies, TargetGroups: map[string]*TargetGroup{
		"tcp-tg":  noChecks("tcp-tg", "TCP", nil, Target{ID: "10.63.0.1", IP: "10.63.0.1", Port: 3000, Addr: tcpAddr}),
		"grpc-tg": grpcTG,
	}}, key)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certA)
	pool.AppendCertsFromPEM(certB)
	for _, c := range []struct{ sni, want string }{{"a.example.com", "a.example.com"}, {"b.example.com", "b.example.com"}, {"", "a.example.com"}} {
		conn, err := tls.Dial("tcp", netip.AddrPortFrom(nl.Addr, uint16(nport)).String(),
			&tls.Config{ServerName: c.sni, RootCAs: pool, InsecureSkipVerify: c.sni == ""})
		if err != nil {
			t.Fatalf("SNI %q: %v", c.sni, err)
		}
		if got := conn.ConnectionState().PeerCertificates[0].DNSNames[0]; got != c.want {
			t.Errorf("SNI %q: certificate for %s, want %s", c.sni, got, c.want)
		}
		_, _ = conn.Write([]byte("plain " + c.sni))
		reply, _ := io.ReadAll(conn)
		conn.Close()
		if got := <-seen; string(reply) != "ok" || got[1] != "plain "+c.sni {
			t.Errorf("SNI %q: the target read %q, answered %q", c.sni, got[1], reply)
		}
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "b.example.com"}}}
	req, _ := http.NewRequest("POST", fmt.Sprintf("https://%s/helloworld.Greeter/SayHello", netip.AddrPortFrom(al.Addr, uint16(aport))),
		bytes.NewReader([]byte{0, 0, 0, 0, 0}))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "HTTP/2.0 /helloworld.Greeter/SayHello xff=127.0.0.1 proto=https"
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || string(body) != want || resp.Trailer.Get("Grpc-Status") != "0" {
		t.Errorf("gRPC through the ALB: %s %d %q trailers %v, want HTTP/2 200 %q with Grpc-Status 0", resp.Proto, resp.StatusCode, body, resp.Trailer, want)
	}
}

// nameServer answers every TCP connection on addr with name.
func nameServer(t *testing.T, addr, name string) {
	t.Helper()
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
			_, _ = c.Write([]byte(name))
			_ = c.Close()
		}
	}()
}

// Cross-zone load balancing (ELB user guide, "Cross-zone load balancing for target groups"):
// each node of a load balancer, one per zone, sends only to the targets in its zone when it is
// off — the default on a Network Load Balancer — and to the targets of every zone when it is on,
// set by the target group's load_balancing.cross_zone.enabled or, with
// use_load_balancer_configuration, the load balancer's; an Application Load Balancer has it on.
// A target outside the VPC (zone "all") takes traffic from every node. The DNS name resolves to
// every node.
func TestCrossZone(t *testing.T) {
	for _, c := range []struct {
		name           string
		lbType         string
		lbAttr, tgAttr string
		wantFromA      []string // the targets that answer on zone a's address
		wantFromB      []string
	}{
		{"NLB default: off", "network", "", "", []string{"a", "all"}, []string{"all", "b"}},
		{"target group on", "network", "", "true", []string{"a", "all", "b"}, []string{"a", "all", "b"}},
		{"load balancer on, group follows it", "network", "true", "use_load_balancer_configuration", []string{"a", "all", "b"}, []string{"a", "all", "b"}},
		{"load balancer on, group off", "network", "true", "false", []string{"a", "all"}, []string{"all", "b"}},
		{"ALB default: on", "application", "", "", []string{"a", "all", "b"}, []string{"a", "all", "b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := strings.NewReplacer(" ", "-", ":", "", ",", "").Replace(c.name)
			lb, port := nlb(t, n, "TCP", "tg")
			lb.Type = c.lbType
			lb.Attributes = map[string]string{}
			if c.lbAttr != "" {
				lb.Attributes["load_balancing.cross_zone.enabled"] = c.lbAttr
			}
			attrs := map[string]string{}
			if c.tgAttr != "" {
				attrs["load_balancing.cross_zone.enabled"] = c.tgAttr
			}
			var targets []Target
			for i, z := range []struct{ name, zone string }{{"a", "us-east-1a"}, {"b", "us-east-1b"}, {"all", ""}} {
				ip := fmt.Sprintf("10.%d.%d.%d", 64+i, len(n), 1+i)
				addr, _ := DefaultTargetAddr(ip, 3000)
				nameServer(t, addr, z.name)
				targets = append(targets, Target{ID: ip, IP: ip, Port: 3000, Addr: addr, Zone: z.zone})
			}
			d := testPlane(t, &Snapshot{LoadBalancers: []LoadBalancer{lb}, TargetGroups: map[string]*TargetGroup{
				"tg": noChecks("tg", "TCP", attrs, targets...)}}, nil)
			if got := d.Addrs(lb.DNSName); len(got) != 2 || got[0] != lb.Zones[0].Addr || got[1] != lb.Zones[1].Addr {
				t.Fatalf("addresses of %s: %v, want both nodes'", lb.DNSName, got)
			}
			for i, want := range [][]string{c.wantFromA, c.wantFromB} {
				seen := map[string]bool{}
				for range 30 {
					conn, err := net.Dial("tcp", netip.AddrPortFrom(lb.Zones[i].Addr, uint16(port)).String())
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(conn)
					conn.Close()
					seen[string(b)] = true
				}
				var got []string
				for k := range seen {
					got = append(got, k)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("zone %s's node reached %v, want %v", lb.Zones[i].Name, got, want)
				}
			}
		})
	}
}

// A listener deleted and created again on its port (a new ARN, as when a controller replaces it)
// is served from the refresh that sees it: the old one closes before the new one binds.
func TestListenerReplacedOnItsPort(t *testing.T) {
	addr, _ := DefaultTargetAddr("10.61.0.9", 3000)
	seen := tcpRecorder(t, addr)
	lb, port := nlb(t, "replaced", "TCP", "tg")
	groups := map[string]*TargetGroup{"tg": noChecks("tg", "TCP", nil, Target{ID: "10.61.0.9", IP: "10.61.0.9", Port: 3000, Addr: addr})}
	d := testPlane(t, &Snapshot{LoadBalancers: []LoadBalancer{lb}, TargetGroups: groups}, nil)
	lb.Listeners[0].ARN = lb.ARN + "/listener-2"
	if err := d.apply(t.Context(), &Snapshot{LoadBalancers: []LoadBalancer{lb}, TargetGroups: groups}); err != nil {
		t.Fatalf("the new listener on port %d: %v", port, err)
	}
	conn, err := net.Dial("tcp", hostPort(lb.Addr, port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if reply, _ := io.ReadAll(conn); string(reply) != "ok" {
		t.Errorf("reply %q through the new listener", reply)
	}
	if got := <-seen; got[1] != "hello" {
		t.Errorf("the target read %q, want hello", got[1])
	}
}
