package testenv

import (
	"context"
	"testing"
	"time"
)

const testRegion = "us-west-2"

// testContext is cancelled when the test ends or after limit.
func testContext(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return ctx
}

// startMoto starts moto_server for one test and stops it when the test ends.
func startMoto(t *testing.T) *Moto {
	t.Helper()
	m, err := StartMoto(testContext(t, time.Minute))
	if err != nil {
		t.Fatalf("StartMoto: %v", err)
	}
	t.Cleanup(m.Stop)
	return m
}

// startCluster starts a cluster for one test and stops it when the test ends.
func startCluster(t *testing.T, opts ClusterOptions) *Cluster {
	t.Helper()
	start := time.Now()
	c, err := StartCluster(testContext(t, 2*time.Minute), opts)
	if err != nil {
		t.Fatalf("StartCluster(%+v): %v", opts, err)
	}
	t.Logf("cluster %+v started in %s", opts, time.Since(start).Round(10*time.Millisecond))
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping cluster: %v", err)
		}
	})
	return c
}
