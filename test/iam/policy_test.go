// Package iam checks docs/iam-policy.json against the code: every AWS operation internal/aws
// calls must be allowed, and every write the policy allows must be bound to the cluster's tag.
package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/elbgateway/elbgateway/internal/testenv"
)

// services maps the SDK packages whose clients the code may call to their IAM service prefix.
var services = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2": "elasticloadbalancing",
	"github.com/aws/aws-sdk-go-v2/service/ec2":                    "ec2",
	"github.com/aws/aws-sdk-go-v2/service/acm":                    "acm",
	"github.com/aws/aws-sdk-go-v2/service/wafv2":                  "wafv2",
	"github.com/aws/aws-sdk-go-v2/service/shield":                 "shield",
}

// clientMethodsNotOperations are methods of the SDK clients that call no AWS operation.
var clientMethodsNotOperations = map[string]bool{"Options": true}

// policy is the part of an IAM policy document the test reads.
type policy struct {
	Version   string
	Statement []statement
}

type statement struct {
	Sid       string
	Effect    string
	Action    stringOrList
	Resource  stringOrList
	Condition map[string]map[string]any
}

type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

func readPolicy(t *testing.T) policy {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "docs", "iam-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("docs/iam-policy.json: %v", err)
	}
	if p.Version != "2012-10-17" {
		t.Fatalf("docs/iam-policy.json: Version %q, want 2012-10-17", p.Version)
	}
	return p
}

// allows reports whether an Allow statement of the policy names the action (IAM wildcards
// match; action names are case-insensitive).
func (p policy) allows(action string) bool {
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
				return true
			}
		}
	}
	return false
}

// missing returns the actions the policy does not allow, sorted.
func (p policy) missing(actions []string) []string {
	var out []string
	for _, a := range actions {
		if !p.allows(a) {
			out = append(out, a)
		}
	}
	return out
}

// exports maps import paths to compiled export data, for type-checking internal/aws and the
// snippets of the tests against the SDK version go.mod pins.
var exports struct {
	once sync.Once
	m    map[string]string
	err  error
}

func exportData() (map[string]string, error) {
	exports.once.Do(func() {
		root, err := testenv.RepoRoot()
		if err != nil {
			exports.err = err
			return
		}
		args := []string{"list", "-e", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}", "./internal/aws"}
		for p := range services {
			args = append(args, p)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			exports.err = fmt.Errorf("go list -export: %v: %s", err, stderr.String())
			return
		}
		exports.m = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if p, file, ok := strings.Cut(line, "\t"); ok && file != "" {
				exports.m[p] = file
			}
		}
	})
	return exports.m, exports.err
}

// operations type-checks Go files and returns every AWS operation they call, as
// "<iam service>:<Operation>", sorted: methods of the SDK clients, and the operations of the
// SDK's paginators.
func operations(fset *token.FileSet, files []*ast.File) ([]string, error) {
	ex, err := exportData()
	if err != nil {
		return nil, err
	}
	imp := importer.ForCompiler(fset, "gc", func(p string) (io.ReadCloser, error) {
		f, ok := ex[p]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", p)
		}
		return os.Open(f)
	})
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	// Errors elsewhere in the package (another change in progress) do not hide the SDK calls:
	// every call whose callee resolves is counted.
	conf := types.Config{Importer: imp, Error: func(error) {}}
	_, _ = conf.Check("scan", fset, files, info)

	set := map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if op := operationOf(info, sel); op != "" {
				set[op] = true
			}
			return true
		})
	}
	out := make([]string, 0, len(set))
	for op := range set {
		out = append(out, op)
	}
	sort.Strings(out)
	return out, nil
}

