package ca

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/ca/responder"
	"github.com/yagona/yagona/pkg/store"
)

const shardWidth = 24 * time.Hour

// enrollN issues n citizen certificates and returns them.
func (f *fixture) enrollN(t *testing.T, n int) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for i := range n {
		pinfl := "3010185123" + strconv.Itoa(4000+i)
		f.person(t, pinfl)
		iss, err := f.a.Enroll(context.Background(), csrPEM(t, newKey(t)), f.enrollment(t, pinfl).Code)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, iss.Cert)
	}
	return out
}

// TestCRLShards: a certificate names the full CRL, then the shard of its
// expiry window; the shard's CRL lists it once revoked, with an issuing
// distribution point naming the same URL, and so does the full CRL,
// without one.
func TestCRLShards(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CRLShardWidth = shardWidth })
	ctx := context.Background()
	certs := f.enrollN(t, 2)
	want := certs[0].NotAfter.Unix() / int64(shardWidth/time.Second)
	url := "http://127.0.0.1/crl/issuing-" + strconv.FormatInt(want, 10) + ".crl"
	full := "http://127.0.0.1/crl/issuing.crl"
	if got := certs[0].CRLDistributionPoints; len(got) != 2 || got[0] != full || got[1] != url {
		t.Fatalf("distribution points %q, want %q then %q", got, full, url)
	}
	if _, err := f.a.Revoke(ctx, f.admin, SerialHex(certs[0].SerialNumber), ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	crl, err := f.a.CRL(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(crl.DER)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.RevokedCertificateEntries) != 1 || rl.RevokedCertificateEntries[0].SerialNumber.Cmp(certs[0].SerialNumber) != 0 {
		t.Fatalf("shard CRL entries %+v", rl.RevokedCertificateEntries)
	}
	var idp []byte
	for _, e := range rl.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 28}) {
			if !e.Critical {
				t.Error("issuing distribution point not critical")
			}
			idp = e.Value
		}
	}
	if !strings.Contains(string(idp), url) {
		t.Fatalf("issuing distribution point %x does not name %s", idp, url)
	}
	zero, err := f.a.CRL(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	rl0, err := x509.ParseRevocationList(zero.DER)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl0.RevokedCertificateEntries) != 1 || rl0.RevokedCertificateEntries[0].SerialNumber.Cmp(certs[0].SerialNumber) != 0 {
		t.Fatalf("the full CRL lists %+v", rl0.RevokedCertificateEntries)
	}
	for _, e := range rl0.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 28}) {
			t.Error("the full CRL has an issuing distribution point")
		}
	}
}

// TestCRLShardBounds: only shards that can hold live certificates are
// issued on request; others are NotFound and leave nothing behind.
func TestCRLShardBounds(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CRLShardWidth = shardWidth })
	ctx := context.Background()
	today := f.clock.Now().Unix() / int64(shardWidth/time.Second)
	last := f.a.Issuer().Cert.NotAfter.Unix() / int64(shardWidth/time.Second)
	for _, tc := range []struct {
		shard int64
		ok    bool
	}{
		{0, true}, {today, true}, {today + 300, true}, {last, true},
		{today - 5, false}, {last + 1, false}, {-1, false}, {1 << 40, false},
	} {
		_, err := f.a.CRL(ctx, tc.shard)
		if (err == nil) != tc.ok {
			t.Errorf("shard %d: err %v, want ok=%v", tc.shard, err, tc.ok)
		}
		if err != nil && errCode(err) != "not_found" {
			t.Errorf("shard %d: %v, want not_found", tc.shard, err)
		}
	}
	list, err := f.st.ListCRLs(ctx, "issuing")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 {
		t.Fatalf("%d CRLs stored, want the 4 live ones", len(list))
	}
	// Without sharding there is only shard 0.
	g := newFixture(t)
	if _, err := g.a.CRL(ctx, today); errCode(err) != "not_found" {
		t.Fatalf("unsharded CA answered shard %d: %v", today, err)
	}
}

