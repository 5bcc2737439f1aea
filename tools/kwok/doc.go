// Package kwok pins the kwok release the conformance run uses to make Pods Running and Ready
// without a kubelet; `make bin/kwok` builds sigs.k8s.io/kwok/cmd/kwok from this module.
package kwok
