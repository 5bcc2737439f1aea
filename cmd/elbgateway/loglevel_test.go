package main

import (
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
)

// TestLogLevelNames: the chart passes the AWS Load Balancer Controller's level names through,
// so warn is a level; an unknown name is refused with the accepted ones.
func TestLogLevelNames(t *testing.T) {
	for name, want := range map[string]zapcore.Level{"debug": zapcore.DebugLevel, "info": zapcore.InfoLevel, "warn": zapcore.WarnLevel, "error": zapcore.ErrorLevel} {
		if got, err := logLevel(name); err != nil || got != want {
			t.Errorf("logLevel(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := logLevel("verbose"); err == nil || !strings.Contains(err.Error(), "debug, info, warn or error") {
		t.Errorf("logLevel(verbose) error %v, want one naming the accepted levels", err)
	}
}
