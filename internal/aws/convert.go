package aws

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Conversions between the model and the SDK's types. to* functions take a resolver for
// references; from* functions a refIndex.

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func fromConditions(conds []elbtypes.RuleCondition) []model.Condition {
	out := make([]model.Condition, 0, len(conds))
	for _, c := range conds {
		m := model.Condition{Field: aws.ToString(c.Field)}
		switch {
		case c.HostHeaderConfig != nil:
			m.Values, m.RegexValues = c.HostHeaderConfig.Values, c.HostHeaderConfig.RegexValues
		case c.PathPatternConfig != nil:
			m.Values, m.RegexValues = c.PathPatternConfig.Values, c.PathPatternConfig.RegexValues
		case c.HttpHeaderConfig != nil:
			m.HeaderName = aws.ToString(c.HttpHeaderConfig.HttpHeaderName)
			m.Values, m.RegexValues = c.HttpHeaderConfig.Values, c.HttpHeaderConfig.RegexValues
		case c.QueryStringConfig != nil:
			for _, kv := range c.QueryStringConfig.Values {
				m.QueryValues = append(m.QueryValues, model.KeyValue{Key: aws.ToString(kv.Key), Value: aws.ToString(kv.Value)})
			}
		case c.HttpRequestMethodConfig != nil:
			m.Values = c.HttpRequestMethodConfig.Values
		case c.SourceIpConfig != nil:
			m.Values = c.SourceIpConfig.Values
		default:
			m.Values = c.Values
		}
		out = append(out, m)
	}
	return out
}

func toConditions(conds []model.Condition) []elbtypes.RuleCondition {
	out := make([]elbtypes.RuleCondition, 0, len(conds))
	for _, c := range conds {
		e := elbtypes.RuleCondition{Field: aws.String(c.Field)}
		switch c.Field {
		case "host-header":
			e.HostHeaderConfig = &elbtypes.HostHeaderConditionConfig{Values: c.Values, RegexValues: c.RegexValues}
		case "path-pattern":
			e.PathPatternConfig = &elbtypes.PathPatternConditionConfig{Values: c.Values, RegexValues: c.RegexValues}
		case "http-header":
			e.HttpHeaderConfig = &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: aws.String(c.HeaderName), Values: c.Values, RegexValues: c.RegexValues}
		case "query-string":
			qc := &elbtypes.QueryStringConditionConfig{}
			for _, kv := range c.QueryValues {
				qc.Values = append(qc.Values, elbtypes.QueryStringKeyValuePair{Key: optional(kv.Key), Value: aws.String(kv.Value)})
			}
			e.QueryStringConfig = qc
		case "http-request-method":
			e.HttpRequestMethodConfig = &elbtypes.HttpRequestMethodConditionConfig{Values: c.Values}
		case "source-ip":
			e.SourceIpConfig = &elbtypes.SourceIpConditionConfig{Values: c.Values}
		default:
			e.Values = c.Values
		}
		out = append(out, e)
	}
	return out
}

func fromTransforms(ts []elbtypes.RuleTransform) []model.Transform {
	var out []model.Transform
	for _, t := range ts {
		var rewrites []elbtypes.RewriteConfig
		switch {
		case t.HostHeaderRewriteConfig != nil:
			rewrites = t.HostHeaderRewriteConfig.Rewrites
		case t.UrlRewriteConfig != nil:
			rewrites = t.UrlRewriteConfig.Rewrites
		}
		for _, r := range rewrites {
			out = append(out, model.Transform{Type: string(t.Type), Regex: aws.ToString(r.Regex), Replace: aws.ToString(r.Replace)})
		}
	}
	return out
}

func toTransforms(ts []model.Transform) []elbtypes.RuleTransform {
	out := make([]elbtypes.RuleTransform, 0, len(ts))
	for _, t := range ts {
		rw := []elbtypes.RewriteConfig{{Regex: aws.String(t.Regex), Replace: aws.String(t.Replace)}}
		e := elbtypes.RuleTransform{Type: elbtypes.TransformTypeEnum(t.Type)}
		if t.Type == string(elbtypes.TransformTypeEnumHostHeaderRewrite) {
			e.HostHeaderRewriteConfig = &elbtypes.HostHeaderRewriteConfig{Rewrites: rw}
		} else {
			e.UrlRewriteConfig = &elbtypes.UrlRewriteConfig{Rewrites: rw}
		}
		out = append(out, e)
	}
	return out
}

