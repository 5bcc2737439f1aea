package aws

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
)

// ELBv2 cannot filter load balancers or target groups by tag or VPC: finding a stack's resources
// means listing the region. The inventory lists it once per Options.InventoryTTL for every
// Gateway of the process and remembers which ARNs carry which stack's tags; Observe then
// describes only those ARNs. Our own creates and deletes keep it exact between listings.

// inventoryPageSize is the page size of the region-wide listings (the API maximum).
const inventoryPageSize = 400

// stackKey names a stack: its type picks the stack tag key.
type stackKey struct {
	typ model.LoadBalancerType
	id  string
}

type resourceKind int

const (
	kindLoadBalancer resourceKind = iota
	kindTargetGroup
)

// stackARNs are the ARNs that carry one stack's tags, by kind.
type stackARNs map[resourceKind]map[string]struct{}

// inventoryEdit is one of our writes, replayed onto a listing that was under way when it happened.
type inventoryEdit struct {
	key    stackKey
	kind   resourceKind
	arn    string
	remove bool
}

// inventory is the process-wide index stack → ARNs.
type inventory struct {
	mu        sync.Mutex
	index     map[stackKey]stackARNs
	expires   time.Time // zero until the first listing succeeds
	flight    *inventoryFlight
	journal   []inventoryEdit
	refreshes int // completed listings
	// listed are the load balancers of the last listing, by ARN (see ObserveApplied), less the
	// ones we changed since; listedTGs the ARNs of its target groups.
	listed    map[string]elbtypes.LoadBalancer
	listedTGs map[string]bool
	// foreign are the load balancers of the last listing that carry a stack's tags for another
	// cluster, by stack.
	foreign map[stackKey][]ForeignLoadBalancer
}

// ForeignLoadBalancer is a load balancer tagged as a stack's, for another cluster: one the AWS
// Load Balancer Controller (or elbgateway) made under another --cluster-name. It is never
// observed, changed or deleted as the stack's.
type ForeignLoadBalancer struct {
	ARN, Name string
	// Cluster is its elbv2.k8s.aws/cluster tag.
	Cluster string
}

// ForeignLoadBalancers lists, from the last listing of the region, the load balancers that carry
// the stack's tags for another cluster, sorted by ARN. It makes no AWS call.
func (c *Cloud) ForeignLoadBalancers(stackID string, t model.LoadBalancerType) []ForeignLoadBalancer {
	c.inv.mu.Lock()
	defer c.inv.mu.Unlock()
	return slices.Clone(c.inv.foreign[stackKey{t, stackID}])
}

// listedBefore says whether the last listing saw arn (a load balancer or target group).
func (inv *inventory) listedBefore(arn string) bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	_, lb := inv.listed[arn]
	return lb || inv.listedTGs[arn]
}

// listedLoadBalancer is the load balancer as the last listing saw it, if we did not change it since.
func (inv *inventory) listedLoadBalancer(arn string) (elbtypes.LoadBalancer, bool) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	lb, ok := inv.listed[arn]
	return lb, ok
}

// changed forgets the listed state of a load balancer we are changing.
func (inv *inventory) changed(arn string) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	delete(inv.listed, arn)
}

// inventoryFlight is a listing under way; every Observe that needs it waits for the same one.
type inventoryFlight struct {
	done chan struct{}
	err  error
}

func newInventory() *inventory { return &inventory{index: map[stackKey]stackARNs{}} }

// add records that arn belongs to the stack.
func (inv *inventory) add(key stackKey, kind resourceKind, arn string) {
	inv.edit(inventoryEdit{key: key, kind: kind, arn: arn})
}

// remove forgets arn, whichever stack it was under.
func (inv *inventory) remove(kind resourceKind, arn string) {
	inv.edit(inventoryEdit{kind: kind, arn: arn, remove: true})
}

func (inv *inventory) edit(e inventoryEdit) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if e.remove {
		delete(inv.listed, e.arn)
	}
	applyEdit(inv.index, e)
	if inv.flight != nil {
		inv.journal = append(inv.journal, e)
	}
}

func applyEdit(index map[stackKey]stackARNs, e inventoryEdit) {
	if e.remove {
		for _, s := range index {
			delete(s[e.kind], e.arn)
		}
		return
	}
	s := index[e.key]
	if s == nil {
		s = stackARNs{}
		index[e.key] = s
	}
	if s[e.kind] == nil {
		s[e.kind] = map[string]struct{}{}
	}
	s[e.kind][e.arn] = struct{}{}
}

// refreshCount is how many listings completed.
func (inv *inventory) refreshCount() int {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.refreshes
}

// inventoryARNs returns the sorted ARNs of the stack's resources of one kind, listing the region
// first when the index is older than Options.InventoryTTL. A failed listing is an error, never
// an empty answer: planning against it would create duplicates.
func (c *Cloud) inventoryARNs(ctx context.Context, key stackKey, kind resourceKind) ([]string, error) {
	inv := c.inv
	inv.mu.Lock()
	if !inv.expires.IsZero() && c.now().Before(inv.expires) {
		defer inv.mu.Unlock()
		return sortedKeys(inv.index[key][kind]), nil
	}
	f := inv.flight
	if f == nil {
		f = &inventoryFlight{done: make(chan struct{})}
		inv.flight, inv.journal = f, nil
		// The listing serves every waiting Observe: one caller giving up must not cancel it.
		go c.refreshInventory(context.WithoutCancel(ctx), f)
	}
	inv.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.done:
	}
	if f.err != nil {
		return nil, fmt.Errorf("listing the region's load balancers and target groups to find the stack's: %w", f.err)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return sortedKeys(inv.index[key][kind]), nil
}

