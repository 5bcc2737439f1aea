//go:build !demo

package main

import (
	"context"
	"fmt"
	"io"
)

// The demo starts kube-apiserver, etcd, moto and a local data plane; their harness would more
// than double the size of the controller binary, and pages of the binary count towards the
// controller's memory. The shipped binary leaves it out; `make demo` builds with -tags demo.

// demoBuilt reports whether this binary has the demo.
const demoBuilt = false

func runDemo(_ context.Context, _ []string, _, _ io.Writer) error {
	return fmt.Errorf("%w: this binary is built without the demo; run `make demo`, which builds elbgateway with -tags demo", errUsage)
}
