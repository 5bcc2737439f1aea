package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/elbgateway/elbgateway/internal/model"
)

// printPlans writes the plans as tables or as one YAML document.
func printPlans(w io.Writer, format string, plans []gatewayPlan) error {
	switch format {
	case "yaml":
		out, err := yaml.Marshal(map[string]any{"gateways": plans})
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"gateways": plans})
	}
	for i, p := range plans {
		if i > 0 {
			fmt.Fprintln(w)
		}
		printPlan(w, p)
	}
	return nil
}

// printPlan writes one Gateway's plan: the AWS resources, then every status condition.
func printPlan(w io.Writer, p gatewayPlan) {
	fmt.Fprintf(w, "Gateway %s (%s)\n", p.Gateway, p.ControllerName)
	s := p.Stack
	if p.Observed {
		section(w, "CHANGES TO AWS", []string{"CHANGE"}, changeRows(p.Changes))
	}
	if s == nil || s.LoadBalancer == nil {
		fmt.Fprintln(w, "\nNo AWS resources: the Gateway is not accepted (see STATUS).")
	} else {
		names := tgNames(s)
		lb := s.LoadBalancer
		section(w, "LOAD BALANCER", []string{"NAME", "TYPE", "SCHEME", "IP ADDRESS TYPE", "SUBNETS", "SECURITY GROUPS"},
			[][]string{{lb.Name, string(s.Type), lb.Scheme, lb.IPAddressType, subnetList(lb.Subnets), refList(lb.SecurityGroups, sgNames(s))}})
		var ls, rules [][]string
		for _, l := range s.Listeners {
			ls = append(ls, []string{fmt.Sprint(l.Port), l.Protocol, actionList(l.DefaultActions, names), listenerTLS(l)})
			for _, r := range l.Rules {
				rules = append(rules, []string{fmt.Sprint(l.Port), fmt.Sprint(r.Priority), conditionList(r.Conditions), actionList(r.Actions, names)})
			}
		}
		section(w, "LISTENERS", []string{"PORT", "PROTOCOL", "DEFAULT ACTIONS", "TLS"}, ls)
		if s.Type == model.Application {
			section(w, "RULES", []string{"LISTENER", "PRIORITY", "CONDITIONS", "ACTIONS"}, rules)
		}
		var tgs [][]string
		for _, tg := range s.TargetGroups {
			tgs = append(tgs, []string{tg.Name, tg.Protocol, fmt.Sprint(tg.Port), tg.TargetType, backend(tg), healthCheck(tg.HealthCheck), targetList(p.Targets[tg.ID])})
		}
		section(w, "TARGET GROUPS", []string{"NAME", "PROTOCOL", "PORT", "TARGET TYPE", "BACKEND", "HEALTH CHECK", "TARGETS"}, tgs)
		var sgs [][]string
		for _, sg := range s.SecurityGroups {
			sgs = append(sgs, []string{sg.Name, ingressList(sg.Ingress)})
		}
		if len(sgs) > 0 {
			section(w, "SECURITY GROUPS", []string{"NAME", "INGRESS"}, sgs)
		}
	}
	if len(p.ResolvedAtApplyTime) > 0 {
		var rows [][]string
		for _, r := range p.ResolvedAtApplyTime {
			rows = append(rows, []string{r})
		}
		section(w, "RESOLVED AT APPLY TIME (needs AWS: plan --aws-endpoint, or the controller)", []string{"LOOK-UP"}, rows)
	}
	section(w, "STATUS", []string{"OBJECT", "PARENT / LISTENER", "CONDITION", "STATUS", "REASON", "MESSAGE"}, statusRows(p))
}

