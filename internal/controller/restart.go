package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/log"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/elbgateway/elbgateway/internal/model"
)

// Reconciles that find a stack as the last apply left it read little from AWS: the process
// plans against the result of its last full apply for a while, and a stack applied in full
// carries the fingerprint of its desired stack on its load balancer, so that the first
// reconcile of a new process whose desired stack has the same fingerprint takes it as applied
// (Cloud.ObserveApplied, Cloud.RecordApplied). Later reconciles, the periodic resync among
// them, observe in full and repair drift.

// observe reads the stack; known is true when it holds exactly what desired asks and needs no
// plan. A Gateway being deleted reads only what the delete needs.
func (r *gatewayReconciler) observe(ctx context.Context, gw *gwv1.Gateway, desired *model.Stack, fp string) (*model.Stack, bool, error) {
	if gw.DeletionTimestamp == nil && desired.LoadBalancer != nil {
		s, same, err := r.cloud.ObserveApplied(ctx, desired, fp)
		if err != nil {
			return nil, false, err
		}
		if s != nil {
			return s, same, nil
		}
	}
	if gw.DeletionTimestamp != nil && desired.LoadBalancer == nil {
		s, err := r.cloud.ObserveForDelete(ctx, desired.ID, desired.Type)
		return s, false, err
	}
	s, err := r.cloud.ObserveFor(ctx, desired)
	return s, false, err
}

// recordApplied marks a stack that is now exactly as desired. A held or deleted stack is not
// as translated, and is not marked. A failure only costs the next restart a full read.
func (r *gatewayReconciler) recordApplied(ctx context.Context, gw *gwv1.Gateway, desired, result *model.Stack, fp string) {
	if gw.DeletionTimestamp != nil || desired == nil || desired.LoadBalancer == nil || result == nil {
		return
	}
	if err := r.cloud.RecordApplied(ctx, result, fp); err != nil {
		log.FromContext(ctx).Error(err, "recording the applied stack")
	}
}