// operationOf names the AWS operation a call's callee performs, or "".
func operationOf(info *types.Info, sel *ast.SelectorExpr) string {
	if s, ok := info.Selections[sel]; ok && s.Kind() == types.MethodVal {
		recv := types.Unalias(s.Recv())
		if p, ok := recv.(*types.Pointer); ok {
			recv = p.Elem()
		}
		named, ok := recv.(*types.Named)
		if !ok || named.Obj().Name() != "Client" || named.Obj().Pkg() == nil {
			return ""
		}
		svc, ok := services[named.Obj().Pkg().Path()]
		if !ok || clientMethodsNotOperations[sel.Sel.Name] {
			return ""
		}
		return svc + ":" + sel.Sel.Name
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil {
		return ""
	}
	svc, ok := services[fn.Pkg().Path()]
	name := fn.Name()
	if ok && strings.HasPrefix(name, "New") && strings.HasSuffix(name, "Paginator") {
		return svc + ":" + strings.TrimSuffix(strings.TrimPrefix(name, "New"), "Paginator")
	}
	return ""
}

// awsPackageFiles parses the non-test Go files of internal/aws.
func awsPackageFiles(t *testing.T, fset *token.FileSet) []*ast.File {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(root, "internal", "aws", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// TestPolicyAllowsEveryOperationTheCodeCalls is the check: a new SDK call in internal/aws fails
// it until docs/iam-policy.json allows the operation.
func TestPolicyAllowsEveryOperationTheCodeCalls(t *testing.T) {
	fset := token.NewFileSet()
	ops, err := operations(fset, awsPackageFiles(t, fset))
	if err != nil {
		t.Fatal(err)
	}
	// The scan must see the calls we know are there, or it proves nothing.
	for _, known := range []string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DescribeListeners", "ec2:DescribeSubnets", "ec2:CreateSecurityGroup"} {
		if !contains(ops, known) {
			t.Errorf("the scan of internal/aws did not find %s; found %v", known, ops)
		}
	}
	if missing := readPolicy(t).missing(ops); len(missing) > 0 {
		t.Errorf("docs/iam-policy.json does not allow %s, which internal/aws calls; add them (writes with a condition on the elbv2.k8s.aws/cluster tag)", strings.Join(missing, ", "))
	}
}

// TestOperationScanCatchesMissingPermissions proves the check fails: snippets that call
// operations the policy does not allow are reported, and allowed ones are not.
func TestOperationScanCatchesMissingPermissions(t *testing.T) {
	p := readPolicy(t)
	for _, tt := range []struct {
		name    string
		src     string
		missing []string
	}{
		{
			name: "client method not in the policy",
			src: `package x
import (
	"context"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)
type cloud struct{ elb *elbv2.Client }
func (c *cloud) f(ctx context.Context) {
	_, _ = c.elb.DeleteSharedTrustStoreAssociation(ctx, nil)
	_, _ = c.elb.CreateLoadBalancer(ctx, nil)
}`,
			missing: []string{"elasticloadbalancing:DeleteSharedTrustStoreAssociation"},
		},
		{
			name: "paginator of an operation not in the policy",
			src: `package x
import "github.com/aws/aws-sdk-go-v2/service/ec2"
func f(c *ec2.Client) { _ = ec2.NewDescribeVolumesPaginator(c, nil) }`,
			missing: []string{"ec2:DescribeVolumes"},
		},
		{
			name: "ACM client",
			src: `package x
import (
	"context"
	"github.com/aws/aws-sdk-go-v2/service/acm"
)
func f(ctx context.Context, c *acm.Client) {
	_, _ = c.RequestCertificate(ctx, nil)
	_, _ = c.ListCertificates(ctx, nil)
	_ = c.Options()
}`,
			missing: []string{"acm:RequestCertificate"},
		},
		{
			name: "calls of other types are not operations",
			src: `package x
type fake struct{}
func (fake) CreateLoadBalancer() {}
func (fake) DeleteEverything() {}
func f() { fake{}.DeleteEverything() }`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "snippet.go", tt.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ops, err := operations(fset, []*ast.File{f})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.missing(ops); strings.Join(got, ",") != strings.Join(tt.missing, ",") {
				t.Errorf("missing %v, want %v (operations found: %v)", got, tt.missing, ops)
			}
		})
	}
}

// unconditionedWrites are the writes the policy allows without a tag condition, each on one
// resource type: creating a security group needs the VPC, and the worker-node security groups
// the controller opens to its load balancers are the cluster's, not ours (their tag,
// kubernetes.io/cluster/<name>, has the cluster's name in its key, which IAM cannot match
// without knowing the name; docs/install.md shows how to add that condition). A web ACL
// association and a Shield protection name the user's web ACL and the load balancer: the load
// balancer side is bound to the cluster by elasticloadbalancing:SetWebAcl (which AssociateWebACL
// also needs) and by the load balancer the protection names.
var unconditionedWrites = map[string]bool{
	"wafv2:AssociateWebACL":             true,
	"wafv2:DisassociateWebACL":          true,
	"shield:CreateProtection":           true,
	"shield:DeleteProtection":           true,
	"ec2:CreateSecurityGroup":           true,
	"ec2:AuthorizeSecurityGroupIngress": true,
	"ec2:RevokeSecurityGroupIngress":    true,
}

// TestPolicyBindsWritesToTheCluster: a statement that allows anything but reads has a condition,
// or allows one of unconditionedWrites on a resource type other than "*". Creates require the
// cluster tag in the request; other writes require it on the resource, or in the request (an
// import, tags added while creating).
func TestPolicyBindsWritesToTheCluster(t *testing.T) {
	p := readPolicy(t)
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			t.Errorf("%s: Effect %s; the policy only allows", s.Sid, s.Effect)
		}
		for _, a := range s.Action {
			_, op, _ := strings.Cut(a, ":")
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %s; list the operations", s.Sid, a)
			}
			read := strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Get")
			if read {
				continue
			}
			if len(s.Condition) == 0 && (contains(s.Resource, "*") || !unconditionedWrites[a]) {
				t.Errorf("%s: %s is allowed without a condition", s.Sid, a)
			}
			keys := conditionKeys(s)
			switch {
			case len(s.Condition) == 0:
			case strings.HasPrefix(op, "Create") && a != "ec2:CreateTags" && a != "iam:CreateServiceLinkedRole":
				if !contains(keys, "aws:RequestTag/elbv2.k8s.aws/cluster") {
					t.Errorf("%s: %s is not conditioned on aws:RequestTag/elbv2.k8s.aws/cluster", s.Sid, a)
				}
			case a == "iam:CreateServiceLinkedRole":
				if !contains(keys, "iam:AWSServiceName") {
					t.Errorf("%s: %s is not limited to elasticloadbalancing.amazonaws.com", s.Sid, a)
				}
			case !contains(keys, "aws:ResourceTag/elbv2.k8s.aws/cluster") && !contains(keys, "aws:RequestTag/elbv2.k8s.aws/cluster"):
				t.Errorf("%s: %s is conditioned on neither aws:ResourceTag/elbv2.k8s.aws/cluster nor aws:RequestTag/elbv2.k8s.aws/cluster", s.Sid, a)
			}
		}
	}
}

