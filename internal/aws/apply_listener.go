package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/plan"
)

func (a *applier) listener(ctx context.Context, ch plan.Change) error {
	switch ch.Op {
	case plan.OpCreate:
		return a.createListener(ctx, ch.Desired.Listener)
	case plan.OpUpdate:
		return a.updateListener(ctx, ch.Desired.Listener, ch.Observed.Listener, ch.Update)
	case plan.OpDelete:
		return a.deleteListener(ctx, ch.Observed.Listener)
	}
	return fmt.Errorf("unknown op %q", ch.Op)
}

func (a *applier) createListener(ctx context.Context, l *model.Listener) error {
	lbARN, err := a.lbARN()
	if err != nil {
		return err
	}
	actions, err := a.listenerActions(l.Protocol, l.DefaultActions, secretRequired)
	if err != nil {
		return err
	}
	mtls, err := a.c.mutualAuthentication(ctx, l)
	if err != nil {
		return err
	}
	tags := withSecretTag(l.Tags, l.DefaultActions)
	in := &elbv2.CreateListenerInput{
		LoadBalancerArn:      aws.String(lbARN),
		Port:                 aws.Int32(l.Port),
		Protocol:             elbtypes.ProtocolEnum(l.Protocol),
		DefaultActions:       actions,
		Tags:                 toELBTags(tags),
		MutualAuthentication: mtls,
	}
	certs, err := a.certRefs(l.Certificates)
	if err != nil {
		return err
	}
	secureListenerFields(l, certs, &in.Certificates, &in.SslPolicy, &in.AlpnPolicy)
	resp, err := a.c.elb.CreateListener(ctx, in)
	if err != nil {
		return fmt.Errorf("creating listener on port %d: %w", l.Port, err)
	}
	if len(resp.Listeners) == 0 {
		return fmt.Errorf("creating listener on port %d: AWS returned no listener", l.Port)
	}
	arn := aws.ToString(resp.Listeners[0].ListenerArn)
	a.lisARNs[l.Port] = arn
	a.c.tags.put(arn, tags, a.c.now())
	if len(certs) > 1 {
		if err := a.addCertificates(ctx, arn, certs[1:]); err != nil {
			return err
		}
	}
	if len(l.Attributes) > 0 {
		return a.setListenerAttributes(ctx, arn, l.Attributes)
	}
	return nil
}

// listenerActions converts a listener's default actions. An NLB listener never sends
// TargetGroupStickinessConfig: that is an ALB setting (NLB stickiness is a target group
// attribute), and AWS refuses it on NLB listeners. A QUIC or TCP_QUIC listener sends no
// weights either (AWS refuses them there; it forwards to one target group).
func (a *applier) listenerActions(protocol string, actions []model.Action, secret secretUse) ([]elbtypes.Action, error) {
	out, err := toActions(actions, a.tgRef, secret)
	if err != nil || a.typ != model.Network {
		return out, err
	}
	for i := range out {
		if fc := out[i].ForwardConfig; fc != nil {
			fc.TargetGroupStickinessConfig = nil
			if model.IsQUIC(protocol) {
				for j := range fc.TargetGroups {
					fc.TargetGroups[j].Weight = nil
				}
			}
		}
	}
	return out, nil
}

// secureListenerFields sets the default certificate (the first of the resolved ARNs), SSL
// policy and (TLS) ALPN policy.
func secureListenerFields(l *model.Listener, arns []string, certs *[]elbtypes.Certificate, ssl **string, alpn *[]string) {
	if l.Protocol != "HTTPS" && l.Protocol != "TLS" {
		return
	}
	if len(arns) > 0 {
		*certs = []elbtypes.Certificate{{CertificateArn: aws.String(arns[0])}}
	}
	*ssl = optional(l.SSLPolicy)
	if l.Protocol == "TLS" && l.ALPNPolicy != "" {
		*alpn = []string{l.ALPNPolicy}
	}
}

func (a *applier) updateListener(ctx context.Context, want, have *model.Listener, u *plan.Update) error {
	if u.Has(plan.FieldListener) {
		actions, err := a.listenerActions(want.Protocol, want.DefaultActions, secretOrExisting)
		if err != nil {
			return err
		}
		mtls, err := a.c.mutualAuthentication(ctx, want)
		if err != nil {
			return err
		}
		if mtls == nil && have.MutualAuthentication != nil && have.MutualAuthentication.Mode != "off" {
			mtls = &elbtypes.MutualAuthenticationAttributes{Mode: aws.String("off")}
		}
		in := &elbv2.ModifyListenerInput{
			ListenerArn:          aws.String(have.ARN),
			Port:                 aws.Int32(want.Port),
			Protocol:             elbtypes.ProtocolEnum(want.Protocol),
			DefaultActions:       actions,
			MutualAuthentication: mtls,
		}
		certs, err := a.certRefs(want.Certificates)
		if err != nil {
			return err
		}
		secureListenerFields(want, certs, &in.Certificates, &in.SslPolicy, &in.AlpnPolicy)
		if want.Protocol == "TLS" && want.ALPNPolicy == "" && have.ALPNPolicy != "" {
			in.AlpnPolicy = []string{"None"}
		}
		if _, err := a.c.elb.ModifyListener(ctx, in); err != nil {
			return fmt.Errorf("modifying listener on port %d: %w", want.Port, err)
		}
	}
	if u.Has(plan.FieldCertificates) {
		add, err := a.certRefs(u.AddCertificates)
		if err != nil {
			return err
		}
		remove, err := a.certRefs(u.RemoveCertificates)
		if err != nil {
			return err
		}
		if err := a.addCertificates(ctx, have.ARN, add); err != nil {
			return err
		}
		if err := a.removeCertificates(ctx, have.ARN, remove); err != nil {
			return err
		}
	}
	if u.Has(plan.FieldAttributes) {
		if err := a.setListenerAttributes(ctx, have.ARN, u.SetAttributes); err != nil {
			return err
		}
	}
	if err := a.updateELBTags(ctx, have.ARN, u); err != nil || !u.Has(plan.FieldListener) {
		return err
	}
	return a.syncSecretTag(ctx, have.ARN, want.DefaultActions, have.DefaultActions)
}

