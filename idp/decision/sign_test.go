package decision_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/validation"
)

// Setups of the decision a case acts on; each returns its id.

func pending(signers ...string) func(e *env) string {
	return func(e *env) string { return e.register(registration(signers...)) }
}

func pendingWith(in map[string]any) func(e *env) string {
	return func(e *env) string { return e.register(in) }
}

func sequential(signers ...string) func(e *env) string {
	var s []map[string]string
	for _, p := range signers {
		s = append(s, pinflSigner(p))
	}
	return pendingWith(withPolicy(map[string]any{"signers": s, "order": "sequential"}))
}

func hashOnlyDecision(signers ...string) func(e *env) string {
	return func(e *env) string {
		return e.register(with(func(m map[string]any) {
			m["policy"] = registration(signers...)["policy"]
			delete(m, "document")
			m["document_sha256"], m["document_size"] = docSHA256, len(doc)
		}))
	}
}

func signedBy(setup func(e *env) string, pinfls ...string) func(e *env) string {
	return func(e *env) string {
		id := setup(e)
		for _, p := range pinfls {
			e.mustSign(id, p)
		}
		return id
	}
}

// loginText is a login statement, as the identity provider issues one.
var loginText = []byte("Yagona login statement v2\nI log in with my authentication key to the service named below. This is not the signature of a document.\n" +
	"issuer: https://id.example.uz\nclient-id: tax\nclient-name: Tax service\norigin: https://id.example.uz\nrequest: r1\n" +
	"nonce: nMT2xaF2Qq3b0iBvKjB3wEkcVtN8PzR1yQ0aM9m1s7E\nissued-at: 2026-03-02T09:00:00Z\nexpires-at: 2026-03-02T09:02:00Z")

// overLoginStatement is a pending decision whose document is a login
// statement, as one registered before registration refused them.
func overLoginStatement(e *env) string {
	sum := sha256.Sum256(loginText)
	d := store.Decision{ID: "legacyloginstatement", ClientID: "registry", Title: "A login statement", DocSHA256: sum[:],
		DocSize: int64(len(loginText)), Document: loginText, Policy: []byte(`{"signers":[{"pinfl":"` + pinflA + `"}],"order":"parallel","required":1}`),
		State: store.DecisionPending, Deadline: t0.Add(24 * time.Hour), WebhookSecret: "secret", CreatedAt: t0}
	if err := e.store.CreateDecision(context.Background(), d); err != nil {
		e.t.Fatal(err)
	}
	return d.ID
}

func rejected(e *env) string {
	id := e.register(registration())
	want(e.t, e.doJSON("POST", path(id, "/reject"), person(pinflA), map[string]string{"reason": "no"}), http.StatusOK, "")
	return id
}

func withdrawn(e *env) string {
	id := e.register(registration())
	want(e.t, e.doJSON("POST", path(id, "/withdraw"), tokService, nil), http.StatusOK, "")
	return id
}

func expired(e *env) string {
	id := e.register(registration())
	e.clock.Advance(25 * time.Hour)
	e.svc.Sweep(context.Background())
	if st := e.decision(id).State; st != store.DecisionExpired {
		e.t.Fatalf("state %s after the deadline", st)
	}
	return id
}

// final is a decision that A alone made final (one of A and B).
func final(e *env) string {
	id := e.register(withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA), pinflSigner(pinflB)), "required": 1}))
	e.mustSign(id, pinflA)
	return id
}

