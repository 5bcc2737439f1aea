package aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/elbgateway/elbgateway/internal/plan"
)

// A change that waited on a refused one carries the refusal: the listener that waits for its
// certificate says why, with the code.
func TestWaitedChangeCarriesTheCause(t *testing.T) {
	cert := plan.Change{Op: plan.OpCreate, Kind: plan.KindCertificate, ID: "Certificate/default/tls"}
	listener := plan.Change{Op: plan.OpUpdate, Kind: plan.KindListener, ID: "443"}
	rule := plan.Change{Op: plan.OpCreate, Kind: plan.KindRule, ID: "443:1"}
	refusal := &smithy.GenericAPIError{Code: "ValidationException", Message: "the certificate has expired"}
	e := &ApplyError{Failures: []ChangeFailure{{Change: cert, Err: refusal}}}
	e.Failures = append(e.Failures, ChangeFailure{Change: listener, WaitedOn: &cert, Cause: e.causeOf(cert)})
	e.Failures = append(e.Failures, ChangeFailure{Change: rule, WaitedOn: &listener, Cause: e.causeOf(listener)})
	for _, f := range e.Failures {
		if f.Code() != "ValidationException" {
			t.Errorf("%s: code %q, want the root refusal's", f.Change, f.Code())
		}
	}
	if r := e.Failures[2].Reason(); !strings.Contains(r, "waits for update Listener 443") || !strings.Contains(r, "expired") {
		t.Errorf("reason %q: want what it waits for and the root cause", r)
	}
	if !errors.Is(e, refusal) || strings.Count(e.Error(), "expired") != 1 {
		t.Errorf("error %q: want the one refusal, and errors.Is to find it", e.Error())
	}
}
