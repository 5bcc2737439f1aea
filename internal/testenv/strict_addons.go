package testenv

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
)

// The load balancer's addons: WAFv2 web ACL associations and Shield Advanced protections
// (moto holds both; the layer adds AWS's rules), and ELB capacity reservations (moto answers
// DescribeCapacityReservation with a fixed state and has no ModifyCapacityReservation: the
// layer keeps the reservations itself).

// Signing names of the addon services.
const (
	svcWAF    = "wafv2"
	svcShield = "shield"
)

var addonRules = []strictRule{
	{svcWAF, "AssociateWebACL", webACLScopeAndRegion},
	{svcShield, "CreateProtection", protectionNeedsSubscription},
	{svcELB, "ModifyCapacityReservation", capacityReservationRequest},
	{svcELB, "ModifyCapacityReservation", capacityDecreasesPerDay},
}

var addonAnswers = []strictAnswer{
	{svcWAF, "AssociateWebACL", oneWebACLPerResource},
	{svcShield, "GetSubscriptionState", subscriptionState},
	{svcELB, "ModifyCapacityReservation", modifyCapacityReservation},
	{svcELB, "DescribeCapacityReservation", describeCapacityReservation},
}

// capacityDecreasesAllowed: "you can only decrease the reserved capacity two times per day"
// (Request Load balancer Capacity Unit reservation for your Application Load Balancer).
const capacityDecreasesAllowed = 2

// capacityReservation is the layer's record of one load balancer's reservation.
type capacityReservation struct {
	units    int32
	modified time.Time
	// decreases are the times of the decreases of the last day.
	decreases []time.Time
}

// webACLScopeAndRegion: "The web ACL and any AWS WAF resources that it uses must be located in
// the Region where the associated resource is located. For Amazon CloudFront distributions,
// this is set to US East (N. Virginia)" (AWS WAF Developer Guide, "Resources that you can
// protect with AWS WAF"). A web ACL of scope CLOUDFRONT (a global/webacl ARN) or of another
// region than the load balancer is refused; WAFInvalidParameterException is the AssociateWebACL
// error for "You specified an invalid value".
func webACLScopeAndRegion(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	var in struct{ WebACLArn, ResourceArn string }
	if err := r.decodeJSON(&in); err != nil {
		return nil
	}
	acl := strings.SplitN(in.WebACLArn, ":", 6)
	res := strings.SplitN(in.ResourceArn, ":", 6)
	if len(acl) < 6 || len(res) < 6 {
		return refuse("WAFInvalidParameterException", "Error reason: The ARN isn't valid., field: RESOURCE_ARN, parameter: %s", in.WebACLArn)
	}
	if strings.HasPrefix(acl[5], "global/") {
		return refuse("WAFInvalidParameterException",
			"Error reason: A web ACL of scope CLOUDFRONT cannot be associated with a regional resource, field: WEB_ACL, parameter: %s", in.WebACLArn)
	}
	if acl[3] != res[3] || acl[3] != r.region {
		return refuse("WAFInvalidParameterException",
			"Error reason: The web ACL must be in the region of the resource (%s), field: WEB_ACL, parameter: %s", res[3], in.WebACLArn)
	}
	return nil
}

// oneWebACLPerResource: "Each API Gateway API, Application Load Balancer, and CloudFront
// distribution can be associated with only one web ACL" (AWS WAF Developer Guide); associating
// another web ACL with the resource replaces the association. moto would list the resource
// under both web ACLs, so the layer removes the old association in moto first.
func oneWebACLPerResource(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	var in struct{ WebACLArn, ResourceArn string }
	if err := r.decodeJSON(&in); err != nil || in.ResourceArn == "" {
		return false, nil
	}
	have, err := r.aws.waf.GetWebACLForResource(ctx, &wafv2.GetWebACLForResourceInput{ResourceArn: aws.String(in.ResourceArn)})
	if err != nil {
		return false, mustRead(err)
	}
	if have.WebACL != nil && aws.ToString(have.WebACL.ARN) != in.WebACLArn {
		if e := webACLExists(ctx, r, in.WebACLArn); e != nil {
			return false, e
		}
		if _, err := r.aws.waf.DisassociateWebACL(ctx, &wafv2.DisassociateWebACLInput{ResourceArn: aws.String(in.ResourceArn)}); err != nil {
			return false, mustRead(err)
		}
	}
	return false, nil
}

