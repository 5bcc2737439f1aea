package elb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// The data plane is an oracle: it must not share code with what it checks.
func TestImportsNothingOfTheController(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/elbgateway/elbgateway/") && dep != "github.com/elbgateway/elbgateway/internal/testenv/elb" {
			t.Errorf("the data plane imports %s", dep)
		}
	}
}

func TestAddresses(t *testing.T) {
	a := LoadBalancerAddr("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/1")
	if !a.IsLoopback() || a.As4()[1] != 254 || a != LoadBalancerAddr("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/x/1") {
		t.Errorf("load balancer address %s: want a stable 127.254.x.y", a)
	}
	if got := lbAddr("arn", "127.9.9.9"); got != netip.MustParseAddr("127.9.9.9") {
		t.Errorf("a loopback DNS name is used as is: %s", got)
	}
	if got, ok := DefaultTargetAddr("10.0.128.7", 3000); !ok || got != "127.0.128.7:3000" {
		t.Errorf("target 10.0.128.7:3000 → %s", got)
	}
	if _, ok := DefaultTargetAddr("2600:1f14::1", 80); ok {
		t.Error("an IPv6 target has no mapping")
	}
}

// The proxy protocol v2 header (specification section 2.2): signature, version 2 PROXY,
// AF_INET STREAM, 12 address bytes, source then destination address and port.
func TestProxyV2Header(t *testing.T) {
	h := proxyV2Header(netip.MustParseAddrPort("127.0.0.5:40000"), netip.MustParseAddrPort("127.254.1.2:8080"), false)
	want := append([]byte("\r\n\r\n\x00\r\nQUIT\n"), 0x21, 0x11, 0, 12, 127, 0, 0, 5, 127, 254, 1, 2)
	want = binary.BigEndian.AppendUint16(want, 40000)
	want = binary.BigEndian.AppendUint16(want, 8080)
	if !bytes.Equal(h, want) {
		t.Errorf("header % x\nwant   % x", h, want)
	}
	if u := proxyV2Header(netip.MustParseAddrPort("127.0.0.5:1"), netip.MustParseAddrPort("127.0.0.6:2"), true); u[13] != 0x12 {
		t.Errorf("UDP family byte %x, want 0x12", u[13])
	}
}

func TestMatchCode(t *testing.T) {
	for _, c := range []struct {
		matcher string
		code    int
		want    bool
	}{{"", 200, true}, {"", 204, false}, {"200-299", 204, true}, {"200,302", 302, true}, {"200,302", 301, false}, {"200-399", 404, false}} {
		if got := matchCode(c.matcher, c.code); got != c.want {
			t.Errorf("matchCode(%q, %d) = %v", c.matcher, c.code, got)
		}
	}
}

// The DNS server answers A queries for known names with their loopback addresses, one per
// zone, NXDOMAIN else.
func TestDNS(t *testing.T) {
	s, err := startDNS("127.0.0.1:0", func(name string) []netip.Addr {
		if name != "k8s-x-1.us-east-1.elb.amazonaws.com" {
			return nil
		}
		return []netip.Addr{netip.MustParseAddr("127.254.3.4"), netip.MustParseAddr("127.254.5.6")}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	r := net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.addr())
	}}
	addrs, err := r.LookupIPAddr(t.Context(), "k8s-x-1.us-east-1.elb.amazonaws.com")
	if err != nil || len(addrs) != 2 || addrs[0].IP.String() != "127.254.3.4" || addrs[1].IP.String() != "127.254.5.6" {
		t.Errorf("lookup: %v %v", addrs, err)
	}
	if _, err := r.LookupIPAddr(t.Context(), "unknown.elb.amazonaws.com"); err == nil {
		t.Error("an unknown name resolved")
	}
}

// A resource deleted between two calls of a read is skipped, not an error of the whole read;
// every other error still is.
func TestGoneIsNotFoundOnly(t *testing.T) {
	for code, want := range map[string]bool{"LoadBalancerNotFound": true, "ListenerNotFound": true, "TargetGroupNotFound": true,
		"RuleNotFound": true, "Throttling": false, "ValidationError": false} {
		err := fmt.Errorf("DescribeListeners of x: %w", &smithy.GenericAPIError{Code: code})
		if got := gone(err); got != want {
			t.Errorf("gone(%s) = %v, want %v", code, got, want)
		}
	}
	if gone(nil) {
		t.Error("gone(nil)")
	}
}
