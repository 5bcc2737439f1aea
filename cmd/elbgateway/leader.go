package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// leaderElectionID is the name of the Lease the controller replicas compete for.
const leaderElectionID = "elbgateway-leader"

// podNamespaceEnv is the environment variable the chart fills with the pod's namespace (the
// downward API), the default namespace of the leader election Lease.
const podNamespaceEnv = "POD_NAMESPACE"

// leaderFlags are the leader election flags of `elbgateway controller`. Only the elected
// replica runs the reconcilers; the others wait, serving health probes and metrics.
type leaderFlags struct {
	enabled       bool
	namespace     string
	leaseDuration time.Duration
	renewDeadline time.Duration
	retryPeriod   time.Duration
}

func (l *leaderFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&l.enabled, "leader-elect", true, "elect one active replica through the Lease "+leaderElectionID+"; switch off only when one replica runs")
	fs.StringVar(&l.namespace, "leader-election-namespace", "", "namespace of the leader election Lease (default: $"+podNamespaceEnv+", else the pod's namespace)")
	fs.DurationVar(&l.leaseDuration, "leader-election-lease-duration", 15*time.Second, "how long a non-leader waits before it takes over a Lease that was not renewed")
	fs.DurationVar(&l.renewDeadline, "leader-election-renew-deadline", 10*time.Second, "how long the leader keeps trying to renew before it gives up leadership")
	fs.DurationVar(&l.retryPeriod, "leader-election-retry-period", 2*time.Second, "how often replicas try to acquire or renew the Lease")
}

func (l *leaderFlags) validate() []string {
	if !l.enabled {
		return nil
	}
	var problems []string
	if l.leaseDuration <= l.renewDeadline {
		problems = append(problems, fmt.Sprintf("--leader-election-lease-duration (%s) must be longer than --leader-election-renew-deadline (%s)", l.leaseDuration, l.renewDeadline))
	}
	if l.retryPeriod <= 0 || l.renewDeadline <= l.retryPeriod {
		problems = append(problems, fmt.Sprintf("--leader-election-renew-deadline (%s) must be longer than --leader-election-retry-period (%s), which must be positive", l.renewDeadline, l.retryPeriod))
	}
	return problems
}

// apply sets the manager's leader election options. The leader releases the Lease when it
// stops, so a rolling update hands over at once instead of after a lease duration.
func (l *leaderFlags) apply(o *ctrl.Options) {
	if !l.enabled {
		return
	}
	o.LeaderElection = true
	o.LeaderElectionID = leaderElectionID
	o.LeaderElectionNamespace = l.namespace
	if o.LeaderElectionNamespace == "" {
		o.LeaderElectionNamespace = os.Getenv(podNamespaceEnv)
	}
	o.LeaderElectionReleaseOnCancel = true
	o.LeaseDuration = &l.leaseDuration
	o.RenewDeadline = &l.renewDeadline
	o.RetryPeriod = &l.retryPeriod
}

// tagsFlag is a comma-separated list of key=value AWS tags.
type tagsFlag struct {
	tags map[string]string
}

func (t *tagsFlag) String() string {
	keys := make([]string, 0, len(t.tags))
	for k := range t.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+t.tags[k])
	}
	return strings.Join(parts, ",")
}

func (t *tagsFlag) Set(value string) error {
	if t.tags == nil {
		t.tags = map[string]string{}
	}
	for _, pair := range strings.Split(value, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("%q is not key=value", pair)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return fmt.Errorf("tag key %q: keys starting with aws: are reserved by AWS", k)
		}
		t.tags[k] = strings.TrimSpace(v)
	}
	return nil
}
