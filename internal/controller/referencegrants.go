package controller

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// ReferenceGrants are read and watched in the newest version the cluster serves (APIs.
// ReferenceGrantV1), so the cache holds one informer of them. Both versions have the same
// schema; snapshots carry them as v1beta1.

// referenceGrantObject is the typed object to watch ReferenceGrants with.
func (a APIs) referenceGrantObject() client.Object {
	if a.ReferenceGrantV1 {
		return &gwv1.ReferenceGrant{}
	}
	return &gwv1beta1.ReferenceGrant{}
}

// listReferenceGrants reads the ReferenceGrants of one namespace in the served version.
func listReferenceGrants(ctx context.Context, reader client.Reader, apis APIs, namespace string) ([]gwv1beta1.ReferenceGrant, error) {
	if !apis.ReferenceGrant {
		return nil, nil
	}
	if !apis.ReferenceGrantV1 {
		var list gwv1beta1.ReferenceGrantList
		if err := reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return nil, fmt.Errorf("listing ReferenceGrants in %s: %w", namespace, err)
		}
		return list.Items, nil
	}
	var list gwv1.ReferenceGrantList
	if err := reader.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing ReferenceGrants in %s: %w", namespace, err)
	}
	out := make([]gwv1beta1.ReferenceGrant, 0, len(list.Items))
	for _, g := range list.Items {
		out = append(out, gwv1beta1.ReferenceGrant(g))
	}
	return out, nil
}

// referenceGrantSpec is the spec of a ReferenceGrant of either version.
func referenceGrantSpec(o client.Object) (gwv1.ReferenceGrantSpec, bool) {
	switch g := o.(type) {
	case *gwv1.ReferenceGrant:
		return g.Spec, true
	case *gwv1beta1.ReferenceGrant:
		return g.Spec, true
	}
	return gwv1.ReferenceGrantSpec{}, false
}