// webACLExists refuses a web ACL moto does not hold in the request's region, as moto's own
// AssociateWebACL would (WAFNonexistentItemException), before the layer changes anything.
func webACLExists(ctx context.Context, r *strictRequest, arn string) *apiError {
	in := &wafv2.ListWebACLsInput{Scope: "REGIONAL"}
	for {
		out, err := r.aws.waf.ListWebACLs(ctx, in)
		if err != nil {
			return mustRead(err)
		}
		for _, acl := range out.WebACLs {
			if aws.ToString(acl.ARN) == arn {
				return nil
			}
		}
		if aws.ToString(out.NextMarker) == "" || len(out.WebACLs) == 0 {
			return refuse("WAFNonexistentItemException", "AWS WAF couldn't perform the operation because your resource doesn't exist.")
		}
		in.NextMarker = out.NextMarker
	}
}

// subscriptionState answers shield GetSubscriptionState ("ACTIVE" or "INACTIVE"), which moto
// lacks, from moto's DescribeSubscription.
func subscriptionState(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	active, e := s.subscribed(ctx, r)
	if e != nil {
		return false, e
	}
	state := "INACTIVE"
	if active {
		state = "ACTIVE"
	}
	writeOK(w, contentTypeJSON, fmt.Sprintf(`{"SubscriptionState":%q}`, state))
	return true, nil
}

// protectionNeedsSubscription: Shield Advanced protections need a subscription ("Activates
// Shield Advanced for an account", CreateSubscription); without one CreateProtection is refused
// with ResourceNotFoundException ("Exception indicating the specified resource does not exist").
// moto protects resources without a subscription.
func protectionNeedsSubscription(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	active, e := s.subscribed(ctx, r)
	if e != nil {
		return e
	}
	if !active {
		return refuse("ResourceNotFoundException", "The subscription does not exist.")
	}
	return nil
}

// subscribed asks moto's DescribeSubscription whether the account has a Shield Advanced
// subscription. It reads the status code only: moto writes the subscription's times as strings,
// which the SDK cannot decode (docs/moto-notes.md).
func (s *Strict) subscribed(ctx context.Context, r *strictRequest) (bool, *apiError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.moto.String()+"/", strings.NewReader("{}"))
	if err != nil {
		return false, mustRead(err)
	}
	req.Header.Set("Content-Type", contentTypeJSON)
	req.Header.Set("X-Amz-Target", "AWSShield_20160616.DescribeSubscription")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+TestAccessKeyID+"/20240101/"+r.region+"/shield/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, mustRead(err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusOK:
		return true, nil
	case resp.StatusCode == http.StatusBadRequest:
		return false, nil
	}
	return false, mustRead(fmt.Errorf("moto DescribeSubscription answered %s", resp.Status))
}

// capacityReservationRequest: ModifyCapacityReservation — "When modifying capacity
// reservation, you must include at least one MinimumLoadBalancerCapacity or
// ResetCapacityReservation"; the load balancer must exist (LoadBalancerNotFound).
func capacityReservationRequest(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	if _, e := capacityLoadBalancer(ctx, r); e != nil {
		return e
	}
	units := r.form.Get("MinimumLoadBalancerCapacity.CapacityUnits")
	if units == "" && r.form.Get("ResetCapacityReservation") != "true" {
		return refuse("ValidationError", "You must include at least one of MinimumLoadBalancerCapacity or ResetCapacityReservation")
	}
	if units != "" {
		if n, err := strconv.Atoi(units); err != nil || n < 1 {
			return refuse("ValidationError", "MinimumLoadBalancerCapacity.CapacityUnits must be a positive number, got %q", units)
		}
	}
	return nil
}

