package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

func TestStrictRegisterTargetsZone(t *testing.T) {
	t.Parallel()
	t.Run("instance target with a zone", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tg := f.targetGroup("inst", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumInstance)
		id := f.instance()
		f.refused("ValidationError", "elbv2", "register-targets", "--target-group-arn", tg,
			"--targets", "Id="+id+",AvailabilityZone="+testRegion+"a")
		if _, code := f.cliDirect("elbv2", "register-targets", "--target-group-arn", tg,
			"--targets", "Id="+id+",AvailabilityZone="+testRegion+"a"); code != "" {
			t.Fatalf("plain moto refuses a zone on an instance target (%s): the rule needs no copy", code)
		}
		f.accepted("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+id)
	})
	t.Run("ip target outside the VPC", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tcp := f.targetGroup("ip", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumIp)
		f.refused("ValidationError", "elbv2", "register-targets", "--target-group-arn", tcp, "--targets", "Id=192.168.7.7")
		f.refused("ValidationError", "elbv2", "register-targets", "--target-group-arn", tcp,
			"--targets", "Id=192.168.7.7,AvailabilityZone="+testRegion+"a")
		f.accepted("elbv2", "register-targets", "--target-group-arn", tcp, "--targets", "Id=192.168.7.7,AvailabilityZone=all")
		inside := fmt.Sprintf("10.%d.0.9", f.n)
		f.refused("ValidationError", "elbv2", "register-targets", "--target-group-arn", tcp, "--targets", "Id="+inside+",AvailabilityZone=all")
		f.accepted("elbv2", "register-targets", "--target-group-arn", tcp, "--targets", "Id="+inside)
		f.accepted("elbv2", "register-targets", "--target-group-arn", tcp, "--targets", "Id="+inside+",AvailabilityZone="+testRegion+"a")
	})
	t.Run("ip family of the target group", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tg := f.targetGroup("fam", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumIp)
		f.refused("ValidationError", "elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id=2600:1f14::9,AvailabilityZone=all")
		f.accepted("elbv2", "register-targets", "--target-group-arn", tg, "--targets", fmt.Sprintf("Id=10.%d.1.9", f.n))
	})
	t.Run("instance not running is moto's own", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tg := f.targetGroup("stop", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumInstance)
		id := f.instance()
		f.accepted("ec2", "stop-instances", "--instance-ids", id)
		if _, code := f.cliDirect("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+id); code != "InvalidTarget" {
			t.Fatalf("plain moto answers a stopped instance with %q, want InvalidTarget (else the layer needs the rule)", code)
		}
	})
}

// TestStrictErrorReachesTheSDK: the SDK's Query deserializer surfaces the layer's error code,
// message and request ID as it would AWS's.
func TestStrictErrorReachesTheSDK(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tg := f.targetGroup("sdk", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumInstance)
	id := f.instance()
	_, err := f.elb.RegisterTargets(f.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tg),
		Targets: []elbtypes.TargetDescription{{Id: aws.String(id), AvailabilityZone: aws.String(testRegion + "a")}}})
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("RegisterTargets = %v, want an API error", err)
	}
	if api.ErrorCode() != "ValidationError" || api.ErrorMessage() == "" {
		t.Fatalf("RegisterTargets error = code %q message %q, want ValidationError with a message", api.ErrorCode(), api.ErrorMessage())
	}
	var re interface{ ServiceRequestID() string }
	if !errors.As(err, &re) || len(re.ServiceRequestID()) != 36 {
		t.Fatalf("RegisterTargets error carries no request ID: %v", err)
	}
}

