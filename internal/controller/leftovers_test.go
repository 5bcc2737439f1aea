package controller_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

// taggedELBResources lists the load balancers, listeners and target groups moto holds that
// carry the tag key=value; a vpcID other than "" keeps only those of that VPC.
func taggedELBResources(t *testing.T, vpcID, key, value string) []string {
	t.Helper()
	ctx := context.Background()
	var arns []string
	lbs, err := env.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lb := range lbs.LoadBalancers {
		if vpcID != "" && awssdk.ToString(lb.VpcId) != vpcID {
			continue
		}
		arns = append(arns, *lb.LoadBalancerArn)
		if ls, err := env.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn}); err == nil {
			for _, l := range ls.Listeners {
				arns = append(arns, *l.ListenerArn)
			}
		}
	}
	tgs, err := env.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tgs.TargetGroups {
		if vpcID == "" || awssdk.ToString(tg.VpcId) == vpcID {
			arns = append(arns, *tg.TargetGroupArn)
		}
	}
	tagged := taggedARNs(t, arns, key, value)
	var left []string
	for _, arn := range arns {
		if tagged[arn] {
			left = append(left, arn)
		}
	}
	return left
}

// taggedARNs is the set of the ELBv2 arns that carry the tag key=value. DescribeTags refuses
// a whole call when one of its ARNs is gone (another test deleted it since it was listed):
// such a call is split until the missing ARN stands alone, and that one is left out, as it
// is no longer there to be found.
func taggedARNs(t *testing.T, arns []string, key, value string) map[string]bool {
	t.Helper()
	tagged := map[string]bool{}
	var read func(chunk []string)
	read = func(chunk []string) {
		tags, err := env.elb.DescribeTags(context.Background(), &elbv2.DescribeTagsInput{ResourceArns: chunk})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && slices.Contains([]string{"LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound"}, apiErr.ErrorCode()) {
			if len(chunk) > 1 {
				read(chunk[:len(chunk)/2])
				read(chunk[len(chunk)/2:])
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range tags.TagDescriptions {
			for _, tag := range d.Tags {
				if awssdk.ToString(tag.Key) == key && awssdk.ToString(tag.Value) == value {
					tagged[awssdk.ToString(d.ResourceArn)] = true
				}
			}
		}
	}
	for i := 0; i < len(arns); i += 20 {
		read(arns[i:min(i+20, len(arns))])
	}
	return tagged
}

// securityGroups lists the security groups moto holds that pass every filter.
func securityGroups(t *testing.T, filters ...ec2types.Filter) []ec2types.SecurityGroup {
	t.Helper()
	out, err := env.ec2.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{Filters: filters})
	if err != nil {
		t.Fatal(err)
	}
	return out.SecurityGroups
}

// tagFilter selects the EC2 resources tagged key=value.
func tagFilter(key, value string) ec2types.Filter {
	return ec2types.Filter{Name: awssdk.String("tag:" + key), Values: []string{value}}
}
