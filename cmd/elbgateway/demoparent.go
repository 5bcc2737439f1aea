//go:build demo

package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Stopping the demo with its parent.
//
// `make demo` runs the demo as a child of make. Sent to make alone (by timeout(1), a CI runner
// cancelling a job, a supervisor), the three stop signals do not reach the demo:
//   - SIGTERM: make forwards it to its direct child only, so a `go run` in between would die
//     and leave the demo orphaned (which is why the Makefile builds the binary and execs it);
//   - SIGINT and SIGHUP: make assumes the terminal sent them to the whole process group, resets
//     the signal to its default action, and waits for its children without signalling them.
// watchParent turns both into a stop request: the demo stops when its parent goes away, or when
// a parent that is make stops catching a stop signal it caught when the demo started.

// stopSignals are the signals that stop make and the demo.
var stopSignals = []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM}

// watchParent returns a context cancelled (with the reason as its cause) when the parent of
// this process exits, or when a make parent received a stop signal.
func watchParent(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	ppid := os.Getppid()
	isMake := parentIsMake(ppid)
	caught, _ := caughtSignals(ppid)
	go func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if os.Getppid() != ppid {
				cancel(fmt.Errorf("the parent process %d exited", ppid))
				return
			}
			if !isMake {
				continue
			}
			now, err := caughtSignals(ppid)
			if err != nil {
				continue
			}
			for _, s := range stopSignals {
				if caught&sigBit(s) != 0 && now&sigBit(s) == 0 {
					cancel(fmt.Errorf("make (pid %d) received %s", ppid, signalNames[s]))
					return
				}
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}

func sigBit(s syscall.Signal) uint64 { return 1 << (uint(s) - 1) }

var signalNames = map[syscall.Signal]string{syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}

// parentIsMake reports whether process pid runs make (GNU make installs as make or gmake).
func parentIsMake(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return false
	}
	name := strings.TrimSpace(string(b))
	return name == "make" || name == "gmake"
}

// caughtSignals reads the mask of signals process pid has handlers for (SigCgt in
// /proc/PID/status, proc(5)); bit N-1 is signal N.
func caughtSignals(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no SigCgt in /proc/%d/status", pid)
}
