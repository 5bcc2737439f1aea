package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestMemoryLimitFromCgroup(t *testing.T) {
	for _, c := range []struct {
		content string
		want    int64
		ok      bool
	}{
		{"268435456\n", 241591905, true},    // the chart's 256Mi: 90%
		{"max\n", 0, false},                 // v2, no limit
		{"9223372036854771712\n", 0, false}, // v1, no limit
		{"", 0, false},
		{"0", 0, false},
	} {
		got, ok := memoryLimitFromCgroup(c.content)
		if ok != c.ok || got != c.want {
			t.Errorf("memoryLimitFromCgroup(%q) = %d, %v; want %d, %v", c.content, got, ok, c.want, c.ok)
		}
	}
}

// Unless GOGC is set, the controller collects at defaultGCPercent; GOGC set is left alone.
func TestSetGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	if got := setGCPercent(); got != defaultGCPercent {
		t.Errorf("setGCPercent() without GOGC = %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("collector target without GOGC = %d, want %d", got, defaultGCPercent)
	}
	t.Setenv("GOGC", "200")
	if got := setGCPercent(); got != 0 {
		t.Errorf("setGCPercent() with GOGC=200 = %d, want 0", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("collector target with GOGC set = %d, want it untouched (100)", got)
	}
}
