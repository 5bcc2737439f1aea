package elb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Options configure a data plane.
type Options struct {
	// Endpoint is the AWS API endpoint (ELBv2 and EC2) and Region its region.
	Endpoint, Region string
	// AccessKeyID and SecretAccessKey sign the calls; "test"/"test" when empty.
	AccessKeyID, SecretAccessKey string
	// Refresh is how often AWS is read again; 1s when zero.
	Refresh time.Duration
	// HealthTimeScale multiplies health check intervals and timeouts (0.05 makes a 30 s interval
	// 1.5 s); 1 when zero.
	HealthTimeScale float64
	// HealthReportURL receives target health changes (the contract layer's side door); none when
	// empty.
	HealthReportURL string
	// TargetAddr maps a target's address and port to where it is dialled; DefaultTargetAddr when nil.
	TargetAddr func(ip string, port int32) (string, bool)
	// PrivateKey returns the PEM private key of an ACM certificate ARN, which ACM's API never
	// returns (KeyFromURL reads the test environment's side door). TLS and HTTPS listeners serve
	// the certificate ACM holds with this key; without it their handshakes fail.
	PrivateKey func(ctx context.Context, arn string) ([]byte, error)
	// DNSAddr is the UDP address of the DNS server for load balancer names ("127.0.0.1:0" picks
	// a port); none when empty.
	DNSAddr string
	// Logf receives what goes wrong while serving; log.Printf when nil.
	Logf func(format string, args ...any)
}

// DataPlane serves the load balancers an AWS endpoint holds on loopback.
type DataPlane struct {
	opts   Options
	reader *reader
	health *healthChecker
	certs  *certStore

	snap atomic.Pointer[Snapshot]

	mu         sync.Mutex
	servers    map[string]server // by listener ARN
	refreshMu  sync.Mutex
	problems   string // what the last refresh could not serve (under refreshMu)
	trMu       sync.Mutex
	transports map[string]http.RoundTripper // by target group protocol and version
	dns        *dnsServer
	ctx        context.Context
	cancel     context.CancelFunc
	done       chan struct{}
	rr         atomic.Uint64
}

type server interface {
	signature() string // what the listener was opened for
	close()
}

// Start reads AWS once, opens the listeners and keeps them in step with AWS until Close.
func Start(ctx context.Context, o Options) (*DataPlane, error) {
	d := newDataPlane(o)
	o = d.opts
	cfg := aws.Config{Region: o.Region, Credentials: credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, ""),
		BaseEndpoint: aws.String(o.Endpoint)}
	d.reader = &reader{elb: elbv2.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), acm: acm.NewFromConfig(cfg), targetAddr: o.TargetAddr}
	if o.DNSAddr != "" {
		dns, err := startDNS(o.DNSAddr, d.lookupAll)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.dns = dns
	}
	if err := d.Refresh(ctx); err != nil {
		d.Close()
		return nil, err
	}
	go d.loop()
	return d, nil
}

// newDataPlane is a data plane with no listener open and nothing read yet.
func newDataPlane(o Options) *DataPlane {
	if o.Refresh <= 0 {
		o.Refresh = time.Second
	}
	if o.TargetAddr == nil {
		o.TargetAddr = DefaultTargetAddr
	}
	if o.AccessKeyID == "" {
		o.AccessKeyID, o.SecretAccessKey = "test", "test"
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	d := &DataPlane{opts: o, servers: map[string]server{}, done: make(chan struct{}), transports: map[string]http.RoundTripper{},
		certs: &certStore{key: o.PrivateKey}}
	d.health = newHealthChecker(o.HealthTimeScale, o.TargetAddr, healthReporter(o.HealthReportURL, o.Region))
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.snap.Store(&Snapshot{TargetGroups: map[string]*TargetGroup{}})
	return d
}

// Close stops every listener, the health checks and the DNS server.
func (d *DataPlane) Close() {
	d.cancel()
	if d.reader != nil {
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for arn, s := range d.servers {
		s.close()
		delete(d.servers, arn)
	}
	if d.dns != nil {
		d.dns.close()
	}
	d.trMu.Lock()
	for _, rt := range d.transports {
		if tr, ok := rt.(*http.Transport); ok {
			tr.CloseIdleConnections()
		}
	}
	d.trMu.Unlock()
}

func (d *DataPlane) loop() {
	defer close(d.done)
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(d.opts.Refresh):
		}
		if err := d.Refresh(d.ctx); err != nil && d.ctx.Err() == nil {
			d.opts.Logf("elb data plane: reading AWS: %v", err)
		}
	}
}

