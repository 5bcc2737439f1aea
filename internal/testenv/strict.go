package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
)

// Strict is AWS's API contract in front of moto: a reverse proxy on 127.0.0.1 that decodes each
// ELBv2 and EC2 (Query protocol) and ACM (JSON protocol) request, refuses what real AWS refuses
// with AWS's error code, HTTP status and error body, corrects the answers where moto differs from
// AWS, and passes every other request to moto unchanged. The state a rule needs it reads from moto
// itself, so it never drifts from what moto holds. docs/aws-contract.md lists the rules.
type Strict struct {
	// URL is the layer's base URL, the endpoint every AWS client uses.
	URL string

	moto     *url.URL
	server   *http.Server
	listener net.Listener
	forward  *httputil.ReverseProxy

	// registerMu makes RegisterTargets one at a time, checks and moto's write together: AWS
	// counts an ALB's target groups atomically (albTargetOfTwoNLBs), a check then a write does not.
	registerMu sync.Mutex

	mu      sync.Mutex
	knobs   StrictKnobs
	clients map[string]*regionClients
	// sgCreated is when the layer saw each security group created, for the Describe delay knob.
	sgCreated map[string]time.Time
	// health holds the target health set through SetTargetHealth or the side door.
	health map[targetHealthKey]TargetHealthOverride
	// keys holds the private keys of the certificates imported through the layer.
	keys map[certificateKey][]byte
	// ipv4Prefixes are the prefixes assigned to each network interface (strict_prefixes.go).
	ipv4Prefixes map[string][]string
	// transforms are the transforms of each listener rule, by rule ARN (strict_transforms.go).
	transforms map[string][]ruleTransform
	// loopbackNames are the addresses LoopbackDNSNames gave out, by moto's DNS name.
	loopbackNames map[string]string
	// capacity holds the capacity reservations by load balancer ARN (strict_addons.go).
	capacity map[string]*capacityReservation
	// lbAddresses are the static addresses of each load balancer's subnets, by ARN and subnet
	// ID (strict_addresses.go).
	lbAddresses map[string]map[string]lbAddress
	// quicARNs are the QUIC and TCP_QUIC listeners and target groups moto holds as UDP and
	// TCP_UDP, by ARN (strict_quic.go).
	quicARNs map[string]string
	// routingWrites counts the starts and ends of calls that change which load balancers forward
	// to a target group, routingWriting those under way; routes is what was last read of them,
	// by region (strict_tglbs.go).
	routingWrites  atomic.Uint64
	routingWriting atomic.Int64
	routes         map[string]*targetGroupRouting
}

// StrictKnobs changes how the layer behaves for tests that need AWS's slower or laxer sides. The
// zero value is the default: no delays, every rule on.
type StrictKnobs struct {
	// ProvisioningSeconds keeps a load balancer in state provisioning for this many seconds after
	// its CreatedTime, as AWS does for a minute or more; 0 reports moto's active at once.
	ProvisioningSeconds int
	// SecurityGroupDescribeDelayMS hides a newly created security group from DescribeSecurityGroups
	// for this many milliseconds (EC2 eventual consistency: "the results of an API command you
	// run might not be immediately visible to all subsequent commands").
	SecurityGroupDescribeDelayMS int
	// LoopbackDNSNames answers each load balancer's DNSName as a loopback IPv4 address of its own
	// (127.253.x.y, given out in creation order and kept for the name), so a client that dials the
	// name as-is, with no resolver of the local data plane's, reaches the data plane: it serves
	// a load balancer whose DNS name is a loopback address on that address.
	LoopbackDNSNames bool
}

// regionClients reach moto directly for the state rules read.
type regionClients struct {
	elb *elbv2.Client
	ec2 *ec2.Client
	acm *acm.Client
	waf *wafv2.Client
}

// NewStrict starts the layer in front of moto (a base URL such as http://127.0.0.1:5000) on a
// free loopback port.
func NewStrict(motoURL string) (*Strict, error) {
	u, l, err := listenInFrontOf("strict layer", motoURL)
	if err != nil {
		return nil, err
	}
	s := &Strict{
		URL:       "http://" + l.Addr().String(),
		moto:      u,
		listener:  l,
		clients:   map[string]*regionClients{},
		sgCreated: map[string]time.Time{},

		ipv4Prefixes: map[string][]string{},
		capacity:     map[string]*capacityReservation{},
		lbAddresses:  map[string]map[string]lbAddress{},
		quicARNs:     map[string]string{},
		transforms:   map[string][]ruleTransform{},
		routes:       map[string]*targetGroupRouting{},
	}
	s.forward = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }}
	s.server = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(l) }()
	return s, nil
}

