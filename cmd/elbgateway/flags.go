package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// subcommandFlags are a subcommand's flags: registered on a flag set, then checked together.
type subcommandFlags interface {
	register(fs *flag.FlagSet)
	validate() error
}

// parseFlags parses args into f for the subcommand name, refuses positional arguments (hint
// says what to pass instead, if anything) and validates the result.
func parseFlags(name string, args []string, stderr io.Writer, f subcommandFlags, hint string) error {
	fs := flag.NewFlagSet("elbgateway "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s%s", strings.Join(fs.Args(), " "), hint)
	}
	return f.validate()
}

// quotaFlags are the account's load balancer quotas, shared by the controller and plan
// subcommands. AWS counts them per load balancer across all its listeners; an account can
// have them raised (Service Quotas), and then raises the flag to match.
type quotaFlags struct {
	q snapshot.Quotas
}

func (f *quotaFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.q.ALBRulesPerLoadBalancer, "alb-rules-per-load-balancer", model.DefaultRulesPerLoadBalancer,
		"the account's quota of rules per ALB, default rules excluded; rules beyond it are reported on their routes")
	fs.IntVar(&f.q.ALBCertificatesPerLoadBalancer, "alb-certificates-per-load-balancer", model.DefaultCertificatesPerLoadBalancer,
		"the account's quota of certificates per ALB, default certificates excluded")
	fs.IntVar(&f.q.NLBCertificatesPerLoadBalancer, "nlb-certificates-per-load-balancer", model.DefaultCertificatesPerLoadBalancer,
		"the account's quota of certificates per NLB, default certificates excluded")
}

func (f *quotaFlags) validate() []string {
	var problems []string
	for name, v := range map[string]int{
		"--alb-rules-per-load-balancer":        f.q.ALBRulesPerLoadBalancer,
		"--alb-certificates-per-load-balancer": f.q.ALBCertificatesPerLoadBalancer,
		"--nlb-certificates-per-load-balancer": f.q.NLBCertificatesPerLoadBalancer,
	} {
		if v < 1 {
			problems = append(problems, fmt.Sprintf("%s %d: a quota is at least 1", name, v))
		}
	}
	// Map order is random; keep the message stable.
	slices.Sort(problems)
	return problems
}
