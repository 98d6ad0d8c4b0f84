package responder

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ocsp"
)

var allHashes = []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512}

// TestStatuses walks a certificate through good, hold, good again and
// revoked, for every CertID hash algorithm, invalidating after each change
// as the CA does.
func TestStatuses(t *testing.T) {
	ctx := context.Background()
	for _, h := range allHashes {
		t.Run(h.String(), func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Validity = 4 * time.Hour })
			leaf := f.leaf()
			revokedAt := f.now.Load().Add(-time.Hour).Truncate(time.Second)
			steps := []struct {
				name       string
				status     CertStatus
				want       int
				wantReason int
			}{
				{"good", CertStatus{Status: Good}, ocsp.Good, 0},
				{"hold", CertStatus{Status: Revoked, RevokedAt: revokedAt, Reason: ocsp.CertificateHold}, ocsp.Revoked, ocsp.CertificateHold},
				{"released", CertStatus{Status: Good}, ocsp.Good, 0},
				{"unspecified", CertStatus{Status: Revoked, RevokedAt: revokedAt}, ocsp.Revoked, ocsp.Unspecified},
				{"key compromise", CertStatus{Status: Revoked, RevokedAt: revokedAt, Reason: ocsp.KeyCompromise}, ocsp.Revoked, ocsp.KeyCompromise},
				{"revoked without time", CertStatus{Status: Revoked, Reason: ocsp.Superseded}, ocsp.Revoked, ocsp.Superseded},
			}
			for _, s := range steps {
				f.src.set(leaf.SerialNumber, s.status)
				if err := f.r.Invalidate(ctx, leaf.SerialNumber); err != nil {
					t.Fatal(err)
				}
				for range 2 { // a miss, then a hit
					der, err := f.r.Respond(ctx, f.request(t, leaf, h))
					if err != nil {
						t.Fatal(err)
					}
					resp := f.parse(t, der, leaf)
					if resp.Status != s.want || resp.RevocationReason != s.wantReason || resp.IssuerHash != h {
						t.Fatalf("%s: status %d reason %d hash %v", s.name, resp.Status, resp.RevocationReason, resp.IssuerHash)
					}
					if resp.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
						t.Fatalf("%s: serial %x", s.name, resp.SerialNumber)
					}
					switch {
					case s.want == ocsp.Revoked && !s.status.RevokedAt.IsZero() && !resp.RevokedAt.Equal(revokedAt):
						t.Fatalf("%s: revoked at %v, want %v", s.name, resp.RevokedAt, revokedAt)
					case s.want == ocsp.Revoked && s.status.RevokedAt.IsZero() && !resp.RevokedAt.Equal(time.Unix(0, 0)):
						t.Fatalf("%s: revoked at %v, want the epoch", s.name, resp.RevokedAt)
					}
					now := *f.now.Load()
					if wantThis := now.Truncate(time.Second).Add(-time.Minute); !resp.ThisUpdate.Equal(wantThis) ||
						!resp.NextUpdate.Equal(wantThis.Add(4*time.Hour)) || !resp.ProducedAt.Equal(now.Truncate(time.Second)) {
						t.Fatalf("%s: thisUpdate %v nextUpdate %v producedAt %v (now %v)", s.name, resp.ThisUpdate, resp.NextUpdate, resp.ProducedAt, now)
					}
				}
			}
			if got := f.src.calls.Load(); got != int64(len(steps)) {
				t.Errorf("source called %d times for %d status changes", got, len(steps))
			}
		})
	}
	t.Run("never issued", func(t *testing.T) {
		f := newFixture(t)
		never := *f.leaf()
		never.SerialNumber = big.NewInt(99)
		der, _ := f.r.Respond(ctx, f.request(t, &never, crypto.SHA1))
		if resp := f.parse(t, der, &never); resp.Status != ocsp.Unknown {
			t.Fatalf("status %d, want unknown", resp.Status)
		}
	})
}

