// Command elb-dataplane serves, on loopback, the load balancers an AWS API endpoint holds, as
// the Elastic Load Balancing data plane would: it reads them through the ELBv2, EC2 and ACM APIs
// and carries traffic to local processes standing in for the targets (see docs/data-plane.md).
//
//	elb-dataplane --endpoint http://127.0.0.1:4566 --region us-east-1
//
// Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ("test" when unset). It
// prints each load balancer it serves, with its address and curl's --resolve argument, and runs
// until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/elbgateway/elbgateway/internal/testenv/elb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "elb-dataplane:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("elb-dataplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", os.Getenv("AWS_ENDPOINT_URL"), "AWS API endpoint (ELBv2, EC2 and ACM); $AWS_ENDPOINT_URL by default")
	region := fs.String("region", envOr("AWS_REGION", envOr("AWS_DEFAULT_REGION", "us-east-1")), "AWS region")
	refresh := fs.Duration("refresh", time.Second, "how often AWS is read again")
	healthScale := fs.Float64("health-time-scale", 1, "multiplies health check intervals and timeouts (0.1 runs them ten times faster)")
	healthURL := fs.String("health-report-url", "", "where target health changes are POSTed (the test environment's /_elbgateway/target-health); none when empty")
	keyURL := fs.String("key-url", "", "where the private keys of ACM certificates are read (the test environment's /_elbgateway/certificate-key); TLS and HTTPS listeners fail their handshakes without it")
	dnsAddr := fs.String("dns", "127.0.0.1:0", "UDP address of the DNS server for load balancer names; empty for none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *endpoint == "" {
		return errors.New("--endpoint (or AWS_ENDPOINT_URL) is required")
	}
	opts := elb.Options{Endpoint: *endpoint, Region: *region, Refresh: *refresh,
		AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		HealthTimeScale: *healthScale, HealthReportURL: *healthURL, DNSAddr: *dnsAddr,
		Logf: log.New(stderr, "", log.LstdFlags).Printf}
	if *keyURL != "" {
		opts.PrivateKey = elb.KeyFromURL(*keyURL, *region)
	}
	dp, err := elb.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer dp.Close()
	if a := dp.DNSAddr(); a != "" {
		fmt.Fprintf(stdout, "DNS for load balancer names on %s (dig @%s -p %s NAME)\n", a, hostOf(a), portOf(a))
	}
	printed := ""
	for {
		if now := describe(dp.Snapshot()); now != printed {
			fmt.Fprint(stdout, now)
			printed = now
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*refresh):
		}
	}
}

// describe lists the load balancers served, one line per listener with curl's --resolve
// argument.
func describe(s *elb.Snapshot) string {
	var lines []string
	for _, lb := range s.LoadBalancers {
		for _, l := range lb.Listeners {
			lines = append(lines, fmt.Sprintf("serving %s %s:%d on %s:%d (curl --resolve %s:%d:%s)\n",
				lb.Name, strings.ToLower(l.Protocol), l.Port, lb.Addr, l.Port, lb.DNSName, l.Port, lb.Addr))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func hostOf(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