// Refresh reads AWS now and brings listeners and health checks in step with it. Only a failed
// read of AWS is an error: a listener or certificate the data plane cannot serve is logged (when
// what cannot be served changes) and leaves every other load balancer of the account served, as
// each load balancer of AWS stands alone.
func (d *DataPlane) Refresh(ctx context.Context) error {
	d.refreshMu.Lock()
	defer d.refreshMu.Unlock()
	s, err := d.reader.read(ctx)
	if err != nil {
		return err
	}
	problems := ""
	if err := d.apply(ctx, s); err != nil {
		problems = err.Error()
	}
	if problems != d.problems {
		d.problems = problems
		if problems != "" {
			d.opts.Logf("elb data plane: not served: %s", problems)
		}
	}
	return nil
}

// apply serves a snapshot: certificates, health checks and listeners as it holds them.
func (d *DataPlane) apply(ctx context.Context, s *Snapshot) error {
	var errs []error
	errs = append(errs, s.certErrs...)
	errs = append(errs, d.certs.sync(ctx, s.Certificates)...)
	d.snap.Store(s)
	d.health.sync(d.ctx, s.TargetGroups)
	d.mu.Lock()
	defer d.mu.Unlock()
	// Listeners gone from AWS close first: a listener deleted and created again on its port (a
	// new ARN) can then bind the port at once, not one refresh later.
	want := map[string]bool{}
	for _, lb := range s.LoadBalancers {
		for _, l := range lb.Listeners {
			want[l.ARN] = true
		}
	}
	for arn, srv := range d.servers {
		if !want[arn] {
			srv.close()
			delete(d.servers, arn)
		}
	}
	for _, lb := range s.LoadBalancers {
		for _, l := range lb.Listeners {
			if cur, ok := d.servers[l.ARN]; ok && cur.signature() == listenerSignature(lb, l) {
				continue
			} else if ok {
				cur.close()
				delete(d.servers, l.ARN)
			}
			srv, err := d.serve(lb, l)
			if err != nil {
				errs = append(errs, fmt.Errorf("listener %s:%d of %s: %w", l.Protocol, l.Port, lb.Name, err))
				continue
			}
			if srv != nil {
				d.servers[l.ARN] = srv
			}
		}
	}
	return errors.Join(errs...)
}

// serve opens one listener, on the address of each of the load balancer's zones.
func (d *DataPlane) serve(lb LoadBalancer, l Listener) (server, error) {
	open := multi{proto: listenerSignature(lb, l)}
	for _, z := range lb.zoneAddrs() {
		srv, err := d.serveZone(hostPort(z.Addr, l.Port), z.Name, l)
		if err != nil || srv == nil {
			open.close()
			return nil, err
		}
		open.servers = append(open.servers, srv)
	}
	return open, nil
}

// listenerSignature is what an open listener depends on: a change reopens it.
func listenerSignature(lb LoadBalancer, l Listener) string {
	sig := fmt.Sprintf("%s/%d/%s", l.Protocol, l.Port, l.SSLPolicy)
	for _, z := range lb.zoneAddrs() {
		sig += "/" + z.Addr.String()
	}
	return sig
}

// serveZone opens one listener on one zone's address.
func (d *DataPlane) serveZone(addr, zone string, l Listener) (server, error) {
	current := func() (*LoadBalancer, *Listener) { return d.listener(l.ARN) }
	switch l.Protocol {
	case "TCP":
		return d.serveTCP(addr, zone, current, nil)
	case "TLS":
		return d.serveTCP(addr, zone, current, d.tlsConfig(l))
	case "UDP":
		return d.serveUDP(addr, zone, current)
	case "TCP_UDP":
		t, err := d.serveTCP(addr, zone, current, nil)
		if err != nil {
			return nil, err
		}
		u, err := d.serveUDP(addr, zone, current)
		if err != nil {
			t.close()
			return nil, err
		}
		return multi{servers: []server{t, u}, proto: "TCP_UDP"}, nil
	case "HTTP", "HTTPS":
		var cfg *tls.Config
		if l.Protocol == "HTTPS" {
			cfg = d.tlsConfig(l)
		}
		return d.serveHTTP(addr, zone, l, cfg)
	}
	return nil, nil // a protocol this data plane does not serve (GENEVE, QUIC)
}

