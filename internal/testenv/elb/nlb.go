package elb

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// NLB semantics (Network Load Balancer user guide): a TCP listener forwards each connection to
// one target of the listener's target group, chosen by weight among the forward action's groups;
// a TLS listener terminates TLS with its certificate first; UDP forwards each flow (client
// address) to one target and keeps the flow for the UDP idle timeout. With client IP
// preservation (target group attribute preserve_client_ip.enabled) the target sees the client's
// address; without it, the load balancer's. With proxy_protocol_v2.enabled the target first
// receives a proxy protocol v2 header with the client's and the listener's addresses.

// udpIdleTimeout: "the idle timeout for UDP flows is 120 seconds".
const udpIdleTimeout = 120 * time.Second

type tcpServer struct {
	l     net.Listener
	proto string
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
}

func (s *tcpServer) signature() string { return s.proto }
func (s *tcpServer) close() {
	_ = s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *tcpServer) track(c net.Conn, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.conns[c] = true
	} else {
		delete(s.conns, c)
	}
}

func (d *DataPlane) serveTCP(addr, zone string, current func() (*LoadBalancer, *Listener), cfg *tls.Config) (server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	proto := "TCP"
	if cfg != nil {
		l, proto = tls.NewListener(l, cfg), "TLS"
	}
	s := &tcpServer{l: l, proto: proto, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.track(c, true)
				defer s.track(c, false)
				d.forwardTCP(c, zone, current)
			}()
		}
	}()
	return s, nil
}

func (d *DataPlane) forwardTCP(client net.Conn, zone string, current func() (*LoadBalancer, *Listener)) {
	defer client.Close()
	lb, l := current()
	if l == nil {
		return
	}
	tg, t, ok := d.nlbTarget(lb, l, zone)
	if !ok {
		return // no target: the connection is reset, as an NLB with no healthy target does
	}
	clientAddr := addrPortOf(client.RemoteAddr())
	listenerAddr := netip.AddrPortFrom(lb.Addr, uint16(l.Port))
	dialer := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: sourceIP(tg, lb, clientAddr).AsSlice()}}
	backend, err := dialer.DialContext(d.ctx, "tcp", t.Addr)
	if err != nil {
		return
	}
	defer backend.Close()
	if tg.Attributes["proxy_protocol_v2.enabled"] == "true" {
		if _, err := backend.Write(proxyV2Header(clientAddr, listenerAddr, false)); err != nil {
			return
		}
	}
	pipe(client, backend)
}

// nlbTarget chooses the target group of the listener's forward action and one of its targets
// the node in zone sends to.
func (d *DataPlane) nlbTarget(lb *LoadBalancer, l *Listener, zone string) (*TargetGroup, Target, bool) {
	arn, ok := d.forwardGroup(l.DefaultActions)
	if !ok {
		return nil, Target{}, false
	}
	tg, ok := d.targetGroup(arn)
	if !ok {
		return nil, Target{}, false
	}
	t, ok := d.pickTarget(lb, tg, zone)
	return tg, t, ok
}

// sourceIP is the address a target sees the connection from: the client's when the target
// group preserves it (the default for instance targets, and for ip targets only when set), else
// the load balancer's.
func sourceIP(tg *TargetGroup, lb *LoadBalancer, client netip.AddrPort) netip.Addr {
	preserve := tg.TargetType == "instance"
	if v, ok := tg.Attributes["preserve_client_ip.enabled"]; ok {
		preserve = v == "true"
	}
	if preserve && client.Addr().IsLoopback() {
		return client.Addr()
	}
	return lb.Addr
}

func addrPortOf(a net.Addr) netip.AddrPort {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// pipe copies both ways until either side is done.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

// proxyV2Header is a proxy protocol v2 header (PROXY command) for an IPv4 connection from src to
// dst, over TCP or UDP (the PROXY protocol specification, section 2.2).
func proxyV2Header(src, dst netip.AddrPort, udp bool) []byte {
	sig := []byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}
	fam := byte(0x11) // AF_INET, STREAM
	if udp {
		fam = 0x12 // AF_INET, DGRAM
	}
	h := append(sig, 0x21, fam, 0, 12)
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	h = append(h, s4[:]...)
	h = append(h, d4[:]...)
	h = binary.BigEndian.AppendUint16(h, src.Port())
	h = binary.BigEndian.AppendUint16(h, dst.Port())
	return h
}

type udpServer struct {
	conn  *net.UDPConn
	wg    sync.WaitGroup
	mu    sync.Mutex
	flows map[string]*net.UDPConn
}

func (s *udpServer) signature() string { return "UDP" }
func (s *udpServer) close() {
	_ = s.conn.Close()
	s.mu.Lock()
	for _, f := range s.flows {
		_ = f.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (d *DataPlane) serveUDP(addr, zone string, current func() (*LoadBalancer, *Listener)) (server, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	s := &udpServer{conn: conn, flows: map[string]*net.UDPConn{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 65535)
		for {
			n, client, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			d.forwardUDP(s, zone, client, append([]byte(nil), buf[:n]...), current)
		}
	}()
	return s, nil
}

// forwardUDP sends a datagram on its flow, opening the flow to a target on its first datagram.
func (d *DataPlane) forwardUDP(s *udpServer, zone string, client *net.UDPAddr, data []byte, current func() (*LoadBalancer, *Listener)) {
	key := client.String()
	s.mu.Lock()
	flow, ok := s.flows[key]
	s.mu.Unlock()
	if !ok {
		lb, l := current()
		if l == nil {
			return
		}
		tg, t, ok := d.nlbTarget(lb, l, zone)
		if !ok {
			return
		}
		ta, err := net.ResolveUDPAddr("udp", t.Addr)
		if err != nil {
			return
		}
		clientAddr := addrPortOf(client)
		local := &net.UDPAddr{IP: sourceIP(tg, lb, clientAddr).AsSlice()}
		flow, err = net.DialUDP("udp", local, ta)
		if err != nil {
			return
		}
		if tg.Attributes["proxy_protocol_v2.enabled"] == "true" {
			data = append(proxyV2Header(clientAddr, netip.AddrPortFrom(lb.Addr, uint16(l.Port)), true), data...)
		}
		s.mu.Lock()
		s.flows[key] = flow
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.flows, key)
				s.mu.Unlock()
				_ = flow.Close()
			}()
			buf := make([]byte, 65535)
			for {
				_ = flow.SetReadDeadline(time.Now().Add(udpIdleTimeout))
				n, err := flow.Read(buf)
				if err != nil {
					return
				}
				if _, err := s.conn.WriteToUDP(buf[:n], client); err != nil {
					return
				}
			}
		}()
	}
	_, _ = flow.Write(data)
}
