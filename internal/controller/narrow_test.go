package controller_test

import (
	"context"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A Service that no route names is not cached; a route that names it afterwards still gets its
// endpoints registered (read past the cache from the API server), and a later change of its
// endpoints, which the cache then holds, reaches the target group.
func TestRouteAddedLaterToUncachedService(t *testing.T) {
	ns := newNamespace(t)
	scenario(t, ns, "  - {name: tcp, protocol: TCP, port: 7000}\n")
	_, lbARN := programmedGateway(t, env.client, ns, "gw")
	// The Service and its slice were created while no route named them.
	applyYAML(t, env.client, ns, ipTargets+"---"+route("TCPRoute", "tcp", "tcp", "", "backend", 3000))
	waitListeners(t, lbARN, "TCP:7000")
	tgs := targetGroups(t, lbARN)
	if len(tgs) != 1 {
		t.Fatalf("target groups %+v, want one", tgs)
	}
	tgARN := *tgs[0].TargetGroupArn
	waitTargets(t, "the uncached Service's endpoint registered", tgARN, "192.0.2.10:3000")

	var slice discoveryv1.EndpointSlice
	if err := env.client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "backend-1"}, &slice); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(slice.DeepCopy())
	slice.Endpoints[0].Addresses = []string{"192.0.2.11"}
	if err := env.client.Patch(context.Background(), &slice, patch); err != nil {
		t.Fatal(err)
	}
	waitTargets(t, "the changed endpoint registered", tgARN, "192.0.2.11:3000")
}
