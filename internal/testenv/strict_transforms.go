package testenv

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// Rule transforms. CreateRule and ModifyRule take Transforms ("The transforms to apply to
// requests that match this rule."), ModifyRule takes ResetTransforms ("Indicates whether to
// remove all transforms from the rule."), and DescribeRules answers each rule's Transforms. moto
// accepts the parameters and forgets them, so the layer keeps each rule's transforms itself: set
// by a CreateRule or ModifyRule that carries Transforms, cleared by ResetTransforms=true, kept by
// a ModifyRule with neither, dropped with the rule by DeleteRule. It adds them to the rules
// CreateRule, ModifyRule and DescribeRules answer.

// "The maximum length of the string is 1,024 characters." (RewriteConfig, Regex and Replace).
const maxRewriteLen = 1024

// Transform types (RuleTransform Type: "Valid Values: host-header-rewrite | url-rewrite") and the
// config each takes ("Specify only when Type is host-header-rewrite." / "url-rewrite").
var transformConfigs = map[string]string{
	"host-header-rewrite": "HostHeaderRewriteConfig",
	"url-rewrite":         "UrlRewriteConfig",
}

// ruleTransform is one RuleTransform as the request carried it.
type ruleTransform struct {
	kind     string
	rewrites [][2]string // regex, replace
}

// requestTransforms reads a CreateRule / ModifyRule request's Transforms.
func requestTransforms(form url.Values) []ruleTransform {
	var out []ruleTransform
	for _, t := range queryList(form, "Transforms.member") {
		rt := ruleTransform{kind: t.Get("Type")}
		for _, config := range transformConfigs {
			for _, rw := range queryList(t, config+".Rewrites.member") {
				rt.rewrites = append(rt.rewrites, [2]string{rw.Get("Regex"), rw.Get("Replace")})
			}
		}
		out = append(out, rt)
	}
	return out
}

// transformLimits refuses the transforms AWS refuses (ValidationError):
//   - a type other than host-header-rewrite and url-rewrite, or a config of the other type
//     (RuleTransform);
//   - two transforms of one type: "You can add one host header rewrite transform and one URL
//     rewrite transform per rule." (ALB guide, "Transforms for listener rules");
//   - a rewrite without Regex or Replace ("Required: Yes"), or longer than 1,024 characters
//     (RewriteConfig);
//   - a regular expression that does not compile: "The regular expressions used in rule
//     transforms do not support the following features: lookaheads, lookbehinds,
//     backreferences ..." (Go's RE2 syntax has none of them either; the local data plane
//     applies the expressions with it);
//   - transforms on a default rule: "You can't add a transform to a default rule."
func transformLimits(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	if _, ok := r.form["Transforms"]; ok {
		return nil // an empty list: nothing to check
	}
	transforms := queryList(r.form, "Transforms.member")
	if len(transforms) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, t := range transforms {
		kind := t.Get("Type")
		config, ok := transformConfigs[kind]
		if !ok {
			return refuse("ValidationError", "Transform type '%s' is not valid; valid types are host-header-rewrite and url-rewrite", kind)
		}
		if seen[kind] {
			return refuse("ValidationError", "A rule can only have one '%s' transform", kind)
		}
		seen[kind] = true
		for other, otherConfig := range transformConfigs {
			if other != kind && len(queryList(t, otherConfig+".Rewrites.member")) > 0 {
				return refuse("ValidationError", "A '%s' transform cannot have a %s", kind, otherConfig)
			}
		}
		for _, rw := range queryList(t, config+".Rewrites.member") {
			for _, field := range []string{"Regex", "Replace"} {
				if _, ok := rw[field]; !ok {
					return refuse("ValidationError", "A '%s' rewrite needs a %s", kind, field)
				}
				if v := rw.Get(field); len(v) > maxRewriteLen {
					return refuse("ValidationError", "The %s of a '%s' rewrite is longer than %d characters", field, kind, maxRewriteLen)
				}
			}
			if _, err := regexp.Compile(rw.Get("Regex")); err != nil {
				return refuse("ValidationError", "The regular expression '%s' of a '%s' rewrite is not valid", rw.Get("Regex"), kind)
			}
		}
	}
	if r.action == "ModifyRule" {
		out, err := r.aws.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{r.form.Get("RuleArn")}})
		if err != nil {
			return notFoundIsNil(err) // moto answers RuleNotFound itself
		}
		if len(out.Rules) == 1 && aws.ToBool(out.Rules[0].IsDefault) {
			return refuse("ValidationError", "You can't add a transform to a default rule")
		}
	}
	return nil
}

// ruleArnElement is a rule's ARN in moto's CreateRule / ModifyRule / DescribeRules answers.
var ruleArnElement = regexp.MustCompile(`<RuleArn>([^<]*)</RuleArn>`)

// keepTransforms records the transforms a successful CreateRule or ModifyRule sets or resets,
// and answers the rule with the transforms it now has.
func keepTransforms(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	_, set := r.form["Transforms"]
	transforms := requestTransforms(r.form)
	set = set || len(transforms) > 0
	reset := strings.EqualFold(r.form.Get("ResetTransforms"), "true")
	s.forwardRewritten(w, r, func(body string) string {
		m := ruleArnElement.FindStringSubmatch(body)
		if m == nil {
			return body
		}
		arn := unxmlText(m[1])
		s.mu.Lock()
		switch {
		case reset:
			delete(s.transforms, arn)
		case set && len(transforms) > 0:
			s.transforms[arn] = transforms
		case set:
			delete(s.transforms, arn)
		}
		s.mu.Unlock()
		return s.withTransforms(body)
	})
	return true, nil
}

// forgetTransforms drops a deleted rule's transforms.
func forgetTransforms(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	arn := r.form.Get("RuleArn")
	s.forwardRewritten(w, r, func(body string) string {
		s.mu.Lock()
		delete(s.transforms, arn)
		s.mu.Unlock()
		return body
	})
	return true, nil
}

// describeTransforms adds the kept transforms to the rules DescribeRules answers.
func describeTransforms(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	s.mu.Lock()
	none := len(s.transforms) == 0
	s.mu.Unlock()
	if none {
		return false, nil
	}
	s.forwardRewritten(w, r, s.withTransforms)
	return true, nil
}

// withTransforms puts each rule's kept transforms after its RuleArn in an answer's body.
func (s *Strict) withTransforms(body string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ruleArnElement.ReplaceAllStringFunc(body, func(m string) string {
		ts := s.transforms[unxmlText(ruleArnElement.FindStringSubmatch(m)[1])]
		if len(ts) == 0 {
			return m
		}
		var b strings.Builder
		b.WriteString(m)
		b.WriteString("<Transforms>")
		for _, t := range ts {
			config := transformConfigs[t.kind]
			b.WriteString("<member><Type>" + xmlText(t.kind) + "</Type><" + config + "><Rewrites>")
			for _, rw := range t.rewrites {
				b.WriteString("<member><Regex>" + xmlText(rw[0]) + "</Regex><Replace>" + xmlText(rw[1]) + "</Replace></member>")
			}
			b.WriteString("</Rewrites></" + config + "></member>")
		}
		b.WriteString("</Transforms>")
		return b.String()
	})
}

func unxmlText(v string) string {
	var out string
	if err := xml.Unmarshal([]byte("<v>"+v+"</v>"), &out); err != nil {
		return v
	}
	return out
}
