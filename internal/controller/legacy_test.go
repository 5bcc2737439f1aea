package controller_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// TestLegacyCRDCluster runs the walkthrough on a cluster whose CRDs serve TCPRoute only as
// v1alpha2 (Gateway API v1.2 to v1.4): the controller watches and writes that version.
func TestLegacyCRDCluster(t *testing.T) {
	parallelWorld(t, false) // a world of its own (world_test.go)
	cluster := startTestCluster(t, testenv.ClusterOptions{LegacyL4Routes: true})
	_, c := startTestController(t, cluster.Config, ownControllerOptions(t, "legacy-crds"))

	ns := newNamespaceIn(t, c)
	applyFiles(t, c, ns, seedFiles[:len(seedFiles)-1]...)
	// The seed's TCPRoute, in the only version this cluster serves.
	route := strings.Replace(readFile(t, env.root+"/examples/seed-l4/tcproute.yaml"),
		"apiVersion: gateway.networking.k8s.io/v1\n", "apiVersion: gateway.networking.k8s.io/v1alpha2\n", 1)
	applyYAML(t, c, ns, route)

	_, lbARN := programmedGateway(t, c, ns, "aws-tcp-gateway")
	waitListeners(t, lbARN, "TCP:8080")
	eventually(t, 30*timeoutScale, "v1alpha2 route status written", func() error {
		cond, err := routeCondition(c, "gateway.networking.k8s.io/v1alpha2", "TCPRoute", ns, "tcp-backend-aws", "Accepted")
		if err != nil {
			return err
		}
		if cond.Status != "True" {
			return fmt.Errorf("Accepted %s/%s", cond.Status, cond.Reason)
		}
		return nil
	})
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 {
		t.Fatalf("%d target groups, want 1", len(tgs))
	}
	waitTargets(t, "the endpoint registered", *tgs[0].TargetGroupArn, "192.0.2.10:3000")
}
