// Package metric holds what the packages that export Prometheus metrics share.
package metric

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers col with reg, or returns the collector of the same shape already there: a
// process that builds its controllers twice (tests, the demo) keeps one set of series.
func Register[C prometheus.Collector](reg prometheus.Registerer, col C) (C, error) {
	if err := reg.Register(col); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return col, err
		}
		existing, ok := are.ExistingCollector.(C)
		if !ok {
			return col, err
		}
		return existing, nil
	}
	return col, nil
}
