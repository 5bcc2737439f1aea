package translate

import (
	"slices"
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestIntersectHostnames(t *testing.T) {
	h := func(s string) *gwv1.Hostname { x := gwv1.Hostname(s); return &x }
	cases := []struct {
		listener *gwv1.Hostname
		route    []gwv1.Hostname
		want     []string
		ok       bool
	}{
		{nil, nil, nil, true},
		{h("a.example.com"), nil, []string{"a.example.com"}, true},
		{nil, []gwv1.Hostname{"b.example.com"}, []string{"b.example.com"}, true},
		{h("*.example.com"), []gwv1.Hostname{"b.example.com", "x.y.example.com", "example.com"}, []string{"b.example.com", "x.y.example.com"}, true},
		{h("b.example.com"), []gwv1.Hostname{"*.example.com"}, []string{"b.example.com"}, true},
		{h("*.example.com"), []gwv1.Hostname{"*.example.com"}, []string{"*.example.com"}, true},
		{h("*.example.com"), []gwv1.Hostname{"app.example.org"}, nil, false},
	}
	for _, c := range cases {
		got, ok := intersectHostnames(c.listener, c.route)
		if ok != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("intersectHostnames(%v, %v) = %v, %v; want %v, %v", c.listener, c.route, got, ok, c.want, c.ok)
		}
	}
}

func TestCertificateCovers(t *testing.T) {
	cases := []struct {
		domain, host string
		want         bool
	}{
		{"app.example.com", "APP.example.com", true},
		{"*.example.com", "app.example.com", true},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", "example.com", false},
		{"example.com", "app.example.com", false},
	}
	for _, c := range cases {
		if got := certificateCovers(c.domain, c.host); got != c.want {
			t.Errorf("certificateCovers(%s, %s) = %v, want %v", c.domain, c.host, got, c.want)
		}
	}
}
