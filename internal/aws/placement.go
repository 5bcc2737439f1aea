package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Placement is where the controller runs: its AWS region and the VPC of its instance.
type Placement struct {
	Region string
	VPCID  string
}

// placementTimeout bounds the whole instance-metadata lookup: off EC2, or on a node whose
// metadata hop limit is 1, the token request never answers and the controller must say so
// instead of hanging.
const placementTimeout = 15 * time.Second

// DiscoverPlacement fills in what known lacks (region, VPC) from the instance metadata service,
// with IMDSv2 session tokens only. The SDK's standard settings apply: AWS_EC2_METADATA_DISABLED
// switches the lookup off, AWS_EC2_METADATA_SERVICE_ENDPOINT (and _MODE) choose where it goes.
// The VPC is the one of the instance's primary network interface
// (network/interfaces/macs/<mac>/vpc-id), so no EC2 call and no IAM permission is needed.
func DiscoverPlacement(ctx context.Context, known Placement) (Placement, error) {
	if known.Region != "" && known.VPCID != "" {
		return known, nil
	}
	ctx, cancel := context.WithTimeout(ctx, placementTimeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return known, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	client := imds.NewFromConfig(cfg, func(o *imds.Options) {
		// IMDSv1 answers from any hop, so falling back to it would hide a hop-limit problem
		// behind a different one; nodes increasingly refuse it anyway.
		o.EnableFallback = aws.FalseTernary
	})
	out := known
	if out.Region == "" {
		r, err := client.GetRegion(ctx, &imds.GetRegionInput{})
		if err != nil {
			return known, fmt.Errorf("reading the region from the instance metadata service: %w", err)
		}
		out.Region = r.Region
	}
	if out.VPCID == "" {
		mac, err := metadata(ctx, client, "mac")
		if err != nil {
			return known, err
		}
		vpc, err := metadata(ctx, client, "network/interfaces/macs/"+mac+"/vpc-id")
		if err != nil {
			return known, err
		}
		out.VPCID = vpc
	}
	return out, nil
}

// metadata reads one instance-metadata path as a trimmed, non-empty string.
func metadata(ctx context.Context, c *imds.Client, path string) (string, error) {
	r, err := c.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
	if err != nil {
		return "", fmt.Errorf("reading %s from the instance metadata service: %w", path, err)
	}
	defer r.Content.Close()
	b, err := io.ReadAll(io.LimitReader(r.Content, 4096))
	if err != nil {
		return "", fmt.Errorf("reading %s from the instance metadata service: %w", path, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", errors.New("the instance metadata service returned an empty " + path)
	}
	return v, nil
}