// TestBadRequests: every malformed shape gets malformedRequest, another
// issuer unauthorized, and a failing source tryLater.
func TestBadRequests(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := f.request(t, f.leaf(), crypto.SHA1)
	id := certIDOf(t, good)
	id2 := certIDOf(t, f.request(t, f.leaves[1], crypto.SHA1))
	md5ID, _ := asn1.Marshal(struct {
		Alg               pkix.AlgorithmIdentifier
		NameHash, KeyHash []byte
		Serial            *big.Int
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}}, make([]byte, 16), make([]byte, 16), big.NewInt(5)})
	unknownExt := func(critical bool) pkix.Extension {
		return pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: critical, Value: []byte{5, 0}}
	}
	single := func(exts ...pkix.Extension) tRequest {
		return tRequest{TBS: tTBS{List: []tSingle{{CertID: id, Exts: exts}}}}
	}
	reqExts := func(exts ...pkix.Extension) tRequest {
		return tRequest{TBS: tTBS{List: []tSingle{{CertID: id}}, Exts: exts}}
	}
	nonceExt := func(v []byte) pkix.Extension { return pkix.Extension{Id: oidNonce, Value: v} }
	otherIssuer, err := ocsp.CreateRequest(f.leaf(), f.other, nil)
	if err != nil {
		t.Fatal(err)
	}
	v2 := func() []byte { // version [0] INTEGER 1 before the list
		list, _ := asn1.Marshal([]tSingle{{CertID: id}})
		tbs := append([]byte{0xa0, 0x03, 0x02, 0x01, 0x01}, list...)
		tbsDER, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: tbs})
		der, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: tbsDER})
		return der
	}()
	named := func() []byte { // requestorName [1] and optionalSignature [0]: accepted, ignored
		list, _ := asn1.Marshal([]tSingle{{CertID: id}})
		name, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: []byte{0x82, 0x01, 'x'}})
		tbsDER, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: append(name, list...)})
		sig, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: []byte{0x30, 0x00}})
		der, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: append(tbsDER, sig...)})
		return der
	}()
	cases := []struct {
		name string
		der  []byte
		want ocsp.ResponseStatus
	}{
		{"empty", nil, ocsp.Malformed},
		{"garbage", []byte("hello, responder"), ocsp.Malformed},
		{"truncated", good[:len(good)-3], ocsp.Malformed},
		{"trailing byte", append(append([]byte{}, good...), 0), ocsp.Malformed},
		{"trailing request", append(append([]byte{}, good...), good...), ocsp.Malformed},
		{"BER indefinite length", append([]byte{0x30, 0x80}, append(good[2:], 0, 0)...), ocsp.Malformed},
		{"deep nesting", bytes.Repeat([]byte{0x30, 0x80}, 1000), ocsp.Malformed},
		{"no requests", build(t, tRequest{TBS: tTBS{List: []tSingle{}}}), ocsp.Malformed},
		{"two requests", build(t, tRequest{TBS: tTBS{List: []tSingle{{CertID: id}, {CertID: id2}}}}), ocsp.Malformed},
		{"version 2", v2, ocsp.Malformed},
		{"requestor name and signature", named, ocsp.Success},
		{"other issuer", otherIssuer, ocsp.Unauthorized},
		{"unsupported hash", build(t, tRequest{TBS: tTBS{List: []tSingle{{CertID: asn1.RawValue{FullBytes: md5ID}}}}}), ocsp.Unauthorized},
		{"critical request extension", build(t, reqExts(unknownExt(true))), ocsp.Malformed},
		{"critical single extension", build(t, single(unknownExt(true))), ocsp.Malformed},
		{"non-critical extensions", build(t, tRequest{TBS: tTBS{List: []tSingle{{CertID: id, Exts: []pkix.Extension{unknownExt(false)}}},
			Exts: []pkix.Extension{unknownExt(false)}}}), ocsp.Success},
		{"empty nonce", build(t, reqExts(nonceExt(nil))), ocsp.Malformed},
		{"empty wrapped nonce", build(t, reqExts(nonceExt(wrapped(t, nil)))), ocsp.Malformed},
		{"33-octet nonce", build(t, reqExts(nonceExt(bytes.Repeat([]byte{7}, 33)))), ocsp.Malformed},
		{"33-octet wrapped nonce", build(t, reqExts(nonceExt(wrapped(t, bytes.Repeat([]byte{7}, 33))))), ocsp.Malformed},
		{"32-octet wrapped nonce", build(t, reqExts(nonceExt(wrapped(t, bytes.Repeat([]byte{7}, 32))))), ocsp.Success},
		{"two nonces", build(t, reqExts(nonceExt([]byte{1}), nonceExt([]byte{2}))), ocsp.Malformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			der, err := f.r.Respond(ctx, c.der)
			if err != nil {
				t.Fatal(err)
			}
			if got := respStatus(der); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			switch c.want {
			case ocsp.Malformed:
				if !bytes.Equal(der, ocsp.MalformedRequestErrorResponse) {
					t.Fatalf("malformed answer %x", der)
				}
			case ocsp.Unauthorized:
				if !bytes.Equal(der, ocsp.UnauthorizedErrorResponse) {
					t.Fatalf("unauthorized answer %x", der)
				}
			}
		})
	}
	t.Run("source error", func(t *testing.T) {
		f.src.setErr(errors.New("database down"))
		defer f.src.setErr(nil)
		if err := f.r.Invalidate(ctx, f.leaf().SerialNumber); err != nil {
			t.Fatal(err)
		}
		for _, der := range [][]byte{good, withNonce(t, good, wrapped(t, []byte("0123456789abcdef")))} {
			resp, _ := f.r.Respond(ctx, der)
			if !bytes.Equal(resp, ocsp.TryLaterErrorResponse) {
				t.Fatalf("got %v, want tryLater", respStatus(resp))
			}
		}
		if len(f.cache.keys()) != 0 {
			t.Fatal("an error was cached")
		}
	})
}