func TestSignRefusals(t *testing.T) {
	sig := func(pinfl string, content []byte) func(e *env) any {
		return func(e *env) any { return signBody(e.pki.sign(e.t, pinfl, content)) }
	}
	raw := func(body string) func(*env) any { return func(*env) any { return body } }
	for _, tc := range []struct {
		name        string
		setup       func(e *env) string
		id          string // instead of the setup's
		token       string
		contentType string
		body        func(e *env) any
		status      int
		code        string
		sub         string // the validation's sub-indication, for a 422
	}{
		{name: "no token", setup: pending(), body: sig(pinflA, doc), status: 401, code: "unauthorized"},
		{name: "unknown token", setup: pending(), token: "forged", body: sig(pinflA, doc), status: 401, code: "unauthorized"},
		{name: "text/plain", setup: pending(), token: person(pinflA), contentType: "text/plain", body: sig(pinflA, doc), status: 415, code: "invalid_request"},
		{name: "malformed JSON", setup: pending(), token: person(pinflA), body: raw(`{"signature":`), status: 400, code: "invalid_request"},
		{name: "unknown field", setup: pending(), token: person(pinflA), body: raw(`{"signature":"AA==","pinfl":"41111111111111"}`),
			status: 400, code: "invalid_request"},
		{name: "body over the limit", setup: pending(), token: person(pinflA),
			body: raw(`{"signature":"` + strings.Repeat("A", 2*validation.MaxSignature) + `"}`), status: 413, code: "too_large"},
		{name: "signature not base64", setup: pending(), token: person(pinflA), body: raw(`{"signature":"%%%"}`), status: 400, code: "invalid_signature"},
		{name: "empty signature", setup: pending(), token: person(pinflA), body: raw(`{"signature":""}`), status: 400, code: "invalid_signature"},
		{name: "no signature", setup: pending(), token: person(pinflA), body: raw(`{}`), status: 400, code: "invalid_signature"},
		{name: "unknown id", setup: pending(), id: "nosuchdecision", token: person(pinflA), body: sig(pinflA, doc), status: 404, code: "not_found"},
		{name: "id too long", setup: pending(), id: strings.Repeat("a", 65), token: person(pinflA), body: sig(pinflA, doc), status: 404, code: "not_found"},
		{name: "over a login statement", setup: overLoginStatement, token: person(pinflA), body: sig(pinflA, loginText),
			status: 422, code: "login_statement"},
		{name: "not CMS", setup: pending(), token: person(pinflA), body: raw(`{"signature":"aGVsbG8="}`), status: 422, code: "signature_not_valid", sub: "FORMAT_FAILURE"},
		{name: "over another document", setup: pending(), token: person(pinflA), body: sig(pinflA, []byte("Qaror № 43\n")),
			status: 422, code: "signature_not_valid", sub: "HASH_FAILURE"},
		{name: "content attached", setup: pending(), token: person(pinflA), body: func(e *env) any {
			h := e.pki.people[pinflA]
			der, err := cms.Sign(doc, h.cert, []*x509.Certificate{h.issuing}, h.key, false, t0)
			if err != nil {
				e.t.Fatal(err)
			}
			return signBody(der)
		}, status: 422, code: "signature_not_valid", sub: "FORMAT_FAILURE"},
		{name: "signature value changed", setup: pending(), token: person(pinflA), body: func(e *env) any {
			der := e.pki.sign(e.t, pinflA, doc)
			der[len(der)-1] ^= 1 // the last byte of the ECDSA signature value
			return signBody(der)
		}, status: 422, code: "signature_not_valid", sub: "SIG_CRYPTO_FAILURE"},
		{name: "untrusted CA", setup: pending(pinflForeign), token: person(pinflForeign), body: sig(pinflForeign, doc),
			status: 422, code: "signature_not_valid", sub: "NO_CERTIFICATE_CHAIN_FOUND"},
		{name: "revoked certificate", setup: pending(pinflRevoked), token: person(pinflRevoked), body: sig(pinflRevoked, doc),
			status: 422, code: "signature_not_valid", sub: "REVOKED_NO_POE"},
		{name: "expired certificate", setup: pending(pinflExpired), token: person(pinflExpired), body: sig(pinflExpired, doc),
			status: 422, code: "signature_not_valid", sub: "OUT_OF_BOUNDS_NO_POE"},
		{name: "two signers at once", setup: pending(), token: person(pinflA), body: func(e *env) any {
			both, err := cms.Combine(e.pki.sign(e.t, pinflA, doc), e.pki.sign(e.t, pinflB, doc))
			if err != nil {
				e.t.Fatal(err)
			}
			return signBody(both)
		}, status: 422, code: "one_signer"},
		{name: "a service's token", setup: pending(), token: tokService, body: sig(pinflA, doc), status: 403, code: "not_your_signature"},
		{name: "someone else's signature", setup: pending(), token: person(pinflB), body: sig(pinflA, doc), status: 403, code: "not_your_signature"},
		{name: "signer not named", setup: pending(), token: person(pinflStranger), body: sig(pinflStranger, doc), status: 403, code: "not_a_signer"},
		{name: "another position", setup: pendingWith(withPolicy(map[string]any{"signers": signers(map[string]string{"tin": orgTIN, "position": "Hisobchi"})})),
			token: person(pinflDirector), body: sig(pinflDirector, doc), status: 403, code: "not_a_signer"},
		{name: "another organization", setup: pendingWith(withPolicy(map[string]any{"signers": signers(map[string]string{"tin": "309876543", "position": "Direktor"})})),
			token: person(pinflDirector), body: sig(pinflDirector, doc), status: 403, code: "not_a_signer"},
		{name: "not their turn", setup: sequential(pinflA, pinflB), token: person(pinflB), body: sig(pinflB, doc), status: 409, code: "out_of_order"},
		{name: "not named in a sequence", setup: sequential(pinflA, pinflB), token: person(pinflStranger), body: sig(pinflStranger, doc),
			status: 403, code: "not_a_signer"},
		{name: "signs twice", setup: signedBy(pending(), pinflA), token: person(pinflA), body: sig(pinflA, doc), status: 409, code: "already_signed"},
		{name: "signs twice in a sequence", setup: signedBy(sequential(pinflA, pinflB), pinflA), token: person(pinflA), body: sig(pinflA, doc),
			status: 409, code: "already_signed"},
		{name: "rejected", setup: rejected, token: person(pinflB), body: sig(pinflB, doc), status: 409, code: "not_pending"},
		{name: "withdrawn", setup: withdrawn, token: person(pinflA), body: sig(pinflA, doc), status: 409, code: "not_pending"},
		{name: "expired", setup: expired, token: person(pinflA), body: sig(pinflA, doc), status: 409, code: "not_pending"},
		{name: "after final", setup: final, token: person(pinflB), body: sig(pinflB, doc), status: 409, code: "not_pending"},
		{name: "again after final", setup: final, token: person(pinflA), body: sig(pinflA, doc), status: 409, code: "not_pending"},
		{name: "by hash, SHA-384", setup: hashOnlyDecision(pinflP384), token: person(pinflP384), body: sig(pinflP384, doc),
			status: 422, code: "signature_not_valid", sub: "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"},
		{name: "by hash, another document", setup: hashOnlyDecision(), token: person(pinflA), body: sig(pinflA, []byte("other")),
			status: 422, code: "signature_not_valid", sub: "HASH_FAILURE"},
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
			body := tc.body(e)
			b, ok := body.(string)
			if !ok {
				b = string(jsonBytes(t, body))
			}
			before := e.snapshot()
			r := e.do("POST", path(id, "/signatures"), tc.token, ct, []byte(b))
			want(t, r, tc.status, tc.code)
			if tc.sub != "" && !bytes.Contains(r.body, []byte(tc.sub)) {
				t.Fatalf("refused for another reason than %s: %s", tc.sub, r.body)
			}
			e.unchanged(before)
		})
	}
}

