package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	awsv1 "github.com/elbgateway/elbgateway/api/v1"
)

// Field indexes of the informer cache; every event maps to Gateways through them, never by
// listing everything.
const (
	// indexClass indexes Gateways by spec.gatewayClassName.
	indexClass = "elbgateway.class"
	// indexLBC indexes Gateways and GatewayClasses by the namespace/name of the
	// LoadBalancerConfiguration they name.
	indexLBC = "elbgateway.lbc"
	// indexGateway indexes routes by the namespace/name of the Gateways in their parentRefs and
	// status.parents.
	indexGateway = "elbgateway.gateway"
	// indexCertificateNamespace indexes Gateways by the other namespaces that their listeners'
	// tls.certificateRefs name Secrets in, so that a ReferenceGrant there re-evaluates them.
	indexCertificateNamespace = "elbgateway.certificatenamespace"
	// indexService indexes routes by the namespace/name of the Services they name.
	indexService = "elbgateway.service"
	// indexBackendGateway indexes routes by the namespace/name of the Gateways they forward to
	// (NLB to ALB chaining).
	indexBackendGateway = "elbgateway.backendgateway"
	// indexDefaultTGC indexes LoadBalancerConfigurations by the namespace/name of their default
	// TargetGroupConfiguration.
	indexDefaultTGC = "elbgateway.defaulttgc"
)

const lbcKind = "LoadBalancerConfiguration"

func addIndexes(ctx context.Context, idx client.FieldIndexer, routeKinds []schema.GroupVersionKind) error {
	if err := idx.IndexField(ctx, &gwv1.Gateway{}, indexClass, func(o client.Object) []string {
		return []string{string(o.(*gwv1.Gateway).Spec.GatewayClassName)}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &gwv1.Gateway{}, indexLBC, func(o client.Object) []string {
		return lbcOfGateway(o.(*gwv1.Gateway))
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &gwv1.Gateway{}, indexCertificateNamespace, func(o client.Object) []string {
		return certificateNamespaces(o.(*gwv1.Gateway))
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &gwv1.GatewayClass{}, indexLBC, func(o client.Object) []string {
		return lbcOfClass(o.(*gwv1.GatewayClass))
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &awsv1.LoadBalancerConfiguration{}, indexDefaultTGC, func(o client.Object) []string {
		lbc := o.(*awsv1.LoadBalancerConfiguration)
		if lbc.Spec.DefaultTargetGroupConfiguration == nil {
			return nil
		}
		return []string{lbc.Namespace + "/" + lbc.Spec.DefaultTargetGroupConfiguration.Name}
	}); err != nil {
		return err
	}
	for _, gvk := range routeKinds {
		if err := idx.IndexField(ctx, newRoute(gvk), indexGateway, func(o client.Object) []string {
			return gatewaysOfRoute(o.(*unstructured.Unstructured))
		}); err != nil {
			return err
		}
		if err := idx.IndexField(ctx, newRoute(gvk), indexService, func(o client.Object) []string {
			return servicesOfRoute(o.(*unstructured.Unstructured))
		}); err != nil {
			return err
		}
		if err := idx.IndexField(ctx, newRoute(gvk), indexBackendGateway, func(o client.Object) []string {
			return backendGatewaysOfRoute(o.(*unstructured.Unstructured))
		}); err != nil {
			return err
		}
	}
	return nil
}

// lbcOfGateway returns the LoadBalancerConfiguration a Gateway's infrastructure names (in the
// Gateway's namespace).
func lbcOfGateway(gw *gwv1.Gateway) []string {
	if gw.Spec.Infrastructure == nil || gw.Spec.Infrastructure.ParametersRef == nil {
		return nil
	}
	ref := gw.Spec.Infrastructure.ParametersRef
	if string(ref.Kind) != lbcKind {
		return nil
	}
	return []string{gw.Namespace + "/" + ref.Name}
}

// lbcOfClass returns the LoadBalancerConfiguration a GatewayClass's parametersRef names.
func lbcOfClass(c *gwv1.GatewayClass) []string {
	ref := c.Spec.ParametersRef
	if ref == nil || string(ref.Kind) != lbcKind || ref.Namespace == nil {
		return nil
	}
	return []string{string(*ref.Namespace) + "/" + ref.Name}
}