func conditionKeys(s statement) []string {
	var out []string
	for _, kv := range s.Condition {
		for k := range kv {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPolicyTagsCertificatesOnlyOwnedOrAtImport: acm:AddTagsToCertificate is allowed on a
// certificate that carries the cluster tag, or with the cluster tag in the request on one that
// carries none (the tags of an import; ImportCertificate with tags needs this permission).
// Never on a certificate tagged for another purpose with the cluster tag in the request.
// What IAM cannot express: an AddTagsToCertificate that is part of an import is not told apart
// from one on an existing certificate without the cluster tag; the controller only tags
// certificates it imported (docs/install.md).
func TestPolicyTagsCertificatesOnlyOwnedOrAtImport(t *testing.T) {
	p := readPolicy(t)
	found := 0
	for _, s := range p.Statement {
		if !contains(s.Action, "acm:AddTagsToCertificate") {
			continue
		}
		found++
		null := s.Condition["Null"]
		owned := null["aws:ResourceTag/elbv2.k8s.aws/cluster"] == "false"
		atImport := null["aws:RequestTag/elbv2.k8s.aws/cluster"] == "false" && null["aws:ResourceTag/elbv2.k8s.aws/cluster"] == "true"
		if !owned && !atImport {
			t.Errorf("%s allows acm:AddTagsToCertificate with conditions %v: want the cluster tag on the certificate, or in the request on a certificate without it", s.Sid, s.Condition)
		}
	}
	if found == 0 {
		t.Errorf("no statement allows acm:AddTagsToCertificate; importing with tags needs it")
	}
}