// TestSignExpiresOnArrival: a signature that arrives after the deadline
// finds the decision expired, and the expiry is recorded then.
func TestSignExpiresOnArrival(t *testing.T) {
	e := newEnv(t)
	id := e.register(registration())
	sig := e.pki.sign(t, pinflA, doc)
	e.clock.Advance(24 * time.Hour)
	want(t, e.doJSON("POST", path(id, "/signatures"), person(pinflA), signBody(sig)), 409, "not_pending")
	d := e.decision(id)
	if d.State != store.DecisionExpired || d.Reason != "the deadline passed" || d.Signatures != 0 {
		t.Fatalf("after a late signature: %+v", d)
	}
}

func TestSignFlows(t *testing.T) {
	director := map[string]string{"tin": orgTIN, "position": "  direktor "}
	for _, tc := range []struct {
		name   string
		setup  func(e *env) string
		order  []string // who signs, in turn
		slots  []int    // the slot each fills
		finalN int      // the signature that makes it final
	}{
		{"parallel, all", pending(), []string{pinflB, pinflC, pinflA}, []int{1, 2, 0}, 3},
		{"sequential", sequential(pinflA, pinflB, pinflC), []string{pinflA, pinflB, pinflC}, []int{0, 1, 2}, 3},
		{"two of three", pendingWith(withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA), pinflSigner(pinflB), pinflSigner(pinflC)),
			"required": 2})), []string{pinflC, pinflA}, []int{2, 0}, 2},
		{"by position", pendingWith(withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA), director)})),
			[]string{pinflDirector, pinflA}, []int{1, 0}, 2},
		{"by hash", hashOnlyDecision(pinflA, pinflB), []string{pinflA, pinflB}, []int{0, 1}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := tc.setup(e)
			var v map[string]any
			for i, p := range tc.order {
				e.clock.Advance(time.Minute)
				v = e.mustSign(id, p)
				sigs, _ := v["signatures"].([]any)
				last, _ := sigs[len(sigs)-1].(map[string]any)
				wantState := "pending"
				if i+1 == tc.finalN {
					wantState = "final"
				}
				if v["state"] != wantState || len(sigs) != i+1 || last["pinfl"] != p || last["slot"] != float64(tc.slots[i]) ||
					last["indication"] != validation.TotalPassed || last["name"] != "Official "+p {
					t.Fatalf("after %s: %s", p, jsonBytes(t, v))
				}
			}
			if v["final_at"] != e.clock.Now().Format(time.RFC3339) {
				t.Errorf("final_at %v", v["final_at"])
			}
			checkFinal(t, e, id, tc.order)
		})
	}
}

