// Command elbgateway is a Kubernetes Gateway API controller that programs AWS Elastic Load
// Balancing: GatewayClasses with controllerName gateway.k8s.aws/nlb become Network Load
// Balancers (and gateway.k8s.aws/alb Application Load Balancers).
//
// Usage:
//
//	elbgateway controller --cluster-name NAME [flags]   run the controller
//	elbgateway plan -f FILE|DIR|- [-o yaml|json]        show the AWS resources manifests would produce
//	elbgateway status [-n NS] [GATEWAY] [-o yaml|json]    a Gateway's conditions joined with its AWS state
//	elbgateway demo [--exit-after-ready]                 walk through an NLB Gateway locally
//	elbgateway version                                   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "controller":
		err = runController(ctx, args[1:], stderr)
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "plan":
		err = runPlan(ctx, args[1:], stdout, stderr)
	case "status":
		err = runStatus(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "elbgateway", version)
	case "help", "-h", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "elbgateway: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errRejected) {
		return 1
	}
	if errors.Is(err, errPartial) {
		return 3
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintln(stderr, "elbgateway:", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "elbgateway:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: elbgateway <command> [flags]

commands:
  controller   run the Gateway API controller (elbgateway controller -h lists its flags)
  plan         print the AWS resources and statuses manifests would produce, without a cluster or AWS
  status       show a Gateway's and its routes' conditions with its load balancer, listeners and target health in AWS
  demo         start a local API server and AWS emulator and walk through an NLB Gateway
  version      print the version
`)
}
