// Command crdref writes a Markdown field reference for each CRD in CRD_DIR into OUT_DIR.
//
// Usage: crdref CRD_DIR OUT_DIR
package main

import (
	"fmt"
	"os"

	"github.com/elbgateway/elbgateway/internal/crdref"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: crdref CRD_DIR OUT_DIR")
		os.Exit(2)
	}
	pages, err := crdref.RenderDir(os.Args[1])
	if err == nil {
		err = crdref.Write(os.Args[2], pages)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crdref:", err)
		os.Exit(1)
	}
}