func TestStrictListenerCertificates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	certs := f.certificates(3, "rsa")
	lb := f.loadBalancer("certs", elbtypes.LoadBalancerTypeEnumApplication)
	tg := f.targetGroup("certs", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	listener := f.listener(lb, elbtypes.ProtocolEnumHttps, 443, tg, certs[0])

	t.Run("add two in one call", func(t *testing.T) {
		f.refused("ValidationError", "elbv2", "add-listener-certificates", "--listener-arn", listener,
			"--certificates", "CertificateArn="+certs[1], "CertificateArn="+certs[2])
		f.accepted("elbv2", "add-listener-certificates", "--listener-arn", listener, "--certificates", "CertificateArn="+certs[1])
		f.accepted("elbv2", "add-listener-certificates", "--listener-arn", listener, "--certificates", "CertificateArn="+certs[2])
	})
	t.Run("remove two in one call", func(t *testing.T) {
		f.refused("ValidationError", "elbv2", "remove-listener-certificates", "--listener-arn", listener,
			"--certificates", "CertificateArn="+certs[1], "CertificateArn="+certs[2])
		f.accepted("elbv2", "remove-listener-certificates", "--listener-arn", listener, "--certificates", "CertificateArn="+certs[1])
	})
}

func TestStrictRulesPerLoadBalancer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	lb := f.loadBalancer("rules", elbtypes.LoadBalancerTypeEnumApplication)
	tg := f.targetGroup("rules", elbtypes.ProtocolEnumHttp, elbtypes.TargetTypeEnumIp)
	l1 := f.listener(lb, elbtypes.ProtocolEnumHttp, 80, tg, "")
	l2 := f.listener(lb, elbtypes.ProtocolEnumHttp, 8080, tg, "")
	// 99 rules over two listeners, created past the layer to keep the test short.
	direct := elbv2.NewFromConfig(AWSConfig(f.moto.direct, testRegion))
	for i := range quotaRulesPerALB - 1 {
		listener := l1
		if i%2 == 1 {
			listener = l2
		}
		if _, err := direct.CreateRule(f.ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(int32(i + 1)),
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{fmt.Sprintf("/p%d", i)}}},
			Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}}); err != nil {
			// A retried attempt of a call whose first attempt took effect finds its priority taken.
			var taken *elbtypes.PriorityInUseException
			if !errors.As(err, &taken) {
				t.Fatal(err)
			}
		}
	}
	rule := func(listener string, priority int) []string {
		return []string{"elbv2", "create-rule", "--listener-arn", listener, "--priority", fmt.Sprint(priority),
			"--conditions", "Field=path-pattern,Values=/q" + fmt.Sprint(priority), "--actions", "Type=forward,TargetGroupArn=" + tg}
	}
	f.accepted(rule(l1, 500)...)
	f.refused("TooManyRules", rule(l2, 501)...)
	f.refused("TooManyRules", rule(l1, 502)...)
	if _, code := f.cliDirect(rule(l2, 503)...); code != "" {
		t.Fatalf("plain moto refuses the 101st rule of a load balancer (%s): the rule needs no copy", code)
	}
}

// listener creates a listener forwarding to tg, with certificate when it is not empty.
func (f *fixture) listener(lb string, protocol elbtypes.ProtocolEnum, port int32, tg, certificate string) string {
	f.t.Helper()
	in := &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lb), Protocol: protocol, Port: aws.Int32(port),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}}
	if certificate != "" {
		in.Certificates = []elbtypes.Certificate{{CertificateArn: aws.String(certificate)}}
	}
	out, err := f.elb.CreateListener(f.ctx, in)
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.Listeners[0].ListenerArn)
}

// certificates imports n self-signed certificates with keys of kind ("rsa" or "ec") into ACM.
func (f *fixture) certificates(n int, kind string) []string {
	f.t.Helper()
	client := acm.NewFromConfig(AWSConfig(f.moto.Endpoint, testRegion))
	var arns []string
	for i := range n {
		cert, key := selfSigned(f.t, fmt.Sprintf("c%d-%d.example.com", i, f.n), kind)
		out, err := client.ImportCertificate(f.ctx, &acm.ImportCertificateInput{Certificate: cert, PrivateKey: key})
		if err != nil {
			f.t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.CertificateArn))
	}
	return arns
}

// selfSigned returns a PEM certificate and key for host with an RSA 2048 or EC P-256 key.
func selfSigned(t *testing.T, host, kind string) (certPEM, keyPEM []byte) {
	t.Helper()
	var key any
	var pub any
	switch kind {
	case "ec":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	default:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host},
		DNSNames: []string{host}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}
