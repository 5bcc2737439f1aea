package testenv

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// A target group's load balancers. TargetGroup LoadBalancerArns (ELB API reference): "The Amazon
// Resource Name (ARN) of the load balancer that routes traffic to this target group." moto
// records a load balancer on a group only when CreateListener or CreateRule forwards to it (not
// ModifyListener or ModifyRule), once per such call, and never forgets it (a rule deleted or
// modified away, a listener or load balancer deleted); its LoadBalancerArn filter goes by that
// record. The layer reads which listeners and rules forward to each group from moto and answers
// DescribeTargetGroups from that.
//
// That read costs a call per load balancer and per HTTP(S) listener, so it is kept until a call
// that changes what forwards where goes through the layer (routingWrite); while one is under way
// moto is read again each time. A write sent to moto directly, past the layer, is not seen.

// routingWrite are the ELBv2 calls that change which load balancers forward to a target group, or
// which load balancers exist.
var routingWrite = map[string]bool{"CreateLoadBalancer": true, "DeleteLoadBalancer": true, "CreateListener": true,
	"ModifyListener": true, "DeleteListener": true, "CreateRule": true, "ModifyRule": true, "DeleteRule": true}

// targetGroupRouting is, for each target group an action forwards to, the load balancers whose
// listeners' default actions or rules do (sorted, each once), and the load balancers moto holds,
// as read after the routing write numbered writes.
type targetGroupRouting struct {
	writes uint64
	routes map[string][]string
	lbs    map[string]bool
}

// startRoutingWrite marks a routing write under way until the function it returns is called.
func (s *Strict) startRoutingWrite() (end func()) {
	s.routingWriting.Add(1)
	s.routingWrites.Add(1)
	return func() {
		s.routingWrites.Add(1)
		s.routingWriting.Add(-1)
	}
}

var (
	loadBalancerArnsElement = regexp.MustCompile(`(?s)<LoadBalancerArns>.*?</LoadBalancerArns>|<LoadBalancerArns\s*/>`)
	targetGroupArnElement   = regexp.MustCompile(`<TargetGroupArn>([^<]+)</TargetGroupArn>`)
)

// describeTargetGroups answers DescribeTargetGroups with each group's LoadBalancerArns: every load
// balancer with a listener whose default actions or rules forward to the group, once. Asked for
// the groups of one load balancer (LoadBalancerArn alone), it answers the groups that load
// balancer routes to, and moto's TargetGroupNotFound when it routes to none (moto-notes.md). The
// QUIC protocols are answered too (quicProtocols).
func describeTargetGroups(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	routing, e := s.targetGroupRouting(ctx, r)
	if e != nil {
		return true, e
	}
	routes, lbs := routing.routes, routing.lbs
	if lb := r.form.Get("LoadBalancerArn"); lb != "" && lbs[lb] && !r.form.Has("Names.member.1") && !r.form.Has("TargetGroupArns.member.1") {
		var groups []string
		for tg, by := range routes {
			if slices.Contains(by, lb) {
				groups = append(groups, tg)
			}
		}
		if len(groups) == 0 {
			return true, refuse("TargetGroupNotFound", "One or more target groups not found")
		}
		slices.Sort(groups)
		r.form.Del("LoadBalancerArn")
		for i, tg := range groups {
			r.form.Set("TargetGroupArns.member."+strconv.Itoa(i+1), tg)
		}
	}
	s.forwardRewritten(w, r, func(body string) string {
		body = loadBalancerArnsElement.ReplaceAllString(s.quicProtocols(body, "", r.action), "")
		return targetGroupArnElement.ReplaceAllStringFunc(body, func(m string) string {
			by := routes[targetGroupArnElement.FindStringSubmatch(m)[1]]
			if len(by) == 0 {
				return m
			}
			return m + "<LoadBalancerArns><member>" + strings.Join(by, "</member><member>") + "</member></LoadBalancerArns>"
		})
	})
	return true, nil
}

// targetGroupRouting is what was last read of the request's region when no routing write has been
// made since, else what moto holds now.
func (s *Strict) targetGroupRouting(ctx context.Context, r *strictRequest) (*targetGroupRouting, *apiError) {
	writing := s.routingWriting.Load() > 0
	writes := s.routingWrites.Load()
	s.mu.Lock()
	kept := s.routes[r.region]
	s.mu.Unlock()
	if !writing && kept != nil && kept.writes == writes {
		return kept, nil
	}
	routes, lbs, e := targetGroupRoutes(ctx, r)
	if e != nil {
		return nil, e
	}
	read := &targetGroupRouting{writes: writes, routes: routes, lbs: lbs}
	s.mu.Lock()
	if have := s.routes[r.region]; have == nil || have.writes <= writes {
		s.routes[r.region] = read
	}
	s.mu.Unlock()
	return read, nil
}

// targetGroupRoutes reads from moto, for each target group an action forwards to, the load
// balancers whose listeners' default actions or rules do (sorted, each once), and the set of load
// balancers moto holds.
func targetGroupRoutes(ctx context.Context, r *strictRequest) (map[string][]string, map[string]bool, *apiError) {
	routes, lbs := map[string][]string{}, map[string]bool{}
	p := elbv2.NewDescribeLoadBalancersPaginator(r.aws.elb, &elbv2.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, mustRead(err)
		}
		for _, lb := range page.LoadBalancers {
			arn := aws.ToString(lb.LoadBalancerArn)
			lbs[arn] = true
			listeners, e := listenersOf(ctx, r, arn)
			if e != nil {
				return nil, nil, e
			}
			for _, l := range listeners {
				actions := slices.Clone(l.DefaultActions)
				if l.Protocol == elbtypes.ProtocolEnumHttp || l.Protocol == elbtypes.ProtocolEnumHttps {
					rules := elbv2.NewDescribeRulesPaginator(r.aws.elb, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
					for rules.HasMorePages() {
						page, err := rules.NextPage(ctx)
						if err != nil {
							if e := notFoundIsNil(err); e != nil {
								return nil, nil, e
							}
							break // a listener deleted while the layer reads routes nothing
						}
						for _, rule := range page.Rules {
							actions = append(actions, rule.Actions...)
						}
					}
				}
				for _, tg := range actionTargetGroups(actions) {
					if !slices.Contains(routes[tg], arn) {
						routes[tg] = append(routes[tg], arn)
					}
				}
			}
		}
	}
	for _, by := range routes {
		slices.Sort(by)
	}
	return routes, lbs, nil
}

// actionTargetGroups are the target groups forward actions send to.
func actionTargetGroups(actions []elbtypes.Action) []string {
	var out []string
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if arn := aws.ToString(a.TargetGroupArn); arn != "" {
			out = append(out, arn)
		}
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				out = append(out, aws.ToString(t.TargetGroupArn))
			}
		}
	}
	return out
}
