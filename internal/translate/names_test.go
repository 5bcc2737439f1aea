package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// lbcHash is the LBC algorithm written out independently: one SHA-256 over the parts
// concatenated without separators, hex encoded.
func lbcHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

func TestLoadBalancerNameFollowsLBC(t *testing.T) {
	got := loadBalancerName("demo", "default", "aws-tcp-gateway", "uid-1", "internet-facing")
	want := "k8s-default-awstcpga-" + lbcHash("demo", "uid-1", "internet-facing")[:10]
	if got != want {
		t.Fatalf("loadBalancerName = %s, want %s", got, want)
	}
	if other := loadBalancerName("demo", "default", "aws-tcp-gateway", "uid-1", "internal"); other == got {
		t.Errorf("a scheme change must change the name (the LB is replaced), both are %s", got)
	}
	if err := model.CheckName(got); err != nil {
		t.Errorf("generated name %s is not a valid ELB name: %v", got, err)
	}
}

func TestSecurityGroupNameFollowsLBC(t *testing.T) {
	got := securityGroupName("demo", "team-a", "my.gw", "uid-2")
	want := "k8s-teama-mygw-" + lbcHash("demo", "my.gw", "team-a", "uid-2")[:10]
	if got != want {
		t.Fatalf("securityGroupName = %s, want %s", got, want)
	}
}

func TestTargetGroupNameFollowsLBC(t *testing.T) {
	p := targetGroupNameParts{cluster: "demo", gatewayNamespace: "default", gateway: "aws-tcp-gateway",
		routeNamespace: "default", route: "tcp-backend-aws", kind: "TCPRoute", serviceNamespace: "default",
		service: "backend", port: "3000", targetType: "ip", protocol: "TCP"}
	want := "k8s-default-tcpbacke-" + lbcHash("demo", "default", "aws-tcp-gateway", "default", "tcp-backend-aws",
		"TCPRoute", "default", "backend", "3000", "ip", "TCP")[:10]
	if got := targetGroupName(p); got != want {
		t.Fatalf("targetGroupName = %s, want %s", got, want)
	}
	p.version = "HTTP2"
	if got := targetGroupName(p); got == want {
		t.Errorf("a protocol version must enter the hash")
	}
}

func TestGeneratedNameSanitizesAndTruncates(t *testing.T) {
	got := generatedName("Very-Long_Namespace.Name", "a", "x")
	if !strings.HasPrefix(got, "k8s-VeryLong-a-") || len(got) != len("k8s-VeryLong-a-")+10 {
		t.Fatalf("generatedName = %s, want k8s-VeryLong-a-<10 hex>", got)
	}
	if got := generatedName("", "", "x"); got != "k8s---"+lbcHash("x")[:10] {
		t.Fatalf("generatedName with empty parts = %s", got)
	}
	long := generatedName(strings.Repeat("n", 63), strings.Repeat("g", 63), "x")
	if len(long) > model.MaxNameLength {
		t.Fatalf("generatedName gives %d characters, ELB allows %d", len(long), model.MaxNameLength)
	}
}

func TestLoadBalancerNameExported(t *testing.T) {
	scheme := awsv1.LoadBalancerSchemeInternetFacing
	s := &snapshot.Snapshot{
		Settings: snapshot.Settings{ClusterName: "demo"},
		Gateway: &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "aws-tcp-gateway", UID: "uid-1"},
			Spec: gwv1.GatewaySpec{Infrastructure: &gwv1.GatewayInfrastructure{ParametersRef: &gwv1.LocalParametersReference{
				Group: awsGroup, Kind: kindLBC, Name: "cfg"}}}},
		LoadBalancerConfigurations: []awsv1.LoadBalancerConfiguration{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cfg"},
			Spec: awsv1.LoadBalancerConfigurationSpec{Scheme: &scheme}}},
	}
	if got, want := LoadBalancerName(s), loadBalancerName("demo", "default", "aws-tcp-gateway", "uid-1", "internet-facing"); got != want {
		t.Errorf("LoadBalancerName = %s, want %s (scheme from the configuration)", got, want)
	}
	s.Settings.DefaultScheme = "internet-facing"
	s.LoadBalancerConfigurations = nil
	if got, want := LoadBalancerName(s), loadBalancerName("demo", "default", "aws-tcp-gateway", "uid-1", "internet-facing"); got != want {
		t.Errorf("LoadBalancerName without configuration = %s, want %s (default scheme)", got, want)
	}
	name := "payments"
	s.LoadBalancerConfigurations = []awsv1.LoadBalancerConfiguration{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cfg"},
		Spec: awsv1.LoadBalancerConfigurationSpec{LoadBalancerName: &name}}}
	if got := LoadBalancerName(s); got != name {
		t.Errorf("LoadBalancerName = %s, want the configured %s", got, name)
	}
}
