package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/shield"
	shieldtypes "github.com/aws/aws-sdk-go-v2/service/shield/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/smithy-go"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

// The load balancer's addons (model.Addons) live in WAFv2, Shield and ELB's capacity
// reservation. Reading them costs a call each, so Observe reads only the addons the desired
// stack asks for and those the load balancer's addons tag says this controller set: a load
// balancer without addons costs no call, and a removed addon is still seen, and removed.

// addonsTagKey is the load balancer tag listing the addons this controller set (plan.Addon*
// IDs, comma-separated); the plan never sees it.
const addonsTagKey = "elbgateway.k8s.aws/addons"

// shieldProtectionName names the Shield protections this controller creates. Protections of
// other names are never deleted, except those the AWS Load Balancer Controller created
// (lbcShieldProtectionNames), which a migrated Gateway owns.
const shieldProtectionName = "managed by elbgateway"

var lbcShieldProtectionNames = []string{"managed by aws-load-balancer-controller", "managed by aws-alb-ingress-controller"}

// shieldSubscriptionTTL is how long an ACTIVE Shield Advanced subscription is believed; an
// inactive one is asked again on the next attempt (which the Gateway's backoff spaces out).
const shieldSubscriptionTTL = 2 * time.Hour

// errShieldInactive is the refusal of Shield protection without a subscription. It carries an
// error code so the Gateway backs off as for any refusal that repeats until its input changes.
var errShieldInactive = &smithy.GenericAPIError{Code: "ShieldSubscriptionInactive",
	Message: "the account has no active Shield Advanced subscription (shield GetSubscriptionState); subscribe, or set shieldConfiguration.enabled to false"}

