package elb

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
)

// dnsServer answers A queries for load balancer DNS names on a loopback UDP address (RFC 1035):
// the load balancer's loopback addresses (one per zone) for a name it knows, NXDOMAIN otherwise.
type dnsServer struct {
	conn   *net.UDPConn
	lookup func(string) []netip.Addr
	done   chan struct{}
}

func startDNS(addr string, lookup func(string) []netip.Addr) (*dnsServer, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	s := &dnsServer{conn: conn, lookup: lookup, done: make(chan struct{})}
	go s.serve()
	return s, nil
}

func (s *dnsServer) addr() string { return s.conn.LocalAddr().String() }

func (s *dnsServer) close() {
	_ = s.conn.Close()
	<-s.done
}

func (s *dnsServer) serve() {
	defer close(s.done)
	buf := make([]byte, 512)
	for {
		n, client, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if answer := s.answer(buf[:n]); answer != nil {
			_, _ = s.conn.WriteToUDP(answer, client)
		}
	}
}

// answer builds the response to one query; nil for a message that is not a query.
func (s *dnsServer) answer(q []byte) []byte {
	if len(q) < 12 || q[2]&0x80 != 0 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil
	}
	name, end, ok := readName(q, 12)
	if !ok || end+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[end : end+2])
	question := q[12 : end+4]
	resp := make([]byte, 12, 12+len(question)+16)
	copy(resp, q[:2])              // ID
	resp[2] = 0x84 | (q[2] & 0x01) // QR, AA, RD copied
	resp[3] = 0x80                 // RA
	binary.BigEndian.PutUint16(resp[4:], 1)
	resp = append(resp, question...)
	addrs := s.lookup(name)
	switch {
	case len(addrs) == 0:
		resp[3] |= 3 // NXDOMAIN
	case qtype == 1 || qtype == 255: // A or ANY: one record per address
		binary.BigEndian.PutUint16(resp[6:], uint16(len(addrs)))
		for _, addr := range addrs {
			a := addr.As4()
			resp = append(resp, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			resp = append(resp, a[:]...)
		}
	}
	return resp
}

// readName reads a (non-compressed) name at off; it returns the name and the offset after it.
func readName(b []byte, off int) (string, int, bool) {
	var labels []string
	for off < len(b) {
		n := int(b[off])
		off++
		if n == 0 {
			return strings.Join(labels, "."), off, true
		}
		if n&0xC0 != 0 || off+n > len(b) {
			return "", 0, false
		}
		labels = append(labels, string(b[off:off+n]))
		off += n
	}
	return "", 0, false
}
