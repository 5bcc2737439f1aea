package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Credentials moto accepts; it checks no signature.
const (
	TestAccessKeyID     = "testing"
	TestSecretAccessKey = "testing"
)

// AWSConfig is an SDK configuration that sends every service's calls to endpoint (moto, or a
// FaultProxy in front of it) with the test credentials. Retries keep the SDK's defaults.
func AWSConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(TestAccessKeyID, TestSecretAccessKey, ""),
	}
}

// AWSCLI runs the aws CLI from PATH against endpoint and returns its JSON output. It passes
// --endpoint-url explicitly (Debian's CLI v2 ignores AWS_ENDPOINT_URL) and gives the CLI the
// test credentials and no user configuration.
func AWSCLI(ctx context.Context, endpoint, region string, args ...string) ([]byte, error) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		return nil, errors.New("aws CLI not found on PATH: install it (apt-get install -y awscli, or pip install awscli)")
	}
	full := append([]string{"--endpoint-url", endpoint, "--region", region, "--output", "json"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = append(cliEnv(),
		"AWS_ACCESS_KEY_ID="+TestAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+TestSecretAccessKey,
		"AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_PAGER=",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("aws %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// cliEnv is the process environment without any AWS_ setting that could point the CLI elsewhere.
func cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}