func fromLBAttributes(attrs []elbtypes.LoadBalancerAttribute) map[string]string {
	out := map[string]string{}
	for _, a := range attrs {
		out[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return out
}

func toLBAttributes(m map[string]string) []elbtypes.LoadBalancerAttribute {
	out := make([]elbtypes.LoadBalancerAttribute, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, elbtypes.LoadBalancerAttribute{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func fromTGAttributes(attrs []elbtypes.TargetGroupAttribute) map[string]string {
	out := map[string]string{}
	for _, a := range attrs {
		out[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return out
}

// toTGAttributes orders the attributes by key, except that
// target_health_state.unhealthy.draining_interval_seconds goes before
// target_health_state.unhealthy.connection_termination.enabled=true: the interval "can only be
// configured when target_health_state.unhealthy.connection_termination.enabled is false"
// (TargetGroupAttribute reference), so it is reset while termination is still off.
func toTGAttributes(m map[string]string) []elbtypes.TargetGroupAttribute {
	const termination, draining = "target_health_state.unhealthy.connection_termination.enabled", "target_health_state.unhealthy.draining_interval_seconds"
	keys := sortedKeys(m)
	if _, ok := m[draining]; ok && strings.EqualFold(m[termination], "true") {
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == draining })
		i := slices.Index(keys, termination)
		keys = slices.Insert(keys, i, draining)
	}
	out := make([]elbtypes.TargetGroupAttribute, 0, len(m))
	for _, k := range keys {
		out = append(out, elbtypes.TargetGroupAttribute{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func fromListenerAttributes(attrs []elbtypes.ListenerAttribute) map[string]string {
	out := map[string]string{}
	for _, a := range attrs {
		out[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	return out
}

func toListenerAttributes(m map[string]string) []elbtypes.ListenerAttribute {
	out := make([]elbtypes.ListenerAttribute, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, elbtypes.ListenerAttribute{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func fromEC2Tags(tags []ec2types.Tag) model.Tags {
	out := model.Tags{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

func toEC2Tags(tags model.Tags) []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// fromIPPermissions flattens permissions into one rule per source.
func fromIPPermissions(perms []ec2types.IpPermission) []model.IngressRule {
	var out []model.IngressRule
	for _, p := range perms {
		base := model.IngressRule{Protocol: aws.ToString(p.IpProtocol), FromPort: aws.ToInt32(p.FromPort), ToPort: aws.ToInt32(p.ToPort)}
		for _, r := range p.IpRanges {
			rule := base
			rule.CIDR, rule.Description = aws.ToString(r.CidrIp), aws.ToString(r.Description)
			out = append(out, rule)
		}
		for _, r := range p.Ipv6Ranges {
			rule := base
			rule.CIDR, rule.Description = aws.ToString(r.CidrIpv6), aws.ToString(r.Description)
			out = append(out, rule)
		}
		for _, r := range p.PrefixListIds {
			rule := base
			rule.PrefixListID, rule.Description = aws.ToString(r.PrefixListId), aws.ToString(r.Description)
			out = append(out, rule)
		}
	}
	slices.SortFunc(out, func(a, b model.IngressRule) int {
		return strings.Compare(ingressSortKey(a), ingressSortKey(b))
	})
	return out
}

func ingressSortKey(r model.IngressRule) string {
	return fmt.Sprintf("%s/%05d/%05d/%s/%s", r.Protocol, r.FromPort, r.ToPort, r.CIDR, r.PrefixListID)
}

// toIPPermissions makes one permission per rule.
func toIPPermissions(rules []model.IngressRule) []ec2types.IpPermission {
	out := make([]ec2types.IpPermission, 0, len(rules))
	for _, r := range rules {
		p := ec2types.IpPermission{IpProtocol: aws.String(r.Protocol), FromPort: aws.Int32(r.FromPort), ToPort: aws.Int32(r.ToPort)}
		switch {
		case r.PrefixListID != "":
			p.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(r.PrefixListID), Description: optional(r.Description)}}
		case strings.Contains(r.CIDR, ":"):
			p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(r.CIDR), Description: optional(r.Description)}}
		default:
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.CIDR), Description: optional(r.Description)}}
		}
		out = append(out, p)
	}
	return out
}
