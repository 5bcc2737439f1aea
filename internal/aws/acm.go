package aws

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/elbgateway/elbgateway/internal/model"
	"github.com/elbgateway/elbgateway/internal/snapshot"
)

// How long ACM answers are reused (the list: by default; Options.CertificateListTTL). The certificate list is shared by every Gateway; the
// domain names of a certificate rarely change (an imported one only when we re-import it,
// which updates the cache); tags change only through us.
const (
	certListTTL    = time.Minute
	certDomainsTTL = 10 * time.Minute
)

// certificateHashTag holds the content hash of a certificate we import.
func certificateHashTag(t model.LoadBalancerType) string { return tagPrefix(t) + "/certificate-hash" }

// acmState is the ACM client and what we remember of ACM.
type acmState struct {
	client *acm.Client
	// list is the account's certificates in the region, all statuses and key types.
	list *ttlCache[[]acmtypes.CertificateSummary]
	// domains are what DescribeCertificate says of a certificate (its domain name and subject
	// alternative names, its type and CA), by ARN.
	domains *ttlCache[certDetail]
	// tags are imported certificates' tags, by ARN.
	tags *tagCache
	// mu serialises list refreshes, so concurrent reconciles share one call.
	mu sync.Mutex
	// importers are the stacks this process imported a certificate for, or observed with one:
	// their observation lists ACM even when nothing else says they have a certificate.
	importersMu sync.Mutex
	importers   map[stackKey]bool
}

// noteImporter records that a stack imports (or may have imported) a certificate.
func (s *acmState) noteImporter(k stackKey) {
	s.importersMu.Lock()
	defer s.importersMu.Unlock()
	if s.importers == nil {
		s.importers = map[stackKey]bool{}
	}
	s.importers[k] = true
}

func (s *acmState) isImporter(k stackKey) bool {
	s.importersMu.Lock()
	defer s.importersMu.Unlock()
	return s.importers[k]
}

func newACMState(client *acm.Client, tagTTL, listTTL time.Duration) *acmState {
	return &acmState{
		client:  client,
		list:    newTTLCache[[]acmtypes.CertificateSummary](listTTL),
		domains: newTTLCache[certDetail](certDomainsTTL),
		tags:    newTagCache(tagTTL),
	}
}

const certListKey = "all"

// certificateList returns every certificate of the account in the region (any status, any key
// type: ListCertificates leaves out all but RSA 2048 unless asked), cached for a minute.
func (c *Cloud) certificateList(ctx context.Context) ([]acmtypes.CertificateSummary, error) {
	s := c.acm
	s.mu.Lock()
	defer s.mu.Unlock()
	if cached, ok := s.list.get(certListKey, c.now()); ok {
		return cached, nil
	}
	in := &acm.ListCertificatesInput{
		Includes: &acmtypes.Filters{KeyTypes: acmtypes.KeyAlgorithm("").Values()},
	}
	var out []acmtypes.CertificateSummary
	p := acm.NewListCertificatesPaginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.CertificateSummaryList...)
	}
	slices.SortFunc(out, func(a, b acmtypes.CertificateSummary) int {
		return strings.Compare(aws.ToString(a.CertificateArn), aws.ToString(b.CertificateArn))
	})
	s.list.put(certListKey, out, c.now())
	return out, nil
}

// noteCertificateListChanged drops the cached list after we import or delete a certificate.
func (c *Cloud) noteCertificateListChanged() { c.acm.list.forget(certListKey) }