// multi is several servers as one.
type multi struct {
	servers []server
	proto   string
}

func (m multi) signature() string { return m.proto }
func (m multi) close() {
	for _, s := range m.servers {
		s.close()
	}
}

// listener returns the current state of a listener and its load balancer.
func (d *DataPlane) listener(arn string) (*LoadBalancer, *Listener) {
	s := d.snap.Load()
	for i := range s.LoadBalancers {
		for j := range s.LoadBalancers[i].Listeners {
			if s.LoadBalancers[i].Listeners[j].ARN == arn {
				return &s.LoadBalancers[i], &s.LoadBalancers[i].Listeners[j]
			}
		}
	}
	return nil, nil
}

// targetGroup returns the current state of a target group.
func (d *DataPlane) targetGroup(arn string) (*TargetGroup, bool) {
	tg, ok := d.snap.Load().TargetGroups[arn]
	return tg, ok
}

// Snapshot is what the data plane last read of AWS.
func (d *DataPlane) Snapshot() *Snapshot { return d.snap.Load() }

// TargetState is a target's health as the data plane's checks found it ("" if unknown).
func (d *DataPlane) TargetState(tgARN, id string, port int32) string {
	return d.health.state(tgARN, Target{ID: id, Port: port})
}

// Addr is the loopback address a load balancer's DNS name resolves to.
func (d *DataPlane) Addr(dnsName string) (netip.Addr, bool) { return d.lookup(dnsName) }

func (d *DataPlane) lookup(name string) (netip.Addr, bool) {
	addrs := d.lookupAll(name)
	if len(addrs) == 0 {
		return netip.Addr{}, false
	}
	return addrs[0], true
}

// lookupAll is every address of a load balancer's DNS name, one per zone, the first zone's first.
func (d *DataPlane) lookupAll(name string) []netip.Addr {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, lb := range d.snap.Load().LoadBalancers {
		if strings.ToLower(lb.DNSName) == name {
			var out []netip.Addr
			for _, z := range lb.zoneAddrs() {
				out = append(out, z.Addr)
			}
			return out
		}
	}
	return nil
}

// Addrs is every address a load balancer's DNS name resolves to, one per Availability Zone.
func (d *DataPlane) Addrs(dnsName string) []netip.Addr { return d.lookupAll(dnsName) }

// Resolve is curl's --resolve argument for a load balancer's DNS name and port.
func (d *DataPlane) Resolve(dnsName string, port int32) (string, bool) {
	a, ok := d.lookup(dnsName)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%s:%d:%s", dnsName, port, a), true
}

// DialContext dials a load balancer by DNS name (or address) and port, for clients that cannot
// use the DNS server.
func (d *DataPlane) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if a, ok := d.lookup(host); ok {
		address = net.JoinHostPort(a.String(), port)
	}
	var dialer net.Dialer
	return dialer.DialContext(ctx, network, address)
}

// DNSAddr is the address of the DNS server ("" when none runs).
func (d *DataPlane) DNSAddr() string {
	if d.dns == nil {
		return ""
	}
	return d.dns.addr()
}

// reachable says which targets of a group a load balancer's node in zone sends to.
func reachable(lb *LoadBalancer, tg *TargetGroup, zone string) func(Target) bool {
	if zone == "" || crossZone(lb, tg) {
		return func(Target) bool { return true }
	}
	return func(t Target) bool { return t.Zone == "" || t.Zone == zone }
}

// forwardGroup picks the target group of a forward action, by weight.
func (d *DataPlane) forwardGroup(actions []elbtypes.Action) (string, bool) {
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			return pickWeighted(a.ForwardConfig.TargetGroups, d.rr.Add(1)), true
		}
		if a.TargetGroupArn != nil {
			return aws.ToString(a.TargetGroupArn), true
		}
	}
	return "", false
}

