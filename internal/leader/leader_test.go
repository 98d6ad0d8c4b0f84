package leader

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// TestOneLeaderThenFailover: of two electors one leads; when it stops,
// the other takes over once the lease runs out.
func TestOneLeaderThenFailover(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	a := New(st, "crl", "a", 30*time.Second, nil, nil)
	b := New(st, "crl", "b", 30*time.Second, nil, nil)
	a.now, b.now = clock, clock
	ctx := context.Background()
	if !a.Try(ctx) || b.Try(ctx) {
		t.Fatal("want a leading, b not")
	}
	if !a.Held() || b.Held() {
		t.Fatal("want a holding, b not")
	}
	// A leader that could not renew for two thirds of the lease stops
	// running jobs before anyone else could take over.
	now.Add(int64(21 * time.Second))
	if a.Held() {
		t.Fatal("a still holds a lease it has not renewed for 21 of 30 seconds")
	}
	now.Add(int64(-1 * time.Second))
	if !a.Try(ctx) || b.Try(ctx) {
		t.Fatal("a's renewal should hold")
	}
	// a dies (stops renewing): b waits out the lease.
	now.Add(int64(25 * time.Second))
	if b.Try(ctx) {
		t.Fatal("b took over before a's lease ran out")
	}
	now.Add(int64(10 * time.Second))
	if !b.Try(ctx) || !b.Leading() {
		t.Fatal("b did not take over an expired lease")
	}
	if a.Try(ctx) {
		t.Fatal("a came back and stole b's lease")
	}
	var runs atomic.Int64
	bctx, bcancel := context.WithCancel(ctx)
	bdone := make(chan struct{})
	go func() {
		defer close(bdone)
		b.Every(bctx, 10*time.Millisecond, func(context.Context) { runs.Add(1) })
	}()
	for deadline := time.Now().Add(5 * time.Second); runs.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the leader's job did not run")
		}
	}
	a.Every(ctx2(t), 10*time.Millisecond, func(context.Context) { t.Error("a follower ran the job") })
	// A leader that stops releases its lease: a takes over at once.
	bcancel()
	<-bdone
	if !a.Try(ctx) {
		t.Fatal("a could not take the lease b released on stopping")
	}
}

func ctx2(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	t.Cleanup(cancel)
	return c
}
