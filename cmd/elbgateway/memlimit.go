package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// A Go process does not know its container's memory limit: its heap grows to twice what is live
// before a collection, and the pages it frees go back to the system slowly, so a controller
// that needs less than its limit can still be killed for exceeding it. Unless GOMEMLIMIT is set,
// the controller takes 90% of its cgroup's memory limit as the runtime's soft limit: near it the
// runtime collects sooner and returns freed memory at once.

// The collector's default target, GOGC=100, lets the heap grow to twice what is live before a
// collection, and the runtime keeps about that much (its goal, and a tenth more) mapped after
// it: a controller whose cache holds 60 MB of a large cluster sat at over 120 MB of anonymous
// memory. Unless GOGC is set, the controller collects when the heap has grown by defaultGCPercent
// of what is live instead: a little more CPU on collections, which run rarely once the cache has
// synced, for a resident size closer to what is live.
const defaultGCPercent = 50

// setGCPercent applies defaultGCPercent unless GOGC is set; it returns the percentage applied,
// 0 for none.
func setGCPercent() int {
	if os.Getenv("GOGC") != "" {
		return 0
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}

// cgroupMemoryFiles hold the memory limit of the process's cgroup: v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// memoryLimitFromCgroup returns the soft limit for a cgroup memory limit file's content: 90% of
// the limit, or false when there is none ("max", or v1's page-rounded maximum of 2^63).
func memoryLimitFromCgroup(content string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(content), 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0, false
	}
	return n / 10 * 9, true
}

// setMemoryLimit applies the default soft limit unless GOMEMLIMIT is set; it returns the limit
// applied, 0 for none.
func setMemoryLimit() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	for _, f := range cgroupMemoryFiles {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if limit, ok := memoryLimitFromCgroup(string(raw)); ok {
			debug.SetMemoryLimit(limit)
			return limit
		}
		return 0
	}
	return 0
}
