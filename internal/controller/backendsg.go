package controller

import (
	"context"
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
	"github.com/elbgateway/elbgateway/internal/targets"
	"github.com/elbgateway/elbgateway/internal/translate"
)

// The shared backend security group is one per cluster, not part of any Gateway's stack: every
// load balancer with a managed frontend group (or manageBackendSecurityGroupRules) carries it,
// and the worker nodes' security groups let its traffic in. A reconcile makes sure of it before
// translation, because the desired stack names its ID: this is the one AWS write outside apply.
// It is idempotent (found again by its tags), and the last Gateway to go deletes it.

// SecurityGroupOptions are the controller's security-group flags.
type SecurityGroupOptions struct {
	// DisableBackendSecurityGroup is --enable-backend-security-group=false: worker-node rules
	// then come from each load balancer's managed frontend group.
	DisableBackendSecurityGroup bool
	// BackendSecurityGroupID is --backend-security-group: a group the user made, used as the
	// shared backend group and never deleted.
	BackendSecurityGroupID string
	// UnrestrictedRules is --disable-restricted-sg-rules: worker-node rules open every port.
	UnrestrictedRules bool
	// ENISecurityGroupTags is --service-target-eni-security-group-tags.
	ENISecurityGroupTags map[string]string
}

// BackendSecurityGroups finds, creates and deletes the cluster's shared backend security group.
type BackendSecurityGroups interface {
	EnsureBackendSecurityGroup(ctx context.Context) (string, error)
	ReleaseBackendSecurityGroup(ctx context.Context) error
}

// ensureBackendSecurityGroup puts the backend group's ID into the snapshot when the Gateway's
// load balancer uses it, creating the group if the cluster has none yet.
func (r *gatewayReconciler) ensureBackendSecurityGroup(ctx context.Context, snap *snapshot.Snapshot, class *gwv1.GatewayClass) error {
	o := r.opts.SecurityGroups
	if o.DisableBackendSecurityGroup || !r.owns(class) || !translate.NeedsBackendSecurityGroup(snap) {
		return nil
	}
	if o.BackendSecurityGroupID != "" {
		snap.AWS.BackendSecurityGroupID = o.BackendSecurityGroupID
		return nil
	}
	id, err := r.cloud.EnsureBackendSecurityGroup(ctx)
	if err != nil {
		return err
	}
	snap.AWS.BackendSecurityGroupID = id
	return nil
}

// releaseBackendSecurityGroup deletes the backend group once a Gateway being deleted has given
// up its stack and no other Gateway of ours (of either controller) is left. A group given by
// --backend-security-group is never deleted.
func (r *gatewayReconciler) releaseBackendSecurityGroup(ctx context.Context, gw *gwv1.Gateway, desired *model.Stack) error {
	o := r.opts.SecurityGroups
	if o.DisableBackendSecurityGroup || o.BackendSecurityGroupID != "" || gw.DeletionTimestamp == nil || desired.LoadBalancer != nil {
		return nil
	}
	if !hasFinalizer(gw, finalizer(r.controller)) {
		return nil // it never had a stack, or released it before
	}
	var list gwv1.GatewayList
	if err := r.reader.List(ctx, &list); err != nil {
		return fmt.Errorf("listing Gateways: %w", err)
	}
	for i := range list.Items {
		other := &list.Items[i]
		if other.UID == gw.UID || other.DeletionTimestamp != nil {
			continue
		}
		if hasFinalizer(other, finalizer(ControllerNLB)) || hasFinalizer(other, finalizer(ControllerALB)) {
			return nil
		}
	}
	return r.cloud.ReleaseBackendSecurityGroup(ctx)
}

// withNetwork adds to each binding where its traffic comes from, for the worker-node rules.
func withNetwork(bs []targets.Binding, desired, result *model.Stack, ingress model.NodeIngress) []targets.Binding {
	if !ingress.Managed() || result == nil {
		return bs
	}
	source := ""
	if ref := ingress.SourceGroup; ref != nil {
		source = ref.External
		for _, sg := range result.SecurityGroups {
			if ref.ID != "" && sg.ID == ref.ID {
				source = sg.GroupID
			}
		}
		if source == "" {
			return bs // the frontend group is not there yet
		}
	}
	tgs := map[string]model.TargetGroup{}
	for _, tg := range desired.TargetGroups {
		tgs[tg.ID] = tg
	}
	arns := map[string]string{}
	for _, tg := range result.TargetGroups {
		arns[tg.ARN] = tg.ID
	}
	for i := range bs {
		tg, ok := tgs[arns[bs[i].TargetGroupARN]]
		if !ok {
			continue
		}
		bs[i].Network = &targets.Network{
			SourceGroupID: source, ClientCIDRs: ingress.TrafficCIDRs(tg), HealthCheckCIDRs: ingress.HealthCheckCIDRs,
			Protocol: tg.Protocol, HealthCheckPort: tg.HealthCheck.Port,
		}
	}
	return bs
}

// nodeRuleOptions configure the targets loop's worker-node rules.
func nodeRuleOptions(o Options) targets.NodeRuleOptions {
	return targets.NodeRuleOptions{
		Network:              o.Cloud,
		ClusterName:          o.ClusterName,
		ENISecurityGroupTags: o.SecurityGroups.ENISecurityGroupTags,
		Unrestricted:         o.SecurityGroups.UnrestrictedRules,
	}
}
