package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/elbgateway/elbgateway/internal/model"
)

// diffTags returns the tags to write and the keys to remove so observed carries exactly the
// desired tags. Keys that start with "aws:" belong to AWS and are never touched.
func diffTags(desired, observed model.Tags) (model.Tags, []string) {
	var add model.Tags
	for k, v := range desired {
		if isAWSTag(k) {
			continue
		}
		if have, ok := observed[k]; !ok || have != v {
			if add == nil {
				add = model.Tags{}
			}
			add[k] = v
		}
	}
	var remove []string
	for k := range observed {
		if isAWSTag(k) {
			continue
		}
		if _, ok := desired[k]; !ok {
			remove = append(remove, k)
		}
	}
	sort.Strings(remove)
	return add, remove
}

func isAWSTag(k string) bool { return strings.HasPrefix(k, "aws:") }

// diffAttributes returns the attributes to write: desired values that differ from the observed
// ones, and the AWS default of each key in defaults that is not desired but observed with
// another value. Keys without a known default are left as they are.
func diffAttributes(desired, observed, defaults map[string]string) map[string]string {
	var set map[string]string
	put := func(k, v string) {
		if set == nil {
			set = map[string]string{}
		}
		set[k] = v
	}
	for k, v := range desired {
		if have, ok := observed[k]; !ok || !sameValue(have, v) {
			put(k, v)
		}
	}
	for k, have := range observed {
		if _, ok := desired[k]; ok {
			continue
		}
		if def, ok := defaults[k]; ok && !sameValue(have, def) {
			put(k, def)
		}
	}
	return set
}

// sameValue compares attribute values; booleans compare regardless of case.
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	isBool := func(s string) bool { return strings.EqualFold(s, "true") || strings.EqualFold(s, "false") }
	return isBool(a) && isBool(b) && strings.EqualFold(a, b)
}

// diffIngress returns the rules to authorize and to revoke. Rules are identified by protocol,
// ports and source; a changed description alone is not a change.
func diffIngress(desired, observed []model.IngressRule) (add, revoke []model.IngressRule) {
	want := map[string]model.IngressRule{}
	for _, r := range desired {
		want[ingressKey(r)] = r
	}
	have := map[string]model.IngressRule{}
	for _, r := range observed {
		have[ingressKey(r)] = r
	}
	for k, r := range want {
		if _, ok := have[k]; !ok {
			add = append(add, r)
		}
	}
	for k, r := range have {
		if _, ok := want[k]; !ok {
			revoke = append(revoke, r)
		}
	}
	sortIngress(add)
	sortIngress(revoke)
	return add, revoke
}

func ingressKey(r model.IngressRule) string {
	proto := strings.ToLower(r.Protocol)
	from, to := r.FromPort, r.ToPort
	if proto == "-1" || proto == "all" {
		proto, from, to = "-1", 0, 0
	}
	src := r.CIDR
	if r.PrefixListID != "" {
		src = r.PrefixListID
	}
	return fmt.Sprintf("%s/%d-%d/%s", proto, from, to, src)
}

func sortIngress(rules []model.IngressRule) {
	sort.Slice(rules, func(i, j int) bool { return ingressKey(rules[i]) < ingressKey(rules[j]) })
}

// diffSets returns what is in want and not in have, and the reverse, both sorted.
func diffSets(want, have []string) (add, remove []string) {
	w, h := map[string]bool{}, map[string]bool{}
	for _, s := range want {
		w[s] = true
	}
	for _, s := range have {
		h[s] = true
	}
	for s := range w {
		if !h[s] {
			add = append(add, s)
		}
	}
	for s := range h {
		if !w[s] {
			remove = append(remove, s)
		}
	}
	sort.Strings(add)
	sort.Strings(remove)
	return add, remove
}

// normalHealthCheck fills AWS's defaults in and drops what a TCP or UDP health check cannot
// carry (path and matcher), so the desired and observed forms compare equal.
func normalHealthCheck(h model.HealthCheck) model.HealthCheck {
	h.Port = orDefault(h.Port, "traffic-port")
	if h.Protocol == "TCP" || h.Protocol == "UDP" {
		h.Path, h.HTTPCode, h.GRPCCode = "", "", ""
	}
	return h
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// done returns nil for an update that changes nothing.
func (u *Update) done() *Update {
	if u == nil || len(u.Fields) == 0 {
		return nil
	}
	sort.Slice(u.Fields, func(i, j int) bool { return u.Fields[i] < u.Fields[j] })
	return u
}

// with returns the update with f added.
func (u *Update) with(f Field) *Update {
	if u == nil {
		u = &Update{}
	}
	if !u.Has(f) {
		u.Fields = append(u.Fields, f)
	}
	return u.done()
}

// tags adds to the update, and its reason to why, the tag changes that turn have into want.
func (u *Update) tags(want, have model.Tags, why *reasons) {
	if add, remove := diffTags(want, have); len(add)+len(remove) > 0 {
		u.Fields = append(u.Fields, FieldTags)
		u.AddTags, u.RemoveTags = add, remove
		why.add(describeTags(add, remove))
	}
}

// attributes adds to the update, and its reason to why, the attributes to set so that have
// matches want (see diffAttributes for the keys want leaves out).
func (u *Update) attributes(want, have, defaults map[string]string, why *reasons) {
	if set := diffAttributes(want, have, defaults); len(set) > 0 {
		u.Fields = append(u.Fields, FieldAttributes)
		u.SetAttributes = set
		why.add(describeAttributes(set, have))
	}
}

// reasons collects the parts of a change's reason.
type reasons []string

func (r *reasons) add(s string) { *r = append(*r, s) }

// field notes a field whose value differs.
func (r *reasons) field(name, want, have string) {
	if want != have {
		r.add(name + " " + orDefault(have, `""`) + " → " + orDefault(want, `""`))
	}
}

func (r reasons) String() string { return strings.Join(r, "; ") }

func joinReasons(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
