package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

func (a *applier) securityGroup(ctx context.Context, ch plan.Change) error {
	switch ch.Op {
	case plan.OpCreate:
		return a.createSecurityGroup(ctx, ch.Desired.SecurityGroup)
	case plan.OpUpdate:
		return a.updateSecurityGroup(ctx, ch.Observed.SecurityGroup.GroupID, ch.Update)
	case plan.OpDelete:
		return a.deleteSecurityGroup(ctx, ch.Observed.SecurityGroup)
	}
	return fmt.Errorf("unknown op %q", ch.Op)
}

func (a *applier) createSecurityGroup(ctx context.Context, sg *model.SecurityGroup) error {
	var existing *ec2types.SecurityGroup
	if a.c.uncertain.mayExist("securitygroup", sg.Name) {
		var err error
		if existing, err = a.securityGroupByName(ctx, sg.Name); err != nil {
			return err
		}
	}
	if existing != nil {
		return a.adoptSecurityGroup(ctx, sg, existing)
	}
	groupID, err := a.newSecurityGroup(ctx, sg)
	if errorCode(err) == "InvalidGroup.Duplicate" {
		// EC2 is eventually consistent: a group created moments ago (by the previous
		// reconcile) may not be listed yet although its name is taken. Look again briefly.
		err = a.c.retryBriefly(ctx, func() error {
			existing, err := a.securityGroupByName(ctx, sg.Name)
			if err == nil && existing == nil {
				return &smithy.GenericAPIError{Code: "InvalidGroup.NotFound", Message: "security group " + sg.Name + " not listed yet"}
			}
			if err != nil {
				return err
			}
			return a.adoptSecurityGroup(ctx, sg, existing)
		}, "InvalidGroup.NotFound")
		if err != nil {
			return fmt.Errorf("creating security group %s: its name is taken, and the group is not found: %w", sg.Name, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	a.sgIDs[sg.ID] = groupID
	// EC2 is eventually consistent: a group just created may not be found yet by the next
	// call ("InvalidGroup.NotFound"); retry that briefly.
	return a.c.retryBriefly(ctx, func() error { return a.authorize(ctx, groupID, sg.Ingress) }, "InvalidGroup.NotFound")
}

// adoptSecurityGroup takes over a group of this stack's name found in the VPC: left over from
// an interrupted create, or created by the previous reconcile and not listed by tag yet.
func (a *applier) adoptSecurityGroup(ctx context.Context, sg *model.SecurityGroup, existing *ec2types.SecurityGroup) error {
	tags := fromEC2Tags(existing.Tags)
	if id, ok := a.c.owned(tags, a.stackID, a.typ); !ok || id != sg.ID {
		return fmt.Errorf("security group %s (%s) already exists in VPC %s and is not this Gateway's; delete or rename it",
			sg.Name, aws.ToString(existing.GroupId), a.c.opts.VPCID)
	}
	groupID := aws.ToString(existing.GroupId)
	a.sgIDs[sg.ID] = groupID
	// Make sure it has the desired rules and tags; the next plan revokes rules that should not
	// be there. Only the tags it lacks are written: the policy lets the controller retag its
	// groups only without the cluster tag in the request (docs/iam-policy.json,
	// RetagOwnedSecurityGroupsKeepingTheClusterTag), and the ownership tags are there already.
	missing := model.Tags{}
	for k, v := range sg.Tags {
		if tags[k] != v {
			missing[k] = v
		}
	}
	return a.updateSecurityGroup(ctx, groupID, &plan.Update{Fields: []plan.Field{plan.FieldIngress, plan.FieldTags}, AddTags: missing, AddIngress: sg.Ingress})
}

// newSecurityGroup creates the group with its tags and returns its ID.
func (a *applier) newSecurityGroup(ctx context.Context, sg *model.SecurityGroup) (string, error) {
	resp, err := a.c.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   aws.String(sg.Name),
		Description: aws.String(sg.Description),
		VpcId:       optional(a.c.opts.VPCID),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags:         toEC2Tags(sg.Tags),
		}},
	})
	if err != nil {
		a.c.uncertain.failed("securitygroup", sg.Name, err)
		return "", fmt.Errorf("creating security group %s: %w", sg.Name, err)
	}
	a.c.uncertain.settled("securitygroup", sg.Name)
	return aws.ToString(resp.GroupId), nil
}

func (a *applier) securityGroupByName(ctx context.Context, name string) (*ec2types.SecurityGroup, error) {
	filters := []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{name}}}
	if a.c.opts.VPCID != "" {
		filters = append(filters, ec2types.Filter{Name: aws.String("vpc-id"), Values: []string{a.c.opts.VPCID}})
	}
	resp, err := a.c.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filters})
	if err != nil {
		return nil, fmt.Errorf("looking up security group %s: %w", name, err)
	}
	if len(resp.SecurityGroups) == 0 {
		return nil, nil
	}
	return &resp.SecurityGroups[0], nil
}

func (a *applier) updateSecurityGroup(ctx context.Context, groupID string, u *plan.Update) error {
	if u.Has(plan.FieldIngress) {
		if len(u.RevokeIngress) > 0 {
			if _, err := a.c.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
				GroupId: aws.String(groupID), IpPermissions: toIPPermissions(u.RevokeIngress),
			}); err != nil && errorCode(err) != "InvalidPermission.NotFound" {
				return fmt.Errorf("revoking ingress of %s: %w", groupID, err)
			}
		}
		if err := a.authorize(ctx, groupID, u.AddIngress); err != nil {
			return err
		}
	}
	if u.Has(plan.FieldTags) {
		if len(u.AddTags) > 0 {
			if _, err := a.c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{groupID}, Tags: toEC2Tags(u.AddTags)}); err != nil {
				return fmt.Errorf("tagging %s: %w", groupID, err)
			}
		}
		if len(u.RemoveTags) > 0 {
			tags := make([]ec2types.Tag, 0, len(u.RemoveTags))
			for _, k := range u.RemoveTags {
				tags = append(tags, ec2types.Tag{Key: aws.String(k)})
			}
			if _, err := a.c.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{groupID}, Tags: tags}); err != nil {
				return fmt.Errorf("untagging %s: %w", groupID, err)
			}
		}
	}
	return nil
}

func (a *applier) authorize(ctx context.Context, groupID string, rules []model.IngressRule) error {
	if err := a.c.authorizeIngress(ctx, groupID, toIPPermissions(rules)); err != nil {
		return fmt.Errorf("authorizing ingress of %s: %w", groupID, err)
	}
	return nil
}

// deleteSecurityGroup first revokes the worker-node rules that name the group (the targets
// loop's, when it was their source), then retries while a deleted load balancer's network
// interfaces still use it.
func (a *applier) deleteSecurityGroup(ctx context.Context, sg *model.SecurityGroup) error {
	foreign, err := a.c.revokeReferences(ctx, sg.GroupID)
	if err != nil {
		return err
	}
	if len(foreign) > 0 {
		return fmt.Errorf("security group %s cannot be deleted: rules the controller did not write allow traffic from it (%s); remove them, and the next reconcile deletes the group",
			sg.GroupID, strings.Join(foreign, ", "))
	}
	err = a.retryWhile(ctx, func() error {
		_, err := a.c.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(sg.GroupID)})
		return err
	}, "DependencyViolation")
	if err != nil && errorCode(err) != "InvalidGroup.NotFound" {
		return fmt.Errorf("deleting security group %s (%s): %w", sg.Name, sg.GroupID, err)
	}
	if a.sgIDs[sg.ID] == sg.GroupID {
		delete(a.sgIDs, sg.ID)
	}
	return nil
}
