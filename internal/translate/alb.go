package translate

import (
	"fmt"

	"github.com/elbgateway/elbgateway/internal/model"
)

// albSubnetsOK checks that an ALB's subnets span two availability zones, as AWS requires.
// Subnets whose zone is not known count as zones of their own.
func (t *translator) albSubnetsOK(subnets []model.SubnetMapping) *problem {
	zones := map[string]bool{}
	for _, m := range subnets {
		zone := "?" + m.SubnetID
		for _, s := range t.s.AWS.Subnets {
			if s.ID == m.SubnetID && s.AvailabilityZone != "" {
				zone = s.AvailabilityZone
			}
		}
		zones[zone] = true
	}
	if len(zones) >= 2 {
		return nil
	}
	return &problem{invalidReason, fmt.Sprintf(
		"spec.loadBalancerSubnets: an ALB needs subnets in at least two availability zones, found %d subnet(s) in %d; tag more subnets with %s=1 (internal) or %s=1 (internet-facing), or list them in the LoadBalancerConfiguration's spec.loadBalancerSubnets",
		len(subnets), len(zones), roleInternalELB, roleELB)}
}
