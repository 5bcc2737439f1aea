package controller_test

import (
	"fmt"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
)

// rewriteRoute is an HTTPRoute on gw's http listener whose one rule rewrites the host and the
// path prefix (URLRewrite), so its ALB rule carries both kinds of transform.
const rewriteRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: rewrite
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: URLRewrite
      urlRewrite:
        hostname: new.example.com
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
    backendRefs: [{name: backend, port: 3000}]
`

// rewriteConverges: a route with a URLRewrite filter is one rule with its transforms, and the
// resyncs that follow (each reads the rules back from AWS, the applied stack being trusted
// for a second only) find them as written and modify nothing.
func (w *faultWorld) rewriteConverges(t *testing.T) {
	ns := newNamespaceIn(t, w.client)
	applyFiles(t, w.client, ns, "examples/seed-l4/backend-service.yaml")
	applyYAML(t, w.client, ns, albClass+"---"+albConfig("")+"---"+ipTargets+"---"+
		albGateway("gw", "  - {name: http, protocol: HTTP, port: 80}\n")+"---"+rewriteRoute)
	w.waitListenerCondition(t, ns, "gw", "http", "True", "Programmed")
	listener := listenerByPort(t, w.loadBalancerOf(t, "gateway.k8s.aws.alb/stack", ns+"/gw"), 80)
	eventually(t, 30*time.Second, "the rule with its two transforms", func() error {
		rs := rules(t, listener)
		if len(rs) != 1 || len(rs[0].Transforms) != 2 {
			return fmt.Errorf("%d rules, the first with transforms %+v", len(rs), rs)
		}
		for _, tr := range rs[0].Transforms {
			switch {
			case tr.HostHeaderRewriteConfig != nil && awssdk.ToString(tr.HostHeaderRewriteConfig.Rewrites[0].Replace) == "new.example.com":
			case tr.UrlRewriteConfig != nil && awssdk.ToString(tr.UrlRewriteConfig.Rewrites[0].Replace) == "/new$1":
			default:
				return fmt.Errorf("transform %s: %+v %+v", tr.Type, tr.HostHeaderRewriteConfig, tr.UrlRewriteConfig)
			}
		}
		return nil
	})
	before := w.proxy.Counts()
	// Three resync periods, each past the applied stack's trust: at least two full reads.
	time.Sleep(10 * time.Second)
	after := w.proxy.Counts()
	if reads := after["DescribeRules"] - before["DescribeRules"]; reads < 2 {
		t.Fatalf("%d DescribeRules in three resync periods: the resyncs did not read the rules back", reads)
	}
	for _, op := range []string{"ModifyRule", "CreateRule", "DeleteRule"} {
		if n := after[op] - before[op]; n != 0 {
			t.Errorf("%d %s calls on resyncs of an unchanged route with a URLRewrite filter, want none", n, op)
		}
	}
	w.deleteGateway(t, ns, "gw", time.Minute)
}
