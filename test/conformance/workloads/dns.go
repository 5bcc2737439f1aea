package workloads

import (
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"strings"
)

// whoamiZone is the zone the suite's CoreDNS answers itself (its Corefile's `foo.bar.com:53 {
// whoami }` block); every other name it forwards to public resolvers, which a loopback-only run
// cannot reach.
const whoamiZone = "foo.bar.com."

// dnsServer stands in for the suite's CoreDNS Pod: on a loopback port it answers the whoami zone
// over UDP the way CoreDNS's whoami plugin does (an A record holding the client's address), and
// answers every other name SERVFAIL, as a forward to an unreachable resolver ends. It also accepts
// TCP connections on the same port (CoreDNS serves both), so TCP health checks of the Pod pass.
type dnsServer struct {
	udp net.PacketConn
	tcp net.Listener
}

// startDNS listens on 127.0.0.1:port for UDP and TCP.
func startDNS(port int) (*dnsServer, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		udp.Close()
		return nil, err
	}
	s := &dnsServer{udp: udp, tcp: tcp}
	go s.serveUDP()
	go func() {
		for {
			c, err := tcp.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return s, nil
}

func (s *dnsServer) serveUDP() {
	buf := make([]byte, 512)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		var client net.IP
		if u, ok := from.(*net.UDPAddr); ok {
			client = u.IP
		}
		if resp, ok := dnsAnswer(buf[:n], client); ok {
			_, _ = s.udp.WriteTo(resp, from)
		}
	}
}

func (s *dnsServer) close() {
	s.udp.Close()
	s.tcp.Close()
}

// DNS wire format constants (RFC 1035 section 4.1).
const (
	dnsTypeA       = 1
	dnsClassIN     = 1
	dnsRcodeSrvErr = 2
	dnsRcodeFormat = 1
)

// dnsAnswer builds the response to one query: ok is false when the message is not a query at all.
func dnsAnswer(q []byte, client net.IP) ([]byte, bool) {
	if len(q) < 12 || q[2]&0x80 != 0 { // too short, or a response
		return nil, false
	}
	hdr := func(rcode byte, qd, an uint16) []byte {
		h := make([]byte, 12)
		copy(h[:2], q[:2])      // ID
		h[2] = 0x80 | q[2]&0x79 // QR, the query's opcode and RD
		h[3] = rcode            // RA off, the response code
		binary.BigEndian.PutUint16(h[4:], qd)
		binary.BigEndian.PutUint16(h[6:], an)
		return h
	}
	if binary.BigEndian.Uint16(q[4:]) != 1 {
		return hdr(dnsRcodeFormat, 0, 0), true
	}
	name, end, ok := dnsName(q, 12)
	if !ok || end+4 > len(q) {
		return hdr(dnsRcodeFormat, 0, 0), true
	}
	question := q[12 : end+4]
	qtype, qclass := binary.BigEndian.Uint16(q[end:]), binary.BigEndian.Uint16(q[end+2:])
	lname := strings.ToLower(name)
	if lname != whoamiZone && !strings.HasSuffix(lname, "."+whoamiZone) {
		return append(hdr(dnsRcodeSrvErr, 1, 0), question...), true
	}
	v4 := client.To4()
	if qtype != dnsTypeA || qclass != dnsClassIN || v4 == nil {
		// whoami answers the client's address whatever the type; only A is asked here.
		return append(hdr(0, 1, 0), question...), true
	}
	resp := append(hdr(0, 1, 1), question...)
	resp[2] |= 0x04               // authoritative
	resp = append(resp, 0xc0, 12) // the question's name, by pointer
	resp = binary.BigEndian.AppendUint16(resp, dnsTypeA)
	resp = binary.BigEndian.AppendUint16(resp, dnsClassIN)
	resp = binary.BigEndian.AppendUint32(resp, 0) // TTL, as whoami's
	resp = binary.BigEndian.AppendUint16(resp, 4)
	return append(resp, v4...), true
}

// dnsName reads an uncompressed name at off; it returns the name with a trailing dot and the
// offset after it.
func dnsName(msg []byte, off int) (string, int, bool) {
	var b strings.Builder
	for {
		if off >= len(msg) {
			return "", 0, false
		}
		l := int(msg[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 || off+l > len(msg) {
			return "", 0, false
		}
		b.Write(msg[off : off+l])
		b.WriteByte('.')
		off += l
	}
	if b.Len() == 0 {
		return ".", off, true
	}
	return b.String(), off, true
}
