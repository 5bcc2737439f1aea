package plan

import "github.com/elbgateway/elbgateway/internal/model"

// certificates imports, re-imports and deletes the certificates the stack imports from
// Secrets, matched by logical ID. A certificate is never replaced: new content is re-imported
// under the same ARN (so listeners need no change), which is what the content hash is for.
// Creates come before everything, deletes after everything (listeners stop using a
// certificate in the update phase, and deleting a load balancer comes before too).
func (d *differ) certificates() {
	diffKeyed(d, d.desired.certs, d.observed.certs, keyed[model.Certificate]{
		kind:     KindCertificate,
		id:       func(c *model.Certificate) string { return c.ID },
		physical: func(c *model.Certificate) string { return c.ARN },
		resource: func(c *model.Certificate) Resource { return Resource{Certificate: c} },
		update:   certificateUpdate,
		orphaned: "no listener uses it",
	})
}

func certificateUpdate(want, have *model.Certificate) (*Update, string) {
	u := &Update{}
	var why reasons
	if want.Hash != have.Hash {
		u.Fields = append(u.Fields, FieldContent)
		why.add("content " + short(have.Hash) + " → " + short(want.Hash) + " (re-import)")
	}
	u.tags(want.Tags, have.Tags, &why)
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
