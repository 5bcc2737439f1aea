package model

import (
	"fmt"
	"strings"
)

// ALB rule condition limits, from the ALB guide's listener rules page ("You can specify up to
// three comparison strings per condition and up to five per rule") and the RuleCondition
// reference ("The maximum length of each string is 128 characters"; HttpHeaderConditionConfig:
// "The maximum length [of the header name] is 40 characters ... You can't use an HTTP header
// condition to specify the host header. Instead, use a host condition").
const (
	MaxValuesPerCondition   = 3
	MaxConditionValueLength = 128
	MaxHeaderNameLength     = 40
)

// ValueCount is the number of comparison strings of the condition.
func (c Condition) ValueCount() int { return len(c.Values) + len(c.RegexValues) + len(c.QueryValues) }

// Check reports the first way the condition breaks a per-condition limit of AWS, as a sentence
// that names the value; "" when it keeps them all. The per-rule total is the rule's to check.
func (c Condition) Check() string {
	if n := c.ValueCount(); n > MaxValuesPerCondition {
		return fmt.Sprintf("%s condition with %d values, an ALB takes at most %d per condition", c.Field, n, MaxValuesPerCondition)
	}
	if c.Field == "http-header" {
		if len(c.HeaderName) > MaxHeaderNameLength {
			return fmt.Sprintf("header name %q is %d characters long, an ALB takes at most %d", c.HeaderName, len(c.HeaderName), MaxHeaderNameLength)
		}
		if strings.EqualFold(c.HeaderName, "host") {
			return "an ALB http-header condition cannot match the Host header (use a host-header condition)"
		}
	}
	long := func(v string) string {
		if len(v) > MaxConditionValueLength {
			return fmt.Sprintf("%s value %q is %d characters long, an ALB takes at most %d", c.Field, abbreviate(v), len(v), MaxConditionValueLength)
		}
		return ""
	}
	for _, v := range append(append([]string(nil), c.Values...), c.RegexValues...) {
		if p := long(v); p != "" {
			return p
		}
	}
	for _, kv := range c.QueryValues {
		if p := long(kv.Key); p != "" {
			return p
		}
		if p := long(kv.Value); p != "" {
			return p
		}
	}
	return ""
}

// abbreviate shortens a long value for a message.
func abbreviate(v string) string {
	if len(v) <= 40 {
		return v
	}
	return v[:37] + "..."
}
