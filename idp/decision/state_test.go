package decision_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

func byPosition(e *env) string {
	return e.register(withPolicy(map[string]any{"signers": signers(map[string]string{"tin": orgTIN, "position": "Direktor"})}))
}

func TestRejectRefusals(t *testing.T) {
	reason := map[string]string{"reason": "not lawful"}
	for _, tc := range []struct {
		name        string
		setup       func(e *env) string
		id          string
		token       string
		contentType string
		body        any
		status      int
		code        string
	}{
		{name: "no token", setup: pending(), body: reason, status: 401, code: "unauthorized"},
		{name: "text/plain", setup: pending(), token: person(pinflA), contentType: "text/plain", body: reason, status: 415, code: "invalid_request"},
		{name: "malformed JSON", setup: pending(), token: person(pinflA), body: `{"reason"`, status: 400, code: "invalid_request"},
		{name: "unknown field", setup: pending(), token: person(pinflA), body: `{"reason":"x","state":"final"}`, status: 400, code: "invalid_request"},
		{name: "no body", setup: pending(), token: person(pinflA), body: ``, status: 400, code: "invalid_request"},
		{name: "body over 8 KiB", setup: pending(), token: person(pinflA), body: map[string]string{"reason": strings.Repeat("x", 8<<10)},
			status: 413, code: "too_large"},
		{name: "unknown id", setup: pending(), id: "nosuchdecision", token: person(pinflA), body: reason, status: 404, code: "not_found"},
		{name: "a service", setup: pending(), token: tokService, body: reason, status: 403, code: "not_a_signer"},
		{name: "not named", setup: pending(), token: person(pinflStranger), body: reason, status: 403, code: "not_a_signer"},
		{name: "named by position", setup: byPosition, token: person(pinflDirector), body: reason, status: 403, code: "not_a_signer"},
		{name: "rejected", setup: rejected, token: person(pinflB), body: reason, status: 409, code: "conflict"},
		{name: "withdrawn", setup: withdrawn, token: person(pinflB), body: reason, status: 409, code: "conflict"},
		{name: "expired", setup: expired, token: person(pinflB), body: reason, status: 409, code: "conflict"},
		{name: "final", setup: final, token: person(pinflB), body: reason, status: 409, code: "conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := tc.setup(e)
			if tc.id != "" {
				id = tc.id
			}
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			b, ok := tc.body.(string)
			if !ok {
				b = string(jsonBytes(t, tc.body))
			}
			before := e.snapshot()
			want(t, e.do("POST", path(id, "/reject"), tc.token, ct, []byte(b)), tc.status, tc.code)
			e.unchanged(before)
		})
	}
}

func TestWithdrawRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(e *env) string
		id     string
		token  string
		status int
		code   string
	}{
		{name: "no token", setup: pending(), status: 401, code: "unauthorized"},
		{name: "unknown id", setup: pending(), id: "nosuchdecision", token: tokService, status: 404, code: "not_found"},
		{name: "another service", setup: pending(), token: tokOtherService, status: 403, code: "not_owner"},
		{name: "the service without scope decisions", setup: pending(), token: tokNoScope, status: 403, code: "not_owner"},
		{name: "no client id", setup: pending(), token: tokNoClient, status: 403, code: "not_owner"},
		{name: "a named official", setup: pending(), token: person(pinflA), status: 403, code: "not_owner"},
		{name: "withdrawn", setup: withdrawn, token: tokService, status: 409, code: "conflict"},
		{name: "rejected", setup: rejected, token: tokService, status: 409, code: "conflict"},
		{name: "expired", setup: expired, token: tokService, status: 409, code: "conflict"},
		{name: "final", setup: final, token: tokService, status: 409, code: "conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := tc.setup(e)
			if tc.id != "" {
				id = tc.id
			}
			before := e.snapshot()
			want(t, e.doJSON("POST", path(id, "/withdraw"), tc.token, nil), tc.status, tc.code)
			e.unchanged(before)
		})
	}
}

