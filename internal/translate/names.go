package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// generatedName is the name scheme of the AWS Load Balancer Controller: k8s-<ns8>-<name8>-<hash10>,
// with everything but letters and digits removed from namespace and name, and the hash the hex
// SHA-256 of the parts written one after another without separators.
func generatedName(namespace, name string, hashParts ...string) string {
	h := sha256.New()
	for _, p := range hashParts {
		h.Write([]byte(p))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return fmt.Sprintf("k8s-%.8s-%.8s-%.10s", alphanumeric(namespace), alphanumeric(name), sum)
}

func alphanumeric(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			out = append(out, c)
		}
	}
	return string(out)
}

// loadBalancerName is the generated name of a Gateway's load balancer: the hash covers the
// cluster, the Gateway's UID and the scheme, so a scheme change gives a new load balancer.
func loadBalancerName(cluster, namespace, name, uid, scheme string) string {
	return generatedName(namespace, name, cluster, uid, scheme)
}

// securityGroupName is the name of a Gateway's managed frontend security group.
func securityGroupName(cluster, namespace, name, uid string) string {
	return generatedName(namespace, name, cluster, name, namespace, uid)
}

// targetGroupNameParts are what a generated target group name depends on.
type targetGroupNameParts struct {
	cluster                       string
	gatewayNamespace, gateway     string
	routeNamespace, route, kind   string
	serviceNamespace, service     string
	port                          string // node port (instance) or the Service's targetPort (ip)
	targetType, protocol, version string
}

// targetGroupName is the generated name of a target group; it is named after the route.
func targetGroupName(p targetGroupNameParts) string {
	parts := []string{p.cluster, p.gatewayNamespace, p.gateway, p.routeNamespace, p.route, p.kind,
		p.serviceNamespace, p.service, p.port, p.targetType, p.protocol}
	if p.version != "" {
		parts = append(parts, p.version)
	}
	return generatedName(p.routeNamespace, p.route, parts...)
}
