package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/elbgateway/elbgateway/internal/controller"
)

// securityGroupFlags are the security-group flags of `elbgateway controller`, named and
// defaulted as the AWS Load Balancer Controller's.
type securityGroupFlags struct {
	enableBackend bool
	backendID     string
	unrestricted  bool
	eniTags       tagsFlag
}

func (f *securityGroupFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.enableBackend, "enable-backend-security-group", true,
		"attach the cluster's shared backend security group to load balancers and open the worker nodes to it only")
	fs.StringVar(&f.backendID, "backend-security-group", "",
		"ID of a security group to use as the shared backend security group (never deleted); default: one the controller creates")
	fs.BoolVar(&f.unrestricted, "disable-restricted-sg-rules", false,
		"open every port of the targets' security groups to the load balancer, not only the traffic and health-check ports")
	fs.Var(&f.eniTags, "service-target-eni-security-group-tags",
		"comma-separated key=value tags that pick, besides kubernetes.io/cluster/<cluster>, the security group of a target ENI with several")
}

func (f *securityGroupFlags) validate() []string {
	if f.backendID != "" && !strings.HasPrefix(f.backendID, "sg-") {
		return []string{fmt.Sprintf("--backend-security-group %q: give a security group ID (sg-...)", f.backendID)}
	}
	return nil
}

func (f *securityGroupFlags) options() controller.SecurityGroupOptions {
	return controller.SecurityGroupOptions{
		DisableBackendSecurityGroup: !f.enableBackend,
		BackendSecurityGroupID:      f.backendID,
		UnrestrictedRules:           f.unrestricted,
		ENISecurityGroupTags:        f.eniTags.tags,
	}
}
