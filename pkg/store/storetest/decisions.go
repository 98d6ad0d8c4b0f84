package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

func testDecisions(t *testing.T, s store.Store) {
	d := store.Decision{ID: "d1", ClientID: "svc", Title: "Qaror", DocSHA256: hashOf("doc"), DocSize: 3, Document: []byte("doc"),
		Policy: []byte(`{"signers":[{"pinfl":"1"},{"pinfl":"2"}]}`), Deadline: t0.Add(time.Hour), WebhookURL: "https://svc.example/hook",
		WebhookSecret: "s", CreatedAt: t0}
	if err := s.CreateDecision(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDecision(ctx, d); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate decision: %v", err)
	}
	got, err := s.GetDecision(ctx, "d1")
	if err != nil || got.State != store.DecisionPending || string(got.Document) != "doc" || got.Signatures != 0 || !got.Deadline.Equal(t0.Add(time.Hour)) {
		t.Fatalf("GetDecision = %+v, %v", got, err)
	}
	sig := func(seq int, pinfl string) store.DecisionSignature {
		return store.DecisionSignature{DecisionID: "d1", Seq: seq, PINFL: pinfl, Slot: seq, Signature: []byte("sig-" + pinfl), Report: []byte(`{}`), CreatedAt: t0}
	}
	if err := s.AddDecisionSignature(ctx, sig(0, "1"), nil, nil, store.AuditEvent{}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDecisionSignature(ctx, sig(0, "2"), nil, nil, store.AuditEvent{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale count: %v", err)
	}
	if err := s.AddDecisionSignature(ctx, sig(1, "1"), nil, nil, store.AuditEvent{}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("same person twice: %v", err)
	}
	if got, _ := s.GetDecision(ctx, "d1"); got.Signatures != 1 {
		t.Fatalf("a refused signature changed the count: %d", got.Signatures)
	}
	ev := store.AuditEvent{Time: t0, Actor: "official:2", Action: "decision.final", Subject: "d1"}
	if err := s.AddDecisionSignature(ctx, sig(1, "2"), []byte("combined"), []byte("log"), ev); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetDecision(ctx, "d1")
	if got.State != store.DecisionFinal || string(got.Combined) != "combined" || got.FinalAt.IsZero() {
		t.Fatalf("final: %+v", got)
	}
	if pend, _ := s.PendingLogEntries(ctx, 10); len(pend) != 1 || pend[0].Kind != "decision" || pend[0].Ref != "d1" {
		t.Fatalf("log queue: %+v", pend)
	}
	if sigs, _ := s.DecisionSignatures(ctx, "d1"); len(sigs) != 2 || sigs[1].PINFL != "2" {
		t.Fatalf("signatures: %+v", sigs)
	}
	if err := s.SetDecisionState(ctx, "d1", []string{store.DecisionPending}, store.DecisionWithdrawn, "x", t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("withdrawing a final decision: %v", err)
	}
	if err := s.SetDecisionState(ctx, "nope", []string{store.DecisionPending}, store.DecisionWithdrawn, "x", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown decision: %v", err)
	}
	d.ID = "d2"
	_ = s.CreateDecision(ctx, d)
	if err := s.SetDecisionState(ctx, "d2", []string{store.DecisionPending}, store.DecisionRejected, "wrong figures", t0); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListDecisions(ctx, store.DecisionRejected, 10); len(l) != 1 || l[0].Reason != "wrong figures" || l[0].Document != nil {
		t.Fatalf("list: %+v", l)
	}
}