// SetKnobs replaces the layer's knobs. Knobs apply to every client of the moto behind the layer:
// tests that set them must not run in parallel with other tests on the same moto.
func (s *Strict) SetKnobs(k StrictKnobs) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knobs = k
}

// Knobs returns the layer's current knobs.
func (s *Strict) Knobs() StrictKnobs {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.knobs
}

// reset forgets what the layer remembered of moto's resources.
func (s *Strict) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sgCreated = map[string]time.Time{}
	s.health = nil
	s.keys = nil
	s.ipv4Prefixes = map[string][]string{}
	s.transforms = map[string][]ruleTransform{}
	s.loopbackNames = nil
	s.capacity = map[string]*capacityReservation{}
	s.lbAddresses = map[string]map[string]lbAddress{}
	s.quicARNs = map[string]string{}
	s.routes = map[string]*targetGroupRouting{}
}

// Close stops the layer.
func (s *Strict) Close() error {
	err := s.server.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// region returns the SDK clients that reach moto in region.
func (s *Strict) region(region string) *regionClients {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[region]; ok {
		return c
	}
	cfg := AWSConfig(s.moto.String(), region)
	c := &regionClients{elb: elbv2.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), acm: acm.NewFromConfig(cfg),
		waf: wafv2.NewFromConfig(cfg)}
	s.clients[region] = c
	return c
}

// strictRequest is one decoded AWS request.
type strictRequest struct {
	awsCall
	region string
	// form holds a Query-protocol request's parameters (ELBv2, EC2).
	form url.Values
	// body is the raw request body; a JSON-protocol request's parameters (ACM).
	body []byte
	// aws reaches moto in the request's region.
	aws *regionClients
	// http is the request as received, to forward.
	http *http.Request
}

