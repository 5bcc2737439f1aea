package translate

import (
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// referenceGranted says whether a ReferenceGrant in toNamespace lets routes of fromKind in
// fromNamespace refer to the object of toGroup/toKind named toName.
func referenceGranted(grants []gwv1beta1.ReferenceGrant, from, to objectRef) bool {
	for _, g := range grants {
		if g.Namespace != to.namespace {
			continue
		}
		fromOK := false
		for _, f := range g.Spec.From {
			if string(f.Group) == from.group && string(f.Kind) == from.kind && string(f.Namespace) == from.namespace {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, t := range g.Spec.To {
			if string(t.Group) == to.group && string(t.Kind) == to.kind && (t.Name == nil || *t.Name == "" || string(*t.Name) == to.name) {
				return true
			}
		}
	}
	return false
}

// objectRef names one side of a reference.
type objectRef struct {
	group, kind, namespace, name string
}
