package controller

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

func TestLRCsOfRouteNameOnlyListenerRuleConfigurations(t *testing.T) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: apps}
spec:
  rules:
  - filters:
    - {type: ExtensionRef, extensionRef: {group: gateway.k8s.aws, kind: ListenerRuleConfiguration, name: b}}
    - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x, value: y}]}}
  - filters:
    - {type: ExtensionRef, extensionRef: {group: example.com, kind: ListenerRuleConfiguration, name: other-group}}
    - {type: ExtensionRef, extensionRef: {group: gateway.k8s.aws, kind: TargetGroupConfiguration, name: other-kind}}
    - {type: ExtensionRef, extensionRef: {group: gateway.k8s.aws, kind: ListenerRuleConfiguration, name: a}}
    - {type: ExtensionRef, extensionRef: {group: gateway.k8s.aws, kind: ListenerRuleConfiguration, name: b}}
`), &u.Object); err != nil {
		t.Fatal(err)
	}
	if got, want := lrcsOfRoute(u), []string{"apps/a", "apps/b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lrcsOfRoute = %v, want %v", got, want)
	}
}

func TestOIDCSecretKeys(t *testing.T) {
	oidc := func(ns, name, secret string) awsv1.ListenerRuleConfiguration {
		l := awsv1.ListenerRuleConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		cfg := &awsv1.AuthenticateOidcActionConfig{Issuer: "https://idp"}
		if secret != "" {
			cfg.Secret = &awsv1.Secret{Name: secret}
		}
		l.Spec.Actions = []awsv1.Action{{Type: awsv1.ActionTypeAuthenticateOIDC, AuthenticateOIDCConfig: cfg}, {Type: awsv1.ActionTypeForward}}
		return l
	}
	fixed := awsv1.ListenerRuleConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "fixed"},
		Spec: awsv1.ListenerRuleConfigurationSpec{Actions: []awsv1.Action{{Type: awsv1.ActionTypeFixedResponse}}}}
	got := oidcSecretKeys([]awsv1.ListenerRuleConfiguration{oidc("b", "x", "s2"), oidc("a", "y", "s1"), oidc("a", "z", "s1"), oidc("a", "none", ""), fixed})
	if want := []string{"a/s1", "b/s2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("oidcSecretKeys = %v, want %v", got, want)
	}
}

func TestOIDCClientOfSecret(t *testing.T) {
	for _, c := range []struct {
		name string
		data map[string]string
		want snapshot.OIDCClient
	}{
		{"clientID", map[string]string{"clientID": "id", "clientSecret": "s"}, snapshot.OIDCClient{ClientID: "id", ClientSecret: "s"}},
		{"legacy clientId", map[string]string{"clientId": "old", "clientSecret": "s"}, snapshot.OIDCClient{ClientID: "old", ClientSecret: "s"}},
		{"clientID wins", map[string]string{"clientID": "new", "clientId": "old", "clientSecret": "s"}, snapshot.OIDCClient{ClientID: "new", ClientSecret: "s"}},
		{"trailing newlines", map[string]string{"clientID": "id\n", "clientSecret": "s \n"}, snapshot.OIDCClient{ClientID: "id", ClientSecret: "s"}},
		{"missing secret", map[string]string{"clientID": "id"}, snapshot.OIDCClient{ClientID: "id"}},
	} {
		s := &corev1.Secret{Data: map[string][]byte{}}
		for k, v := range c.data {
			s.Data[k] = []byte(v)
		}
		if got := oidcClientOf(s); got != c.want {
			t.Errorf("%s: client ID %q, secret matches: %v; want client ID %q", c.name, got.ClientID, got.ClientSecret == c.want.ClientSecret, c.want.ClientID)
		}
	}
}

func TestSecretTransformKeepsOnlyWhatIsRead(t *testing.T) {
	in := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "s", ResourceVersion: "7",
		Labels: map[string]string{"l": "v"}, Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...}"}},
		Data: map[string][]byte{"clientID": []byte("id"), "clientSecret": []byte("s"), "password": []byte("p")}}
	out, err := oidcKeysOnly(in)
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*corev1.Secret)
	if s.Namespace != "a" || s.Name != "s" || s.ResourceVersion != "7" || len(s.Labels) != 0 || len(s.Annotations) != 0 {
		t.Errorf("metadata %+v, want namespace, name and resourceVersion only", s.ObjectMeta)
	}
	if _, ok := s.Data["password"]; ok || string(s.Data["clientID"]) != "id" || len(s.Data["clientSecret"]) == 0 {
		t.Errorf("data keys kept: %d, want clientID and clientSecret only", len(s.Data))
	}
}
