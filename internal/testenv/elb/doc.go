// Package elb is a local stand-in for the Elastic Load Balancing data plane: it reads load
// balancers, listeners, rules, target groups, their attributes and targets through the ELBv2 API
// of an endpoint (moto behind the test environment's contract layer, in tests and the demo) and
// carries loopback traffic the way ELB would for that configuration, to local processes standing
// in for the targets.
//
// It is an oracle written from the AWS documentation, not from the controller: it imports nothing
// of this repository, so a misunderstanding the controller holds cannot hide in it.
//
// Addresses. Everything is on 127.0.0.0/8:
//
//   - A load balancer has a node per Availability Zone, each listening on each listener's port:
//     the first zone's on LoadBalancerAddr(its ARN), 127.254.x.y with x.y from a hash of the ARN
//     (or its DNSName when that is itself an IPv4 address in 127.0.0.0/8), the others on the
//     hash of the ARN and the zone. Its DNS name resolves to every node through DNS (a server on
//     loopback) and to the first through Resolve (for curl's --resolve) and DialContext.
//   - A target a.b.c.d:port (an ip target, or an instance target's private address and the
//     registered port) is dialled at 127.b.c.d:port: the first octet becomes 127. Backends stand
//     in for pods by listening there. Options.TargetAddr overrides the rule.
package elb
