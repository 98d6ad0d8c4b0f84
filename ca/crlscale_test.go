package ca

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// TestCRLScale measures the full CRL and one shard's CRL at the numbers of
// revoked certificates listed in YAGONA_CRL_SCALE (say "10000,100000"), on
// SQLite: certificates of two years spread evenly over the 730 daily
// shards, all revoked. It reports, never judges: docs/ca.md has the
// numbers. Skipped without the variable.
func TestCRLScale(t *testing.T) {
	env := os.Getenv("YAGONA_CRL_SCALE")
	if env == "" {
		t.Skip("set YAGONA_CRL_SCALE=10000,100000 to measure")
	}
	for _, s := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatal(err)
		}
		measureCRL(t, n)
	}
}

func measureCRL(t *testing.T, n int) {
	f := newFixture(t, func(c *Config) { c.CRLShardWidth = shardWidth })
	ctx := context.Background()
	now := f.clock.Now()
	const shards = 730
	first := f.a.crlShard(now)
	start := time.Now()
	for i := range n {
		serial, err := randomSerial()
		if err != nil {
			t.Fatal(err)
		}
		notAfter := now.Add(time.Duration(i%shards) * shardWidth).Add(time.Hour)
		rec := store.Certificate{Serial: SerialHex(serial), Issuer: "issuing", Profile: "citizen", NotBefore: now, NotAfter: notAfter,
			DER: []byte{0}, Status: store.StatusRevoked, RevokedAt: now, Reason: 1, CreatedAt: now, StatusChangedAt: now,
			CRLShard: f.a.crlShard(notAfter)}
		if err := f.st.IssueCertificate(ctx, rec, "", now, store.AuditEvent{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d revoked: inserted in %v", n, time.Since(start).Round(time.Millisecond))
	for _, shard := range []int64{0, first + shards/2} {
		start := time.Now()
		c, err := f.a.IssueCRL(ctx, shard)
		if err != nil {
			t.Fatal(err)
		}
		name := "full CRL"
		if shard != 0 {
			name = "one shard"
		}
		t.Logf("%d revoked, %s: %d bytes, built and signed in %v", n, name, len(c.DER), time.Since(start).Round(time.Millisecond))
	}
}
