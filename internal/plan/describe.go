package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
)

// The describe functions print values in a canonical form: equal values print equally, so the
// plan compares these strings, and reasons show them.

func describeRef(r model.Ref) string {
	if r.ID != "" {
		return r.ID
	}
	return r.External
}

func describeActions(actions []model.Action) string {
	parts := make([]string, 0, len(actions))
	for _, a := range actions {
		parts = append(parts, describeAction(a))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func describeAction(a model.Action) string {
	switch {
	case a.Forward != nil:
		tgs := make([]string, 0, len(a.Forward.TargetGroups))
		for _, t := range a.Forward.TargetGroups {
			tgs = append(tgs, describeRef(t.TargetGroup)+"="+strconv.Itoa(int(t.Weight)))
		}
		sort.Strings(tgs)
		s := "forward(" + strings.Join(tgs, ",")
		if st := a.Forward.Stickiness; st != nil && st.Enabled {
			s += fmt.Sprintf(";stickiness=%ds", st.DurationSeconds)
		}
		return s + ")"
	case a.FixedResponse != nil:
		f := a.FixedResponse
		return fmt.Sprintf("fixed-response(%s,%s,%q)", f.StatusCode, f.ContentType, f.MessageBody)
	case a.Redirect != nil:
		r := a.Redirect
		return fmt.Sprintf("redirect(%s,%s://%s:%s%s?%s)", r.StatusCode,
			orDefault(r.Protocol, "#{protocol}"), orDefault(r.Host, "#{host}"), orDefault(r.Port, "#{port}"),
			orDefault(r.Path, "/#{path}"), orDefault(r.Query, "#{query}"))
	default:
		return string(a.Type) + "()"
	}
}

func describeConditions(conds []model.Condition) string {
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		values := append([]string(nil), c.Values...)
		sort.Strings(values)
		s := c.Field
		if c.HeaderName != "" {
			s += "[" + strings.ToLower(c.HeaderName) + "]"
		}
		s += "(" + strings.Join(values, ",")
		if len(c.RegexValues) > 0 {
			regex := append([]string(nil), c.RegexValues...)
			sort.Strings(regex)
			s += ";regex=" + strings.Join(regex, ",")
		}
		if len(c.QueryValues) > 0 {
			kvs := make([]string, 0, len(c.QueryValues))
			for _, kv := range c.QueryValues {
				kvs = append(kvs, kv.Key+"="+kv.Value)
			}
			sort.Strings(kvs)
			s += ";query=" + strings.Join(kvs, ",")
		}
		parts = append(parts, s+")")
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

func describeTransforms(ts []model.Transform) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s(%q→%q)", t.Type, t.Regex, t.Replace))
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

func describeHealthCheck(h model.HealthCheck) string {
	s := fmt.Sprintf("%s:%s", h.Protocol, h.Port)
	if !h.Enabled {
		s = "disabled " + s
	}
	if h.Path != "" {
		s += h.Path
	}
	s += fmt.Sprintf(" every %ds timeout %ds healthy %d unhealthy %d", h.IntervalSeconds, h.TimeoutSeconds, h.HealthyThreshold, h.UnhealthyThreshold)
	if h.HTTPCode != "" {
		s += " http " + h.HTTPCode
	}
	if h.GRPCCode != "" {
		s += " grpc " + h.GRPCCode
	}
	return s
}

func describeTags(add model.Tags, remove []string) string {
	keys := make([]string, 0, len(add))
	for k := range add {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+len(remove))
	for _, k := range keys {
		parts = append(parts, "+"+k+"="+add[k])
	}
	for _, k := range remove {
		parts = append(parts, "-"+k)
	}
	return "tags " + strings.Join(parts, " ")
}

func describeIngress(add, revoke []model.IngressRule) string {
	parts := make([]string, 0, len(add)+len(revoke))
	for _, r := range add {
		parts = append(parts, "+"+ingressKey(r))
	}
	for _, r := range revoke {
		parts = append(parts, "-"+ingressKey(r))
	}
	return "ingress " + strings.Join(parts, " ")
}

func describeAttributes(set, observed map[string]string) string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		have, ok := observed[k]
		if !ok {
			have = "unset"
		}
		parts = append(parts, k+" "+have+" → "+set[k])
	}
	return "attributes " + strings.Join(parts, ", ")
}

func describeSetChange(name string, add, remove []string) string {
	parts := make([]string, 0, len(add)+len(remove))
	for _, s := range add {
		parts = append(parts, "+"+s)
	}
	for _, s := range remove {
		parts = append(parts, "-"+s)
	}
	return name + " " + strings.Join(parts, " ")
}
