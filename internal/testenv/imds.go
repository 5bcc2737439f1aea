package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Instance is what the IMDS stand-in tells about the instance it pretends to be.
type Instance struct {
	Region, AvailabilityZone, InstanceID, MAC, VPCID, SubnetID string
}

// IMDS is a stand-in for the EC2 instance metadata service on a loopback port, IMDSv2 only:
// PUT /latest/api/token (with X-aws-ec2-metadata-token-ttl-seconds between 1 and 21600) hands
// out a session token, and every GET without a valid X-aws-ec2-metadata-token is answered 401,
// as the service does when the instance requires tokens (HttpTokens=required).
// Clients reach it through the SDK's standard AWS_EC2_METADATA_SERVICE_ENDPOINT.
type IMDS struct {
	// URL is the endpoint, for AWS_EC2_METADATA_SERVICE_ENDPOINT.
	URL string

	srv      *http.Server
	inst     Instance
	mu       sync.Mutex
	tokens   map[string]bool
	tokenReq atomic.Int64
	refused  atomic.Int64
}

// StartIMDS serves inst's metadata until Stop.
func StartIMDS(inst Instance) (*IMDS, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &IMDS{URL: "http://" + ln.Addr().String(), inst: inst, tokens: map[string]bool{}}
	m.srv = &http.Server{Handler: http.HandlerFunc(m.serve)}
	go func() { _ = m.srv.Serve(ln) }()
	return m, nil
}

// Stop closes the listener.
func (m *IMDS) Stop() { _ = m.srv.Close() }

// TokenRequests counts the session tokens handed out.
func (m *IMDS) TokenRequests() int64 { return m.tokenReq.Load() }

// Refused counts the GETs answered 401 for lack of a valid token (IMDSv1 requests).
func (m *IMDS) Refused() int64 { return m.refused.Load() }

func (m *IMDS) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/latest/api/token" {
		m.token(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	m.mu.Lock()
	ok := m.tokens[r.Header.Get("X-aws-ec2-metadata-token")]
	m.mu.Unlock()
	if !ok {
		m.refused.Add(1)
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	v, found := m.lookup(r.URL.Path)
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(v))
}

func (m *IMDS) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "", http.StatusMethodNotAllowed)
		return
	}
	// The service refuses token requests that went through a proxy.
	if r.Header.Get("X-Forwarded-For") != "" {
		http.Error(w, "", http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
	if err != nil || ttl < 1 || ttl > 21600 {
		http.Error(w, "", http.StatusBadRequest)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	m.mu.Lock()
	m.tokens[tok] = true
	m.mu.Unlock()
	m.tokenReq.Add(1)
	w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
	_, _ = w.Write([]byte(tok))
}

// lookup answers the metadata paths the controller and the SDK read.
func (m *IMDS) lookup(path string) (string, bool) {
	i := m.inst
	if path == "/latest/dynamic/instance-identity/document" {
		doc, _ := json.Marshal(map[string]string{
			"region": i.Region, "availabilityZone": i.AvailabilityZone, "instanceId": i.InstanceID,
		})
		return string(doc), true
	}
	p, ok := strings.CutPrefix(path, "/latest/meta-data/")
	if !ok {
		return "", false
	}
	macs := "network/interfaces/macs/" + i.MAC + "/"
	v, ok := map[string]string{
		"instance-id":                 i.InstanceID,
		"mac":                         i.MAC,
		"placement/region":            i.Region,
		"placement/availability-zone": i.AvailabilityZone,
		"network/interfaces/macs/":    i.MAC + "/",
		macs + "vpc-id":               i.VPCID,
		macs + "subnet-id":            i.SubnetID,
		macs + "device-number":        "0",
		macs + "interface-id":         "eni-" + strings.ReplaceAll(i.MAC, ":", ""),
	}[p]
	return v, ok && v != ""
}