// addCertificates adds extra certificates to a listener, one per call: the
// AddListenerCertificates reference says "You can specify one certificate per call".
func (a *applier) addCertificates(ctx context.Context, arn string, certs []string) error {
	for _, cert := range certs {
		if _, err := a.c.elb.AddListenerCertificates(ctx, &elbv2.AddListenerCertificatesInput{
			ListenerArn: aws.String(arn), Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(cert)}},
		}); err != nil {
			return fmt.Errorf("adding certificate %s to listener %s: %w", cert, arn, err)
		}
	}
	return nil
}

// removeCertificates removes extra certificates from a listener, one per call (the
// RemoveListenerCertificates reference: "You can specify one certificate per call").
func (a *applier) removeCertificates(ctx context.Context, arn string, certs []string) error {
	for _, cert := range certs {
		if _, err := a.c.elb.RemoveListenerCertificates(ctx, &elbv2.RemoveListenerCertificatesInput{
			ListenerArn: aws.String(arn), Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(cert)}},
		}); err != nil {
			return fmt.Errorf("removing certificate %s from listener %s: %w", cert, arn, err)
		}
	}
	return nil
}

func (a *applier) setListenerAttributes(ctx context.Context, arn string, attrs map[string]string) error {
	if _, err := a.c.elb.ModifyListenerAttributes(ctx, &elbv2.ModifyListenerAttributesInput{ListenerArn: aws.String(arn), Attributes: toListenerAttributes(attrs)}); err != nil {
		return fmt.Errorf("setting attributes of listener %s: %w", arn, err)
	}
	return nil
}

func (a *applier) deleteListener(ctx context.Context, l *model.Listener) error {
	_, err := a.c.elb.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: aws.String(l.ARN)})
	if err != nil && errorCode(err) != "ListenerNotFound" {
		return fmt.Errorf("deleting listener on port %d: %w", l.Port, err)
	}
	a.c.tags.forget(l.ARN)
	if a.lisARNs[l.Port] == l.ARN {
		delete(a.lisARNs, l.Port)
	}
	return nil
}

// mutualAuthentication is the mTLS setting to write for an HTTPS listener, with a trust store
// name resolved to its ARN; nil when the listener has none.
func (c *Cloud) mutualAuthentication(ctx context.Context, l *model.Listener) (*elbtypes.MutualAuthenticationAttributes, error) {
	m := l.MutualAuthentication
	if l.Protocol != "HTTPS" || m == nil || m.Mode == "" {
		return nil, nil
	}
	out := &elbtypes.MutualAuthenticationAttributes{Mode: aws.String(m.Mode)}
	if m.Mode != "verify" {
		return out, nil
	}
	arn, err := c.trustStoreARN(ctx, m.TrustStore)
	if err != nil {
		return nil, fmt.Errorf("listener on port %d: %w", l.Port, err)
	}
	out.TrustStoreArn = aws.String(arn)
	out.IgnoreClientCertificateExpiry = aws.Bool(m.IgnoreClientCertificateExpiry)
	if m.AdvertiseTrustStoreCANames != "" {
		out.AdvertiseTrustStoreCaNames = elbtypes.AdvertiseTrustStoreCaNamesEnum(m.AdvertiseTrustStoreCANames)
	}
	return out, nil
}

// trustStoreARN resolves a trust store name (an ARN is returned as it is).
func (c *Cloud) trustStoreARN(ctx context.Context, nameOrARN string) (string, error) {
	if nameOrARN == "" {
		return "", errors.New("mTLS mode verify needs a trust store")
	}
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN, nil
	}
	resp, err := c.elb.DescribeTrustStores(ctx, &elbv2.DescribeTrustStoresInput{Names: []string{nameOrARN}})
	if errorCode(err) == "TrustStoreNotFound" || err == nil && len(resp.TrustStores) == 0 {
		return "", fmt.Errorf("trust store %q not found: create it in the load balancer's region or name an existing one", nameOrARN)
	}
	if err != nil {
		return "", fmt.Errorf("looking up trust store %q: %w", nameOrARN, err)
	}
	return aws.ToString(resp.TrustStores[0].TrustStoreArn), nil
}

func fromMutualAuthentication(m *elbtypes.MutualAuthenticationAttributes) *model.MutualAuthentication {
	if m == nil || aws.ToString(m.Mode) == "" {
		return nil
	}
	return &model.MutualAuthentication{
		Mode:                          aws.ToString(m.Mode),
		TrustStore:                    aws.ToString(m.TrustStoreArn),
		IgnoreClientCertificateExpiry: aws.ToBool(m.IgnoreClientCertificateExpiry),
		AdvertiseTrustStoreCANames:    string(m.AdvertiseTrustStoreCaNames),
	}
}