// TestNonce: the nonce is echoed byte for byte, wrapped or raw, in
// responseExtensions; nonce answers are signed every time, never cached.
func TestNonce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	base := f.request(t, f.leaf(), crypto.SHA256)
	for _, tc := range []struct {
		name  string
		value []byte
	}{
		{"wrapped 16", wrapped(t, []byte("0123456789abcdef"))},
		{"wrapped 32", wrapped(t, bytes.Repeat([]byte{0xa5}, 32))},
		{"wrapped 1", wrapped(t, []byte{0})},
		{"raw 16", []byte("fedcba9876543210")},
		{"raw 32", bytes.Repeat([]byte{0x04}, 32)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := withNonce(t, base, tc.value)
			calls := f.src.calls.Load()
			for i := range 2 {
				der, _ := f.r.Respond(ctx, req)
				if resp := f.parse(t, der, f.leaf()); resp.Status != ocsp.Good || resp.IssuerHash != crypto.SHA256 {
					t.Fatalf("status %d hash %v", resp.Status, resp.IssuerHash)
				}
				if got := nonceOf(t, der); !bytes.Equal(got, tc.value) {
					t.Fatalf("nonce %x echoed as %x", tc.value, got)
				}
				if i == 1 && f.src.calls.Load() != calls+2 {
					t.Fatal("a nonce request did not ask the source")
				}
			}
		})
	}
	if n := f.cache.sets.Load(); n != 0 {
		t.Fatalf("nonce responses were cached %d times", n)
	}
	// Without a nonce, no nonce comes back.
	der, _ := f.r.Respond(ctx, base)
	if nonceOf(t, der) != nil || responseExtensions(t, der) != nil {
		t.Fatal("response extensions without a nonce")
	}
}

// TestCache: a hit serves the same bytes without asking the source; keys
// carry the hash algorithm and serial; Invalidate drops every variant; an
// expired or corrupt entry is a miss.
func TestCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	leaf := f.leaf()
	req := f.request(t, leaf, crypto.SHA256)
	a, _ := f.r.Respond(ctx, req)
	b, _ := f.r.Respond(ctx, req)
	if !bytes.Equal(a, b) || f.src.calls.Load() != 1 {
		t.Fatalf("second answer not from cache (source called %d times)", f.src.calls.Load())
	}
	key := "ocsp:sha256:" + leaf.SerialNumber.Text(16)
	if ks := f.cache.keys(); len(ks) != 1 || ks[0] != key {
		t.Fatalf("cache keys %v, want [%s]", ks, key)
	}
	for _, h := range allHashes {
		f.r.Respond(ctx, f.request(t, leaf, h))
	}
	f.r.Respond(ctx, f.request(t, f.leaves[1], crypto.SHA1))
	if n := len(f.cache.keys()); n != 5 {
		t.Fatalf("%d cache keys, want 5", n)
	}
	f.src.set(leaf.SerialNumber, CertStatus{Status: Revoked, RevokedAt: *f.now.Load(), Reason: ocsp.KeyCompromise})
	if err := f.r.Invalidate(ctx, leaf.SerialNumber); err != nil {
		t.Fatal(err)
	}
	if ks := f.cache.keys(); len(ks) != 1 || ks[0] != "ocsp:sha1:"+f.leaves[1].SerialNumber.Text(16) {
		t.Fatalf("after Invalidate the cache holds %v", ks)
	}
	for _, h := range allHashes {
		der, _ := f.r.Respond(ctx, f.request(t, leaf, h))
		if f.parse(t, der, leaf).Status != ocsp.Revoked {
			t.Fatalf("%v: stale answer after Invalidate", h)
		}
	}
	// Past nextUpdate a cached answer is not served, even if the cache
	// still holds it.
	calls := f.src.calls.Load()
	f.advance(2 * time.Hour)
	der, _ := f.r.Respond(ctx, req)
	if resp := f.parse(t, der, leaf); f.src.calls.Load() != calls+1 || !resp.ThisUpdate.After(f.now.Load().Add(-2*time.Minute)) {
		t.Fatal("served an answer past its nextUpdate")
	}
	// A corrupt entry is a miss.
	for _, v := range [][]byte{nil, {1}, bytes.Repeat([]byte{9}, 100)} {
		f.cache.m[key] = v
		calls := f.src.calls.Load()
		der, _ := f.r.Respond(ctx, req)
		if f.parse(t, der, leaf); f.src.calls.Load() != calls+1 {
			t.Fatal("corrupt entry served")
		}
	}
}