// checkFinal checks what a final decision leaves: the combined CMS, the
// log entry, the audit trail, the signatures in order.
func checkFinal(t *testing.T, e *env, id string, signers []string) {
	t.Helper()
	ctx := context.Background()
	d := e.decision(id)
	if d.State != store.DecisionFinal || !d.FinalAt.Equal(e.clock.Now()) || d.Signatures != len(signers) {
		t.Fatalf("decision: %+v", d)
	}
	sd, err := cms.Verify(d.Combined, doc)
	if err != nil || len(sd.Signers) != len(signers) {
		t.Fatalf("combined CMS: %v", err)
	}
	sigs, _ := e.store.DecisionSignatures(ctx, id)
	for i, s := range sigs {
		if s.Seq != i || s.PINFL != signers[i] {
			t.Fatalf("signature %d: %+v", i, s)
		}
	}
	log, _ := e.store.PendingLogEntries(ctx, 100)
	var entry struct {
		ID      string   `json:"id"`
		Signers []string `json:"signers"`
	}
	if len(log) != 1 || log[0].Kind != "decision" || log[0].Ref != id || json.Unmarshal(log[0].Data, &entry) != nil ||
		entry.ID != id || !slices.Equal(entry.Signers, signers) {
		t.Fatalf("log queue: %+v", log)
	}
	audit, _ := e.store.ListAudit(ctx, 0, 0)
	var actions []string
	for _, a := range audit {
		if a.Subject == id {
			actions = append(actions, a.Action+" "+a.Actor)
		}
	}
	var wantActions []string
	for i, p := range signers {
		act := "decision.sign"
		if i == len(signers)-1 {
			act = "decision.final"
		}
		wantActions = append(wantActions, act+" official:"+p)
	}
	if !slices.Equal(actions, wantActions) {
		t.Fatalf("audit %v, want %v", actions, wantActions)
	}
}

// TestSignatureIsKept: the stored signature is the bytes submitted, in
// any base64 the service accepts.
func TestSignatureIsKept(t *testing.T) {
	e := newEnv(t)
	id := e.register(registration())
	der := e.pki.sign(t, pinflA, doc)
	enc := base64.RawURLEncoding.EncodeToString(der)
	want(t, e.doJSON("POST", path(id, "/signatures"), person(pinflA), map[string]string{"signature": enc[:40] + "\n" + enc[40:]}), 201, "")
	sigs, _ := e.store.DecisionSignatures(context.Background(), id)
	if len(sigs) != 1 || !bytes.Equal(sigs[0].Signature, der) {
		t.Fatalf("stored %d signatures", len(sigs))
	}
}

// TestConcurrentSignatures: officials signing at once each get 201, or
// 409 conflict when another's signature took their turn in the database;
// nothing is half-written, and a resubmission then succeeds.
func TestConcurrentSignatures(t *testing.T) {
	e := newEnv(t)
	officials := []string{pinflA, pinflB, pinflC, pinflDirector}
	id := e.register(withPolicy(map[string]any{"signers": signers(pinflSigner(pinflA), pinflSigner(pinflB), pinflSigner(pinflC),
		map[string]string{"tin": orgTIN, "position": "Direktor"})}))
	sigs := map[string][]byte{}
	for _, p := range officials {
		sigs[p] = e.pki.sign(t, p, doc)
	}
	answers := make([]response, len(officials))
	var wg sync.WaitGroup
	for i, p := range officials {
		wg.Go(func() {
			answers[i] = e.doJSON("POST", path(id, "/signatures"), person(p), signBody(sigs[p]))
		})
	}
	wg.Wait()
	var again []string
	for i, r := range answers {
		switch {
		case r.status == http.StatusCreated:
		case r.status == http.StatusConflict && errorCode(r) == "conflict":
			again = append(again, officials[i])
		default:
			t.Fatalf("%s: %d %s", officials[i], r.status, r.body)
		}
	}
	stored, _ := e.store.DecisionSignatures(context.Background(), id)
	if d := e.decision(id); len(stored) != len(officials)-len(again) || d.Signatures != len(stored) {
		t.Fatalf("%d stored, %d counted, %d to resubmit", len(stored), d.Signatures, len(again))
	}
	for _, p := range again {
		want(t, e.doJSON("POST", path(id, "/signatures"), person(p), signBody(sigs[p])), http.StatusCreated, "")
	}
	if d := e.decision(id); d.State != store.DecisionFinal {
		t.Fatalf("state %s", d.State)
	}
}
