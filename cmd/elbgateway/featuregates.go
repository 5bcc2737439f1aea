package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/elbgateway/elbgateway/internal/controller"
)

// featureGates is the value of --feature-gates: a comma-separated list of Name=bool.
type featureGates struct {
	gates controller.Gates
}

func (f *featureGates) String() string {
	return fmt.Sprintf("%s=%t,%s=%t", controller.GateALB, f.gates.ALB, controller.GateNLB, f.gates.NLB)
}

// Set parses Name=bool pairs; unknown names and values that are not booleans are errors.
func (f *featureGates) Set(value string) error {
	known := map[string]*bool{controller.GateNLB: &f.gates.NLB, controller.GateALB: &f.gates.ALB}
	for _, pair := range strings.Split(value, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, val, ok := strings.Cut(pair, "=")
		if !ok {
			return fmt.Errorf("%q is not Name=true|false", pair)
		}
		name = strings.TrimSpace(name)
		target, ok := known[name]
		if !ok {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("unknown feature gate %q; known gates: %s", name, strings.Join(names, ", "))
		}
		b, err := strconv.ParseBool(strings.TrimSpace(val))
		if err != nil {
			return fmt.Errorf("feature gate %s: %q is not true or false", name, val)
		}
		*target = b
	}
	return nil
}