// addonsTagged is the set of addon IDs the tag lists.
func addonsTagged(tags model.Tags) []string {
	v := tags[addonsTagKey]
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// addonIDs are the IDs of the addons a sets, sorted.
func addonIDs(a model.Addons) []string {
	var ids []string
	if a.CapacityUnits != 0 {
		ids = append(ids, plan.AddonCapacity)
	}
	if a.Shield {
		ids = append(ids, plan.AddonShield)
	}
	if a.WebACL != "" {
		ids = append(ids, plan.AddonWebACL)
	}
	slices.Sort(ids)
	return ids
}

// withoutOwnTags is the load balancer's tags as the plan compares them: without the tags only
// this package writes (the applied stack's hash and the addons list).
func withoutOwnTags(tags model.Tags) model.Tags {
	tags = withoutAppliedTag(tags)
	if _, ok := tags[addonsTagKey]; !ok {
		return tags
	}
	out := make(model.Tags, len(tags)-1)
	for k, v := range tags {
		if k != addonsTagKey {
			out[k] = v
		}
	}
	return out
}

// observeAddons fills lb.Addons with the addons want sets or tagged lists.
func (c *Cloud) observeAddons(ctx context.Context, lb *model.LoadBalancer, tagged []string, want model.Addons) error {
	if want.WebACL != "" || slices.Contains(tagged, plan.AddonWebACL) {
		resp, err := c.waf.GetWebACLForResource(ctx, &wafv2.GetWebACLForResourceInput{ResourceArn: aws.String(lb.ARN)})
		switch {
		case errorCode(err) == "WAFNonexistentItemException":
		case err != nil:
			return fmt.Errorf("reading the web ACL of %s (wafV2.webACL): %w", lb.ARN, err)
		case resp.WebACL != nil:
			lb.Addons.WebACL = aws.ToString(resp.WebACL.ARN)
		}
	}
	if want.Shield || slices.Contains(tagged, plan.AddonShield) {
		id, protected, err := c.protection(ctx, lb.ARN)
		if err != nil {
			return fmt.Errorf("reading the Shield protection of %s (shieldConfiguration): %w", lb.ARN, err)
		}
		lb.Addons.Shield, lb.Addons.ShieldProtectionID = protected, id
	}
	if want.CapacityUnits != 0 || slices.Contains(tagged, plan.AddonCapacity) {
		resp, err := c.elb.DescribeCapacityReservation(ctx, &elbv2.DescribeCapacityReservationInput{LoadBalancerArn: aws.String(lb.ARN)})
		if err != nil {
			return fmt.Errorf("reading the capacity reservation of %s (minimumLoadBalancerCapacity): %w", lb.ARN, err)
		}
		if resp.MinimumLoadBalancerCapacity != nil {
			lb.Addons.CapacityUnits = aws.ToInt32(resp.MinimumLoadBalancerCapacity.CapacityUnits)
		}
	}
	return nil
}

// protection reads the Shield protection of a resource (shield DescribeProtection): whether
// it is protected at all, and the protection's ID when this controller (or LBC) made it, so that
// only those are ever deleted. No protection (ResourceNotFoundException, which is also the
// answer without a Shield Advanced subscription) is no error; any other refusal is returned.
func (c *Cloud) protection(ctx context.Context, arn string) (ownID string, protected bool, err error) {
	resp, err := c.shield.DescribeProtection(ctx, &shield.DescribeProtectionInput{ResourceArn: aws.String(arn)})
	switch {
	case errorCode(err) == "ResourceNotFoundException":
		return "", false, nil
	case err != nil:
		return "", false, err
	case resp.Protection == nil:
		return "", false, nil
	case ownProtection(resp.Protection):
		return aws.ToString(resp.Protection.Id), true, nil
	}
	return "", true, nil
}

func ownProtection(p *shieldtypes.Protection) bool {
	name := aws.ToString(p.Name)
	return name == shieldProtectionName || slices.Contains(lbcShieldProtectionNames, name)
}

// addon sets (update) or removes (delete) one addon of the load balancer. The addons tag lists
// an addon before it is set and stops listing it after it is removed, so an addon this
// controller set is never forgotten.
func (a *applier) addon(ctx context.Context, ch plan.Change) error {
	if ch.Op == plan.OpDelete && ch.ID == plan.AddonShield && ch.Desired.LoadBalancer == nil {
		// The load balancer goes (or is replaced): its protection goes first.
		return a.deleteProtection(ctx, ch.Observed.LoadBalancer)
	}
	if a.lb == nil || a.lb.ARN == "" {
		return fmt.Errorf("%s: the load balancer does not exist", ch.ID)
	}
	arn := a.lb.ARN
	if ch.Op != plan.OpDelete {
		if err := a.tagAddon(ctx, arn, ch.ID, true); err != nil {
			return err
		}
	}
	want := ch.Desired.LoadBalancer.Addons
	var err error
	switch ch.ID {
	case plan.AddonWebACL:
		if ch.Op == plan.OpDelete {
			_, err = a.c.waf.DisassociateWebACL(ctx, &wafv2.DisassociateWebACLInput{ResourceArn: aws.String(arn)})
			err = wrapAddon(err, "wafV2.webACL", "disassociating the web ACL")
		} else {
			_, err = a.c.waf.AssociateWebACL(ctx, &wafv2.AssociateWebACLInput{WebACLArn: aws.String(want.WebACL), ResourceArn: aws.String(arn)})
			err = wrapAddon(err, "wafV2.webACL", "associating web ACL "+want.WebACL)
		}
	case plan.AddonShield:
		if ch.Op == plan.OpDelete {
			err = a.deleteProtection(ctx, ch.Observed.LoadBalancer)
		} else {
			err = a.createProtection(ctx, arn)
		}
	case plan.AddonCapacity:
		in := &elbv2.ModifyCapacityReservationInput{LoadBalancerArn: aws.String(arn)}
		if ch.Op == plan.OpDelete {
			in.ResetCapacityReservation = aws.Bool(true)
		} else {
			in.MinimumLoadBalancerCapacity = &elbtypes.MinimumLoadBalancerCapacity{CapacityUnits: aws.Int32(want.CapacityUnits)}
		}
		_, err = a.c.elb.ModifyCapacityReservation(ctx, in)
		err = wrapAddon(err, "minimumLoadBalancerCapacity.capacityUnits", "reserving capacity")
	default:
		return fmt.Errorf("unknown addon %q", ch.ID)
	}
	if err != nil || ch.Op != plan.OpDelete {
		return err
	}
	return a.tagAddon(ctx, arn, ch.ID, false)
}

func wrapAddon(err error, field, doing string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("LoadBalancerConfiguration %s: %s: %w", field, doing, err)
}

func (a *applier) createProtection(ctx context.Context, arn string) error {
	if _, ok := a.c.shieldActive.get("", a.c.now()); !ok {
		resp, err := a.c.shield.GetSubscriptionState(ctx, &shield.GetSubscriptionStateInput{})
		if err != nil {
			return wrapAddon(err, "shieldConfiguration.enabled", "reading the Shield Advanced subscription")
		}
		if resp.SubscriptionState != shieldtypes.SubscriptionStateActive {
			return wrapAddon(errShieldInactive, "shieldConfiguration.enabled", "protecting the load balancer")
		}
		a.c.shieldActive.put("", true, a.c.now())
	}
	resp, err := a.c.shield.CreateProtection(ctx, &shield.CreateProtectionInput{Name: aws.String(shieldProtectionName), ResourceArn: aws.String(arn)})
	if errorCode(err) == "ResourceAlreadyExistsException" {
		// Protected already: by someone else (that protection is kept, never deleted), or by an
		// earlier attempt of ours, which deleteProtection finds by the load balancer's ARN.
		return nil
	}
	if err != nil {
		return wrapAddon(err, "shieldConfiguration.enabled", "protecting the load balancer")
	}
	a.shieldID = aws.ToString(resp.ProtectionId)
	return nil
}

// deleteProtection deletes the load balancer's protection if this controller (or LBC) made it.
// Without a known protection ID (a stack remembered from an apply whose CreateProtection found
// the load balancer protected already) it looks the protection up by the load balancer's ARN.
// A look-up AWS refuses (AccessDenied, throttling) fails the change: the load balancer's delete
// waits for it (plan.Waits), so its protection is never left behind, and the Gateway tries
// again after its backoff.
func (a *applier) deleteProtection(ctx context.Context, have *model.LoadBalancer) error {
	if have == nil {
		return nil
	}
	id := have.Addons.ShieldProtectionID
	if id == "" && have.Addons.Shield && have.ARN != "" {
		var err error
		if id, _, err = a.c.protection(ctx, have.ARN); err != nil {
			return wrapAddon(err, "shieldConfiguration.enabled", "reading the Shield protection")
		}
	}
	if id == "" {
		return nil
	}
	_, err := a.c.shield.DeleteProtection(ctx, &shield.DeleteProtectionInput{ProtectionId: aws.String(id)})
	if errorCode(err) == "ResourceNotFoundException" {
		err = nil
	}
	if err == nil {
		a.shieldID = ""
	}
	return wrapAddon(err, "shieldConfiguration.enabled", "deleting the Shield protection")
}

// tagAddon adds id to, or removes it from, the load balancer's addons tag.
func (a *applier) tagAddon(ctx context.Context, arn, id string, on bool) error {
	tags, err := a.c.elbTags(ctx, []string{arn})
	if err != nil {
		return err
	}
	ids := addonsTagged(tags[arn])
	has := slices.Contains(ids, id)
	if has == on {
		return nil
	}
	if on {
		ids = append(ids, id)
	} else {
		ids = slices.DeleteFunc(ids, func(s string) bool { return s == id })
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		if _, err := a.c.elb.RemoveTags(ctx, &elbv2.RemoveTagsInput{ResourceArns: []string{arn}, TagKeys: []string{addonsTagKey}}); err != nil {
			return fmt.Errorf("untagging load balancer %s: %w", arn, err)
		}
		a.c.tags.update(arn, nil, []string{addonsTagKey}, a.c.now())
		return nil
	}
	v := model.Tags{addonsTagKey: strings.Join(ids, ",")}
	if _, err := a.c.elb.AddTags(ctx, &elbv2.AddTagsInput{ResourceArns: []string{arn}, Tags: toELBTags(v)}); err != nil {
		return fmt.Errorf("tagging load balancer %s with its addons: %w", arn, err)
	}
	a.c.tags.update(arn, v, nil, a.c.now())
	return nil
}