// capacityDecreasesPerDay: "You can increase reserved capacity as many times as you need,
// however you can only decrease the reserved capacity two times per day" (ELB user guide);
// the third decrease within a day is CapacityDecreaseRequestLimitExceeded ("You've exceeded the
// daily capacity decrease limit for this reservation"). A reset of a reservation decreases it.
func capacityDecreasesPerDay(ctx context.Context, s *Strict, r *strictRequest) *apiError {
	arn := r.form.Get("LoadBalancerArn")
	next := newCapacityUnits(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.capacity[arn]
	if c == nil || next >= c.units {
		return nil
	}
	if len(recentDecreases(c.decreases, time.Now())) >= capacityDecreasesAllowed {
		return refuse("CapacityDecreaseRequestLimitExceeded", "You've exceeded the daily capacity decrease limit for this reservation.")
	}
	return nil
}

func recentDecreases(ts []time.Time, now time.Time) []time.Time {
	var out []time.Time
	for _, t := range ts {
		if now.Sub(t) < 24*time.Hour {
			out = append(out, t)
		}
	}
	return out
}

// newCapacityUnits is the reservation a ModifyCapacityReservation asks for (0: reset).
func newCapacityUnits(r *strictRequest) int32 {
	if r.form.Get("ResetCapacityReservation") == "true" {
		return 0
	}
	n, _ := strconv.Atoi(r.form.Get("MinimumLoadBalancerCapacity.CapacityUnits"))
	return int32(n)
}

// capacityLoadBalancer reads the load balancer a capacity call names from moto.
func capacityLoadBalancer(ctx context.Context, r *strictRequest) ([]string, *apiError) {
	arn := r.form.Get("LoadBalancerArn")
	out, err := r.aws.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if err != nil || len(out.LoadBalancers) == 0 {
		return nil, refuse("LoadBalancerNotFound", "Load balancer '%s' not found", arn)
	}
	var zones []string
	for _, z := range out.LoadBalancers[0].AvailabilityZones {
		zones = append(zones, aws.ToString(z.ZoneName))
	}
	return zones, nil
}

// modifyCapacityReservation records the reservation and answers as AWS does, with the state of
// every zone provisioned at once.
func modifyCapacityReservation(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	zones, e := capacityLoadBalancer(ctx, r)
	if e != nil {
		return false, e
	}
	arn, next, now := r.form.Get("LoadBalancerArn"), newCapacityUnits(r), time.Now()
	s.mu.Lock()
	c := s.capacity[arn]
	if c == nil {
		c = &capacityReservation{}
		s.capacity[arn] = c
	}
	if next < c.units {
		c.decreases = append(recentDecreases(c.decreases, now), now)
	}
	c.units, c.modified = next, now
	body := capacityResult("ModifyCapacityReservation", *c, zones, now)
	s.mu.Unlock()
	writeOK(w, contentTypeXML, body)
	return true, nil
}

func describeCapacityReservation(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	zones, e := capacityLoadBalancer(ctx, r)
	if e != nil {
		return false, e
	}
	s.mu.Lock()
	var c capacityReservation
	if have := s.capacity[r.form.Get("LoadBalancerArn")]; have != nil {
		c = *have
	}
	s.mu.Unlock()
	writeOK(w, contentTypeXML, capacityResult("DescribeCapacityReservation", c, zones, time.Now()))
	return true, nil
}

func capacityResult(action string, c capacityReservation, zones []string, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<%sResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><%sResult>`, action, action)
	if !c.modified.IsZero() {
		fmt.Fprintf(&b, "<LastModifiedTime>%s</LastModifiedTime>", c.modified.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "<DecreaseRequestsRemaining>%d</DecreaseRequestsRemaining>",
		max(0, capacityDecreasesAllowed-len(recentDecreases(c.decreases, now))))
	if c.units > 0 {
		fmt.Fprintf(&b, "<MinimumLoadBalancerCapacity><CapacityUnits>%d</CapacityUnits></MinimumLoadBalancerCapacity>", c.units)
		b.WriteString("<CapacityReservationState>")
		for _, z := range zones {
			fmt.Fprintf(&b, "<member><AvailabilityZone>%s</AvailabilityZone><EffectiveCapacityUnits>%g</EffectiveCapacityUnits><State><Code>provisioned</Code></State></member>",
				xmlText(z), float64(c.units)/float64(len(zones)))
		}
		b.WriteString("</CapacityReservationState>")
	}
	fmt.Fprintf(&b, "</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", action, newRequestID(), action)
	return b.String()
}
