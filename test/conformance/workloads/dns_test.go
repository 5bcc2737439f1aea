package workloads

import (
	"net"
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// TestDNSStandIn: the CoreDNS stand-in answers the suite's UDPRoute query (foo.bar.com. A) with
// the client's address, as CoreDNS's whoami plugin does, fails names it would forward, and
// accepts TCP connections for health checks.
func TestDNSStandIn(t *testing.T) {
	port, err := freePort(true)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startDNS(port)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	q := new(dns.Msg)
	q.SetQuestion("foo.bar.com.", dns.TypeA)
	r, err := dns.Exchange(q, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Id != q.Id || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("answer to foo.bar.com. A: %v", r)
	}
	a, ok := r.Answer[0].(*dns.A)
	if !ok || !a.A.Equal(net.IPv4(127, 0, 0, 1)) || a.Hdr.Name != "foo.bar.com." {
		t.Fatalf("answer record: %v", r.Answer[0])
	}

	q.SetQuestion("example.org.", dns.TypeA)
	r, err = dns.Exchange(q, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeServerFailure || len(r.Answer) != 0 || len(r.Question) != 1 {
		t.Fatalf("answer to example.org. A: %v", r)
	}

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("TCP health check: %v", err)
	}
	c.Close()
}