// apiError is AWS's refusal of a request.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// refuse is a client error with HTTP status 400, as AWS answers every rule of this layer.
func refuse(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// strictRule is one contract rule: check returns AWS's refusal of the request, or nil.
type strictRule struct {
	service, action string
	check           func(ctx context.Context, s *Strict, r *strictRequest) *apiError
}

// strictAnswer produces a request's answer itself, where moto's would differ from AWS's; it
// returns false to leave the request to moto.
type strictAnswer struct {
	service, action string
	answer          func(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error)
}

// Signing names of the services the layer decodes.
const (
	svcELB = "elasticloadbalancing"
	svcEC2 = "ec2"
	svcACM = "acm"
)

var (
	rulesByCall   map[string][]strictRule
	answersByCall map[string][]strictAnswer
)

func init() {
	rulesByCall = map[string][]strictRule{}
	for _, table := range [][]strictRule{elbRules, dualStackRules, ec2Rules, acmRules, addonRules, albTargetRules} {
		for _, r := range table {
			rulesByCall[r.service+":"+r.action] = append(rulesByCall[r.service+":"+r.action], r)
		}
	}
	answersByCall = map[string][]strictAnswer{}
	for _, table := range [][]strictAnswer{elbAnswers, ec2Answers, dualStackAnswers, acmAnswers, addonAnswers} {
		for _, a := range table {
			answersByCall[a.service+":"+a.action] = append(answersByCall[a.service+":"+a.action], a)
		}
	}
}

func (s *Strict) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TargetHealthPath {
		s.serveTargetHealth(w, r)
		return
	}
	if r.URL.Path == CertificateKeyPath {
		s.serveCertificateKey(w, r)
		return
	}
	call, err := identify(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if call.service == svcELB && routingWrite[call.action] {
		defer s.startRoutingWrite()()
	}
	key := call.service + ":" + call.action
	rules, answers := rulesByCall[key], answersByCall[key]
	if len(rules) == 0 && len(answers) == 0 {
		s.forward.ServeHTTP(w, r)
		return
	}
	if call.service == svcELB && call.action == "RegisterTargets" {
		s.registerMu.Lock()
		defer s.registerMu.Unlock()
	}
	req, err := s.decode(r, call)
	if err != nil {
		writeAWSError(w, call, http.StatusBadRequest, "ValidationError", err.Error(), newRequestID())
		return
	}
	ctx := r.Context()
	for _, rule := range rules {
		if e := rule.check(ctx, s, req); e != nil {
			writeAWSError(w, call, e.status, e.code, e.message, newRequestID())
			return
		}
	}
	for _, a := range answers {
		done, err := a.answer(ctx, s, req, w)
		if err != nil {
			var e *apiError
			if errors.As(err, &e) {
				writeAWSError(w, call, e.status, e.code, e.message, newRequestID())
				return
			}
			writeAWSError(w, call, http.StatusInternalServerError, "InternalFailure", "strict layer: "+err.Error(), newRequestID())
			return
		}
		if done {
			return
		}
	}
	s.forwardRequest(w, req)
}

// forwardRequest sends the request to moto with its parameters as the rules and answers left them.
func (s *Strict) forwardRequest(w http.ResponseWriter, req *strictRequest) {
	r := req.http
	body := req.body
	if req.form != nil && !req.json {
		body = []byte(req.form.Encode())
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	s.forward.ServeHTTP(w, r)
}

// forwardRewritten sends the request to moto and passes on its answer after rewrite changed the
// body of a successful one.
func (s *Strict) forwardRewritten(w http.ResponseWriter, req *strictRequest, rewrite func(string) string) {
	rec := httptest.NewRecorder()
	s.forwardRequest(rec, req)
	body := rec.Body.String()
	if rec.Code == http.StatusOK {
		body = rewrite(body)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = io.WriteString(w, body)
}

// decode reads a request's parameters and region.
func (s *Strict) decode(r *http.Request, call awsCall) (*strictRequest, error) {
	req := &strictRequest{awsCall: call, region: signingRegion(r.Header.Get("Authorization")), http: r}
	if req.region == "" {
		req.region = "us-east-1"
	}
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("reading request body: %w", err)
		}
		req.body = body
	}
	if !call.json {
		form, err := url.ParseQuery(string(req.body))
		if err != nil {
			return nil, fmt.Errorf("request body is not form-encoded: %w", err)
		}
		for k, v := range r.URL.Query() {
			if _, ok := form[k]; !ok {
				form[k] = v
			}
		}
		req.form = form
	}
	req.aws = s.region(req.region)
	return req, nil
}

// json decodes a JSON-protocol request's parameters into v.
func (r *strictRequest) decodeJSON(v any) error {
	return json.Unmarshal(r.body, v)
}

// signingRegion takes "us-east-1" out of a SigV4 Authorization header's credential scope.
func signingRegion(authorization string) string { return credentialScope(authorization, 2) }

// Content types of AWS answers: the Query and EC2 protocols' XML, and the JSON protocol's.
const (
	contentTypeXML  = "text/xml"
	contentTypeJSON = "application/x-amz-json-1.1"
)

// writeOK answers 200 with body, of contentType.
func writeOK(w http.ResponseWriter, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// queryList returns the members of a Query-protocol list parameter, in index order: for
// prefix "Targets.member" the parameters Targets.member.1.Id, Targets.member.1.Port, ... become
// one url.Values {Id, Port} per index. A list of scalars (Names.member.1) gives url.Values
// with the value under "". EC2 lists have no ".member" (IpPermissions.1.IpProtocol).
func queryList(form url.Values, prefix string) []url.Values {
	byIndex := map[int]url.Values{}
	p := prefix + "."
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, p)
		if !ok {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil {
			continue
		}
		if byIndex[n] == nil {
			byIndex[n] = url.Values{}
		}
		byIndex[n][field] = v
	}
	indexes := make([]int, 0, len(byIndex))
	for n := range byIndex {
		indexes = append(indexes, n)
	}
	sort.Ints(indexes)
	out := make([]url.Values, 0, len(indexes))
	for _, n := range indexes {
		out = append(out, byIndex[n])
	}
	return out
}

// queryStrings returns the values of a Query-protocol list of scalars (prefix "Names.member").
func queryStrings(form url.Values, prefix string) []string {
	var out []string
	for _, m := range queryList(form, prefix) {
		out = append(out, m.Get(""))
	}
	return out
}

// mustRead turns an error of the layer's own moto read into a server error the caller sees,
// rather than letting a request through unchecked.
func mustRead(err error) *apiError {
	if err == nil {
		return nil
	}
	var api interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if errors.As(err, &api) {
		return refuse(api.ErrorCode(), "%s", api.ErrorMessage())
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalFailure", message: "strict layer reading moto: " + err.Error()}
}
