package targets

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Every replica serves the pod webhook, but only the elected one reconciles Gateways and so
// knows which ip target groups exist. The elected replica therefore publishes what the webhook
// needs, each Gateway's ip target groups and the Services feeding them, in one ConfigMap of its
// own namespace (GateDirectoryName); every replica's webhook reads it from there. A newly
// elected replica updates the entries of the Gateways it has reconciled and keeps the others,
// so pods created while it catches up still get their gates.

// GateDirectoryName is the ConfigMap the directory lives in.
const GateDirectoryName = "elbgateway-readiness-gates"

// gateEntry is one ip target group of a Gateway, as the webhook needs it.
type gateEntry struct {
	Namespace   string `json:"namespace"`
	Service     string `json:"service"`
	TargetGroup string `json:"targetGroup"`
}

// gatewayEntries returns the ip target groups of every Gateway the registry has heard of
// since it started, by directory key; a Gateway that was forgotten has an empty list.
func (r *Registry) gatewayEntries() map[string][]gateEntry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := map[string][]gateEntry{}
	for gw := range r.heard {
		var list []gateEntry
		for _, b := range r.byGateway[gw] {
			if b.TargetType == TargetTypeIP {
				list = append(list, gateEntry{Namespace: b.Backend.Namespace, Service: b.Backend.Service, TargetGroup: TargetGroupName(b.TargetGroupARN)})
			}
		}
		slices.SortFunc(list, func(a, b gateEntry) int {
			return strings.Compare(a.Namespace+"/"+a.Service+"/"+a.TargetGroup, b.Namespace+"/"+b.Service+"/"+b.TargetGroup)
		})
		out[directoryKey(gw)] = list
	}
	return out
}

// directoryKey turns a Gateway's namespace/name into a ConfigMap key (neither part holds "_").
func directoryKey(gateway string) string { return strings.ReplaceAll(gateway, "/", "_") }

// PublishGates keeps the directory ConfigMap in namespace equal to the registry, checking
// every interval. It runs on the elected replica only (it needs leader election). It reads the
// ConfigMap with reader (the API server: no ConfigMap informer) and writes it with writer.
func PublishGates(ctx context.Context, reader client.Reader, writer client.Writer, registry *Registry, namespace string, interval time.Duration) error {
	logger := log.FromContext(ctx).WithName("readiness-gate-directory")
	var last map[string]string
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		want := map[string]string{}
		for k, list := range registry.gatewayEntries() {
			if len(list) == 0 {
				want[k] = "" // forgotten: removed below
				continue
			}
			raw, _ := json.Marshal(list)
			want[k] = string(raw)
		}
		if !maps.Equal(want, last) {
			if err := writeDirectory(ctx, reader, writer, namespace, want); err != nil {
				logger.Info("publishing the readiness gate directory failed; trying again", "error", err.Error())
			} else {
				last = want
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// writeDirectory sets the keys of want in the ConfigMap (an empty value removes the key) and
// leaves the others, written by an earlier elected replica, as they are.
func writeDirectory(ctx context.Context, reader client.Reader, c client.Writer, namespace string, want map[string]string) error {
	var cm corev1.ConfigMap
	err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: GateDirectoryName}, &cm)
	if apierrors.IsNotFound(err) {
		cm = corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: GateDirectoryName}, Data: map[string]string{}}
		for k, v := range want {
			if v != "" {
				cm.Data[k] = v
			}
		}
		return c.Create(ctx, &cm)
	}
	if err != nil {
		return err
	}
	next := maps.Clone(cm.Data)
	if next == nil {
		next = map[string]string{}
	}
	for k, v := range want {
		if v == "" {
			delete(next, k)
		} else {
			next[k] = v
		}
	}
	if maps.Equal(next, cm.Data) {
		return nil
	}
	cm.Data = next
	return c.Update(ctx, &cm)
}

// GateDirectory reads the directory for the webhook, at most once per maxAge.
type GateDirectory struct {
	reader    client.Reader
	namespace string
	maxAge    time.Duration

	mu   sync.Mutex
	read time.Time
	data map[string]string
}

// NewGateDirectory reads the directory in namespace through reader.
func NewGateDirectory(reader client.Reader, namespace string, maxAge time.Duration) *GateDirectory {
	return &GateDirectory{reader: reader, namespace: namespace, maxAge: maxAge}
}

// entriesIn returns the ip target groups fed by the Services of a namespace.
func (d *GateDirectory) entriesIn(ctx context.Context, namespace string) ([]gateEntry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.data == nil || time.Since(d.read) >= d.maxAge {
		var cm corev1.ConfigMap
		err := d.reader.Get(ctx, types.NamespacedName{Namespace: d.namespace, Name: GateDirectoryName}, &cm)
		switch {
		case apierrors.IsNotFound(err):
			cm.Data = map[string]string{}
		case err != nil:
			return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", d.namespace, GateDirectoryName, err)
		}
		d.data, d.read = cm.Data, time.Now()
		if d.data == nil {
			d.data = map[string]string{}
		}
	}
	var out []gateEntry
	for _, k := range slices.Sorted(maps.Keys(d.data)) {
		var list []gateEntry
		if err := json.Unmarshal([]byte(d.data[k]), &list); err != nil {
			continue
		}
		for _, e := range list {
			if e.Namespace == namespace {
				out = append(out, e)
			}
		}
	}
	return out, nil
}
