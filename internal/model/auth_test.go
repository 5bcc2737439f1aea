package model

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	a := AuthenticateOIDCAction{ClientID: "id", ClientSecret: NewSecret("hunter2")}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	printed := string(data) + fmt.Sprintf("%v %+v %#v %s", a, a, a, a.ClientSecret)
	if strings.Contains(printed, "hunter2") {
		t.Fatalf("secret printed: %s", printed)
	}
	if !strings.Contains(string(data), `"clientSecret":"REDACTED"`) {
		t.Fatalf("want the secret shown as REDACTED, got %s", data)
	}
	if a.ClientSecret.Value() != "hunter2" || !a.ClientSecret.IsSet() {
		t.Fatal("Value must return the secret")
	}
	empty, _ := json.Marshal(Secret{})
	if string(empty) != `""` {
		t.Fatalf("an unset secret prints %s, want \"\"", empty)
	}
}

func albStack() *Stack {
	return &Stack{
		ID: "default/gw", Type: Application,
		LoadBalancer: &LoadBalancer{Name: "k8s-default-gw-0123456789", Scheme: "internal", IPAddressType: "ipv4",
			Subnets: []SubnetMapping{{SubnetID: "subnet-a"}, {SubnetID: "subnet-b"}}},
		Listeners: []Listener{{Port: 443, Protocol: "HTTPS", Certificates: []Ref{{External: "arn:c"}}, SSLPolicy: "p",
			DefaultActions: []Action{{Type: ActionFixedResponse, FixedResponse: &FixedResponseAction{StatusCode: "404"}}},
			Rules: []Rule{{Priority: 10, Conditions: []Condition{{Field: "path-pattern", Values: []string{"/*"}}},
				Actions: []Action{
					{Type: ActionAuthenticateOIDC, AuthenticateOIDC: &AuthenticateOIDCAction{Issuer: "i", AuthorizationEndpoint: "a",
						TokenEndpoint: "t", UserInfoEndpoint: "u", ClientID: "c", ClientSecret: NewSecret("s")}},
					{Type: ActionRedirect, Redirect: &RedirectAction{StatusCode: "HTTP_301"}},
				},
				Transforms: []Transform{{Type: "url-rewrite", Regex: "^/a", Replace: "/b"}}}}}},
	}
}

func TestValidateALBRules(t *testing.T) {
	if err := albStack().Validate(); err != nil {
		t.Fatalf("valid ALB stack: %v", err)
	}
	cases := map[string]struct {
		mutate func(s *Stack)
		want   string
	}{
		"auth on HTTP": {func(s *Stack) {
			s.Listeners[0].Protocol, s.Listeners[0].Certificates, s.Listeners[0].SSLPolicy = "HTTP", nil, ""
		}, "only allowed on HTTPS"},
		"auth last": {func(s *Stack) {
			r := &s.Listeners[0].Rules[0]
			r.Actions = r.Actions[:1]
		}, "must be followed by a routing action"},
		"routing not last": {func(s *Stack) {
			r := &s.Listeners[0].Rules[0]
			r.Actions = []Action{r.Actions[1], r.Actions[1]}
		}, "must be the last action"},
		"redirect 303": {func(s *Stack) { s.Listeners[0].Rules[0].Actions[1].Redirect.StatusCode = "HTTP_303" }, "HTTP_301 or HTTP_302"},
		"fixed 302": {func(s *Stack) {
			s.Listeners[0].DefaultActions[0].FixedResponse.StatusCode = "302"
		}, "2XX, 4XX or 5XX"},
		"two url rewrites": {func(s *Stack) {
			r := &s.Listeners[0].Rules[0]
			r.Transforms = append(r.Transforms, r.Transforms[0])
		}, "two url-rewrite transforms"},
		"six values": {func(s *Stack) {
			s.Listeners[0].Rules[0].Conditions[0].Values = []string{"/a", "/b", "/c", "/d", "/e", "/f"}
		}, "6 condition values"},
		"oidc without client": {func(s *Stack) { s.Listeners[0].Rules[0].Actions[0].AuthenticateOIDC.ClientID = "" }, "client ID"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := albStack()
			c.mutate(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error with %q, got %v", c.want, err)
			}
		})
	}
}