// TestSingleflight: concurrent misses for one key ask the source and sign
// once.
func TestSingleflight(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	f.src.setHook(func(int64) { <-release })
	req := f.request(t, f.leaf(), crypto.SHA1)
	const n = 20
	var wg sync.WaitGroup
	answers := make([][]byte, n)
	for i := range n {
		wg.Go(func() { answers[i], _ = f.r.Respond(context.Background(), req) })
	}
	waitFor(t, "the first miss to reach the source", func() bool { return f.src.calls.Load() == 1 })
	time.Sleep(50 * time.Millisecond) // let the others queue up on the flight or the cache
	close(release)
	wg.Wait()
	if got := f.src.calls.Load(); got != 1 {
		t.Errorf("source called %d times for %d concurrent requests", got, n)
	}
	for _, a := range answers {
		if !bytes.Equal(a, answers[0]) {
			t.Fatal("concurrent misses got different answers")
		}
	}
}

// TestInvalidateRace: a miss that read the status before a change was
// committed must not leave its stale answer in the cache once Invalidate
// ran, and a request after Invalidate must not get the stale answer.
func TestInvalidateRace(t *testing.T) {
	ctx := context.Background()
	revoked := CertStatus{Status: Revoked, RevokedAt: time.Now().Add(-time.Minute), Reason: ocsp.KeyCompromise}

	t.Run("source blocks", func(t *testing.T) {
		f := newFixture(t)
		leaf := f.leaf()
		req := f.request(t, leaf, crypto.SHA1)
		release := make(chan struct{})
		f.src.setHook(func(call int64) {
			if call == 1 {
				<-release // holding "good"
			}
		})
		stale := make(chan []byte)
		go func() {
			der, _ := f.r.Respond(ctx, req)
			stale <- der
		}()
		waitFor(t, "the miss to read the status", func() bool { return f.src.calls.Load() == 1 })
		f.src.set(leaf.SerialNumber, revoked) // the CA commits...
		if err := f.r.Invalidate(ctx, leaf.SerialNumber); err != nil {
			t.Fatal(err) // ...and invalidates
		}
		// The next request, while the stale miss is still in flight, sees
		// the change: it does not join the old flight (which would block).
		next := make(chan []byte, 1)
		go func() {
			der, _ := f.r.Respond(ctx, req)
			next <- der
		}()
		select {
		case der := <-next:
			if f.parse(t, der, leaf).Status != ocsp.Revoked {
				t.Fatal("request after Invalidate got the stale answer")
			}
		case <-time.After(5 * time.Second):
			close(release)
			t.Fatal("request after Invalidate joined the stale flight")
		}
		close(release)
		if f.parse(t, <-stale, leaf).Status != ocsp.Good {
			t.Fatal("the blocked miss should have answered what it read")
		}
		for range 3 {
			der, _ := f.r.Respond(ctx, req)
			if f.parse(t, der, leaf).Status != ocsp.Revoked {
				t.Fatal("stale good answer was cached after Invalidate")
			}
		}
	})

	t.Run("invalidate between check and store", func(t *testing.T) {
		f := newFixture(t)
		leaf := f.leaf()
		req := f.request(t, leaf, crypto.SHA1)
		// Invalidate runs entirely inside Set, after the generation check
		// and before the entry lands: its delete comes first.
		var once sync.Once
		f.cache.setHook = func(string) {
			once.Do(func() {
				f.src.set(leaf.SerialNumber, revoked)
				if err := f.r.Invalidate(ctx, leaf.SerialNumber); err != nil {
					t.Error(err)
				}
			})
		}
		der, _ := f.r.Respond(ctx, req)
		if f.parse(t, der, leaf).Status != ocsp.Good {
			t.Fatal("first answer should be the good it read")
		}
		if ks := f.cache.keys(); len(ks) != 0 {
			t.Fatalf("stale answer left in the cache: %v", ks)
		}
		der, _ = f.r.Respond(ctx, req)
		if f.parse(t, der, leaf).Status != ocsp.Revoked {
			t.Fatal("stale good answer served after Invalidate")
		}
	})

	t.Run("other serial unaffected", func(t *testing.T) {
		f := newFixture(t)
		for _, l := range f.leaves {
			f.r.Respond(ctx, f.request(t, l, crypto.SHA1))
		}
		if err := f.r.Invalidate(ctx, f.leaf().SerialNumber); err != nil {
			t.Fatal(err)
		}
		if n := len(f.cache.keys()); n != len(f.leaves)-1 {
			t.Fatalf("%d entries left, want %d", n, len(f.leaves)-1)
		}
	})
}

