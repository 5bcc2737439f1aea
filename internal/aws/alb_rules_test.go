package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

const (
	albTGA = "default/web:default-shop:HTTPRoute-default-shop:8080"
	albTGB = "default/web:default-shop:HTTPRoute-default-canary:8080"
)

func albTags(stack, resource string) model.Tags {
	return model.Tags{"elbv2.k8s.aws/cluster": testCluster, "gateway.k8s.aws.alb/stack": stack, "gateway.k8s.aws.alb/resource": resource}
}

// importTestCertificate imports a fresh self-signed certificate into moto's ACM and returns its ARN.
func importTestCertificate(t *testing.T, host string) string {
	t.Helper()
	certPEM, keyPEM := testKeyPair(t, host)
	client := acm.NewFromConfig(aws.Config{Region: testRegion, Credentials: testCreds}, func(o *acm.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
	resp, err := client.ImportCertificate(context.Background(), &acm.ImportCertificateInput{
		Certificate: []byte(certPEM), PrivateKey: []byte(keyPEM),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(resp.CertificateArn)
}

func albRule(stack string, port, prio int32, conds []model.Condition, actions ...model.Action) model.Rule {
	return model.Rule{Priority: prio, Conditions: conds, Actions: actions, Tags: albTags(stack, ruleKey(port, prio))}
}

func pathIs(p string) []model.Condition {
	return []model.Condition{{Field: "path-pattern", Values: []string{p}}}
}

// albStack is an ALB with HTTP:80 and HTTPS:443 listeners, two target groups and rules with
// every condition type and every action moto accepts.
func albStack(stack, suffix, vpcID string, subnets []string, certs []string) *model.Stack {
	tg := func(id, name string) model.TargetGroup {
		return model.TargetGroup{ID: id, Name: name, TargetType: "ip", Protocol: "HTTP", ProtocolVersion: "HTTP1", Port: 8080,
			IPAddressType: "ipv4", VPCID: vpcID, Tags: albTags(stack, id),
			HealthCheck: model.HealthCheck{Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/", HTTPCode: "200-399",
				IntervalSeconds: 15, TimeoutSeconds: 5, HealthyThreshold: 3, UnhealthyThreshold: 3}}
	}
	notFound := []model.Action{{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{StatusCode: "404", ContentType: "text/plain"}}}
	sticky := forward(map[string]int32{albTGB: 1})
	sticky.Forward.Stickiness = &model.Stickiness{Enabled: true, DurationSeconds: 3600}
	oidc := model.Action{Type: model.ActionAuthenticateOIDC, AuthenticateOIDC: &model.AuthenticateOIDCAction{
		Issuer: "https://idp.example.com", AuthorizationEndpoint: "https://idp.example.com/authorize", TokenEndpoint: "https://idp.example.com/token",
		UserInfoEndpoint: "https://idp.example.com/userinfo", ClientID: "web", ClientSecret: model.NewSecret("oidc-client-secret-value"),
		Scope: "openid email", AuthenticationRequestExtraParams: map[string]string{"prompt": "login"}}}
	cognito := model.Action{Type: model.ActionAuthenticateCognito, AuthenticateCognito: &model.AuthenticateCognitoAction{
		UserPoolARN: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc", UserPoolClientID: "client", UserPoolDomain: "web-auth",
		OnUnauthenticatedRequest: "deny", SessionTimeout: 3600}}
	r := func(port, prio int32, conds []model.Condition, actions ...model.Action) model.Rule {
		return albRule(stack, port, prio, conds, actions...)
	}
	http := []model.Rule{
		r(80, 10, []model.Condition{{Field: "host-header", Values: []string{"a.example.com"}}, {Field: "path-pattern", Values: []string{"/shop*"}}},
			forward(map[string]int32{albTGA: 80, albTGB: 20})),
		// moto fails on regex-only conditions (docs/moto-notes.md); TestConditionsRoundTrip
		// covers RegexValues.
		r(80, 20, []model.Condition{{Field: "path-pattern", Values: []string{"/api/v*"}}, {Field: "http-header", HeaderName: "x-env", Values: []string{"canary"}}},
			sticky),
		r(80, 30, []model.Condition{{Field: "http-header", HeaderName: "user-agent", Values: []string{"*Mobile*"}}}, forward(map[string]int32{albTGA: 1})),
		r(80, 40, []model.Condition{{Field: "query-string", QueryValues: []model.KeyValue{{Key: "version", Value: "2"}, {Value: "beta"}}}}, forward(map[string]int32{albTGA: 1})),
		r(80, 50, []model.Condition{{Field: "http-request-method", Values: []string{"POST", "PUT"}}}, forward(map[string]int32{albTGB: 1})),
		r(80, 60, []model.Condition{{Field: "source-ip", Values: []string{"10.0.0.0/8", "192.0.2.0/24"}}},
			model.Action{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{StatusCode: "503", ContentType: "text/plain", MessageBody: "maintenance"}}),
		r(80, 70, pathIs("/old*"), model.Action{Type: model.ActionRedirect, Redirect: &model.RedirectAction{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}}),
		r(80, 80, []model.Condition{{Field: "host-header", Values: []string{"*.example.org"}}}, forward(map[string]int32{albTGA: 50, albTGB: 50})),
		r(80, 90, pathIs("/exact"), forward(map[string]int32{albTGA: 1})),
		r(80, 100, []model.Condition{{Field: "http-header", HeaderName: "x-version", Values: []string{"v1", "v2"}}}, forward(map[string]int32{albTGB: 1})),
	}
	http[1].Transforms = []model.Transform{{Type: "url-rewrite", Regex: "^/api/(.*)$", Replace: "/$1"}}
	http[2].Transforms = []model.Transform{{Type: "host-header-rewrite", Regex: "^(.*)$", Replace: "internal.example.com"}}
	https := []model.Rule{
		r(443, 10, pathIs("/app*"), oidc, forward(map[string]int32{albTGA: 1})),
		r(443, 20, pathIs("/admin*"), cognito, forward(map[string]int32{albTGA: 1})),
		r(443, 30, pathIs("/static*"), forward(map[string]int32{albTGB: 1})),
	}
	s := &model.Stack{ID: stack, Type: model.Application,
		SecurityGroups: []model.SecurityGroup{{ID: model.ManagedSecurityGroupID, Name: "k8s-sg-" + suffix, Description: "[k8s] Managed SecurityGroup for LoadBalancer",
			Ingress: []model.IngressRule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDR: "0.0.0.0/0"}, {Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "0.0.0.0/0"}},
			Tags:    albTags(stack, model.ManagedSecurityGroupID)}},
		TargetGroups: []model.TargetGroup{tg(albTGA, "k8s-tga-"+suffix), tg(albTGB, "k8s-tgb-"+suffix)},
		LoadBalancer: &model.LoadBalancer{Name: "k8s-lb-" + suffix, Scheme: "internal", IPAddressType: "ipv4",
			SecurityGroups: []model.Ref{{ID: model.ManagedSecurityGroupID}}, Tags: albTags(stack, model.LoadBalancerID)},
		Listeners: []model.Listener{
			{Port: 80, Protocol: "HTTP", Tags: albTags(stack, "80"), DefaultActions: notFound, Rules: http},
			{Port: 443, Protocol: "HTTPS", Tags: albTags(stack, "443"), DefaultActions: notFound, Rules: https,
				Certificates: externalRefs(certs), SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06"},
		},
	}
	for _, id := range subnets {
		s.LoadBalancer.Subnets = append(s.LoadBalancer.Subnets, model.SubnetMapping{SubnetID: id})
	}
	return s
}

// convergeALB is converge for an ALB stack: plan, apply, and check that a second plan against
// desired is empty. It returns the plan and the write calls it made.
func convergeALB(t *testing.T, c *Cloud, desired *model.Stack) ([]plan.Change, map[string]int) {
	t.Helper()
	ctx := context.Background()
	observed, err := c.Observe(ctx, desired.ID, desired.Type)
	if err != nil {
		t.Fatal(err)
	}
	changes := plan.Diff(desired, observed)
	before := c.CallCounts()
	if _, err := c.Apply(ctx, desired, observed, changes); err != nil {
		t.Fatalf("apply:\n%s\nerror: %v", lines(changes), err)
	}
	writes := writeCalls(before, c.CallCounts())
	again, err := c.Observe(ctx, desired.ID, desired.Type)
	if err != nil {
		t.Fatal(err)
	}
	if rest := plan.Diff(desired, again); len(rest) != 0 {
		t.Fatalf("after applying\n%s\nthe plan is not empty:\n%s", lines(changes), lines(rest))
	}
	return changes, writes
}

// writeCalls is the difference in calls that change something (not Describe*) between two
// CallCounts snapshots.
func writeCalls(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range after {
		_, op, _ := strings.Cut(k, ":")
		if strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List") {
			continue
		}
		if d := n - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func wantWrites(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: write calls %v, want %v", what, got, want)
		return
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: write calls %v, want %v", what, got, want)
			return
		}
	}
}

func TestALBStackRoundTrip(t *testing.T) {
	t.Parallel()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/web-every"
	certs := []string{importTestCertificate(t, "web.example.com"), importTestCertificate(t, "api.example.com"), importTestCertificate(t, "old.example.com")}
	desired := albStack(stack, "every", vpcID, subnets, certs[:2])
	changes, _ := convergeALB(t, c, desired)
	if n := len(changes); n != 1+2+1+2+13 {
		t.Errorf("create plan has %d changes, want 19 (SG, 2 TGs, LB, 2 listeners, 13 rules):\n%s", n, lines(changes))
	}
	t.Run("steady state writes nothing", func(t *testing.T) {
		_, writes := convergeALB(t, c, desired)
		wantWrites(t, "steady state", writes, map[string]int{})
	})

	t.Run("a rule between two others is one CreateRule", func(t *testing.T) {
		l := &desired.Listeners[0]
		l.Rules = append(l.Rules, albRule(stack, 80, 55, pathIs("/between*"), forward(map[string]int32{albTGA: 1})))
		desired.Sort()
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "insert", changes, []string{"create Rule 80:55"})
		wantWrites(t, "insert", writes, map[string]int{"elbv2:CreateRule": 1})
	})

	t.Run("a rule that pushes others is one CreateRule and priority moves", func(t *testing.T) {
		l := &desired.Listeners[0]
		// The source-ip rule moves 60 → 61 and the new rule takes 60.
		for i := range l.Rules {
			if l.Rules[i].Priority == 60 {
				l.Rules[i].Priority = 61
			}
		}
		l.Rules = append(l.Rules, albRule(stack, 80, 60, pathIs("/pushed*"), forward(map[string]int32{albTGB: 1})))
		desired.Sort()
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "push", changes, []string{"update RulePriorities 80", "create Rule 80:60"})
		wantWrites(t, "push", writes, map[string]int{"elbv2:CreateRule": 1, "elbv2:SetRulePriorities": 1})
	})

	t.Run("a swap goes through free priorities in two calls", func(t *testing.T) {
		l := &desired.Listeners[1]
		l.Rules[0].Priority, l.Rules[1].Priority = 20, 10
		desired.Sort()
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "swap", changes, []string{"update RulePriorities 443"})
		wantWrites(t, "swap", writes, map[string]int{"elbv2:SetRulePriorities": 2})
	})

	t.Run("a transform change is one ModifyRule", func(t *testing.T) {
		desired.Listeners[0].Rules[1].Transforms = []model.Transform{{Type: "url-rewrite", Regex: "^/api/v1/(.*)$", Replace: "/v1/$1"}}
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "transform", changes, []string{"update Rule 80:20"})
		wantWrites(t, "transform", writes, map[string]int{"elbv2:ModifyRule": 1})
	})

	t.Run("dropping transforms is one ModifyRule that resets them", func(t *testing.T) {
		desired.Listeners[0].Rules[2].Transforms = nil
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "reset", changes, []string{"update Rule 80:30"})
		wantWrites(t, "reset", writes, map[string]int{"elbv2:ModifyRule": 1})
	})

	t.Run("weights change is one ModifyRule", func(t *testing.T) {
		desired.Listeners[0].Rules[0].Actions = []model.Action{forward(map[string]int32{albTGA: 10, albTGB: 90})}
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "weights", changes, []string{"update Rule 80:10"})
		wantWrites(t, "weights", writes, map[string]int{"elbv2:ModifyRule": 1})
	})

	t.Run("certificates and SSL policy change in place", func(t *testing.T) {
		l := &desired.Listeners[1]
		l.Certificates = externalRefs([]string{certs[0], certs[2]})
		l.SSLPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "certificates", changes, []string{"update Listener 443"})
		wantWrites(t, "certificates", writes, map[string]int{"elbv2:ModifyListener": 1, "elbv2:AddListenerCertificates": 1, "elbv2:RemoveListenerCertificates": 1})
	})

	t.Run("a route goes: only its rules are deleted", func(t *testing.T) {
		l := &desired.Listeners[0]
		l.Rules = l.Rules[:len(l.Rules)-2]
		changes, writes := convergeALB(t, c, desired)
		wantOps(t, "remove", changes, []string{"delete Rule 80:90", "delete Rule 80:100"})
		wantWrites(t, "remove", writes, map[string]int{"elbv2:DeleteRule": 2})
	})

	t.Run("deleting the stack leaves nothing tagged", func(t *testing.T) {
		converge(t, c, &model.Stack{ID: stack, Type: model.Application})
		assertNothingTaggedFor(t, "gateway.k8s.aws.alb/stack", stack)
	})
}

func externalRefs(arns []string) []model.Ref {
	out := make([]model.Ref, 0, len(arns))
	for _, a := range arns {
		out = append(out, model.Ref{External: a})
	}
	return out
}
