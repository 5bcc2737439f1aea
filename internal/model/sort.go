package model

import (
	"cmp"
	"slices"
)

// Sort puts every list of the stack in its canonical order, so that two stacks with the same
// content print and compare the same. The order of a listener's certificates is kept: the
// first one is the default certificate.
func (s *Stack) Sort() {
	if s == nil {
		return
	}
	if s.LoadBalancer != nil {
		lb := s.LoadBalancer
		slices.SortFunc(lb.Subnets, func(a, b SubnetMapping) int { return cmp.Compare(a.SubnetID, b.SubnetID) })
		slices.SortFunc(lb.SecurityGroups, compareRefs)
	}
	slices.SortFunc(s.SecurityGroups, func(a, b SecurityGroup) int { return cmp.Compare(a.ID, b.ID) })
	for i := range s.SecurityGroups {
		slices.SortFunc(s.SecurityGroups[i].Ingress, compareIngress)
	}
	slices.SortFunc(s.Listeners, func(a, b Listener) int { return cmp.Compare(a.Port, b.Port) })
	for i := range s.Listeners {
		l := &s.Listeners[i]
		sortActions(l.DefaultActions)
		slices.SortFunc(l.Rules, func(a, b Rule) int { return cmp.Compare(a.Priority, b.Priority) })
		for j := range l.Rules {
			sortActions(l.Rules[j].Actions)
		}
	}
	slices.SortFunc(s.TargetGroups, func(a, b TargetGroup) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Certificates, func(a, b Certificate) int { return cmp.Compare(a.ID, b.ID) })
}

func sortActions(actions []Action) {
	for i := range actions {
		if f := actions[i].Forward; f != nil {
			slices.SortFunc(f.TargetGroups, func(a, b WeightedTargetGroup) int {
				return compareRefs(a.TargetGroup, b.TargetGroup)
			})
		}
	}
}

func compareRefs(a, b Ref) int {
	return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.External, b.External))
}

func compareIngress(a, b IngressRule) int {
	return cmp.Or(
		cmp.Compare(a.Protocol, b.Protocol),
		cmp.Compare(a.FromPort, b.FromPort),
		cmp.Compare(a.ToPort, b.ToPort),
		cmp.Compare(a.CIDR, b.CIDR),
		cmp.Compare(a.PrefixListID, b.PrefixListID),
		cmp.Compare(a.Description, b.Description),
	)
}
