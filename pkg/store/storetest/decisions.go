package storetest

import (
	"errors"
	"fmt"
	"sync"
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
	if err := s.AddDecisionSignature(ctx, sig(0, "1"), nil, nil, store.AuditEvent{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDecisionSignature(ctx, sig(0, "2"), nil, nil, store.AuditEvent{}, nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale count: %v", err)
	}
	if err := s.AddDecisionSignature(ctx, sig(1, "1"), nil, nil, store.AuditEvent{}, nil); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("same person twice: %v", err)
	}
	if got, _ := s.GetDecision(ctx, "d1"); got.Signatures != 1 {
		t.Fatalf("a refused signature changed the count: %d", got.Signatures)
	}
	ev := store.AuditEvent{Time: t0, Actor: "official:2", Action: "decision.final", Subject: "d1"}
	hook := &store.Webhook{Ref: "d1", URL: "https://svc.example/hook", Secret: "s", Body: []byte(`{"state":"final"}`), CreatedAt: t0}
	if err := s.AddDecisionSignature(ctx, sig(1, "2"), []byte("combined"), []byte("log"), ev, hook); err != nil {
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
	if err := s.SetDecisionState(ctx, "d1", []string{store.DecisionPending}, store.DecisionWithdrawn, "x", t0, hook); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("withdrawing a final decision: %v", err)
	}
	if err := s.SetDecisionState(ctx, "nope", []string{store.DecisionPending}, store.DecisionWithdrawn, "x", t0, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown decision: %v", err)
	}
	d.ID = "d2"
	_ = s.CreateDecision(ctx, d)
	if err := s.SetDecisionState(ctx, "d2", []string{store.DecisionPending}, store.DecisionRejected, "wrong figures", t0, nil); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ListDecisions(ctx, store.DecisionRejected, 10); len(l) != 1 || l[0].Reason != "wrong figures" || l[0].Document != nil {
		t.Fatalf("list: %+v", l)
	}
}

func testWebhooks(t *testing.T, s store.Store) {
	d := store.Decision{ID: "w1", ClientID: "svc", Title: "T", DocSHA256: hashOf("doc"), DocSize: 3, Policy: []byte(`{}`), Deadline: t0.Add(time.Hour), CreatedAt: t0}
	if err := s.CreateDecision(ctx, d); err != nil {
		t.Fatal(err)
	}
	hook := &store.Webhook{Ref: "w1", URL: "https://svc.example/hook", Secret: "k", Body: []byte("{}"), CreatedAt: t0}
	if err := s.SetDecisionState(ctx, "w1", []string{store.DecisionPending}, store.DecisionWithdrawn, "w", t0, hook); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimWebhooks(ctx, t0, time.Minute, 5, 10)
	if err != nil || len(got) != 1 || got[0].URL != hook.URL {
		t.Fatalf("claim: %+v %v", got, err)
	}
	if again, _ := s.ClaimWebhooks(ctx, t0.Add(time.Second), time.Minute, 5, 10); len(again) != 0 {
		t.Fatal("a leased webhook was claimed twice")
	}
	if err := s.FinishWebhook(ctx, got[0].ID, false, "503", t0, t0.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if early, _ := s.ClaimWebhooks(ctx, t0.Add(time.Second), time.Minute, 5, 10); len(early) != 0 {
		t.Fatal("claimed before its next attempt")
	}
	due, _ := s.ClaimWebhooks(ctx, t0.Add(3*time.Second), time.Minute, 5, 10)
	if len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("retry: %+v", due)
	}
	_ = s.FinishWebhook(ctx, due[0].ID, true, "", t0.Add(3*time.Second), time.Time{})
	if after, _ := s.ClaimWebhooks(ctx, t0.Add(time.Hour), time.Minute, 5, 10); len(after) != 0 {
		t.Fatal("a delivered webhook was claimed")
	}
	list, _ := s.ListWebhooks(ctx, "w1")
	if len(list) != 1 || list[0].DeliveredAt.IsZero() || list[0].Attempts != 2 {
		t.Fatalf("list: %+v", list)
	}
}

func testLeases(t *testing.T, s store.Store) {
	ok, err := s.AcquireLease(ctx, "crl", "a", t0, time.Minute)
	if err != nil || !ok {
		t.Fatalf("first acquire: %v %v", ok, err)
	}
	if ok, _ := s.AcquireLease(ctx, "crl", "b", t0.Add(time.Second), time.Minute); ok {
		t.Fatal("b took a's live lease")
	}
	if ok, _ := s.AcquireLease(ctx, "crl", "a", t0.Add(30*time.Second), time.Minute); !ok {
		t.Fatal("a could not renew")
	}
	if ok, _ := s.AcquireLease(ctx, "crl", "b", t0.Add(80*time.Second), time.Minute); ok {
		t.Fatal("b took the lease before the renewal ran out")
	}
	if ok, _ := s.AcquireLease(ctx, "crl", "b", t0.Add(91*time.Second), time.Minute); !ok {
		t.Fatal("b could not take an expired lease")
	}
	if ok, _ := s.AcquireLease(ctx, "log", "a", t0, time.Minute); !ok {
		t.Fatal("leases are per name")
	}
	if err := s.ReleaseLease(ctx, "crl", "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireLease(ctx, "crl", "c", t0.Add(92*time.Second), time.Minute); ok {
		t.Fatal("a released b's lease")
	}
	_ = s.ReleaseLease(ctx, "crl", "b")
	if ok, _ := s.AcquireLease(ctx, "crl", "c", t0.Add(92*time.Second), time.Minute); !ok {
		t.Fatal("c could not take a released lease")
	}
	// Racing replicas: exactly one wins a free lease.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := s.AcquireLease(ctx, "race", fmt.Sprint("r", i), t0, time.Minute); err == nil && ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d replicas won one lease", wins)
	}
}
