//go:build tools

// Package tools pins the Kubernetes release that the test environment runs: kube-apiserver for
// every test, kube-controller-manager and kube-scheduler for the conformance run. Each is built
// with `go build k8s.io/kubernetes/cmd/<name>` from this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
