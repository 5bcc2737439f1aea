package plan

import "github.com/elbgateway/elbgateway/internal/model"

// securityGroups creates, updates and deletes managed security groups by logical ID. A security
// group is never replaced: its name and description are set once; ingress rules and tags follow.
func (d *differ) securityGroups() {
	diffKeyed(d, d.desired.sgs, d.observed.sgs, keyed[model.SecurityGroup]{
		kind:     KindSecurityGroup,
		id:       func(sg *model.SecurityGroup) string { return sg.ID },
		physical: func(sg *model.SecurityGroup) string { return sg.GroupID },
		resource: func(sg *model.SecurityGroup) Resource { return Resource{SecurityGroup: sg} },
		update:   securityGroupUpdate,
		orphaned: "no longer desired",
	})
}

func securityGroupUpdate(want, have *model.SecurityGroup) (*Update, string) {
	u := &Update{}
	var why reasons
	u.tags(want.Tags, have.Tags, &why)
	if add, revoke := diffIngress(want.Ingress, have.Ingress); len(add)+len(revoke) > 0 {
		u.Fields = append(u.Fields, FieldIngress)
		u.AddIngress, u.RevokeIngress = add, revoke
		why.add(describeIngress(add, revoke))
	}
	return u.done(), why.String()
}
