package plan

import (
	"sort"

	"github.com/elbgateway/elbgateway/internal/model"
)

// securityGroups creates, updates and deletes managed security groups by logical ID. A security
// group is never replaced: its name and description are set once; ingress rules and tags follow.
func (d *differ) securityGroups() {
	observed := map[string][]*model.SecurityGroup{}
	for i := range d.observed.sgs {
		sg := &d.observed.sgs[i]
		observed[sg.ID] = append(observed[sg.ID], sg)
	}
	for id := range observed {
		sort.Slice(observed[id], func(i, j int) bool { return observed[id][i].GroupID < observed[id][j].GroupID })
	}
	desiredIDs := map[string]bool{}
	for i := range d.desired.sgs {
		want := &d.desired.sgs[i]
		if desiredIDs[want.ID] {
			continue // a desired stack holds one resource per ID; model.Validate rejects others
		}
		desiredIDs[want.ID] = true
		k := sortKey{id: want.ID}
		have := observed[want.ID]
		if len(have) == 0 {
			d.add(phaseCreate, k, Change{Op: OpCreate, Kind: KindSecurityGroup, ID: want.ID, Reason: "not found", Desired: Resource{SecurityGroup: want}})
			continue
		}
		for _, extra := range have[1:] {
			d.add(phaseDelete, sortKey{id: want.ID + "/" + extra.GroupID}, Change{Op: OpDelete, Kind: KindSecurityGroup, ID: want.ID,
				Reason: "duplicate " + extra.GroupID + " of " + have[0].GroupID, Observed: Resource{SecurityGroup: extra}})
		}
		if u, why := securityGroupUpdate(want, have[0]); u != nil {
			d.add(phaseUpdate, k, Change{Op: OpUpdate, Kind: KindSecurityGroup, ID: want.ID, Reason: why, Update: u,
				Desired: Resource{SecurityGroup: want}, Observed: Resource{SecurityGroup: have[0]}})
		}
	}
	for id, have := range observed {
		if desiredIDs[id] {
			continue
		}
		for _, sg := range have {
			d.add(phaseDelete, sortKey{id: id + "/" + sg.GroupID}, Change{Op: OpDelete, Kind: KindSecurityGroup, ID: id,
				Reason: "no longer desired", Observed: Resource{SecurityGroup: sg}})
		}
	}
}

func securityGroupUpdate(want, have *model.SecurityGroup) (*Update, string) {
	u := &Update{}
	var why reasons
	if add, remove := diffTags(want.Tags, have.Tags); len(add)+len(remove) > 0 {
		u.Fields = append(u.Fields, FieldTags)
		u.AddTags, u.RemoveTags = add, remove
		why.add(describeTags(add, remove))
	}
	if add, revoke := diffIngress(want.Ingress, have.Ingress); len(add)+len(revoke) > 0 {
		u.Fields = append(u.Fields, FieldIngress)
		u.AddIngress, u.RevokeIngress = add, revoke
		why.add(describeIngress(add, revoke))
	}
	return u.done(), why.String()
}