// TestStateChanges: a named official rejects, the service withdraws; the
// answer and the store show the new state and why.
func TestStateChanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(e *env) string
		action string
		token  string
		body   any
		state  string
		reason string
	}{
		{"reject", pending(), "/reject", person(pinflB), map[string]string{"reason": "  not lawful "}, store.DecisionRejected,
			"rejected by " + pinflB + ": not lawful"},
		{"reject without a reason", pending(), "/reject", person(pinflC), map[string]string{}, store.DecisionRejected, "rejected by " + pinflC + ": "},
		{"reject after others signed", signedBy(pending(), pinflA), "/reject", person(pinflC), map[string]string{"reason": "no"},
			store.DecisionRejected, "rejected by " + pinflC + ": no"},
		{"withdraw", pending(), "/withdraw", tokService, nil, store.DecisionWithdrawn, "withdrawn by the service"},
		{"withdraw with signatures", signedBy(pending(), pinflA, pinflB), "/withdraw", tokService, nil, store.DecisionWithdrawn,
			"withdrawn by the service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := tc.setup(e)
			e.clock.Advance(time.Minute)
			r := e.doJSON("POST", path(id, tc.action), tc.token, tc.body)
			want(t, r, http.StatusOK, "")
			if v := decoded(t, r); v["state"] != tc.state || v["reason"] != tc.reason {
				t.Fatalf("answer: %s", r.body)
			}
			d := e.decision(id)
			if d.State != tc.state || d.Reason != tc.reason || !d.UpdatedAt.Equal(e.clock.Now()) || d.Combined != nil {
				t.Fatalf("stored: %+v", d)
			}
			// Nothing about it is deleted.
			if got := decoded(t, e.doJSON("GET", path(id), tokService, nil)); got["state"] != tc.state {
				t.Fatalf("GET: %v", got)
			}
		})
	}
}

// TestExpiry: a pending decision past its deadline is expired when read,
// and by the sweep; a decision that is not pending is left alone.
func TestExpiry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(e *env) string
		after  time.Duration
		expire func(e *env, id string)
		state  string
	}{
		{"read at the deadline", pending(), 24 * time.Hour, func(e *env, id string) {
			if v := decoded(e.t, e.doJSON("GET", path(id), tokService, nil)); v["state"] != store.DecisionExpired {
				e.t.Fatalf("GET: %v", v)
			}
		}, store.DecisionExpired},
		{"read before the deadline", pending(), 24*time.Hour - time.Second, func(e *env, id string) {
			e.doJSON("GET", path(id), tokService, nil)
		}, store.DecisionPending},
		{"public page", pending(), 25 * time.Hour, func(e *env, id string) { e.do("GET", "/d/"+id, "", "", nil) }, store.DecisionExpired},
		{"sweep", pending(), 25 * time.Hour, func(e *env, id string) { e.svc.Sweep(e.t.Context()) }, store.DecisionExpired},
		{"sweep leaves final alone", final, 25 * time.Hour, func(e *env, id string) { e.svc.Sweep(e.t.Context()) }, store.DecisionFinal},
		{"sweep leaves rejected alone", rejected, 25 * time.Hour, func(e *env, id string) { e.svc.Sweep(e.t.Context()) }, store.DecisionRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := tc.setup(e)
			before := e.decision(id)
			e.clock.Advance(tc.after)
			tc.expire(e, id)
			d := e.decision(id)
			if d.State != tc.state {
				t.Fatalf("state %s, want %s", d.State, tc.state)
			}
			if tc.state == store.DecisionExpired && (d.Reason != "the deadline passed" || !d.UpdatedAt.Equal(e.clock.Now())) {
				t.Fatalf("expired: %+v", d)
			}
			if tc.state != store.DecisionExpired && !d.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("changed: %+v", d)
			}
		})
	}
}
