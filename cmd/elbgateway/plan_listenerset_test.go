package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// listenerSetYAML is a ListenerSet of the seed's Gateway with a TCP entry (a TCPRoute attaches
// to it by kind ListenerSet and sectionName) and an entry that conflicts with the Gateway's own
// listener on 8080.
var listenerSetYAML = testenv.ListenerSetYAML("extra", "aws-tcp-gateway",
	"{name: db, protocol: TCP, port: 5432}", "{name: clash, protocol: TCP, port: 8080}") + "---" +
	testenv.ListenerSetRouteYAML("TCPRoute", "db", "extra", "db", "backend", 3000)

// TestPlanListenerSet: plan reads ListenerSets as the controller does. With the Gateway's
// allowedListeners, the accepted entry becomes a listener of the load balancer, the route
// through the ListenerSet is planned on it, the ListenerSet's conditions are printed, and
// the conflicting entry is dropped (exit 3); without allowedListeners the ListenerSet is
// refused (exit 1) and adds nothing.
func TestPlanListenerSet(t *testing.T) {
	dir := t.TempDir()
	copySeed(t, dir, map[string][2]string{"gw-public-nlb.yaml": {"  listeners:\n", testenv.AllowListenerSets("  listeners:\n")}})
	if err := os.WriteFile(filepath.Join(dir, "listenerset.yaml"), []byte(listenerSetYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runPlanCmd("-f", dir)
	if code != 3 {
		t.Errorf("exit %d, want 3 (the conflicting entry dropped)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"5432  TCP       forward k8s-default-db-",
		"ListenerSet default/extra",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	routeRow := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		routeRow = routeRow || len(f) > 7 && strings.Join(f[:6], " ") == "TCPRoute default/db ListenerSet default/extra listener db" && f[6] == "Accepted" && f[7] == "True"
	}
	if !routeRow {
		t.Errorf("no row says TCPRoute default/db is accepted on the ListenerSet's entry db:\n%s", out)
	}
	if !strings.Contains(errOut, "dropped: ListenerSet default/extra (listener clash): Accepted=False HostnameConflict") {
		t.Errorf("stderr does not name the conflicting entry:\n%s", errOut)
	}
	code, yamlOut, _ := runPlanCmd("-f", dir, "-o", "yaml")
	var doc struct {
		Gateways []gatewayPlan `json:"gateways"`
	}
	if err := yaml.Unmarshal([]byte(yamlOut), &doc); err != nil || code != 3 || len(doc.Gateways) != 1 {
		t.Fatalf("yaml: exit %d, %v, %d gateways", code, err, len(doc.Gateways))
	}
	p := doc.Gateways[0]
	var ports []int32
	for _, l := range p.Stack.Listeners {
		ports = append(ports, l.Port)
	}
	if len(ports) != 2 || ports[0] != 5432 || ports[1] != 8080 {
		t.Errorf("listener ports %v, want the ListenerSet's 5432 and the Gateway's 8080", ports)
	}
	if len(p.Status.ListenerSets) != 1 || p.Status.Gateway.AttachedListenerSets == nil || *p.Status.Gateway.AttachedListenerSets != 1 {
		t.Errorf("ListenerSet statuses %+v, attachedListenerSets %v; want one attached", p.Status.ListenerSets, p.Status.Gateway.AttachedListenerSets)
	}

	// Without allowedListeners the ListenerSet is refused and adds no listener.
	copySeed(t, dir, nil)
	code, out, errOut = runPlanCmd("-f", dir)
	if code != 1 || !strings.Contains(errOut, "rejected: ListenerSet default/extra: Accepted=False NotAllowed") {
		t.Errorf("exit %d, want 1 and the ListenerSet refused\n%s", code, errOut)
	}
	if strings.Contains(out, "5432  TCP") {
		t.Errorf("a refused ListenerSet's entry is planned:\n%s", out)
	}
}