func section(w io.Writer, title string, header []string, rows [][]string) {
	fmt.Fprintf(w, "\n%s\n", title)
	if len(rows) == 0 {
		fmt.Fprintln(w, "  (none)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  "+strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func changeRows(changes []string) [][]string {
	out := make([][]string, 0, len(changes))
	for _, c := range changes {
		out = append(out, []string{c})
	}
	if len(out) == 0 {
		out = append(out, []string{"none: AWS already matches the manifests"})
	}
	return out
}

// statusRows lists every condition translation decided: the Gateway's, each listener's, each
// ListenerSet's and its entries', and each route's per parent.
func statusRows(p gatewayPlan) [][]string {
	var out [][]string
	add := func(object, parent string, conds []metav1.Condition) {
		for _, c := range sortedConditions(conds) {
			out = append(out, []string{object, parent, c.Type, string(c.Status), c.Reason, oneLine(c.Message)})
		}
	}
	if p.Status == nil {
		return nil
	}
	if g := p.Status.Gateway; g != nil {
		add("Gateway "+g.Namespace+"/"+g.Name, "-", g.Conditions)
		for _, l := range g.Listeners {
			add("Gateway "+g.Namespace+"/"+g.Name, "listener "+string(l.Name), l.Conditions)
		}
	}
	for _, ls := range p.Status.ListenerSets {
		add("ListenerSet "+ls.Namespace+"/"+ls.Name, "-", ls.Status.Conditions)
		for _, e := range ls.Status.Listeners {
			add("ListenerSet "+ls.Namespace+"/"+ls.Name, "listener "+string(e.Name), e.Conditions)
		}
	}
	for _, r := range p.Status.Routes {
		for _, parent := range r.Parents {
			add(r.Kind+" "+r.Namespace+"/"+r.Name, parentName(parent.ParentRef, r.Namespace), parent.Conditions)
		}
	}
	return out
}

// rejections lists the conditions that say an object (or part of one) was refused: a condition
// of positive polarity that is False, or Conflicted / OverlappingTLSConfig that is True.
func rejections(plans []gatewayPlan) (rejected, partial []string) {
	for _, p := range plans {
		for _, row := range statusRows(p) {
			typ, st := row[2], row[3]
			negative := typ == string(gwv1.ListenerConditionConflicted) || typ == string(gwv1.ListenerConditionOverlappingTLSConfig) ||
				typ == string(gwv1.RouteConditionPartiallyInvalid)
			if (!negative && st == string(metav1.ConditionFalse)) || (negative && st == string(metav1.ConditionTrue)) {
				where := row[0]
				if row[1] != "-" {
					where += " (" + row[1] + ")"
				}
				line := fmt.Sprintf("%s: %s=%s %s: %s", where, typ, st, row[4], row[5])
				// Refused objects and references are the manifests' fault; anything else
				// (a conflict, a rule beyond a quota, a listener left unprogrammed) means the
				// rest is served without it. A ListenerSet entry that loses a conflict is
				// Accepted=False with the conflict as reason: dropped, as a conflict is.
				conflict := typ == string(gwv1.ListenerEntryConditionAccepted) && strings.HasSuffix(row[4], "Conflict")
				if !conflict && (typ == string(gwv1.GatewayConditionAccepted) || typ == string(gwv1.GatewayConditionResolvedRefs)) {
					rejected = append(rejected, line)
				} else {
					partial = append(partial, line)
				}
			}
		}
	}
	return rejected, partial
}

func sortedConditions(cs []metav1.Condition) []metav1.Condition {
	out := append([]metav1.Condition(nil), cs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

func parentName(ref gwv1.ParentReference, routeNamespace string) string {
	ns := routeNamespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	kind := "Gateway"
	if ref.Kind != nil && *ref.Kind != "" {
		kind = string(*ref.Kind)
	}
	s := kind + " " + ns + "/" + string(ref.Name)
	if ref.SectionName != nil {
		s += " listener " + string(*ref.SectionName)
	}
	if ref.Port != nil {
		s += fmt.Sprintf(" port %d", *ref.Port)
	}
	return s
}

// tgNames maps the stack's target group logical IDs to their names.
func tgNames(s *model.Stack) map[string]string {
	out := map[string]string{}
	for _, tg := range s.TargetGroups {
		out[tg.ID] = tg.Name
	}
	return out
}

// sgNames maps the stack's security group logical IDs to their names.
func sgNames(s *model.Stack) map[string]string {
	out := map[string]string{}
	for _, sg := range s.SecurityGroups {
		out[sg.ID] = sg.Name
	}
	return out
}

func refList(refs []model.Ref, names map[string]string) string {
	var parts []string
	for _, r := range refs {
		switch {
		case r.External != "":
			text, _ := pendingText(r.External)
			parts = append(parts, text)
		case names[r.ID] != "":
			parts = append(parts, names[r.ID])
		default:
			parts = append(parts, r.ID)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func subnetList(ms []model.SubnetMapping) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		parts = append(parts, m.SubnetID)
	}
	return strings.Join(parts, ", ")
}

func actionList(as []model.Action, names map[string]string) string {
	var parts []string
	for _, a := range as {
		switch {
		case a.Forward != nil:
			var tgs []string
			for _, t := range a.Forward.TargetGroups {
				tgs = append(tgs, fmt.Sprintf("%s (weight %d)", refList([]model.Ref{t.TargetGroup}, names), t.Weight))
			}
			parts = append(parts, "forward "+strings.Join(tgs, ", "))
		case a.FixedResponse != nil:
			parts = append(parts, "fixed-response "+a.FixedResponse.StatusCode)
		case a.Redirect != nil:
			r := a.Redirect
			parts = append(parts, fmt.Sprintf("redirect %s %s://%s:%s%s", r.StatusCode, orKeep(r.Protocol, "#{protocol}"), orKeep(r.Host, "#{host}"), orKeep(r.Port, "#{port}"), orKeep(r.Path, "/#{path}")))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, "; ")
}

func orKeep(v, keep string) string {
	if v == "" {
		return keep
	}
	return v
}

func listenerTLS(l model.Listener) string {
	if len(l.Certificates) == 0 && l.SSLPolicy == "" {
		return "-"
	}
	parts := []string{}
	if l.SSLPolicy != "" {
		parts = append(parts, l.SSLPolicy)
	}
	if l.ALPNPolicy != "" {
		parts = append(parts, "ALPN "+l.ALPNPolicy)
	}
	parts = append(parts, fmt.Sprintf("certificates: %d", len(l.Certificates)))
	return strings.Join(parts, ", ")
}

func conditionList(cs []model.Condition) string {
	var parts []string
	for _, c := range cs {
		vals := append(append([]string(nil), c.Values...), c.RegexValues...)
		for _, kv := range c.QueryValues {
			vals = append(vals, kv.Key+"="+kv.Value)
		}
		name := c.Field
		if c.HeaderName != "" {
			name += "[" + c.HeaderName + "]"
		}
		parts = append(parts, name+"="+strings.Join(vals, "|"))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " AND ")
}

func backend(tg model.TargetGroup) string {
	if tg.Backend == nil {
		return "-"
	}
	return fmt.Sprintf("%s/%s:%d", tg.Backend.Namespace, tg.Backend.Service, tg.Backend.Port)
}

func healthCheck(h model.HealthCheck) string {
	if !h.Enabled {
		return "disabled"
	}
	target := h.Protocol + " " + h.Port
	if h.Path != "" {
		target += " " + h.Path
	}
	s := fmt.Sprintf("%s every %ds, timeout %ds, healthy %d, unhealthy %d", target, h.IntervalSeconds, h.TimeoutSeconds, h.HealthyThreshold, h.UnhealthyThreshold)
	if h.HTTPCode != "" {
		s += ", codes " + h.HTTPCode
	}
	if h.GRPCCode != "" {
		s += ", grpc codes " + h.GRPCCode
	}
	return s
}

func targetList(ts []model.Target) string {
	if len(ts) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s:%d", t.ID, t.Port))
	}
	return strings.Join(parts, ", ")
}

func ingressList(rs []model.IngressRule) string {
	var parts []string
	for _, r := range rs {
		from := r.CIDR
		if r.PrefixListID != "" {
			from = r.PrefixListID
		}
		ports := fmt.Sprint(r.FromPort)
		if r.ToPort != r.FromPort {
			ports += "-" + fmt.Sprint(r.ToPort)
		}
		parts = append(parts, fmt.Sprintf("%s %s from %s", r.Protocol, ports, from))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
