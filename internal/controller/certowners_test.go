package controller_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/elbgateway/elbgateway/internal/aws"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestCertificateDiscoverySkipsOursAndOtherAuthorities: discovery by hostname never picks a
// certificate elbgateway imported for a Secret (it carries our tags; here, an exact match
// that would beat the wildcard), and with --allowed-certificate-authority-arns never a private
// certificate another CA issued (here, again an exact match beside an allowed wildcard).
func TestCertificateDiscoverySkipsOursAndOtherAuthorities(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	ctx := context.Background()
	const cluster = "cert-owners"
	const allowedCA = "arn:aws:acm-pca:" + region + ":123456789012:certificate-authority/11111111-1111-1111-1111-111111111111"
	const otherCA = "arn:aws:acm-pca:" + region + ":123456789012:certificate-authority/22222222-2222-2222-2222-222222222222"

	// Imported for a Secret of a Gateway of another cluster: tagged as elbgateway tags them.
	importTaggedCertificate(t, "shop.owners.example.org", map[string]string{"elbv2.k8s.aws/cluster": "elsewhere",
		"gateway.k8s.aws.alb/stack": "ns/gw", "gateway.k8s.aws.alb/resource": "ns/secret",
		"gateway.k8s.aws.alb/certificate-hash": "0123456789abcdef"})
	userWildcard := importCertificate(t, "*.owners.example.org")
	pca := acm.NewFromConfig(testenv.AWSConfig(env.moto.Endpoint, region))
	request := func(domain, ca string) string {
		out, err := pca.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: awssdk.String(domain),
			CertificateAuthorityArn: awssdk.String(ca)})
		if err != nil {
			t.Fatal(err)
		}
		return awssdk.ToString(out.CertificateArn)
	}
	request("api.pca.example.org", otherCA)
	allowedWildcard := request("*.pca.example.org", allowedCA)

	w := newOwnWorld(t, cluster)
	w.startController(t, func(o *aws.Options) { o.AllowedCertificateAuthorityARNs = []string{allowedCA} })
	c, ns := w.client, w.ns

	applyYAML(t, c, ns, albClass+"---"+albConfig("")+"---"+albGateway("gw",
		"  - {name: shop, protocol: HTTPS, port: 443, hostname: shop.owners.example.org}\n"+
			"  - {name: api, protocol: HTTPS, port: 8443, hostname: api.pca.example.org}\n")+`---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: app
spec:
  parentRefs:
  - {name: gw}
  rules:
  - backendRefs: [{name: app, port: 80}]
`)
	_, lbARN := programmedGateway(t, c, ns, "gw")
	want := map[int32]string{443: userWildcard, 8443: allowedWildcard}
	eventually(t, 60*timeoutScale, "each listener with the certificate discovery may use", func() error {
		out, err := env.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: awssdk.String(lbARN)})
		if err != nil {
			return err
		}
		got := map[int32][]string{}
		for _, l := range out.Listeners {
			for _, cert := range l.Certificates {
				got[awssdk.ToInt32(l.Port)] = append(got[awssdk.ToInt32(l.Port)], awssdk.ToString(cert.CertificateArn))
			}
		}
		for port, arn := range want {
			if !slices.Equal(got[port], []string{arn}) {
				return fmt.Errorf("listener %d has certificates %v, want only %s", port, got[port], arn)
			}
		}
		return nil
	})
}