// TestRefreshCRL reissues shards past half their validity, one at a time,
// and leaves the others.
func TestRefreshCRL(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CRLShardWidth, c.CRLValidity = shardWidth, 4*time.Hour })
	ctx := context.Background()
	certs := f.enrollN(t, 1)
	shard := f.a.crlShard(certs[0].NotAfter)
	first, err := f.a.CRL(ctx, shard)
	if err != nil {
		t.Fatal(err)
	}
	f.a.RefreshCRL(ctx) // issues shard 0, which had none
	if c, _ := f.a.CRL(ctx, shard); c.Number != first.Number {
		t.Fatalf("fresh shard reissued: %d -> %d", first.Number, c.Number)
	}
	f.clock.Advance(2*time.Hour + time.Second)
	f.a.RefreshCRL(ctx)
	if c, _ := f.a.CRL(ctx, shard); c.Number <= first.Number {
		t.Fatal("shard past half its validity not reissued")
	}
}

// TestSweepStatusChanges: a status change whose hook never ran (the
// replica died after the commit) is found by the sweep, which runs the
// hook and reissues the stale shard; a second sweep skips it.
func TestSweepStatusChanges(t *testing.T) {
	var mu sync.Mutex
	var invalidated []string
	hook := true
	f := newFixture(t, func(c *Config) {
		c.CRLShardWidth = shardWidth
		c.OnStatusChange = func(_ context.Context, serial *big.Int) {
			mu.Lock()
			defer mu.Unlock()
			if hook {
				invalidated = append(invalidated, serial.Text(16))
			}
		}
	})
	ctx := context.Background()
	certs := f.enrollN(t, 1)
	shard := f.a.crlShard(certs[0].NotAfter)
	before, err := f.a.CRL(ctx, shard)
	if err != nil {
		t.Fatal(err)
	}
	since := f.clock.Now()
	f.clock.Advance(2 * time.Second)
	// The change is committed but neither hook nor CRL follow.
	serial := SerialHex(certs[0].SerialNumber)
	if _, err := f.st.UpdateStatus(ctx, statusChange(serial, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	seen, next, err := f.a.SweepStatusChanges(ctx, since, nil)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]string(nil), invalidated...)
	mu.Unlock()
	if len(got) != 1 || got[0] != serial {
		t.Fatalf("hook ran for %v, want [%s]", got, serial)
	}
	after, _ := f.a.CRL(ctx, shard)
	rl, _ := x509.ParseRevocationList(after.DER)
	if after.Number <= before.Number || len(rl.RevokedCertificateEntries) != 1 {
		t.Fatalf("shard CRL not reissued with the revocation: number %d -> %d, %d entries", before.Number, after.Number, len(rl.RevokedCertificateEntries))
	}
	if !next.After(since) {
		t.Fatalf("next sweep from %v, not after %v", next, since)
	}
	if _, _, err := f.a.SweepStatusChanges(ctx, since, seen); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(invalidated) != 1 {
		t.Fatalf("second sweep ran the hook again: %v", invalidated)
	}
}

// presigner records what PresignOCSP hands it.
type presigner struct{ entries []responder.Entry }

func (p *presigner) Presign(ctx context.Context, page func(context.Context) ([]responder.Entry, error)) (int, error) {
	es, err := page(ctx)
	p.entries = append(p.entries, es...)
	return len(es), err
}

// TestPresignOCSP pages through every live certificate with its status.
func TestPresignOCSP(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	certs := f.enrollN(t, 3)
	if _, err := f.a.Revoke(ctx, f.admin, SerialHex(certs[1].SerialNumber), ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	p := &presigner{}
	n, err := f.a.PresignOCSP(ctx, p)
	if err != nil || n != 3 {
		t.Fatalf("PresignOCSP = %d, %v", n, err)
	}
	revoked := 0
	for _, e := range p.entries {
		if e.Status.Status == responder.Revoked {
			revoked++
			if e.Serial.Cmp(certs[1].SerialNumber) != 0 || e.Status.Reason != ReasonKeyCompromise {
				t.Errorf("revoked entry %+v", e)
			}
		}
	}
	if revoked != 1 {
		t.Fatalf("%d revoked entries, want 1", revoked)
	}
}

func statusChange(serial string, at time.Time) store.StatusChange {
	return store.StatusChange{Serial: serial, From: []store.Status{store.StatusGood}, To: store.StatusRevoked,
		Reason: ReasonKeyCompromise, RevokedAt: at, At: at}
}