// TestMetrics: the counters and histogram are registered and move.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, func(c *Config) { c.Registerer = reg })
	ctx := context.Background()
	req := f.request(t, f.leaf(), crypto.SHA1)
	f.r.Respond(ctx, req)                                                 // miss, good
	f.r.Respond(ctx, req)                                                 // hit, good
	f.r.Respond(ctx, withNonce(t, req, wrapped(t, []byte("0123456789")))) // nonce, good
	f.r.Respond(ctx, []byte("junk"))                                      // error, malformed
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 0 {
				continue
			}
			label := m.GetLabel()[0].GetValue()
			switch mf.GetName() {
			case "yagona_ocsp_responses_total":
				got["status="+label] = m.GetCounter().GetValue()
			case "yagona_ocsp_request_duration_seconds":
				got["cache="+label] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{"status=good": 3, "status=malformed": 1, "status=revoked": 0,
		"cache=hit": 1, "cache=miss": 1, "cache=nonce": 1, "cache=error": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if _, err := New(Config{Issuer: f.issuer, ResponderCert: f.responder, Signer: f.key, Registerer: reg}, f.src, f.cache); err == nil {
		t.Error("registering the metrics twice should fail")
	}
}

// TestNew: configuration mistakes are refused.
func TestNew(t *testing.T) {
	p := newPKI(t)
	src, c := newMapSource(), newMapCache()
	otherKey := mkKey(t)
	strangerT := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "stranger"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}
	strangerCert := mkCert(t, strangerT, strangerT, otherKey.Public(), otherKey)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no issuer", Config{ResponderCert: p.responder, Signer: p.key}, "required"},
		{"key mismatch", Config{Issuer: p.issuer, ResponderCert: p.responder, Signer: otherKey}, "does not match"},
		{"foreign signer", Config{Issuer: p.issuer, ResponderCert: strangerCert, Signer: otherKey}, "not issued by"},
		{"negative validity", Config{Issuer: p.issuer, ResponderCert: p.responder, Signer: p.key, Validity: -time.Second}, "negative"},
	} {
		_, err := New(tc.cfg, src, c)
		if err == nil || !strings.HasPrefix(err.Error(), "responder: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := New(Config{Issuer: p.issuer, ResponderCert: p.responder, Signer: p.key}, nil, c); err == nil {
		t.Error("nil source accepted")
	}
}

// TestSetSigner: a renewed signer signs the next answers.
func TestSetSigner(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key := mkKey(t)
	cert := mkCert(t, &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "renewed"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}},
		f.issuer, key.Public(), f.issuerKey)
	if err := f.r.SetSigner(cert, f.key); err == nil {
		t.Fatal("mismatched key accepted")
	}
	if err := f.r.SetSigner(cert, key); err != nil {
		t.Fatal(err)
	}
	der, _ := f.r.Respond(ctx, withNonce(t, f.request(t, f.leaf(), crypto.SHA1), []byte("0123456789abcdef")))
	resp, err := ocsp.ParseResponseForCert(der, f.leaf(), f.issuer)
	if err != nil || !resp.Certificate.Equal(cert) {
		t.Fatalf("renewed signer not used: %v", err)
	}
}
