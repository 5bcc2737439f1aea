//go:build tools

// Package tools pins the controller-gen release that generates deepcopy code and CRDs.
package tools

import _ "sigs.k8s.io/controller-tools/cmd/controller-gen"
