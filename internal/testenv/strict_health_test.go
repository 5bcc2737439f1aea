package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestStrictTargetHealthSideDoor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tg := f.targetGroup("health", elbtypes.ProtocolEnumTcp, elbtypes.TargetTypeEnumIp)
	a, b := fmt.Sprintf("10.%d.1.5", f.n), fmt.Sprintf("10.%d.1.6", f.n)
	f.accepted("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+a+",Port=8080", "Id="+b+",Port=8080")

	states := func() map[string]elbtypes.TargetHealth {
		var out struct {
			TargetHealthDescriptions []struct {
				Target       struct{ Id string }
				TargetHealth elbtypes.TargetHealth
			}
		}
		f.decode(f.accepted("elbv2", "describe-target-health", "--target-group-arn", tg), &out)
		m := map[string]elbtypes.TargetHealth{}
		for _, d := range out.TargetHealthDescriptions {
			m[d.Target.Id] = d.TargetHealth
		}
		return m
	}
	if got := states(); len(got) != 2 || got[a].State != "healthy" || got[b].State != "healthy" {
		t.Fatalf("before any report, moto's answer passes unchanged: %+v", got)
	}

	post := func(body any) int {
		data, _ := json.Marshal(body)
		resp, err := http.Post(f.moto.Strict.URL+TargetHealthPath, "application/json", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(TargetHealthReport{Region: testRegion, TargetGroupARN: tg, Targets: []TargetHealthOverride{
		{ID: a, Port: 8080, State: "unhealthy", Reason: "Target.FailedHealthChecks", Description: "Health checks failed"},
	}}); code != http.StatusNoContent {
		t.Fatalf("side door answered %d, want 204", code)
	}
	got := states()
	if got[a].State != "unhealthy" || got[a].Reason != "Target.FailedHealthChecks" || aws.ToString(got[a].Description) != "Health checks failed" {
		t.Errorf("reported target: %+v, want unhealthy with reason and description", got[a])
	}
	if got[b].State != "healthy" {
		t.Errorf("target without a report: %+v, want moto's healthy", got[b])
	}
	// Another port of the same address is another target.
	f.moto.Strict.SetTargetHealth(testRegion, tg, TargetHealthOverride{ID: b, Port: 9090, State: "draining"})
	if got := states(); got[b].State != "healthy" {
		t.Errorf("override for port 9090 changed the target on 8080: %+v", got[b])
	}
	f.moto.Strict.SetTargetHealth(testRegion, tg, TargetHealthOverride{ID: b, Port: 8080, State: "initial", Reason: "Elb.RegistrationInProgress"})
	if got := states(); got[b].State != "initial" || got[b].Reason != "Elb.RegistrationInProgress" {
		t.Errorf("SetTargetHealth: %+v, want initial", got[b])
	}

	// A deregistered target leaves the answer even with an override.
	f.accepted("elbv2", "deregister-targets", "--target-group-arn", tg, "--targets", "Id="+a+",Port=8080")
	if got := states(); len(got) != 1 {
		t.Errorf("after deregistering %s: %+v, want only %s", a, got, b)
	}

	for name, body := range map[string]any{
		"unknown state":   TargetHealthReport{TargetGroupARN: tg, Targets: []TargetHealthOverride{{ID: a, Port: 8080, State: "fine"}}},
		"no target group": TargetHealthReport{Targets: []TargetHealthOverride{{ID: a, Port: 8080, State: "healthy"}}},
		"not JSON":        "{",
	} {
		if code := post(body); code != http.StatusBadRequest {
			t.Errorf("%s: side door answered %d, want 400", name, code)
		}
	}
}
