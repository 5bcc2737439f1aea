package aws

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
	"github.com/elbgateway/elbgateway/internal/testenv"
)

// Tests of the controller against AWS's API contract where it differs from what an emulator
// accepts; docs/aws-contract.md lists the rule each one relies on.

// importCertificateARN imports a fresh self-signed certificate for host and returns its ARN.
func importCertificateARN(t *testing.T, host string) string {
	t.Helper()
	body, key := testKeyPair(t, host)
	resp, err := rawACM().ImportCertificate(context.Background(), &acm.ImportCertificateInput{Certificate: []byte(body), PrivateKey: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(resp.CertificateArn)
}

// TestListenerCertificatesOnePerCall: a listener with a default and two extra certificates
// adds the extras in two AddListenerCertificates calls, and removes them in two
// RemoveListenerCertificates calls ("You can specify one certificate per call").
func TestListenerCertificatesOnePerCall(t *testing.T) {
	t.Parallel()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "certs/one-per-call"
	desired := nlbStack(stack, "onecert", vpcID, subnets)
	l := &desired.Listeners[0]
	l.Protocol, l.SSLPolicy, l.ALPNPolicy = "TLS", "ELBSecurityPolicy-2016-08", "None"
	for _, host := range []string{"a.onecert.test", "b.onecert.test", "c.onecert.test"} {
		l.Certificates = append(l.Certificates, model.Ref{External: importCertificateARN(t, host)})
	}

	before := c.CallCounts()
	converge(t, c, desired)
	after := c.CallCounts()
	if n := after["elbv2:AddListenerCertificates"] - before["elbv2:AddListenerCertificates"]; n != 2 {
		t.Errorf("creating a listener with two extra certificates made %d AddListenerCertificates calls, want 2 (one per certificate)", n)
	}

	l.Certificates = l.Certificates[:1]
	before = c.CallCounts()
	converge(t, c, desired)
	after = c.CallCounts()
	if n := after["elbv2:RemoveListenerCertificates"] - before["elbv2:RemoveListenerCertificates"]; n != 2 {
		t.Errorf("dropping two extra certificates made %d RemoveListenerCertificates calls, want 2 (one per certificate)", n)
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// runInstance starts an instance in subnet and returns its ID.
func runInstance(t *testing.T, subnet string) string {
	t.Helper()
	e, _ := rawClients(t)
	resp, err := e.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(resp.Instances[0].InstanceId)
}

// registeredZones reads a target group's targets with the test's own client: ID → zone.
func registeredZones(t *testing.T, tgARN string) map[string]string {
	t.Helper()
	_, elb := rawClients(t)
	resp, err := elb.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range resp.TargetHealthDescriptions {
		out[aws.ToString(d.Target.Id)] = aws.ToString(d.Target.AvailabilityZone)
	}
	return out
}

// TestTargetZones: instance targets are registered without an AvailabilityZone (AWS refuses
// one for instance target groups), ip targets inside the VPC without one, and ip targets
// outside the VPC's CIDR blocks with "all"; the VPC's blocks are read once.
func TestTargetZones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	rec := newRecorder(t)
	c := newCloudAt(t, vpcID, rec.URL)
	const stack = "default/target-zones"
	desired := nlbStack(stack, "zones", vpcID, subnets)
	desired.TargetGroups = append(desired.TargetGroups, targetGroup(stack, tg2, "k8s-tg2-zones", "instance", 30080, vpcID))
	converge(t, c, desired)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	arns := map[string]string{}
	for _, tg := range observed.TargetGroups {
		arns[tg.ID] = tg.ARN
	}

	instance := runInstance(t, subnets[0])
	// The zone a node's provider ID names is ignored.
	if err := c.RegisterTargets(ctx, arns[tg2], []model.Target{{ID: instance, Port: 30080, AvailabilityZone: "us-east-1a"}}); err != nil {
		t.Fatalf("registering an instance target: %v", err)
	}
	if got := rec.values("RegisterTargets", "Targets.member.1.AvailabilityZone"); !slices.Equal(got, []string{""}) {
		t.Errorf("instance target sent with zone %q, want none", got)
	}
	if got := registeredZones(t, arns[tg2]); len(got) != 1 || got[instance] != "" {
		t.Errorf("instance targets registered as %v, want %s without a zone", got, instance)
	}

	inside := strings.TrimSuffix(strings.Split(subnetCIDR(t, subnets[1]), "/")[0], ".0") + ".7"
	before := c.CallCounts()
	if err := c.RegisterTargets(ctx, arns[tg1], []model.Target{{ID: inside, Port: 3000}, {ID: "192.168.40.7", Port: 3000}}); err != nil {
		t.Fatalf("registering ip targets: %v", err)
	}
	if err := c.RegisterTargets(ctx, arns[tg1], []model.Target{{ID: "192.168.40.8", Port: 3000}}); err != nil {
		t.Fatalf("registering an ip target: %v", err)
	}
	if n := c.CallCounts()["ec2:DescribeVpcs"] - before["ec2:DescribeVpcs"]; n != 1 {
		t.Errorf("two registrations read the VPC's CIDR blocks %d times, want 1 (cached)", n)
	}
	sent := map[string]string{}
	for _, form := range rec.forms("RegisterTargets")[1:] {
		for i := 1; form.Get(fmt.Sprintf("Targets.member.%d.Id", i)) != ""; i++ {
			sent[form.Get(fmt.Sprintf("Targets.member.%d.Id", i))] = form.Get(fmt.Sprintf("Targets.member.%d.AvailabilityZone", i))
		}
	}
	want := map[string]string{inside: "", "192.168.40.7": ZoneAll, "192.168.40.8": ZoneAll}
	if !maps.Equal(sent, want) {
		t.Errorf("ip targets sent with zones %v, want %v", sent, want)
	}
	for id := range registeredZones(t, arns[tg1]) {
		if _, ok := want[id]; !ok {
			t.Errorf("unexpected target %s registered", id)
		}
	}
	if err := c.DeregisterTargets(ctx, arns[tg1], []model.Target{{ID: "192.168.40.7", Port: 3000}}); err != nil {
		t.Fatalf("deregistering an ip target outside the VPC: %v", err)
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

func subnetCIDR(t *testing.T, subnet string) string {
	t.Helper()
	e, _ := rawClients(t)
	resp, err := e.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(resp.Subnets[0].CidrBlock)
}

// ec2APIVersion is the Version parameter of EC2's Query requests.
const ec2APIVersion = "2016-11-15"

// recorder is a reverse proxy in front of the test's AWS endpoint that keeps the form of
// every Query-protocol request (ELBv2, EC2), to check what the controller sent.
type recorder struct {
	URL string
	mu  sync.Mutex
	got []url.Values
	// refuse, if set, answers a request with an AWS Query-protocol error when it returns a
	// code (the test's stand-in for a rule of AWS that the emulator lacks).
	refuse func(form url.Values) string
}

// setRefuse installs refuse.
func (r *recorder) setRefuse(refuse func(form url.Values) string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse = refuse
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	target, err := url.Parse(moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			r.mu.Lock()
			r.got = append(r.got, form)
			refuse := r.refuse
			r.mu.Unlock()
			if code := ""; refuse != nil {
				if code = refuse(form); code != "" {
					w.Header().Set("Content-Type", "text/xml")
					w.WriteHeader(http.StatusBadRequest)
					if form.Get("Version") == ec2APIVersion {
						// EC2's error document differs from the other Query APIs'.
						fmt.Fprintf(w, `<Response><Errors><Error><Code>%s</Code><Message>refused by the test</Message></Error></Errors><RequestID>test</RequestID></Response>`, code)
						return
					}
					fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>refused by the test</Message></Error><RequestId>test</RequestId></ErrorResponse>`, code)
					return
				}
			}
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// forms returns the recorded requests of one action, in order.
func (r *recorder) forms(action string) []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []url.Values
	for _, f := range r.got {
		if f.Get("Action") == action {
			out = append(out, f)
		}
	}
	return out
}

// values returns one parameter of every recorded request of an action.
func (r *recorder) values(action, key string) []string {
	var out []string
	for _, f := range r.forms(action) {
		out = append(out, f.Get(key))
	}
	return out
}

// newCloudAt is newCloud talking to endpoint.
func newCloudAt(t *testing.T, vpcID, endpoint string) *Cloud {
	t.Helper()
	c, err := New(context.Background(), Options{
		Region: testRegion, VPCID: vpcID, ClusterName: testCluster,
		Endpoint: endpoint, Credentials: testCreds, Registerer: prometheus.NewRegistry(),
		DeleteRetryInterval: 50 * time.Millisecond, DeleteTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTargetGroupAttributeOrder: the draining interval of unhealthy targets is written before
// their connection termination is switched back on (it "can only be configured when
// target_health_state.unhealthy.connection_termination.enabled is false").
func TestTargetGroupAttributeOrder(t *testing.T) {
	keys := func(m map[string]string) []string {
		var out []string
		for _, a := range toTGAttributes(m) {
			out = append(out, aws.ToString(a.Key)+"="+aws.ToString(a.Value))
		}
		return out
	}
	on := map[string]string{"target_health_state.unhealthy.connection_termination.enabled": "true",
		"target_health_state.unhealthy.draining_interval_seconds": "0", "stickiness.enabled": "false"}
	want := []string{"stickiness.enabled=false", "target_health_state.unhealthy.draining_interval_seconds=0",
		"target_health_state.unhealthy.connection_termination.enabled=true"}
	if got := keys(on); !slices.Equal(got, want) {
		t.Errorf("switching termination on writes %v, want %v", got, want)
	}
	off := map[string]string{"target_health_state.unhealthy.connection_termination.enabled": "false",
		"target_health_state.unhealthy.draining_interval_seconds": "60"}
	want = []string{"target_health_state.unhealthy.connection_termination.enabled=false", "target_health_state.unhealthy.draining_interval_seconds=60"}
	if got := keys(off); !slices.Equal(got, want) {
		t.Errorf("switching termination off writes %v, want %v", got, want)
	}
}

// TestNLBListenerSendsNoStickiness: an NLB listener's forward action goes out without
// TargetGroupStickinessConfig, even from a stack that carries one.
func TestNLBListenerSendsNoStickiness(t *testing.T) {
	t.Parallel()
	vpcID, subnets := testVPC(t)
	rec := newRecorder(t)
	c := newCloudAt(t, vpcID, rec.URL)
	const stack = "default/nlb-stickiness"
	desired := nlbStack(stack, "nlbsticky", vpcID, subnets)
	desired.Listeners[0].DefaultActions[0].Forward.Stickiness = &model.Stickiness{}
	ctx := context.Background()
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(ctx, desired, observed, plan.Diff(desired, observed)); err != nil {
		t.Fatal(err)
	}
	forms := rec.forms("CreateListener")
	if len(forms) != 1 {
		t.Fatalf("%d CreateListener calls, want 1", len(forms))
	}
	for k := range forms[0] {
		if strings.Contains(k, "TargetGroupStickinessConfig") {
			t.Errorf("NLB CreateListener sent %s=%s", k, forms[0].Get(k))
		}
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// TestAuthorizeIngressAfterDuplicate: AuthorizeSecurityGroupIngress refuses a whole request
// when one permission exists already; the other permissions of the request are then added
// one by one.
func TestAuthorizeIngressAfterDuplicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/sg-duplicate"
	desired := nlbStack(stack, "sgdup", vpcID, subnets)
	converge(t, c, desired)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	sg := &desired.SecurityGroups[0]
	sg.Ingress = append(sg.Ingress,
		model.IngressRule{Protocol: "tcp", FromPort: 9090, ToPort: 9090, CIDR: "0.0.0.0/0"},
		model.IngressRule{Protocol: "tcp", FromPort: 9091, ToPort: 9091, CIDR: "0.0.0.0/0"})
	changes := plan.Diff(desired, observed)
	// Someone adds one of the two rules between observe and apply.
	e, _ := rawClients(t)
	if _, err := e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(observed.SecurityGroups[0].GroupID),
		IpPermissions: toIPPermissions([]model.IngressRule{{Protocol: "tcp", FromPort: 9090, ToPort: 9090, CIDR: "0.0.0.0/0"}})}); err != nil {
		t.Fatal(err)
	}
	before := c.CallCounts()
	if _, err := c.Apply(ctx, desired, observed, changes); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if n := c.CallCounts()["ec2:AuthorizeSecurityGroupIngress"] - before["ec2:AuthorizeSecurityGroupIngress"]; n != 3 {
		t.Errorf("%d AuthorizeSecurityGroupIngress calls, want 3 (the refused request, then one per permission)", n)
	}
	again, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if rest := plan.Diff(desired, again); len(rest) != 0 {
		t.Errorf("after the apply the plan is not empty (a rule is missing):\n%s", lines(rest))
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// TestRetryBriefly: a code AWS answers for a moment after a create is retried a bounded
// number of times; other errors are not retried.
func TestRetryBriefly(t *testing.T) {
	c := &Cloud{opts: Options{ConsistencyRetryInterval: time.Millisecond}}
	calls := 0
	notFound := &smithy.GenericAPIError{Code: "InvalidGroup.NotFound"}
	err := c.retryBriefly(context.Background(), func() error {
		calls++
		if calls < 3 {
			return notFound
		}
		return nil
	}, "InvalidGroup.NotFound")
	if err != nil || calls != 3 {
		t.Errorf("retryBriefly = %v after %d calls, want success on the third", err, calls)
	}
	calls = 0
	err = c.retryBriefly(context.Background(), func() error { calls++; return notFound }, "InvalidGroup.NotFound")
	if errorCode(err) != "InvalidGroup.NotFound" || calls != briefRetries+1 {
		t.Errorf("retryBriefly = %v after %d calls, want the error after %d calls", err, calls, briefRetries+1)
	}
	calls = 0
	err = c.retryBriefly(context.Background(), func() error { calls++; return &smithy.GenericAPIError{Code: "UnauthorizedOperation"} }, "InvalidGroup.NotFound")
	if calls != 1 || err == nil {
		t.Errorf("another error was retried: %d calls", calls)
	}
}

// TestDescribeTagsDropsDeletedARNs: AWS refuses a whole DescribeTags call when one of its ARNs
// no longer exists; the chunk is split until the missing ARN stands alone, and it is left out.
func TestDescribeTagsDropsDeletedARNs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, _ := testVPC(t)
	rec := newRecorder(t)
	c := newCloudAt(t, vpcID, rec.URL)
	_, elb := rawClients(t)
	var arns []string
	for i := range 5 {
		resp, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(fmt.Sprintf("k8s-dtags-%d-%s", i, vpcID[4:12])),
			Protocol: "TCP", Port: aws.Int32(80), VpcId: aws.String(vpcID), TargetType: "ip",
			Tags: []elbtypes.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}}})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(resp.TargetGroups[0].TargetGroupArn))
	}
	gone := arns[3]
	if _, err := elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	rec.setRefuse(func(form url.Values) string {
		if form.Get("Action") != "DescribeTags" {
			return ""
		}
		for k, v := range form {
			if strings.HasPrefix(k, "ResourceArns.member.") && v[0] == gone {
				return "TargetGroupNotFound"
			}
		}
		return ""
	})
	tags, err := c.elbTags(ctx, arns)
	if err != nil {
		t.Fatalf("elbTags with a deleted ARN: %v", err)
	}
	if _, ok := tags[gone]; ok || len(tags) != 4 {
		t.Errorf("tags of %d ARNs (deleted one included: %v), want the 4 that exist", len(tags), ok)
	}
	for i, arn := range arns {
		if arn != gone && tags[arn]["n"] != fmt.Sprint(i) {
			t.Errorf("tags of %s = %v, want n=%d", arn, tags[arn], i)
		}
	}
	// [5] refused → [2] ok, [3] refused → [1] ok, [2] refused → [1] refused (dropped), [1] ok.
	if n := len(rec.forms("DescribeTags")); n != 7 {
		t.Errorf("%d DescribeTags calls, want 7 (halving until the deleted ARN stands alone)", n)
	}
	for _, arn := range arns {
		if arn != gone {
			_, _ = elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
		}
	}
}

// TestNoAdoptionOfDeletedTargetGroup: a target group we deleted (replaced under the same
// name) that AWS still lists by name is never adopted; after a few brief retries the apply
// fails and the next reconcile tries again.
func TestNoAdoptionOfDeletedTargetGroup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	c.opts.ConsistencyRetryInterval = time.Millisecond
	const stack = "default/tg-being-deleted"
	desired := nlbStack(stack, "tgdel", vpcID, subnets)
	converge(t, c, desired)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	old := observed.TargetGroups[0].ARN
	// As if this process had just deleted it and AWS still listed it.
	c.deletedTGs.put(old, true, c.now())
	// The stack as it is once its target group was deleted for a replacement.
	replacing := *observed
	replacing.TargetGroups, replacing.Listeners = nil, nil
	before := c.CallCounts()
	_, err = c.Apply(ctx, desired, &replacing, plan.Diff(desired, &replacing))
	if err == nil || !strings.Contains(err.Error(), "still lists it") {
		t.Errorf("apply = %v, want the refusal to adopt a deleted target group", err)
	}
	after := c.CallCounts()
	if n := after["elbv2:DescribeTargetGroups"] - before["elbv2:DescribeTargetGroups"]; n != briefRetries+1 {
		t.Errorf("%d DescribeTargetGroups calls, want %d (a bounded wait)", n, briefRetries+1)
	}
	// The create comes first (no look-up before a create, see uncertain.go); its answer, the
	// old group or DuplicateTargetGroupName, leads to the look-up.
	if n := after["elbv2:CreateTargetGroup"] - before["elbv2:CreateTargetGroup"]; n != 1 {
		t.Errorf("%d CreateTargetGroup calls, want 1", n)
	}
	c.deletedTGs.forget(old)
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// TestRegisterTargetsAroundAnInvalidOne: AWS refuses a whole RegisterTargets call when one
// instance is not running; the running ones are registered anyway and the refused one comes
// back in an InvalidTargetsError.
func TestRegisterTargetsAroundAnInvalidOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/invalid-target"
	desired := nlbStack(stack, "invtgt", vpcID, subnets)
	desired.TargetGroups[0] = targetGroup(stack, tg1, "k8s-tg1-invtgt", "instance", 30080, vpcID)
	converge(t, c, desired)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	arn := observed.TargetGroups[0].ARN
	running, other, stopped := runInstance(t, subnets[0]), runInstance(t, subnets[1]), runInstance(t, subnets[2])
	e, _ := rawClients(t)
	if _, err := e.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}}); err != nil {
		t.Fatal(err)
	}
	before := c.CallCounts()
	err = c.RegisterTargets(ctx, arn, []model.Target{{ID: running, Port: 30080}, {ID: stopped, Port: 30080}, {ID: other, Port: 30080}})
	var invalid *InvalidTargetsError
	if !errors.As(err, &invalid) || len(invalid.Targets) != 1 || invalid.Targets[0].ID != stopped || !strings.Contains(invalid.Message, stopped) {
		t.Fatalf("RegisterTargets = %v, want an InvalidTargetsError naming only %s", err, stopped)
	}
	if n := c.CallCounts()["elbv2:RegisterTargets"] - before["elbv2:RegisterTargets"]; n != 2 {
		t.Errorf("%d RegisterTargets calls, want 2 (the refused one, then the others together)", n)
	}
	got := registeredZones(t, arn)
	if _, ok := got[stopped]; len(got) != 2 || ok {
		t.Errorf("registered %v, want %s and %s", got, running, other)
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// rsaKeyPair is a self-signed RSA 2048 certificate for host and its key, as PEM.
func rsaKeyPair(t *testing.T, host string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// TestCertificateKeyChangeReplacesIt: ACM refuses to re-import a certificate whose key
// algorithm differs from the original's; the new content is imported as a new certificate,
// the listener moves to it (its default with ModifyListener, an extra one with Add- and
// RemoveListenerCertificates), and the old one is deleted. (An HTTPS listener: moto ignores
// a TLS listener's new certificates, docs/moto-notes.md.)
func TestCertificateKeyChangeReplacesIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "certs/key-change"
	def := importedCertificate(t, stack, "certs", "default", "key.example.com")
	extra := importedCertificate(t, stack, "certs", "extra", "extra.example.com")
	for _, cert := range []*model.Certificate{&def, &extra} {
		cert.Tags = albTags(stack, cert.ID)
	}
	desired := &model.Stack{ID: stack, Type: model.Application,
		SecurityGroups: []model.SecurityGroup{{ID: model.ManagedSecurityGroupID, Name: "k8s-sg-keychg", Description: "[k8s] Managed SecurityGroup for LoadBalancer",
			Ingress: []model.IngressRule{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "0.0.0.0/0"}}, Tags: albTags(stack, model.ManagedSecurityGroupID)}},
		LoadBalancer: &model.LoadBalancer{Name: "k8s-lb-keychg", Scheme: "internal", IPAddressType: "ipv4",
			SecurityGroups: []model.Ref{{ID: model.ManagedSecurityGroupID}}, Tags: albTags(stack, model.LoadBalancerID)},
		Listeners: []model.Listener{{Port: 443, Protocol: "HTTPS", Tags: albTags(stack, "443"), SSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
			Certificates:   []model.Ref{{ID: def.ID}, {ID: extra.ID}},
			DefaultActions: []model.Action{{Type: model.ActionFixedResponse, FixedResponse: &model.FixedResponseAction{StatusCode: "404", ContentType: "text/plain"}}}}},
		Certificates: []model.Certificate{def, extra},
	}
	for _, id := range subnets {
		desired.LoadBalancer.Subnets = append(desired.LoadBalancer.Subnets, model.SubnetMapping{SubnetID: id})
	}
	converge(t, c, desired)
	observed, err := c.Observe(ctx, stack, model.Application)
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]string{}
	for _, cert := range observed.Certificates {
		old[cert.ID] = cert.ARN
	}

	rotate := func(cert model.Certificate, host string) model.Certificate {
		body, key := rsaKeyPair(t, host)
		sum := sha256.Sum256([]byte(body + key))
		cert.Body, cert.PrivateKey, cert.Hash = body, model.NewSecret(key), hex.EncodeToString(sum[:])
		return cert
	}
	desired.Certificates = []model.Certificate{rotate(def, "key.example.com"), rotate(extra, "extra.example.com")}
	converge(t, c, desired)

	o, err := c.Observe(ctx, stack, model.Application)
	if err != nil {
		t.Fatal(err)
	}
	now := map[string]string{}
	for _, cert := range o.Certificates {
		now[cert.ID] = cert.ARN
	}
	for id, arn := range old {
		if now[id] == "" || now[id] == arn {
			t.Errorf("certificate %s after a key change: %q, want a new ARN (old %s)", id, now[id], arn)
		}
		if _, err := rawACM().DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)}); errorCode(err) != "ResourceNotFoundException" {
			t.Errorf("old certificate %s still exists (err %v)", arn, err)
		}
	}
	_, elb := rawClients(t)
	ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{o.Listeners[0].ARN}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ls.Listeners[0].Certificates[0].CertificateArn); got != now[def.ID] {
		t.Errorf("listener's default certificate %s, want the new %s", got, now[def.ID])
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Application})
	assertNothingTaggedFor(t, "gateway.k8s.aws.alb/stack", stack)
}

// TestNLBWithoutSecurityGroupsGetsReplaced: AWS refuses SetSecurityGroups on an NLB created
// without security groups; wanting groups replaces the load balancer instead.
func TestNLBWithoutSecurityGroupsGetsReplaced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	c, _ := newCloud(t, vpcID)
	const stack = "default/nlb-add-sgs"
	bare := nlbStack(stack, "addsgs", vpcID, subnets)
	bare.SecurityGroups, bare.LoadBalancer.SecurityGroups = nil, nil
	converge(t, c, bare)
	observed, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	before := c.CallCounts()
	converge(t, c, nlbStack(stack, "addsgs", vpcID, subnets))
	after := c.CallCounts()
	if n := after["elbv2:SetSecurityGroups"] - before["elbv2:SetSecurityGroups"]; n != 0 {
		t.Errorf("%d SetSecurityGroups calls on an NLB created without groups, want 0", n)
	}
	again, err := c.Observe(ctx, stack, model.Network)
	if err != nil {
		t.Fatal(err)
	}
	if again.LoadBalancer.ARN == observed.LoadBalancer.ARN || len(again.LoadBalancer.SecurityGroups) != 1 {
		t.Errorf("load balancer %s with groups %v, want a new one (not %s) with the managed group", again.LoadBalancer.ARN, again.LoadBalancer.SecurityGroups, observed.LoadBalancer.ARN)
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// TestAdoptedSecurityGroupIsRetaggedWithoutTheClusterTag: a security group left over from an
// interrupted create is adopted; only the tags it lacks are written, never the cluster tag,
// which the IAM policy allows only at creation (RetagOwnedSecurityGroupsKeepingTheClusterTag).
func TestAdoptedSecurityGroupIsRetaggedWithoutTheClusterTag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vpcID, subnets := testVPC(t)
	rec := newRecorder(t)
	c := newCloudAt(t, vpcID, rec.URL)
	const stack = "default/sg-adopt"
	desired := nlbStack(stack, "sgadopt", vpcID, subnets)
	sg := desired.SecurityGroups[0]
	e, _ := rawClients(t)
	if _, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(sg.Name), Description: aws.String(sg.Description),
		VpcId: aws.String(vpcID), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: toEC2Tags(sg.Tags)}}}); err != nil {
		t.Fatal(err)
	}
	desired.SecurityGroups[0].Tags = maps.Clone(sg.Tags)
	desired.SecurityGroups[0].Tags["team"] = "payments"
	nothing := &model.Stack{ID: stack, Type: model.Network}
	if _, err := c.Apply(ctx, desired, nothing, plan.Diff(desired, nothing)); err != nil {
		t.Fatal(err)
	}
	forms := rec.forms("CreateTags")
	if len(forms) != 1 {
		t.Fatalf("%d CreateTags calls, want 1 (the missing tag of the adopted group)", len(forms))
	}
	var keys []string
	for k, v := range forms[0] {
		if strings.HasPrefix(k, "Tag.") && strings.HasSuffix(k, ".Key") {
			keys = append(keys, v[0])
		}
	}
	if !slices.Equal(keys, []string{"team"}) {
		t.Errorf("CreateTags wrote keys %v, want only [team]", keys)
	}
	converge(t, c, &model.Stack{ID: stack, Type: model.Network})
	assertNothingTagged(t, stack)
}

// TestNewSecurityGroupNotListedYet: EC2 may not list a group for a moment after creating it.
// The reconcile after the create does not see the group, plans it again, finds its name taken
// (InvalidGroup.Duplicate), looks again briefly and adopts it: no second group, no error.
// (Its own moto: the layer's knobs apply to every client.)
func TestNewSecurityGroupNotListedYet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	own, err := testenv.StartMoto(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(own.Stop)
	own.Strict.SetKnobs(testenv.StrictKnobs{SecurityGroupDescribeDelayMS: 1500})
	e := ec2.NewFromConfig(aws.Config{Region: testRegion, Credentials: testCreds}, func(o *ec2.Options) { o.BaseEndpoint = aws.String(own.Endpoint) })
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.200.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	c := newCloudAt(t, vpcID, own.Endpoint)
	c.opts.ConsistencyRetryInterval = 100 * time.Millisecond
	const stack = "default/sg-not-listed"
	desired := &model.Stack{ID: stack, Type: model.Network, SecurityGroups: nlbStack(stack, "notlisted", vpcID, nil).SecurityGroups}
	nothing := &model.Stack{ID: stack, Type: model.Network}
	create := []plan.Change{{Op: plan.OpCreate, Kind: plan.KindSecurityGroup, ID: model.ManagedSecurityGroupID,
		Desired: plan.Resource{SecurityGroup: &desired.SecurityGroups[0]}}}
	for i := range 2 {
		// The second reconcile does not see the group yet either, and plans it again.
		if _, err := c.Apply(ctx, desired, nothing, create); err != nil {
			t.Fatalf("reconcile %d: %v", i+1, err)
		}
	}
	time.Sleep(1600 * time.Millisecond)
	groups, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("group-name"), Values: []string{desired.SecurityGroups[0].Name}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.SecurityGroups) != 1 {
		t.Errorf("%d groups named %s, want 1", len(groups.SecurityGroups), desired.SecurityGroups[0].Name)
	}
}
