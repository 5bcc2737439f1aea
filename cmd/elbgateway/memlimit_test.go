package main

import "testing"

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