func (c *Cloud) refreshInventory(ctx context.Context, f *inventoryFlight) {
	index, err := c.listInventory(ctx)
	c.inv.finish(f, index, err, c.now().Add(jittered(c.opts.InventoryTTL)))
}

// finish ends a listing: on success the listed index, with the writes made while it ran
// replayed onto it, serves until expires.
func (inv *inventory) finish(f *inventoryFlight, index map[stackKey]stackARNs, err error, expires time.Time) {
	inv.mu.Lock()
	if err == nil {
		for _, e := range inv.journal {
			applyEdit(index, e)
		}
		inv.index, inv.expires = index, expires
		inv.refreshes++
	}
	inv.flight, inv.journal, f.err = nil, nil, err
	inv.mu.Unlock()
	close(f.done)
}

// jittered shortens ttl by up to a tenth, so that processes started together spread their listings.
func jittered(ttl time.Duration) time.Duration {
	return ttl - time.Duration(rand.Int64N(int64(ttl/10)+1))
}

// listInventory lists the region's load balancers and target groups in our VPC and indexes the
// ones our cluster's tags mark by stack. Tags come from the tag cache.
func (c *Cloud) listInventory(ctx context.Context) (map[stackKey]stackARNs, error) {
	type found struct {
		kind   resourceKind
		lbType model.LoadBalancerType // "" for target groups
	}
	all := map[string]found{}
	listed := map[string]elbtypes.LoadBalancer{}
	listedTGs := map[string]bool{}
	lbs := elbv2.NewDescribeLoadBalancersPaginator(c.elb, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(c.listPageSize)})
	for lbs.HasMorePages() {
		page, err := lbs.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, lb := range page.LoadBalancers {
			if c.inVPC(aws.ToString(lb.VpcId)) {
				all[aws.ToString(lb.LoadBalancerArn)] = found{kindLoadBalancer, model.LoadBalancerType(lb.Type)}
				listed[aws.ToString(lb.LoadBalancerArn)] = lb
			}
		}
	}
	tgs := elbv2.NewDescribeTargetGroupsPaginator(c.elb, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(c.listPageSize)})
	for tgs.HasMorePages() {
		page, err := tgs.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, tg := range page.TargetGroups {
			if c.inVPC(aws.ToString(tg.VpcId)) {
				all[aws.ToString(tg.TargetGroupArn)] = found{kind: kindTargetGroup}
				listedTGs[aws.ToString(tg.TargetGroupArn)] = true
			}
		}
	}
	arns := sortedKeys(all)
	tags, err := c.elbTags(ctx, arns)
	if err != nil {
		return nil, err
	}
	index := map[stackKey]stackARNs{}
	foreign := map[stackKey][]ForeignLoadBalancer{}
	for _, arn := range arns {
		f, tt := all[arn], tags[arn]
		if tt[clusterTagKey] != c.opts.ClusterName {
			if f.kind == kindLoadBalancer && tt[clusterTagKey] != "" && tt[resourceTagKey(f.lbType)] == model.LoadBalancerID {
				if id := tt[stackTagKey(f.lbType)]; id != "" {
					k := stackKey{f.lbType, id}
					foreign[k] = append(foreign[k], ForeignLoadBalancer{ARN: arn,
						Name: aws.ToString(listed[arn].LoadBalancerName), Cluster: tt[clusterTagKey]})
				}
			}
			continue
		}
		for _, t := range []model.LoadBalancerType{model.Network, model.Application} {
			if f.kind == kindLoadBalancer && f.lbType != t {
				continue
			}
			if id := tt[stackTagKey(t)]; id != "" {
				applyEdit(index, inventoryEdit{key: stackKey{t, id}, kind: f.kind, arn: arn})
			}
		}
	}
	c.inv.mu.Lock()
	c.inv.listed, c.inv.listedTGs, c.inv.foreign = listed, listedTGs, foreign
	c.inv.mu.Unlock()
	return index, nil
}

func (c *Cloud) inVPC(vpcID string) bool { return c.opts.VPCID == "" || vpcID == c.opts.VPCID }

// describeByARNLimit is how many ARNs one by-ARN describe takes: AWS documents 20 for
// DescribeLoadBalancers and no figure for DescribeTargetGroups, which gets the same.
const describeByARNLimit = 20

// byARN describes resources of one kind by ARN.
type byARN[T any] struct {
	kind resourceKind
	// notFound is the error code AWS answers when an ARN is gone; it rejects the whole call.
	notFound string
	describe func(context.Context, []string) ([]T, error)
	arn      func(T) string
}

// run describes arns in chunks. A chunk that fails with notFound is described one ARN at a
// time; the ARNs that are gone (rejected, or left out of the answer) leave the inventory.
func (b byARN[T]) run(ctx context.Context, inv *inventory, arns []string) ([]T, error) {
	var out []T
	for chunk := range slices.Chunk(arns, describeByARNLimit) {
		got, err := b.describe(ctx, chunk)
		if errorCode(err) == b.notFound {
			got, err = b.oneByOne(ctx, chunk)
		}
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, r := range got {
			seen[b.arn(r)] = true
		}
		for _, arn := range chunk {
			if !seen[arn] {
				inv.remove(b.kind, arn)
			}
		}
		out = append(out, got...)
	}
	return out, nil
}

func (b byARN[T]) oneByOne(ctx context.Context, arns []string) ([]T, error) {
	var out []T
	for _, arn := range arns {
		one, err := b.describe(ctx, []string{arn})
		if errorCode(err) == b.notFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, one...)
	}
	return out, nil
}
