package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

func testClients(t *testing.T, s store.Store) {
	c := store.Client{ID: "rp1", Metadata: []byte(`{"redirect_uris":["https://rp.example/cb"],"x":"\u00e9"}`), CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, c); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate client: %v", err)
	}
	got, err := s.GetClient(ctx, "rp1")
	if err != nil || !bytes.Equal(got.Metadata, c.Metadata) || !got.CreatedAt.Equal(t0) || got.Disabled {
		t.Fatalf("GetClient = %+v, %v", got, err)
	}
	if _, err := s.GetClient(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	got.Disabled, got.Metadata, got.UpdatedAt = true, []byte(`{}`), t0.Add(time.Hour)
	if err := s.UpdateClient(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateClient(ctx, store.Client{ID: "nobody"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
	if err := s.CreateClient(ctx, store.Client{ID: "a-first", Metadata: []byte(`{}`), CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListClients(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "a-first" || !list[1].Disabled || string(list[1].Metadata) != `{}` ||
		!list[1].UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("ListClients = %+v, %v", list, err)
	}
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func refresh(family, tok string, expires time.Time) store.RefreshToken {
	return store.RefreshToken{Hash: hashOf(tok), FamilyID: family, ClientID: "rp1", Subject: "31204900012345",
		SessionID: "sess-" + family, Grant: []byte(`{"scopes":["openid"],"b":"\x00"}`), CreatedAt: t0, ExpiresAt: expires}
}

func testRefreshRotation(t *testing.T, s store.Store) {
	first := refresh("fam1", "t1", t0.Add(time.Hour))
	if err := s.CreateRefreshToken(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, first); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate family: %v", err)
	}
	got, err := s.GetRefreshToken(ctx, hashOf("t1"))
	if err != nil || got.FamilyID != "fam1" || got.ClientID != "rp1" || got.SessionID != "sess-fam1" || !bytes.Equal(got.Grant, first.Grant) ||
		!got.UsedAt.IsZero() || !got.RevokedAt.IsZero() || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("GetRefreshToken = %+v, %v", got, err)
	}
	next := store.RefreshToken{Hash: hashOf("t2"), FamilyID: "ignored", ClientID: "ignored", Grant: []byte(`{"n":2}`), CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(2 * time.Hour)}
	old, err := s.RotateRefreshToken(ctx, hashOf("t1"), next, t0.Add(time.Minute))
	if err != nil || old.FamilyID != "fam1" {
		t.Fatalf("rotate = %+v, %v", old, err)
	}
	n, err := s.GetRefreshToken(ctx, hashOf("t2"))
	if err != nil || n.FamilyID != "fam1" || n.ClientID != "rp1" || n.Subject != "31204900012345" || string(n.Grant) != `{"n":2}` {
		t.Fatalf("rotated token = %+v, %v", n, err)
	}
	third := store.RefreshToken{Hash: hashOf("t2b"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if _, err := s.RotateRefreshToken(ctx, hashOf("t2"), third, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetRefreshToken(ctx, hashOf("t2b")); string(got.Grant) != `{"n":2}` {
		t.Fatalf("a nil grant did not carry the old one over: %q", got.Grant)
	}
	if o, _ := s.GetRefreshToken(ctx, hashOf("t1")); !o.UsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("old token UsedAt = %v", o.UsedAt)
	}
	if _, err := s.RotateRefreshToken(ctx, hashOf("nope"), refresh("x", "t9", t0.Add(time.Hour)), t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	// Expired: conflict, nothing changes.
	if _, err := s.RotateRefreshToken(ctx, hashOf("t2b"), refresh("x", "t3", t0.Add(3*time.Hour)), t0.Add(2*time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("expired token: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, hashOf("t3")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused rotation stored its token: %v", err)
	}
}

func testRefreshReuse(t *testing.T, s store.Store) {
	if err := s.CreateRefreshToken(ctx, refresh("fam", "a", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateRefreshToken(ctx, hashOf("a"), refresh("", "b", t0.Add(time.Hour)), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateRefreshToken(ctx, hashOf("a"), refresh("", "c", t0.Add(time.Hour)), t0.Add(time.Second)); !errors.Is(err, store.ErrReused) {
		t.Fatalf("reuse: %v", err)
	}
	b, err := s.GetRefreshToken(ctx, hashOf("b"))
	if err != nil || !b.RevokedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("reuse did not revoke the family: %+v %v", b, err)
	}
	if _, err := s.RotateRefreshToken(ctx, hashOf("b"), refresh("", "d", t0.Add(time.Hour)), t0.Add(2*time.Second)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rotation in a revoked family: %v", err)
	}
}

func testRefreshConcurrent(t *testing.T, s store.Store) {
	if err := s.CreateRefreshToken(ctx, refresh("famc", "root", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, reused := 0, 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.RotateRefreshToken(ctx, hashOf("root"), refresh("", fmt.Sprint("n", i), t0.Add(time.Hour)), t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrReused), errors.Is(err, store.ErrConflict):
				reused++
			default:
				t.Errorf("rotate: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || reused != 19 {
		t.Fatalf("%d rotations succeeded, %d refused; want 1 and 19", ok, reused)
	}
	got, err := s.GetRefreshToken(ctx, hashOf("root"))
	if err != nil || got.RevokedAt.IsZero() {
		t.Fatalf("the family survived a concurrent reuse: %+v %v", got, err)
	}
}

func testRefreshRevocation(t *testing.T, s store.Store) {
	for _, f := range []string{"f1", "f2"} {
		tok := refresh(f, "tok-"+f, t0.Add(time.Hour))
		tok.SessionID = "shared"
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateRefreshToken(ctx, refresh("f3", "tok-f3", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeRefreshFamily(ctx, "f1", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeRefreshFamily(ctx, "f1", t0.Add(time.Hour)); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	if got, _ := s.GetRefreshToken(ctx, hashOf("tok-f1")); !got.RevokedAt.Equal(t0) {
		t.Fatalf("revocation time moved: %v", got.RevokedAt)
	}
	if err := s.RevokeRefreshFamily(ctx, "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown family: %v", err)
	}
	n, err := s.RevokeSessionRefresh(ctx, "shared", t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("RevokeSessionRefresh = %d, %v; want 1 newly revoked", n, err)
	}
	if got, _ := s.GetRefreshToken(ctx, hashOf("tok-f3")); !got.RevokedAt.IsZero() {
		t.Fatal("another session's family was revoked")
	}
}

func testRefreshHousekeeping(t *testing.T, s store.Store) {
	if err := s.CreateRefreshToken(ctx, refresh("old", "o1", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, refresh("new", "n1", t0.Add(48*time.Hour))); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteExpiredRefresh(ctx, t0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredRefresh = %d, %v", n, err)
	}
	if _, err := s.GetRefreshToken(ctx, hashOf("o1")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired token kept: %v", err)
	}
	if err := s.RevokeRefreshFamily(ctx, "old", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty family kept: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, hashOf("n1")); err != nil {
		t.Fatalf("live token deleted: %v", err)
	}
}

func testSigningKeys(t *testing.T, s store.Store) {
	k2 := store.SigningKey{ID: "k2", Algorithm: "ES256", KeyURI: "db:k2", Public: []byte{1, 2, 3}, CreatedAt: t0, ActiveAt: t0.Add(time.Hour),
		Wrapped: []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\x00\xff")}
	k1 := store.SigningKey{ID: "k1", Algorithm: "ES256", KeyURI: "file:keys/k1.key", Public: []byte{4, 5}, CreatedAt: t0, ActiveAt: t0}
	for _, k := range []store.SigningKey{k2, k1} {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSigningKey(ctx, k1); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("duplicate key: %v", err)
	}
	if err := s.RetireSigningKey(ctx, "k1", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RetireSigningKey(ctx, "k1", t0.Add(9*time.Hour)); err != nil {
		t.Fatalf("retiring again: %v", err)
	}
	if err := s.RetireSigningKey(ctx, "nope", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	list, err := s.ListSigningKeys(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "k1" || !list[0].RetireAt.Equal(t0.Add(2*time.Hour)) ||
		!list[1].RetireAt.IsZero() || !bytes.Equal(list[1].Public, []byte{1, 2, 3}) || list[1].KeyURI != "db:k2" ||
		!bytes.Equal(list[1].Wrapped, k2.Wrapped) || list[0].Wrapped != nil {
		t.Fatalf("ListSigningKeys = %+v, %v", list, err)
	}
}

func testConsents(t *testing.T, s store.Store) {
	if _, err := s.GetConsent(ctx, "p", "rp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("absent consent: %v", err)
	}
	if err := s.PutConsent(ctx, store.Consent{Subject: "p", ClientID: "rp", Scopes: []string{"profile", "openid", "profile"}, GrantedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutConsent(ctx, store.Consent{Subject: "p", ClientID: "rp", Scopes: []string{"pinfl", "openid"}, GrantedAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetConsent(ctx, "p", "rp")
	if err != nil || !slices.Equal(c.Scopes, []string{"openid", "pinfl"}) || !c.GrantedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("GetConsent = %+v, %v", c, err)
	}
	if err := s.PutConsent(ctx, store.Consent{Subject: "p", ClientID: "rp", Scopes: []string{"a b"}}); err == nil {
		t.Fatal("a scope with a space was stored")
	}
	if err := s.DeleteConsent(ctx, "p", "rp"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConsent(ctx, "p", "rp"); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if _, err := s.GetConsent(ctx, "p", "rp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted consent: %v", err)
	}
}