// pickWeighted chooses a target group in proportion to the weights; n spreads the choices.
func pickWeighted(tgs []elbtypes.TargetGroupTuple, n uint64) string {
	total := int64(0)
	for _, t := range tgs {
		total += int64(weightOf(t))
	}
	if total == 0 {
		return aws.ToString(tgs[0].TargetGroupArn)
	}
	r := int64(mix(n) % uint64(total))
	for _, t := range tgs {
		r -= int64(weightOf(t))
		if r < 0 {
			return aws.ToString(t.TargetGroupArn)
		}
	}
	return aws.ToString(tgs[len(tgs)-1].TargetGroupArn)
}

// weightOf is a group's weight: 1 when unset ("If you specify only one target group, the weight
// is optional").
func weightOf(t elbtypes.TargetGroupTuple) int32 {
	if t.Weight == nil {
		return 1
	}
	return *t.Weight
}

// mix scrambles a counter into a well-spread number (splitmix64).
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// pickTarget chooses, round robin, one of the routable targets of a group a load balancer's
// node in zone sends to: those in its zone, and those of no zone, unless cross-zone load
// balancing is on for the group.
func (d *DataPlane) pickTarget(lb *LoadBalancer, tg *TargetGroup, zone string) (Target, bool) {
	ts := d.health.routable(tg, reachable(lb, tg, zone))
	if len(ts) == 0 {
		return Target{}, false
	}
	return ts[d.rr.Add(1)%uint64(len(ts))], true
}

// tlsConfig is a listener's TLS configuration: its certificates as they are now (SNI picks
// among them, the default one otherwise) and the protocol versions of its security policy as it
// was when the listener opened (a changed policy reopens the listener).
func (d *DataPlane) tlsConfig(l Listener) *tls.Config {
	minV, maxV := policyVersions(l.SSLPolicy)
	arn := l.ARN
	return &tls.Config{MinVersion: minV, MaxVersion: maxV, NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			_, cur := d.listener(arn)
			if cur == nil || len(cur.Certificates) == 0 {
				return nil, errors.New("the listener has no certificate")
			}
			var certs []*tls.Certificate
			for _, c := range cur.Certificates {
				cert, err := d.certs.get(c)
				if err != nil {
					d.opts.Logf("elb data plane: listener %s: %v", arn, err)
					continue
				}
				certs = append(certs, cert)
			}
			if len(certs) == 0 {
				return nil, errors.New("no certificate of the listener can be served")
			}
			return chooseCertificate(certs, hello.ServerName), nil
		}}
}

// chooseCertificate is the certificate of an SNI name: the first whose names cover it, else the
// default (first) one.
func chooseCertificate(certs []*tls.Certificate, serverName string) *tls.Certificate {
	if serverName != "" {
		for _, c := range certs {
			if c.Leaf != nil && c.Leaf.VerifyHostname(serverName) == nil {
				return c
			}
		}
	}
	return certs[0]
}

// policyVersions maps an ELB security policy name to its TLS versions: TLS13 policies allow only
// 1.3 when named -1-3-…-Ext…-Only, and 1.2–1.3 otherwise; the TLS-1-2 policies 1.2; the older
// 2016-08 style policies 1.0–1.2.
func policyVersions(policy string) (uint16, uint16) {
	switch {
	case strings.Contains(policy, "TLS13-1-3") && strings.Contains(policy, "Only"):
		return tls.VersionTLS13, tls.VersionTLS13
	case strings.Contains(policy, "TLS13"):
		return tls.VersionTLS12, tls.VersionTLS13
	case strings.Contains(policy, "TLS-1-2"):
		return tls.VersionTLS12, tls.VersionTLS12
	case strings.Contains(policy, "TLS-1-1"):
		return tls.VersionTLS11, tls.VersionTLS12
	}
	return tls.VersionTLS10, tls.VersionTLS12
}

// httpServer wraps an http.Server as a server.
type httpServer struct {
	srv   *http.Server
	proto string
}

func (h *httpServer) signature() string { return h.proto }
func (h *httpServer) close()            { _ = h.srv.Close() }
