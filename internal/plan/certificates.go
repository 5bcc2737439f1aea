package plan

import (
	"sort"

	"github.com/elbgateway/elbgateway/internal/model"
)

// certificates imports, re-imports and deletes the certificates the stack imports from
// Secrets, matched by logical ID. A certificate is never replaced: new content is re-imported
// under the same ARN (so listeners need no change), which is what the content hash is for.
// Creates come before everything, deletes after everything (listeners stop using a
// certificate in the update phase, and deleting a load balancer comes before too).
func (d *differ) certificates() {
	observed := map[string][]*model.Certificate{}
	for i := range d.observed.certs {
		c := &d.observed.certs[i]
		observed[c.ID] = append(observed[c.ID], c)
	}
	for id := range observed {
		sort.Slice(observed[id], func(i, j int) bool { return observed[id][i].ARN < observed[id][j].ARN })
	}
	desired := map[string]bool{}
	for i := range d.desired.certs {
		want := &d.desired.certs[i]
		if desired[want.ID] {
			continue
		}
		desired[want.ID] = true
		k := sortKey{id: want.ID}
		have := observed[want.ID]
		if len(have) == 0 {
			d.add(phaseCreate, k, Change{Op: OpCreate, Kind: KindCertificate, ID: want.ID, Reason: "not found",
				Desired: Resource{Certificate: want}})
			continue
		}
		for _, extra := range have[1:] {
			d.add(phaseDelete, sortKey{id: want.ID + "/" + extra.ARN}, Change{Op: OpDelete, Kind: KindCertificate, ID: want.ID,
				Reason: "duplicate " + extra.ARN + " of " + have[0].ARN, Observed: Resource{Certificate: extra}})
		}
		if u, why := certificateUpdate(want, have[0]); u != nil {
			d.add(phaseUpdate, k, Change{Op: OpUpdate, Kind: KindCertificate, ID: want.ID, Reason: why, Update: u,
				Desired: Resource{Certificate: want}, Observed: Resource{Certificate: have[0]}})
		}
	}
	for id, have := range observed {
		if desired[id] {
			continue
		}
		for _, c := range have {
			d.add(phaseDelete, sortKey{id: id + "/" + c.ARN}, Change{Op: OpDelete, Kind: KindCertificate, ID: id,
				Reason: "no listener uses it", Observed: Resource{Certificate: c}})
		}
	}
}

func certificateUpdate(want, have *model.Certificate) (*Update, string) {
	u := &Update{}
	var why reasons
	if want.Hash != have.Hash {
		u.Fields = append(u.Fields, FieldContent)
		why.add("content " + short(have.Hash) + " → " + short(want.Hash) + " (re-import)")
	}
	if add, remove := diffTags(want.Tags, have.Tags); len(add)+len(remove) > 0 {
		u.Fields = append(u.Fields, FieldTags)
		u.AddTags, u.RemoveTags = add, remove
		why.add(describeTags(add, remove))
	}
	return u.done(), why.String()
}

func short(hash string) string {
	if hash == "" {
		return "unknown"
	}
	return hash[:min(12, len(hash))]
}

// certificateKey is what a listener certificate compares as: the ARN, also for one of the
// stack's imported certificates that exists (so importing it again changes nothing), or
// "new:<id>" for one that does not exist yet.
func (d *differ) certificateKey(r model.Ref) string {
	if r.External != "" {
		return r.External
	}
	var arn string
	for _, c := range d.observed.certs {
		if c.ID == r.ID && (arn == "" || c.ARN < arn) {
			arn = c.ARN
		}
	}
	if arn != "" {
		return arn
	}
	return "new:" + r.ID
}

// certificateDiff compares a listener's certificates: whether the default differs, and the
// extra certificates to add and remove (as refs, for apply to resolve).
func (d *differ) certificateDiff(want, have []model.Ref) (c certificateChange) {
	keys := func(refs []model.Ref) ([]string, map[string]model.Ref) {
		m := map[string]model.Ref{}
		out := make([]string, 0, len(refs))
		for _, r := range refs {
			k := d.certificateKey(r)
			m[k] = r
			out = append(out, k)
		}
		return out, m
	}
	wk, wm := keys(want)
	hk, hm := keys(have)
	if w, h := first(wk), first(hk); w != h {
		c.defaultWhy = "defaultCertificate " + orDefault(h, "none") + " → " + orDefault(w, "none")
	}
	addKeys, removeKeys := diffSets(rest(wk), rest(hk))
	for _, k := range addKeys {
		c.add = append(c.add, wm[k])
	}
	for _, k := range removeKeys {
		c.remove = append(c.remove, hm[k])
	}
	if len(addKeys)+len(removeKeys) > 0 {
		c.setWhy = describeSetChange("certificates", addKeys, removeKeys)
	}
	return c
}

// certificateChange is how a listener's certificates differ: the default (a ModifyListener)
// and the extra ones (Add/RemoveListenerCertificates).
type certificateChange struct {
	defaultWhy  string
	add, remove []model.Ref
	setWhy      string
}
