package translog

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/store/storetest"
)

func newLog(t *testing.T) (*Log, store.Store) {
	return newLogAt(t, "sqlite:"+filepath.Join(t.TempDir(), "log.db"))
}

func newLogAt(t *testing.T, url string) (*Log, store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	l, err := New(Config{Origin: "id.example.uz/log", Key: k}, st)
	if err != nil {
		t.Fatal(err)
	}
	return l, st
}

func queue(t *testing.T, st store.Store, n, from int) {
	t.Helper()
	for i := range n {
		if err := st.QueueLogEntry(context.Background(), store.LogEntry{Kind: "certificate", Ref: fmt.Sprintf("%x", from+i),
			PINFL: "31204900012345", Data: []byte(fmt.Sprintf("der-%d", from+i)), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInclusionAndConsistency(t *testing.T) {
	ctx := context.Background()
	l, st := newLog(t)
	queue(t, st, 7, 0)
	if n, err := l.Integrate(ctx); err != nil || n != 7 {
		t.Fatalf("Integrate = %d, %v", n, err)
	}
	cp1, err := l.Checkpoint(ctx)
	if err != nil || cp1.Size != 7 {
		t.Fatalf("checkpoint: %+v %v", cp1, err)
	}
	queue(t, st, 13, 7)
	if _, err := l.Integrate(ctx); err != nil {
		t.Fatal(err)
	}
	cp2, _ := l.Checkpoint(ctx)
	t1, err := VerifyCheckpoint(cp1.Note, l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	t2, err := VerifyCheckpoint(cp2.Note, l.VerifierKey())
	if err != nil || t2.Size != 20 {
		t.Fatalf("checkpoint 2: %+v %v", t2, err)
	}
	for i := int64(0); i < 20; i++ {
		p, err := l.InclusionProof(ctx, i, 20)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := st.GetLogEntry(ctx, i)
		if err := VerifyInclusion(t2, i, LeafData(e.Kind, e.Data), p); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if err := VerifyInclusion(t2, i, LeafData(e.Kind, append(e.Data, 'x')), p); err == nil {
			t.Fatalf("entry %d: a changed leaf verified", i)
		}
	}
	cons, err := l.ConsistencyProof(ctx, 7, 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyConsistency(t1, t2, cons); err != nil {
		t.Fatal(err)
	}
	forged := t1
	forged.Hash[0] ^= 1
	if err := VerifyConsistency(forged, t2, cons); err == nil {
		t.Fatal("a forged older tree was consistent")
	}
	// A checkpoint changed by one byte, or checked with another key, fails.
	bad := append([]byte{}, cp2.Note...)
	bad[len("id.example.uz/log\n")] = '9'
	if _, err := VerifyCheckpoint(bad, l.VerifierKey()); err == nil {
		t.Fatal("a changed checkpoint verified")
	}
	other, _ := newLog(t)
	if _, err := VerifyCheckpoint(cp2.Note, other.VerifierKey()); err == nil {
		t.Fatal("a checkpoint verified with another log's key")
	}
	// No new entries: no new checkpoint.
	if cp3, _ := l.Checkpoint(ctx); cp3.Size != 20 || string(cp3.Note) != string(cp2.Note) {
		t.Fatal("an unchanged tree got a new checkpoint")
	}
	if es, _ := st.LogEntriesOf(ctx, "31204900012345"); len(es) != 20 {
		t.Fatalf("entries of the person: %d", len(es))
	}
}

// TestConcurrentSequencers: two sequencers (two replicas) integrate the
// same queue; every entry lands exactly once.
func TestConcurrentSequencers(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		l, st := newLog(t)
		concurrentSequencers(t, l, st)
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv("YAGONA_TEST_POSTGRES_URL") == "" {
			t.Skip("YAGONA_TEST_POSTGRES_URL unset")
		}
		l, st := newLogAt(t, storetest.PostgresURL(t))
		concurrentSequencers(t, l, st)
	})
}

func concurrentSequencers(t *testing.T, l1 *Log, st store.Store) {
	ctx := context.Background()
	l2, err := New(Config{Origin: l1.cfg.Origin, Key: l1.cfg.Key, Batch: 7}, st)
	if err != nil {
		t.Fatal(err)
	}
	l1.cfg.Batch = 5
	queue(t, st, 60, 0)
	var wg sync.WaitGroup
	for _, l := range []*Log{l1, l2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := l.Integrate(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, _ := st.LogSize(ctx); n != 60 {
		t.Fatalf("size %d; want 60", n)
	}
	cp, _ := l1.Checkpoint(ctx)
	tr, _ := VerifyCheckpoint(cp.Note, l1.VerifierKey())
	seen := map[string]bool{}
	for i := int64(0); i < 60; i++ {
		e, err := st.GetLogEntry(ctx, i)
		if err != nil || seen[e.Ref] {
			t.Fatalf("entry %d: %+v %v", i, e, err)
		}
		seen[e.Ref] = true
		p, _ := l1.InclusionProof(ctx, i, 60)
		if err := VerifyInclusion(tr, i, LeafData(e.Kind, e.Data), p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHTTP(t *testing.T) {
	ctx := context.Background()
	l, st := newLog(t)
	queue(t, st, 5, 0)
	_, _ = l.Integrate(ctx)
	_, _ = l.Checkpoint(ctx)
	srv := httptest.NewServer(l.Handler())
	defer srv.Close()
	get := func(path string, out any) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var b InclusionBundle
	if st := get("/log/proof/certificate/3", &b); st != 200 {
		t.Fatalf("proof: %d", st)
	}
	tr, err := VerifyCheckpoint([]byte(b.Checkpoint), l.VerifierKey())
	if err != nil || VerifyInclusion(tr, b.Index, b.Leaf, b.Proof) != nil {
		t.Fatalf("bundle does not verify: %v", err)
	}
	for path, want := range map[string]int{"/log/proof/certificate/zz": 404, "/log/entries/-1": 400, "/log/entries/99": 404,
		"/log/consistency?from=0&to=5": 400, "/log/consistency?from=2&to=9": 400, "/log/consistency?from=2&to=5": 200,
		"/log/proof/certificate/3?size=x": 400, "/log/proof/certificate/3?size=4": 404, "/log/checkpoint": 200, "/log/key": 200} {
		if got := get(path, nil); got != want {
			t.Errorf("%s: %d, want %d", path, got, want)
		}
	}
}
