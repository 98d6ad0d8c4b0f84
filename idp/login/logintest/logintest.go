// Package logintest is a login.Host for testing a login method on its
// own, without a provider, as net/http/httptest is for handlers: pending
// requests and the method's state are kept in memory, and what the method
// asked of its host (proofs, failures, outcomes) can be read back.
package logintest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/yagona/yagona/idp/login"
)

// Host is a login.Host in memory. Set its exported fields before use; it
// is safe for concurrent use after that.
type Host struct {
	IssuerURL string           // Issuer's answer
	Clock     func() time.Time // Now's answer; nil: time.Now
	Next      string           // where Complete sends the browser
	// Refuse, when set, is Complete's answer (after recording the proof).
	Refuse *login.Error
	// LimitSources and LimitClients make Limited report true for every
	// source, or whenever a client is named.
	LimitSources, LimitClients bool
	// StateErr, when set, is what Put and Take fail with.
	StateErr error
	// Proxies is TrustedProxy's answer.
	Proxies bool

	mu       sync.Mutex
	requests map[string]*Request
	state    map[string][]byte
	proofs   []login.Proof
	failures []string
	outcomes []string
}

// New returns a host for issuer whose Complete sends the browser to next.
func New(issuer, next string) *Host {
	return &Host{IssuerURL: issuer, Next: next, requests: map[string]*Request{}, state: map[string][]byte{}}
}

// Request is a pending login request of the Host. Its client's name is
// "Service <client id>".
type Request struct {
	id, clientID string
	mu           sync.Mutex
	browser      string
}

func (r *Request) ID() string         { return r.id }
func (r *Request) ClientID() string   { return r.clientID }
func (r *Request) ClientName() string { return "Service " + r.clientID }
func (r *Request) Browser() string    { r.mu.Lock(); defer r.mu.Unlock(); return r.browser }

// Rebind moves the request to another browser.
func (r *Request) Rebind(browser string) { r.mu.Lock(); r.browser = browser; r.mu.Unlock() }

// AddRequest makes a pending request for clientID bound to browser.
func (h *Host) AddRequest(id, clientID, browser string) *Request {
	r := &Request{id: id, clientID: clientID, browser: browser}
	h.mu.Lock()
	h.requests[id] = r
	h.mu.Unlock()
	return r
}

func (h *Host) Issuer() string { return h.IssuerURL }

func (h *Host) Now() time.Time {
	if h.Clock == nil {
		return time.Now()
	}
	return h.Clock()
}

// Request answers request_expired for an id AddRequest did not make.
func (h *Host) Request(_ context.Context, _ *http.Request, id string) (login.Request, *login.Error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.requests[id]; ok {
		return r, nil
	}
	return nil, &login.Error{Status: http.StatusBadRequest, Code: login.CodeRequestExpired, Detail: "unknown request", Key: "error.request_expired"}
}

// Put keeps v; unlike a provider, it keys it by kind and secret in the
// clear.
func (h *Host) Put(_ context.Context, kind, secret string, v any, _ time.Duration) error {
	if h.StateErr != nil {
		return h.StateErr
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.state[kind+secret] = b
	h.mu.Unlock()
	return nil
}

func (h *Host) Take(_ context.Context, kind, secret string, v any) (bool, error) {
	if h.StateErr != nil {
		return false, h.StateErr
	}
	h.mu.Lock()
	b, ok := h.state[kind+secret]
	delete(h.state, kind+secret)
	h.mu.Unlock()
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, v)
}

// Complete records the proof and answers Next, or Refuse.
func (h *Host) Complete(_ context.Context, _ http.ResponseWriter, _ *http.Request, _ login.Request, p login.Proof) (string, *login.Error) {
	h.mu.Lock()
	h.proofs = append(h.proofs, p)
	h.mu.Unlock()
	if h.Refuse != nil {
		return "", h.Refuse
	}
	return h.Next, nil
}

func (h *Host) Limited(_ context.Context, _ *http.Request, clientID string) bool {
	return h.LimitSources || (h.LimitClients && clientID != "")
}

// Fail records the request id ("" too).
func (h *Host) Fail(_ context.Context, _ *http.Request, requestID string) {
	h.mu.Lock()
	h.failures = append(h.failures, requestID)
	h.mu.Unlock()
}

func (h *Host) Source(r *http.Request) string   { return r.RemoteAddr }
func (h *Host) TrustedProxy(*http.Request) bool { return h.Proxies }
func (h *Host) Observe(string, time.Time)       {}
func (h *Host) Count(outcome string) {
	h.mu.Lock()
	h.outcomes = append(h.outcomes, outcome)
	h.mu.Unlock()
}
func (h *Host) ShowError(w http.ResponseWriter, _ *http.Request, e *login.Error) {
	http.Error(w, e.Code+": "+e.Detail, e.Status)
}

// Proofs are the proofs Complete received, in order.
func (h *Host) Proofs() []login.Proof {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.proofs)
}

// Failures are the request ids Fail received, in order.
func (h *Host) Failures() []string { h.mu.Lock(); defer h.mu.Unlock(); return slices.Clone(h.failures) }

// Outcomes are the outcomes Count received, in order.
func (h *Host) Outcomes() []string { h.mu.Lock(); defer h.mu.Unlock(); return slices.Clone(h.outcomes) }

var _ login.Host = (*Host)(nil)
