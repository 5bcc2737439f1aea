// Package targets keeps the registered targets of each target group a Gateway owns equal to the
// ready endpoints (ip targets) or the eligible nodes (instance targets) behind its backend.
//
// It is a loop of its own, fast and narrow: the Gateway reconciler tells the Registry which
// target groups exist and what feeds them; EndpointSlice and Node events then reconcile only the
// target groups they concern, with DescribeTargetHealth, RegisterTargets and DeregisterTargets.
// It never re-plans a load balancer.
package targets
