package plan

import (
	"path/filepath"
	"slices"
	"testing"
)

// runs plays a plan where the changes named in fail fail, and returns the changes that run
// (attempted, including the failing ones) and those held back.
func runs(changes []Change, fail ...string) (ran, held []string) {
	var failed []Change
	for _, c := range changes {
		if _, wait := WaitsOnFailed(failed, c); wait {
			held = append(held, c.String())
			failed = append(failed, c)
			continue
		}
		ran = append(ran, c.String())
		if slices.Contains(fail, string(c.Op)+" "+string(c.Kind)+" "+c.ID) {
			failed = append(failed, c)
		}
	}
	return ran, held
}

func TestOnlyDependantsWait(t *testing.T) {
	plans := map[string][]Change{}
	for _, dir := range []string{"empty-to-nlb", "listener-added", "certificate-import", "delete-all", "rules-insert-route-push"} {
		plans[dir] = Diff(loadStack(t, filepath.Join("testdata", dir, "desired.yaml")), loadStack(t, filepath.Join("testdata", dir, "observed.yaml")))
	}
	const tg = "default/aws-tcp-gateway:default-tcp-backend-aws:TCPRoute-default-backend:3000"
	cases := []struct {
		plan string
		fail string
		held []string
	}{
		// The listener needs the load balancer's ARN.
		{"empty-to-nlb", "create LoadBalancer LoadBalancer", []string{"create Listener 8080: load balancer is new"}},
		// The load balancer does not forward to the target group: only the listener waits.
		{"empty-to-nlb", "create TargetGroup " + tg, []string{"create Listener 8080: load balancer is new"}},
		{"empty-to-nlb", "create SecurityGroup ManagedLBSecurityGroup", []string{
			"create LoadBalancer LoadBalancer: not found", "create Listener 8080: load balancer is new"}},
		// A refused listener holds nothing back: the security group rule for it still opens.
		{"listener-added", "create Listener 53", nil},
		{"certificate-import", "create Certificate Certificate/default/aws-tcp-gateway-tls", []string{
			"update Listener 8080: defaultCertificate arn:aws:acm:us-east-1:123456789012:certificate/aaa → new:Certificate/default/aws-tcp-gateway-tls"}},
		// A load balancer that could not be deleted still uses its target group and security group.
		{"delete-all", "delete LoadBalancer LoadBalancer", []string{
			"delete TargetGroup " + tg + ": no longer desired", "delete SecurityGroup ManagedLBSecurityGroup: no longer desired"}},
		{"rules-insert-route-push", "update RulePriorities 80", []string{"create Rule 80:1000: not found"}},
	}
	for _, c := range cases {
		ran, held := runs(plans[c.plan], c.fail)
		if !slices.Equal(held, c.held) {
			t.Errorf("%s, %s fails: held back %q, want %q (ran %q)", c.plan, c.fail, held, c.held, ran)
		}
		if !slices.ContainsFunc(ran, func(s string) bool { return len(s) >= len(c.fail) && s[:len(c.fail)] == c.fail }) {
			t.Errorf("%s: the failing change %s never ran", c.plan, c.fail)
		}
	}
}
