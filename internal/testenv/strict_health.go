package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// TargetHealthPath is the layer's side door for target health: a POST of a TargetHealthReport
// sets what DescribeTargetHealth answers for the targets it names. AWS requests never use this
// path (Query and JSON protocol requests go to "/"), so it cannot shadow an AWS call.
const TargetHealthPath = "/_elbgateway/target-health"

// TargetHealthOverride is the health one target reports: State as AWS names it (initial, healthy,
// unhealthy, unused, draining, unavailable), with AWS's Reason code and Description when not
// healthy.
type TargetHealthOverride struct {
	ID          string `json:"id"`
	Port        int32  `json:"port"`
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Description string `json:"description,omitempty"`
}

// TargetHealthReport is the side door's request body.
type TargetHealthReport struct {
	Region         string                 `json:"region"`
	TargetGroupARN string                 `json:"targetGroupArn"`
	Targets        []TargetHealthOverride `json:"targets"`
}

// targetHealthStates are TargetHealth.State's values in the ELBv2 API reference.
var targetHealthStates = map[string]bool{
	"initial": true, "healthy": true, "unhealthy": true, "unhealthy.draining": true,
	"unused": true, "draining": true, "unavailable": true,
}

// targetHealthKey names one target of one target group in one region.
type targetHealthKey struct {
	region, targetGroupARN, id string
	port                       int32
}

// SetTargetHealth makes DescribeTargetHealth through the layer answer h for that target of the
// target group, for as long as moto lists the target (a deregistered target disappears from the
// answer, as in moto). moto itself answers healthy for every registered target.
func (s *Strict) SetTargetHealth(region, targetGroupARN string, h TargetHealthOverride) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.health == nil {
		s.health = map[targetHealthKey]TargetHealthOverride{}
	}
	s.health[targetHealthKey{region, targetGroupARN, h.ID, h.Port}] = h
}

// ClearTargetHealth forgets every override: DescribeTargetHealth answers what moto answers.
func (s *Strict) ClearTargetHealth() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health = nil
}

func (s *Strict) targetHealth(k targetHealthKey) (TargetHealthOverride, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.health[k]
	return h, ok
}

// serveTargetHealth is the side door's handler.
func (s *Strict) serveTargetHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a target health report", http.StatusMethodNotAllowed)
		return
	}
	var rep TargetHealthReport
	if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
		http.Error(w, "target health report: "+err.Error(), http.StatusBadRequest)
		return
	}
	if rep.Region == "" {
		rep.Region = "us-east-1"
	}
	if rep.TargetGroupARN == "" {
		http.Error(w, "target health report: targetGroupArn is required", http.StatusBadRequest)
		return
	}
	for _, t := range rep.Targets {
		if t.ID == "" || !targetHealthStates[t.State] {
			http.Error(w, fmt.Sprintf("target health report: target %q has state %q; want an id and one of initial, healthy, unhealthy, unused, draining, unavailable", t.ID, t.State), http.StatusBadRequest)
			return
		}
	}
	for _, t := range rep.Targets {
		s.SetTargetHealth(rep.Region, rep.TargetGroupARN, t)
	}
	w.WriteHeader(http.StatusNoContent)
}

var (
	healthMember = regexp.MustCompile(`(?s)<member>(.*?)</member>`)
	healthTarget = regexp.MustCompile(`(?s)<Target>(.*?)</Target>`)
	healthID     = regexp.MustCompile(`<Id>([^<]*)</Id>`)
	healthPort   = regexp.MustCompile(`<Port>([0-9]+)</Port>`)
	healthBlock  = regexp.MustCompile(`(?s)<TargetHealth>.*?</TargetHealth>`)
)

// overriddenTargetHealth answers DescribeTargetHealth with the overrides set through
// SetTargetHealth or the side door in place of moto's TargetHealth, for the targets moto lists.
func overriddenTargetHealth(ctx context.Context, s *Strict, r *strictRequest, w http.ResponseWriter) (bool, error) {
	s.mu.Lock()
	n := len(s.health)
	s.mu.Unlock()
	if n == 0 {
		return false, nil
	}
	arn := r.form.Get("TargetGroupArn")
	s.forwardRewritten(w, r, func(body string) string {
		return healthMember.ReplaceAllStringFunc(body, func(m string) string {
			t := healthTarget.FindStringSubmatch(m)
			if t == nil {
				return m
			}
			id, port := healthID.FindStringSubmatch(t[1]), healthPort.FindStringSubmatch(t[1])
			if id == nil || port == nil {
				return m
			}
			p, err := strconv.ParseInt(port[1], 10, 32)
			if err != nil {
				return m
			}
			h, ok := s.targetHealth(targetHealthKey{r.region, arn, id[1], int32(p)})
			if !ok {
				return m
			}
			return healthBlock.ReplaceAllLiteralString(m, targetHealthXML(h))
		})
	})
	return true, nil
}

func targetHealthXML(h TargetHealthOverride) string {
	var b strings.Builder
	b.WriteString("<TargetHealth><State>" + xmlText(h.State) + "</State>")
	if h.Reason != "" {
		b.WriteString("<Reason>" + xmlText(h.Reason) + "</Reason>")
	}
	if h.Description != "" {
		b.WriteString("<Description>" + xmlText(h.Description) + "</Description>")
	}
	b.WriteString("</TargetHealth>")
	return b.String()
}
