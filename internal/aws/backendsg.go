package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/elbgateway/elbgateway/internal/model"
)

// The shared backend security group: one per cluster, attached to every load balancer with a
// managed frontend security group, and the source of the worker-node rules. It is found again
// by its tags in the VPC, as the AWS Load Balancer Controller finds it, so both controllers
// share it.
const (
	backendSGDescription = "[k8s] Shared Backend SecurityGroup for LoadBalancer"
	backendSGResourceTag = "elbv2.k8s.aws/resource"
	backendSGResource    = "backend-sg"
)

// BackendSecurityGroupName is the name of a cluster's shared backend security group:
// k8s-traffic-<cluster, letters and digits only, at most 232>-<10 hex digits of SHA-256(cluster)>.
func BackendSecurityGroupName(cluster string) string {
	sum := sha256.Sum256([]byte(cluster))
	clean := make([]byte, 0, len(cluster))
	for i := 0; i < len(cluster); i++ {
		if ch := cluster[i]; ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' {
			clean = append(clean, ch)
		}
	}
	return fmt.Sprintf("k8s-traffic-%.232s-%.10s", clean, hex.EncodeToString(sum[:]))
}

// EnsureBackendSecurityGroup returns the ID of the cluster's shared backend security group,
// creating it (without rules) when the VPC has none. The ID is remembered until
// ReleaseBackendSecurityGroup.
func (c *Cloud) EnsureBackendSecurityGroup(ctx context.Context) (string, error) {
	n := c.net()
	n.backendMu.Lock()
	defer n.backendMu.Unlock()
	if n.backendID != "" {
		return n.backendID, nil
	}
	id, err := c.findBackendSecurityGroup(ctx)
	if err != nil {
		return "", err
	}
	if id == "" {
		if id, err = c.createBackendSecurityGroup(ctx); err != nil {
			return "", err
		}
	}
	n.backendID = id
	return id, nil
}

func (c *Cloud) findBackendSecurityGroup(ctx context.Context) (string, error) {
	groups, err := c.describeSecurityGroups(ctx, c.vpcFilter(
		ec2types.Filter{Name: aws.String("tag:" + clusterTagKey), Values: []string{c.opts.ClusterName}},
		ec2types.Filter{Name: aws.String("tag:" + backendSGResourceTag), Values: []string{backendSGResource}},
	))
	if err != nil {
		return "", fmt.Errorf("looking for the shared backend security group: %w", err)
	}
	if len(groups) == 0 {
		return "", nil
	}
	return aws.ToString(groups[0].GroupId), nil
}

func (c *Cloud) createBackendSecurityGroup(ctx context.Context) (string, error) {
	name := BackendSecurityGroupName(c.opts.ClusterName)
	resp, err := c.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   aws.String(name),
		Description: aws.String(backendSGDescription),
		VpcId:       optional(c.opts.VPCID),
		TagSpecifications: []ec2types.TagSpecification{{
			ResourceType: ec2types.ResourceTypeSecurityGroup,
			Tags:         toEC2Tags(model.Tags{clusterTagKey: c.opts.ClusterName, backendSGResourceTag: backendSGResource}),
		}},
	})
	if errorCode(err) == "InvalidGroup.Duplicate" {
		return "", fmt.Errorf("security group %s exists in VPC %s without the tags %s=%s and %s=%s; tag it or delete it",
			name, c.opts.VPCID, clusterTagKey, c.opts.ClusterName, backendSGResourceTag, backendSGResource)
	}
	if err != nil {
		return "", fmt.Errorf("creating the shared backend security group %s: %w", name, err)
	}
	return aws.ToString(resp.GroupId), nil
}

// ReleaseBackendSecurityGroup deletes the cluster's shared backend security group, if there is
// one: first our worker-node rules that name it, then the group, retrying while a deleted load
// balancer's network interfaces still hold it (DependencyViolation) for up to DeleteTimeout.
func (c *Cloud) ReleaseBackendSecurityGroup(ctx context.Context) error {
	n := c.net()
	id, err := c.releasableBackendSecurityGroup(ctx)
	if err != nil || id == "" {
		return err
	}
	// The delete may wait for the network interfaces of a load balancer deleted moments ago
	// (DependencyViolation, retried up to DeleteTimeout). Other Gateways are not held up
	// meanwhile, and neither is this one when another takes the group: a DependencyViolation
	// while a Gateway of this process holds the group again, or a load balancer carries it
	// (one made since the check above), means it is in use, so it stays and the delete stops at
	// once rather than failing until DeleteTimeout. One that took it just before it went finds
	// it gone and makes it again (backendID is reset).
	err = c.retryWhileCode(ctx, func() error {
		_, err := c.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
		if !hasCode(err, "DependencyViolation") {
			return err
		}
		n.backendMu.Lock()
		taken := n.backendID == id
		n.backendMu.Unlock()
		if taken {
			return errBackendGroupInUse
		}
		if user, lerr := c.loadBalancerUsing(ctx, id); lerr != nil {
			return lerr
		} else if user != "" {
			return errBackendGroupInUse
		}
		return err
	}, "DependencyViolation")
	if errors.Is(err, errBackendGroupInUse) {
		return nil
	}
	n.backendMu.Lock()
	if n.backendID == id {
		n.backendID = ""
	}
	n.backendMu.Unlock()
	if err != nil && errorCode(err) != "InvalidGroup.NotFound" {
		return fmt.Errorf("deleting the shared backend security group %s: %w", id, err)
	}
	return nil
}

// errBackendGroupInUse ends the delete of the backend group when it turns out to be in use again.
var errBackendGroupInUse = errors.New("the shared backend security group is in use again")

// releasableBackendSecurityGroup returns the shared backend group when no load balancer
// carries it any more, its references from other groups revoked; "" when it is missing or
// still used.
func (c *Cloud) releasableBackendSecurityGroup(ctx context.Context) (string, error) {
	n := c.net()
	n.backendMu.Lock()
	defer n.backendMu.Unlock()
	n.backendID = ""
	id, err := c.findBackendSecurityGroup(ctx)
	if err != nil || id == "" {
		return "", err
	}
	// Gateways deleted together each think they are the last; a load balancer that still
	// carries the group (ours, being deleted, or anyone's) keeps it, rules included. The one
	// whose load balancer goes last finds none.
	if user, err := c.loadBalancerUsing(ctx, id); err != nil || user != "" {
		return "", err
	}
	// Rules someone else wrote from the group (the AWS Load Balancer Controller's worker-node
	// rules, for its own load balancers, or the user's) mean it is still in use: it stays, and
	// deleting the Gateway finishes. Trying anyway would only meet DependencyViolation.
	foreign, err := c.revokeReferences(ctx, id)
	if err != nil {
		return "", err
	}
	if len(foreign) > 0 {
		return "", nil
	}
	return id, nil
}

// loadBalancerUsing returns the ARN of a load balancer in the VPC that has security group id,
// or "".
func (c *Cloud) loadBalancerUsing(ctx context.Context, id string) (string, error) {
	p := elbv2.NewDescribeLoadBalancersPaginator(c.elb, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(c.listPageSize)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("looking for load balancers that use security group %s: %w", id, err)
		}
		for _, lb := range page.LoadBalancers {
			if (c.opts.VPCID == "" || aws.ToString(lb.VpcId) == c.opts.VPCID) && slices.Contains(lb.SecurityGroups, id) {
				return aws.ToString(lb.LoadBalancerArn), nil
			}
		}
	}
	return "", nil
}
