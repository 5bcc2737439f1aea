package aws

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Tag keys that mark what we own.
const clusterTagKey = "elbv2.k8s.aws/cluster"

// describeTagsLimit is how many ARNs one DescribeTags call takes on AWS.
const describeTagsLimit = 20

func stackTagKey(t model.LoadBalancerType) string    { return tagPrefix(t) + "/stack" }
func resourceTagKey(t model.LoadBalancerType) string { return tagPrefix(t) + "/resource" }

func tagPrefix(t model.LoadBalancerType) string {
	if t == model.Application {
		return "gateway.k8s.aws.alb"
	}
	return "gateway.k8s.aws.nlb"
}

// owned reports whether tags mark a resource of the stack, and its logical ID.
func (c *Cloud) owned(tags model.Tags, stackID string, t model.LoadBalancerType) (string, bool) {
	if tags[clusterTagKey] != c.opts.ClusterName || tags[stackTagKey(t)] != stackID {
		return "", false
	}
	id, ok := tags[resourceTagKey(t)]
	return id, ok
}

// elbTags returns the tags of ELB resources, from the cache where it can, reading the rest with
// DescribeTags in chunks of 20.
func (c *Cloud) elbTags(ctx context.Context, arns []string) (map[string]model.Tags, error) {
	out := make(map[string]model.Tags, len(arns))
	var misses []string
	now := c.now()
	for _, arn := range arns {
		if tags, ok := c.tags.get(arn, now); ok {
			out[arn] = tags
		} else {
			misses = append(misses, arn)
		}
	}
	for chunk := range slices.Chunk(misses, describeTagsLimit) {
		if err := c.describeTags(ctx, chunk, out, now); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Errors DescribeTags answers when one of its ARNs no longer exists.
var tagsNotFound = []string{"LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "RuleNotFound", "TrustStoreNotFound"}

// describeTags reads the tags of up to 20 ARNs into out. AWS refuses the whole call when one
// ARN no longer exists (a resource deleted since it was listed, by us or by someone else);
// then the chunk is split in halves until the missing ARNs stand alone, and those are left
// out of out: log2(20) ≈ 5 more calls per missing ARN, instead of failing every reader.
func (c *Cloud) describeTags(ctx context.Context, arns []string, out map[string]model.Tags, now time.Time) error {
	resp, err := c.elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
	if hasCode(err, tagsNotFound...) {
		if len(arns) == 1 {
			c.tags.forget(arns[0])
			return nil
		}
		half := len(arns) / 2
		if err := c.describeTags(ctx, arns[:half], out, now); err != nil {
			return err
		}
		return c.describeTags(ctx, arns[half:], out, now)
	}
	if err != nil {
		return err
	}
	for _, d := range resp.TagDescriptions {
		tags := fromELBTags(d.Tags)
		arn := aws.ToString(d.ResourceArn)
		out[arn] = tags
		c.tags.put(arn, tags, now)
	}
	return nil
}

func fromELBTags(tags []elbtypes.Tag) model.Tags {
	out := model.Tags{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

func toELBTags(tags model.Tags) []elbtypes.Tag {
	out := make([]elbtypes.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, elbtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ownedLoadBalancers describes the stack's load balancers (normally one) that the inventory
// knows, oldest first.
func (c *Cloud) ownedLoadBalancers(ctx context.Context, stackID string, t model.LoadBalancerType) ([]elbtypes.LoadBalancer, []model.Tags, error) {
	arns, err := c.inventoryARNs(ctx, stackKey{t, stackID}, kindLoadBalancer)
	if err != nil {
		return nil, nil, err
	}
	described, err := byARN[elbtypes.LoadBalancer]{
		kind: kindLoadBalancer, notFound: "LoadBalancerNotFound",
		describe: func(ctx context.Context, chunk []string) ([]elbtypes.LoadBalancer, error) {
			resp, err := c.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: chunk})
			if err != nil {
				return nil, err
			}
			return resp.LoadBalancers, nil
		},
		arn: func(lb elbtypes.LoadBalancer) string { return aws.ToString(lb.LoadBalancerArn) },
	}.run(ctx, c.inv, arns)
	if err != nil {
		return nil, nil, err
	}
	var all []elbtypes.LoadBalancer
	for _, lb := range described {
		if string(lb.Type) == string(t) && c.inVPC(aws.ToString(lb.VpcId)) {
			all = append(all, lb)
		}
	}
	tags, err := c.elbTags(ctx, lbARNs(all))
	if err != nil {
		return nil, nil, err
	}
	var lbs []elbtypes.LoadBalancer
	var lbTags []model.Tags
	for _, lb := range all {
		tt := tags[aws.ToString(lb.LoadBalancerArn)]
		if id, ok := c.owned(tt, stackID, t); ok && id == model.LoadBalancerID {
			lbs = append(lbs, lb)
			lbTags = append(lbTags, tt)
		}
	}
	order := make([]int, len(lbs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return aws.ToTime(lbs[a].CreatedTime).Compare(aws.ToTime(lbs[b].CreatedTime))
	})
	sortedLBs := make([]elbtypes.LoadBalancer, len(lbs))
	sortedTags := make([]model.Tags, len(lbs))
	for i, j := range order {
		sortedLBs[i], sortedTags[i] = lbs[j], lbTags[j]
	}
	return sortedLBs, sortedTags, nil
}

func lbARNs(lbs []elbtypes.LoadBalancer) []string {
	out := make([]string, 0, len(lbs))
	for _, lb := range lbs {
		out = append(out, aws.ToString(lb.LoadBalancerArn))
	}
	return out
}

// ownedTargetGroups describes the stack's target groups that the inventory knows, with their tags.
func (c *Cloud) ownedTargetGroups(ctx context.Context, stackID string, t model.LoadBalancerType) ([]elbtypes.TargetGroup, []model.Tags, error) {
	known, err := c.inventoryARNs(ctx, stackKey{t, stackID}, kindTargetGroup)
	if err != nil {
		return nil, nil, err
	}
	described, err := byARN[elbtypes.TargetGroup]{
		kind: kindTargetGroup, notFound: "TargetGroupNotFound",
		describe: func(ctx context.Context, chunk []string) ([]elbtypes.TargetGroup, error) {
			resp, err := c.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: chunk})
			if err != nil {
				return nil, err
			}
			return resp.TargetGroups, nil
		},
		arn: func(tg elbtypes.TargetGroup) string { return aws.ToString(tg.TargetGroupArn) },
	}.run(ctx, c.inv, known)
	if err != nil {
		return nil, nil, err
	}
	var all []elbtypes.TargetGroup
	for _, tg := range described {
		if c.inVPC(aws.ToString(tg.VpcId)) {
			all = append(all, tg)
		}
	}
	arns := make([]string, 0, len(all))
	for _, tg := range all {
		arns = append(arns, aws.ToString(tg.TargetGroupArn))
	}
	tags, err := c.elbTags(ctx, arns)
	if err != nil {
		return nil, nil, err
	}
	var tgs []elbtypes.TargetGroup
	var tgTags []model.Tags
	for _, tg := range all {
		tt := tags[aws.ToString(tg.TargetGroupArn)]
		if _, ok := c.owned(tt, stackID, t); ok {
			tgs = append(tgs, tg)
			tgTags = append(tgTags, tt)
		}
	}
	return tgs, tgTags, nil
}
