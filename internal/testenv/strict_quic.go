package testenv

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// QUIC and TCP_QUIC listeners and target groups (Network Load Balancers). moto refuses both
// protocols ("Member must satisfy enum value set"), so the layer stands in for them
// (docs/moto-notes.md): it checks AWS's rules, hands moto the UDP / TCP_UDP resource that behaves
// alike, remembers which ARNs are QUIC, and answers with the QUIC protocol.

// quicStandIn is the protocol moto is given for a QUIC one.
var quicStandIn = map[string]string{"QUIC": "UDP", "TCP_QUIC": "TCP_UDP"}

var (
	quicServerID   = regexp.MustCompile(`^0x[0-9a-f]{16}$`)
	arnAndProtocol = regexp.MustCompile(`(?s)<(TargetGroupArn|ListenerArn)>([^<]+)</(?:TargetGroupArn|ListenerArn)>(.*?)<Protocol>([^<]+)</Protocol>`)
)

// quicListener: NLB user guide, listener prerequisites — "QUIC and TCP_QUIC listeners are not
// allowed on dualstack load balancers or load balancers with associated security groups." "Only
// one QUIC or TCP_QUIC listener is allowed on an Network Load Balancer at any given time." "QUIC
// and TCP_QUIC listeners are not allowed on an Network Load Balancer that has UDP or TCP_UDP
// listeners." Listener configuration: "The target group for a TCP_QUIC listener must use the
// TCP_QUIC protocol." (and a QUIC listener's QUIC). Error code ValidationError, settled by a
// real account (docs/aws-contract.md).
func quicListener(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	protocol := r.form.Get("Protocol")
	lbARN := r.form.Get("LoadBalancerArn")
	if r.action == "ModifyListener" {
		if protocol == "" {
			return nil
		}
		var e *apiError
		if lbARN, e = loadBalancerOfListener(ctx, r, r.form.Get("ListenerArn")); e != nil {
			return e
		}
	}
	lb, e := describeLoadBalancer(ctx, r, lbARN)
	if e != nil || lb == nil {
		return e
	}
	listeners, e := listenersOf(ctx, r, lbARN)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range listeners {
		if r.action == "ModifyListener" && *l.ListenerArn == r.form.Get("ListenerArn") {
			continue
		}
		have := string(l.Protocol)
		if p, ok := s.quicARNs[*l.ListenerArn]; ok {
			have = p
		}
		switch {
		case isQUIC(protocol) && isQUIC(have):
			return refuse("ValidationError", "A Network Load Balancer can have only one QUIC or TCP_QUIC listener; '%s' has one on port %d", lbARN, *l.Port)
		case isQUIC(protocol) && (have == "UDP" || have == "TCP_UDP"), isQUIC(have) && (protocol == "UDP" || protocol == "TCP_UDP"):
			return refuse("ValidationError", "QUIC and TCP_QUIC listeners are not allowed on a Network Load Balancer with UDP or TCP_UDP listeners")
		}
	}
	if !isQUIC(protocol) {
		for _, arn := range forwardTargetGroups(r.form) {
			if p := s.quicARNs[arn]; p != "" {
				return refuse("ValidationError", "The %s target group '%s' serves only a %s listener", p, arn, p)
			}
		}
		return nil
	}
	if lb.Type != elbtypes.LoadBalancerTypeEnumNetwork {
		return refuse("ValidationError", "Protocol '%s' is for Network Load Balancers", protocol)
	}
	if lb.IpAddressType != elbtypes.IpAddressTypeIpv4 {
		return refuse("ValidationError", "QUIC and TCP_QUIC listeners are not allowed on dualstack load balancers")
	}
	if len(lb.SecurityGroups) > 0 {
		return refuse("ValidationError", "QUIC and TCP_QUIC listeners are not allowed on load balancers with associated security groups")
	}
	for _, arn := range forwardTargetGroups(r.form) {
		if s.quicARNs[arn] != protocol {
			return refuse("ValidationError", "The target group '%s' of a %s listener must use the %s protocol", arn, protocol, protocol)
		}
	}
	return nil
}

// quicTargets: TargetDescription QuicServerId — "This value is required if the protocol is QUIC or
// TCP_QUIC and can't be used with other protocols. The ID consists of the 0x prefix followed by
// 16 hexadecimal characters. Any letters must be lowercase."
func quicTargets(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	s.mu.Lock()
	quic := isQUIC(s.quicARNs[r.form.Get("TargetGroupArn")])
	s.mu.Unlock()
	for _, t := range queryList(r.form, "Targets.member") {
		id := t.Get("QuicServerId")
		switch {
		case quic && id == "":
			return refuse("ValidationError", "Target '%s' of a QUIC target group needs a QuicServerId", t.Get("Id"))
		case quic && !quicServerID.MatchString(id):
			return refuse("ValidationError", "QuicServerId '%s' must be 0x followed by 16 lowercase hexadecimal characters", id)
		case !quic && id != "":
			return refuse("ValidationError", "QuicServerId is only for targets of QUIC or TCP_QUIC target groups")
		}
	}
	return nil
}

// quicStandIns answers CreateTargetGroup, CreateListener and ModifyListener of a QUIC protocol
// through moto's UDP stand-in, and DescribeListeners with the QUIC protocol of the ARNs it made
// (DescribeTargetGroups: describeTargetGroups).
func quicStandIns(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	asked := r.form.Get("Protocol")
	if standIn, ok := quicStandIn[asked]; ok {
		r.form.Set("Protocol", standIn)
	} else if r.action != "DescribeListeners" {
		// A listener modified to another protocol is not QUIC any more.
		if r.action == "ModifyListener" && asked != "" {
			s.mu.Lock()
			delete(s.quicARNs, r.form.Get("ListenerArn"))
			s.mu.Unlock()
		}
		return false, nil
	}
	s.forwardRewritten(w, r, func(body string) string { return s.quicProtocols(body, asked, r.action) })
	return true, nil
}

// quicProtocols puts the QUIC protocol of the listeners and target groups the layer made back into
// moto's answer to action; a create or modify that asked for a QUIC protocol records the ARNs it
// answers.
func (s *Strict) quicProtocols(body, asked, action string) string {
	describe := action == "DescribeTargetGroups" || action == "DescribeListeners"
	s.mu.Lock()
	defer s.mu.Unlock()
	return arnAndProtocol.ReplaceAllStringFunc(body, func(m string) string {
		sub := arnAndProtocol.FindStringSubmatch(m)
		tag, arn, between, protocol := sub[1], sub[2], sub[3], sub[4]
		if isQUIC(asked) && !describe {
			s.quicARNs[arn] = asked
		}
		if p, ok := s.quicARNs[arn]; ok && quicStandIn[p] == protocol && !strings.Contains(between, "<member>") {
			protocol = p
		}
		return "<" + tag + ">" + arn + "</" + tag + ">" + between + "<Protocol>" + protocol + "</Protocol>"
	})
}

func isQUIC(protocol string) bool { return protocol == "QUIC" || protocol == "TCP_QUIC" }