// issuedCertificates are the ISSUED certificates with their domain names, for discovery
// (snapshot.AWSFacts.Certificates), sorted by ARN. Domain names come from DescribeCertificate,
// cached per ARN.
func (c *Cloud) issuedCertificates(ctx context.Context) ([]snapshot.Certificate, error) {
	list, err := c.certificateList(ctx)
	if err != nil {
		return nil, err
	}
	var out []snapshot.Certificate
	for _, s := range list {
		if s.Status != acmtypes.CertificateStatusIssued {
			continue
		}
		arn := aws.ToString(s.CertificateArn)
		imported, err := c.importedForSecret(ctx, s)
		if errorCode(err) == "ResourceNotFoundException" || imported {
			continue
		}
		if err != nil {
			return nil, err
		}
		d, err := c.certificateDetail(ctx, arn)
		if errorCode(err) == "ResourceNotFoundException" {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !c.allowedAuthority(d) {
			continue
		}
		out = append(out, snapshot.Certificate{ARN: arn, DomainNames: d.names})
	}
	return out, nil
}

// importedForSecret says whether a certificate is one elbgateway imported for a Kubernetes
// Secret (an imported certificate with our content-hash tag, of any cluster): it serves the
// listeners whose certificateRefs name that Secret, and is never discovered by hostname.
func (c *Cloud) importedForSecret(ctx context.Context, s acmtypes.CertificateSummary) (bool, error) {
	if s.Type != "" && s.Type != acmtypes.CertificateTypeImported {
		return false, nil
	}
	tags, err := c.certificateTags(ctx, aws.ToString(s.CertificateArn))
	if err != nil {
		return false, err
	}
	return tags[certificateHashTag(model.Network)] != "" || tags[certificateHashTag(model.Application)] != "", nil
}

// allowedAuthority applies --allowed-certificate-authority-arns: with a list, a private
// certificate is discovered only when one of those CAs issued it. Public and imported
// certificates are not affected.
func (c *Cloud) allowedAuthority(d certDetail) bool {
	allowed := c.opts.AllowedCertificateAuthorityARNs
	if len(allowed) == 0 || d.typ != acmtypes.CertificateTypePrivate {
		return true
	}
	return slices.Contains(allowed, d.authority)
}

// certificateStatuses is the ACM status of each named certificate of this account and region,
// snapshot.CertificateNotFound for one ACM does not have. The region-wide list (cached) answers
// for issued certificates; any other is described, so that a certificate issued since the list
// was read is not refused. ARNs of other services, regions or accounts are left out: AWS
// decides about them.
func (c *Cloud) certificateStatuses(ctx context.Context, arns []string) (map[string]string, error) {
	var out map[string]string
	for _, arn := range arns {
		if !c.ownACMARN(arn) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		if _, done := out[arn]; done {
			continue
		}
		list, err := c.certificateList(ctx)
		if err != nil {
			return nil, err
		}
		i, found := slices.BinarySearchFunc(list, arn, func(s acmtypes.CertificateSummary, arn string) int {
			return strings.Compare(aws.ToString(s.CertificateArn), arn)
		})
		if found && list[i].Status == acmtypes.CertificateStatusIssued {
			out[arn] = string(acmtypes.CertificateStatusIssued)
			continue
		}
		resp, err := c.acm.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		switch {
		case errorCode(err) == "ResourceNotFoundException":
			out[arn] = snapshot.CertificateNotFound
		case errorCode(err) == "AccessDeniedException" || errorCode(err) == "InvalidArnException" || errorCode(err) == "ValidationException":
			// Not ours to judge (no permission, another account's ARN): AWS decides.
			delete(out, arn)
		case err != nil:
			return nil, err
		case resp.Certificate != nil:
			out[arn] = string(resp.Certificate.Status)
			if resp.Certificate.Status == acmtypes.CertificateStatusIssued {
				c.noteCertificateListChanged()
			}
		}
	}
	return out, nil
}

// ownACMARN says whether arn names an ACM certificate of the client's region
// (arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID).
func (c *Cloud) ownACMARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "acm" || !strings.HasPrefix(parts[5], "certificate/") {
		return false
	}
	return parts[3] == c.opts.Region
}

// certDetail is what discovery reads from DescribeCertificate.
type certDetail struct {
	// names are the domain name and subject alternative names, lower case, sorted.
	names []string
	typ   acmtypes.CertificateType
	// authority is the ARN of the private CA that issued a PRIVATE certificate.
	authority string
}

func (c *Cloud) certificateDetail(ctx context.Context, arn string) (certDetail, error) {
	if d, ok := c.acm.domains.get(arn, c.now()); ok {
		return d, nil
	}
	resp, err := c.acm.client.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		return certDetail{}, err
	}
	var d certDetail
	if cd := resp.Certificate; cd != nil {
		if n := aws.ToString(cd.DomainName); n != "" {
			d.names = append(d.names, strings.ToLower(n))
		}
		for _, n := range cd.SubjectAlternativeNames {
			d.names = append(d.names, strings.ToLower(n))
		}
		d.typ, d.authority = cd.Type, aws.ToString(cd.CertificateAuthorityArn)
	}
	slices.Sort(d.names)
	d.names = slices.Compact(d.names)
	c.acm.domains.put(arn, d, c.now())
	return d, nil
}

// certificateTags returns an imported certificate's tags, cached; our writes update the cache.
func (c *Cloud) certificateTags(ctx context.Context, arn string) (model.Tags, error) {
	if tags, ok := c.acm.tags.get(arn, c.now()); ok {
		return tags, nil
	}
	resp, err := c.acm.client.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	tags := model.Tags{}
	for _, t := range resp.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	c.acm.tags.put(arn, tags, c.now())
	return tags, nil
}

// observeCertificates finds the certificates the stack imported: the IMPORTED certificates
// tagged with its cluster and stack. The hash tag becomes Certificate.Hash; the other tags
// are the certificate's tags.
func (c *Cloud) observeCertificates(ctx context.Context, stackID string, t model.LoadBalancerType) ([]model.Certificate, error) {
	out, err := c.listImportedCertificates(ctx, stackID, t)
	if len(out) > 0 {
		c.acm.noteImporter(stackKey{t, stackID})
	}
	return out, err
}

func (c *Cloud) listImportedCertificates(ctx context.Context, stackID string, t model.LoadBalancerType) ([]model.Certificate, error) {
	list, err := c.certificateList(ctx)
	if err != nil {
		return nil, err
	}
	var out []model.Certificate
	for _, s := range list {
		if s.Type != "" && s.Type != acmtypes.CertificateTypeImported {
			continue
		}
		arn := aws.ToString(s.CertificateArn)
		tags, err := c.certificateTags(ctx, arn)
		if errorCode(err) == "ResourceNotFoundException" {
			continue
		}
		if err != nil {
			return nil, err
		}
		id, ok := c.owned(tags, stackID, t)
		if !ok {
			continue
		}
		m := model.Certificate{ID: id, ARN: arn, Hash: tags[certificateHashTag(t)], Tags: model.Tags{}}
		for k, v := range tags {
			if k != certificateHashTag(t) {
				m.Tags[k] = v
			}
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b model.Certificate) int { return strings.Compare(a.ID+a.ARN, b.ID+b.ARN) })
	return out, nil
}

func toACMTags(tags model.Tags) []acmtypes.Tag {
	out := make([]acmtypes.Tag, 0, len(tags))
	for _, k := range sortedKeys(tags) {
		out = append(out, acmtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}
