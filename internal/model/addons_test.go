package model

import (
	"strings"
	"testing"
)

func TestCheckAddons(t *testing.T) {
	const acl = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/my-acl/0a1b2c3d"
	cases := []struct {
		name  string
		t     LoadBalancerType
		a     Addons
		field string // "" when accepted
	}{
		{"all three on an ALB", Application, Addons{WebACL: acl, Shield: true, CapacityUnits: 100}, ""},
		{"capacity on an NLB", Network, Addons{CapacityUnits: 2750}, ""},
		{"web ACL on an NLB", Network, Addons{WebACL: acl}, "wafV2.webACL"},
		{"Shield on an NLB", Network, Addons{Shield: true}, "shieldConfiguration.enabled"},
		{"a CloudFront web ACL", Application, Addons{WebACL: strings.Replace(acl, "regional/", "global/", 1)}, "wafV2.webACL"},
		{"an IP set, not a web ACL", Application, Addons{WebACL: strings.Replace(acl, "webacl", "ipset", 1)}, "wafV2.webACL"},
		{"a name, not an ARN", Application, Addons{WebACL: "my-acl"}, "wafV2.webACL"},
		{"negative capacity", Application, Addons{CapacityUnits: -1}, "minimumLoadBalancerCapacity.capacityUnits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckAddons(c.t, c.a)
			switch {
			case c.field == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.field != "" && err == nil:
				t.Errorf("accepted, want a refusal naming %s", c.field)
			case c.field != "" && !strings.HasPrefix(err.Error(), c.field+":"):
				t.Errorf("%v does not start with the field %s", err, c.field)
			}
		})
	}
}
