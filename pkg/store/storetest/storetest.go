// Package storetest is the conformance suite of store.Store: every backend
// runs Run, and passes the same cases, concurrency included.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// Factory returns a fresh, empty store; cleanup is registered on t.
type Factory func(t *testing.T) store.Store

// Run runs the whole suite. newPeer, if not nil, opens a second handle on
// the same database (another process, as far as the database can tell).
func Run(t *testing.T, newStore Factory, newPeer func(t *testing.T, s store.Store) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Persons", testPersons},
		{"Organizations", testOrganizations},
		{"Enrollments", testEnrollments},
		{"IssueClaimsEnrollmentOnce", testIssueClaims},
		{"IssueRefusesUnusableEnrollment", testIssueRefuses},
		{"DuplicateSerialLeavesEnrollmentUnused", testDuplicateSerial},
		{"ConcurrentClaims", testConcurrentClaims},
		{"StatusTransitions", testStatus},
		{"RevokedCertificates", testRevokedList},
		{"CRLShards", testCRLShards},
		{"CertificateStatuses", testCertificateStatuses},
		{"StatusChanges", testStatusChanges},
		{"ListCertificatesNewestFirst", testList},
		{"CRLNumbersGrow", testCRLNumbers},
		{"ConcurrentCRLNumbers", testConcurrentCRLNumbers},
		{"SaveCRLKeepsNewest", testSaveCRL},
		{"Credentials", testCredentials},
		{"Audit", testAudit},
		{"Clients", testClients},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshReuseRevokesFamily", testRefreshReuse},
		{"RefreshConcurrentRotation", testRefreshConcurrent},
		{"RefreshRevocation", testRefreshRevocation},
		{"RefreshHousekeeping", testRefreshHousekeeping},
		{"SigningKeys", testSigningKeys},
		{"Consents", testConsents},
		{"Decisions", testDecisions},
		{"Webhooks", testWebhooks},
		{"Leases", testLeases},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
	if newPeer != nil {
		t.Run("TwoProcessesCRLNumbers", func(t *testing.T) {
			s := newStore(t)
			testCRLNumbersAcross(t, s, newPeer(t, s))
		})
		t.Run("TwoProcessesClaims", func(t *testing.T) {
			s := newStore(t)
			testClaimsAcross(t, s, newPeer(t, s))
		})
	}
}

var (
	ctx = context.Background()
	t0  = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func person(t *testing.T, s store.Store, pinfl string) {
	t.Helper()
	must(t, s.CreatePerson(ctx, store.Person{PINFL: pinfl, GivenName: "Aziz", Surname: "Rahimov",
		BirthDate: time.Date(1985, 1, 2, 0, 0, 0, 0, time.UTC), CreatedAt: t0}))
}

func enrollment(t *testing.T, s store.Store, id, pinfl string) store.Enrollment {
	t.Helper()
	e := store.Enrollment{ID: id, CodeHash: []byte{1, 2, 3}, PINFL: pinfl, Profile: "citizen", MaxAttempts: 5,
		ExpiresAt: t0.Add(24 * time.Hour), CreatedAt: t0}
	must(t, s.CreateEnrollment(ctx, e))
	return e
}

func cert(serial, pinfl string) store.Certificate {
	return store.Certificate{Serial: serial, Issuer: "issuing", PINFL: pinfl, Profile: "citizen",
		NotBefore: t0, NotAfter: t0.Add(365 * 24 * time.Hour), DER: []byte("der-" + serial), Status: store.StatusGood, CreatedAt: t0}
}

func testPersons(t *testing.T, s store.Store) {
	person(t, s, "30101851234567")
	p, err := s.GetPerson(ctx, "30101851234567")
	must(t, err)
	if p.GivenName != "Aziz" || !p.BirthDate.Equal(time.Date(1985, 1, 2, 0, 0, 0, 0, time.UTC)) || !p.CreatedAt.Equal(t0) {
		t.Fatalf("got %+v", p)
	}
	wantErr(t, s.CreatePerson(ctx, store.Person{PINFL: "30101851234567", CreatedAt: t0}), store.ErrAlreadyExists)
	_, err = s.GetPerson(ctx, "00000000000000")
	wantErr(t, err, store.ErrNotFound)
	// 1970-01-01 is Unix time 0 and a real birth date, not an unset one.
	epoch := time.Unix(0, 0).UTC()
	must(t, s.CreatePerson(ctx, store.Person{PINFL: "30101701234567", GivenName: "A", Surname: "B", BirthDate: epoch, CreatedAt: t0}))
	p, err = s.GetPerson(ctx, "30101701234567")
	must(t, err)
	if !p.BirthDate.Equal(epoch) || p.BirthDate.Location() != time.UTC || !p.CreatedAt.Equal(t0) {
		t.Fatalf("born on 1970-01-01: got %+v", p)
	}
}

func testOrganizations(t *testing.T, s store.Store) {
	must(t, s.PutOrganization(ctx, store.Organization{TIN: "201234567", Name: "Old", CreatedAt: t0}))
	must(t, s.PutOrganization(ctx, store.Organization{TIN: "201234567", Name: "Oʻzbek Nomi", CreatedAt: t0}))
	o, err := s.GetOrganization(ctx, "201234567")
	must(t, err)
	if o.Name != "Oʻzbek Nomi" {
		t.Fatalf("name = %q", o.Name)
	}
	_, err = s.GetOrganization(ctx, "999999999")
	wantErr(t, err, store.ErrNotFound)
}

func testEnrollments(t *testing.T, s store.Store) {
	wantErr(t, s.CreateEnrollment(ctx, store.Enrollment{ID: "E1", PINFL: "11111111111111", Profile: "citizen", CodeHash: []byte{1}}), store.ErrNotFound)
	person(t, s, "30101851234567")
	e := enrollment(t, s, "E1", "30101851234567")
	wantErr(t, s.CreateEnrollment(ctx, e), store.ErrAlreadyExists)
	got, err := s.GetEnrollment(ctx, "E1")
	must(t, err)
	if string(got.CodeHash) != string(e.CodeHash) || !got.ExpiresAt.Equal(e.ExpiresAt) || !got.UsedAt.IsZero() || got.Locked {
		t.Fatalf("got %+v", got)
	}
	must(t, s.LockEnrollment(ctx, "E1"))
	got, _ = s.GetEnrollment(ctx, "E1")
	if !got.Locked {
		t.Fatal("not locked")
	}
	wantErr(t, s.LockEnrollment(ctx, "nope"), store.ErrNotFound)
	_, err = s.GetEnrollment(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testIssueClaims(t *testing.T, s store.Store) {
	person(t, s, "30101851234567")
	enrollment(t, s, "E1", "30101851234567")
	must(t, s.IssueCertificate(ctx, cert("a1", "30101851234567"), "E1", t0, store.AuditEvent{}))
	e, _ := s.GetEnrollment(ctx, "E1")
	if !e.UsedAt.Equal(t0) || e.CertSerial != "a1" {
		t.Fatalf("enrollment after issue: %+v", e)
	}
	wantErr(t, s.IssueCertificate(ctx, cert("a2", "30101851234567"), "E1", t0, store.AuditEvent{}), store.ErrConflict)
	_, err := s.GetCertificate(ctx, "a2")
	wantErr(t, err, store.ErrNotFound)
	c, err := s.GetCertificate(ctx, "a1")
	must(t, err)
	if string(c.DER) != "der-a1" || c.Status != store.StatusGood || !c.NotAfter.Equal(t0.Add(365*24*time.Hour)) {
		t.Fatalf("got %+v", c)
	}
	// The audit event is written with the certificate, and not without it.
	ev := store.AuditEvent{Time: t0, Actor: "system", Action: "certificate.issue", Subject: "a5"}
	must(t, s.IssueCertificate(ctx, cert("a5", ""), "", t0, ev))
	wantErr(t, s.IssueCertificate(ctx, cert("a5", ""), "", t0, ev), store.ErrAlreadyExists)
	if evs, _ := s.ListAudit(ctx, 0, 10); len(evs) != 1 || evs[0].Subject != "a5" {
		t.Fatalf("audit = %+v", evs)
	}
	// No enrollment: system certificates and renewals.
	must(t, s.IssueCertificate(ctx, cert("a3", ""), "", t0, store.AuditEvent{}))
	wantErr(t, s.IssueCertificate(ctx, cert("a4", ""), "missing", t0, store.AuditEvent{}), store.ErrNotFound)
}

func testIssueRefuses(t *testing.T, s store.Store) {
	person(t, s, "30101851234567")
	enrollment(t, s, "EXP", "30101851234567")
	wantErr(t, s.IssueCertificate(ctx, cert("b1", "30101851234567"), "EXP", t0.Add(25*time.Hour), store.AuditEvent{}), store.ErrConflict)
	enrollment(t, s, "LOCK", "30101851234567")
	must(t, s.LockEnrollment(ctx, "LOCK"))
	wantErr(t, s.IssueCertificate(ctx, cert("b2", "30101851234567"), "LOCK", t0, store.AuditEvent{}), store.ErrConflict)
	if cs, _ := s.ListCertificates(ctx, "30101851234567"); len(cs) != 0 {
		t.Fatalf("%d certificates written", len(cs))
	}
}

func testDuplicateSerial(t *testing.T, s store.Store) {
	person(t, s, "30101851234567")
	enrollment(t, s, "E1", "30101851234567")
	enrollment(t, s, "E2", "30101851234567")
	must(t, s.IssueCertificate(ctx, cert("c1", "30101851234567"), "E1", t0, store.AuditEvent{}))
	wantErr(t, s.IssueCertificate(ctx, cert("c1", "30101851234567"), "E2", t0, store.AuditEvent{}), store.ErrAlreadyExists)
	e, _ := s.GetEnrollment(ctx, "E2")
	if !e.UsedAt.IsZero() {
		t.Fatal("failed issuance used the enrollment")
	}
	must(t, s.IssueCertificate(ctx, cert("c2", "30101851234567"), "E2", t0, store.AuditEvent{}))
}

func claimRace(t *testing.T, stores []store.Store, pinfl, enrollmentID string) {
	t.Helper()
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stores[i%len(stores)].IssueCertificate(ctx, cert(fmt.Sprintf("d%02d", i), pinfl), enrollmentID, t0, store.AuditEvent{})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, store.ErrConflict) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	cs, err := stores[0].ListCertificates(ctx, pinfl)
	must(t, err)
	if ok != 1 || len(cs) != 1 {
		t.Fatalf("%d successes and %d certificates, want exactly 1", ok, len(cs))
	}
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	person(t, s, "30101851234567")
	enrollment(t, s, "E1", "30101851234567")
	claimRace(t, []store.Store{s}, "30101851234567", "E1")
}

func testClaimsAcross(t *testing.T, a, b store.Store) {
	person(t, a, "30101851234567")
	enrollment(t, a, "E1", "30101851234567")
	claimRace(t, []store.Store{a, b}, "30101851234567", "E1")
}

func testStatus(t *testing.T, s store.Store) {
	must(t, s.IssueCertificate(ctx, cert("e1", ""), "", t0, store.AuditEvent{}))
	good, hold, revoked := store.StatusGood, store.StatusHold, store.StatusRevoked
	steps := []struct {
		ch   store.StatusChange
		want error
	}{
		{store.StatusChange{Serial: "e1", From: []store.Status{good}, To: hold, Reason: 6, RevokedAt: t0}, nil},
		{store.StatusChange{Serial: "e1", From: []store.Status{good}, To: hold, Reason: 6, RevokedAt: t0}, store.ErrConflict},
		{store.StatusChange{Serial: "e1", From: []store.Status{hold}, To: good}, nil},
		{store.StatusChange{Serial: "e1", From: []store.Status{good, hold}, To: revoked, Reason: 1, RevokedAt: t0.Add(time.Hour)}, nil},
		{store.StatusChange{Serial: "e1", From: []store.Status{hold}, To: good}, store.ErrConflict},
		{store.StatusChange{Serial: "nope", From: []store.Status{good}, To: revoked}, store.ErrNotFound},
	}
	for i, st := range steps {
		c, err := s.UpdateStatus(ctx, st.ch)
		if st.want != nil {
			if !errors.Is(err, st.want) {
				t.Fatalf("step %d: err = %v, want %v", i, err, st.want)
			}
			continue
		}
		must(t, err)
		if c.Status != st.ch.To || c.Reason != st.ch.Reason || !c.RevokedAt.Equal(st.ch.RevokedAt) || string(c.DER) != "der-e1" {
			t.Fatalf("step %d: got %+v", i, c)
		}
	}
	c, _ := s.GetCertificate(ctx, "e1")
	if c.Status != revoked || c.Reason != 1 {
		t.Fatalf("final %+v", c)
	}
}

func testRevokedList(t *testing.T, s store.Store) {
	for _, sn := range []string{"f3", "f1", "f2", "f4", "f5"} {
		c := cert(sn, "")
		switch sn {
		case "f4":
			c.NotAfter = t0.Add(-time.Hour) // expired: dropped from the CRL
		case "f5":
			c.Issuer = "other"
		}
		must(t, s.IssueCertificate(ctx, c, "", t0, store.AuditEvent{}))
	}
	for _, sn := range []string{"f3", "f1", "f4", "f5"} {
		_, err := s.UpdateStatus(ctx, store.StatusChange{Serial: sn, From: []store.Status{store.StatusGood}, To: store.StatusRevoked, Reason: 4, RevokedAt: t0})
		must(t, err)
	}
	_, err := s.UpdateStatus(ctx, store.StatusChange{Serial: "f2", From: []store.Status{store.StatusGood}, To: store.StatusHold, Reason: 6, RevokedAt: t0})
	must(t, err)
	rs, err := s.RevokedCertificates(ctx, "issuing", 0, t0)
	must(t, err)
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%s/%d", r.Serial, r.Reason))
	}
	if fmt.Sprint(got) != "[f1/4 f2/6 f3/4]" {
		t.Fatalf("revoked = %v", got)
	}
}

func testList(t *testing.T, s store.Store) {
	person(t, s, "30101851234567")
	for i, sn := range []string{"g1", "g2", "g3"} {
		c := cert(sn, "30101851234567")
		c.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		must(t, s.IssueCertificate(ctx, c, "", t0, store.AuditEvent{}))
	}
	cs, err := s.ListCertificates(ctx, "30101851234567")
	must(t, err)
	if len(cs) != 3 || cs[0].Serial != "g3" || cs[2].Serial != "g1" {
		t.Fatalf("order: %v", cs)
	}
	cs, err = s.ListCertificates(ctx, "99999999999999")
	must(t, err)
	if len(cs) != 0 {
		t.Fatal("other person's certificates listed")
	}
}

func testCRLNumbers(t *testing.T, s store.Store) {
	for want := int64(1); want <= 3; want++ {
		n, err := s.NextCRLNumber(ctx, "issuing")
		must(t, err)
		if n != want {
			t.Fatalf("number %d, want %d", n, want)
		}
	}
	n, err := s.NextCRLNumber(ctx, "other")
	must(t, err)
	if n != 1 {
		t.Fatalf("other issuer starts at %d", n)
	}
}

func crlRace(t *testing.T, stores []store.Store) {
	t.Helper()
	const workers, each = 8, 10
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			for range each {
				n, err := stores[w%len(stores)].NextCRLNumber(ctx, "issuing")
				if err != nil {
					t.Error(err)
					return
				}
				if n <= last {
					t.Errorf("number went from %d to %d", last, n)
				}
				last = n
				mu.Lock()
				if seen[n] {
					t.Errorf("number %d given twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d distinct numbers, want %d", len(seen), workers*each)
	}
}

func testConcurrentCRLNumbers(t *testing.T, s store.Store) { crlRace(t, []store.Store{s}) }

func testCRLNumbersAcross(t *testing.T, a, b store.Store) { crlRace(t, []store.Store{a, b}) }

func testSaveCRL(t *testing.T, s store.Store) {
	_, err := s.LatestCRL(ctx, "issuing", 0)
	wantErr(t, err, store.ErrNotFound)
	c := store.CRL{Issuer: "issuing", Number: 2, ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), DER: []byte("two")}
	must(t, s.SaveCRL(ctx, c))
	wantErr(t, s.SaveCRL(ctx, store.CRL{Issuer: "issuing", Number: 1, ThisUpdate: t0, NextUpdate: t0, DER: []byte("one")}), store.ErrConflict)
	wantErr(t, s.SaveCRL(ctx, c), store.ErrConflict)
	got, err := s.LatestCRL(ctx, "issuing", 0)
	must(t, err)
	if got.Number != 2 || string(got.DER) != "two" || !got.NextUpdate.Equal(t0.Add(time.Hour)) {
		t.Fatalf("got %+v", got)
	}
	must(t, s.SaveCRL(ctx, store.CRL{Issuer: "issuing", Number: 3, ThisUpdate: t0, NextUpdate: t0, DER: []byte("three")}))
	got, _ = s.LatestCRL(ctx, "issuing", 0)
	if got.Number != 3 {
		t.Fatalf("number %d", got.Number)
	}
}

// testCRLShards: each shard keeps its own latest CRL and lists only its
// own revoked certificates (AllShards: all of them); ListCRLs shows every
// shard without DER.
func testCRLShards(t *testing.T, s store.Store) {
	for i, sn := range []string{"a1", "a2", "b1", "b2"} {
		c := cert(sn, "")
		c.CRLShard = int64(100 + i/2)
		must(t, s.IssueCertificate(ctx, c, "", t0, store.AuditEvent{}))
		_, err := s.UpdateStatus(ctx, store.StatusChange{Serial: sn, From: []store.Status{store.StatusGood}, To: store.StatusRevoked,
			Reason: 1, RevokedAt: t0, At: t0})
		must(t, err)
	}
	for shard, want := range map[int64]string{100: "[a1 a2]", 101: "[b1 b2]", 0: "[]", 7: "[]", store.AllShards: "[a1 a2 b1 b2]"} {
		rs, err := s.RevokedCertificates(ctx, "issuing", shard, t0)
		must(t, err)
		var got []string
		for _, r := range rs {
			got = append(got, r.Serial)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("shard %d: %v, want %v", shard, got, want)
		}
	}
	must(t, s.SaveCRL(ctx, store.CRL{Issuer: "issuing", Shard: 101, Number: 5, ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), DER: []byte("b")}))
	must(t, s.SaveCRL(ctx, store.CRL{Issuer: "issuing", Shard: 100, Number: 6, ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), DER: []byte("a")}))
	// Number 5 is stale for shard 101 but new for shard 0.
	wantErr(t, s.SaveCRL(ctx, store.CRL{Issuer: "issuing", Shard: 101, Number: 4, DER: []byte("old")}), store.ErrConflict)
	must(t, s.SaveCRL(ctx, store.CRL{Issuer: "issuing", Shard: 0, Number: 5, DER: []byte("z")}))
	got, err := s.LatestCRL(ctx, "issuing", 101)
	must(t, err)
	if got.Shard != 101 || got.Number != 5 || string(got.DER) != "b" {
		t.Fatalf("shard 101: %+v", got)
	}
	_, err = s.LatestCRL(ctx, "issuing", 102)
	wantErr(t, err, store.ErrNotFound)
	list, err := s.ListCRLs(ctx, "issuing")
	must(t, err)
	var shards []string
	for _, c := range list {
		if c.DER != nil {
			t.Errorf("ListCRLs returned DER for shard %d", c.Shard)
		}
		shards = append(shards, fmt.Sprintf("%d/%d", c.Shard, c.Number))
	}
	if fmt.Sprint(shards) != "[0/5 100/6 101/5]" {
		t.Fatalf("ListCRLs = %v", shards)
	}
}

// testCertificateStatuses pages through live certificates by serial.
func testCertificateStatuses(t *testing.T, s store.Store) {
	for _, sn := range []string{"c3", "c1", "c2", "c4", "c5", "c6"} {
		c := cert(sn, "")
		switch sn {
		case "c4":
			c.NotAfter = t0.Add(-time.Hour)
		case "c5":
			c.Issuer = "other"
		case "c6":
			c.CRLShard = 9
		}
		must(t, s.IssueCertificate(ctx, c, "", t0, store.AuditEvent{}))
	}
	_, err := s.UpdateStatus(ctx, store.StatusChange{Serial: "c2", From: []store.Status{store.StatusGood}, To: store.StatusRevoked,
		Reason: 1, RevokedAt: t0, At: t0})
	must(t, err)
	var got []string
	after := ""
	for range 10 {
		page, err := s.CertificateStatuses(ctx, "issuing", after, 2, t0)
		must(t, err)
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			got = append(got, fmt.Sprintf("%s/%s/%d", c.Serial, c.Status, c.CRLShard))
			if c.NotAfter.IsZero() || c.DER != nil {
				t.Fatalf("%s: not after %v, der %v", c.Serial, c.NotAfter, c.DER != nil)
			}
		}
		after = page[len(page)-1].Serial
	}
	if fmt.Sprint(got) != "[c1/good/0 c2/revoked/0 c3/good/0 c6/good/9]" {
		t.Fatalf("pages: %v", got)
	}
}

// testStatusChanges lists status changes since a time, oldest first.
func testStatusChanges(t *testing.T, s store.Store) {
	for i, sn := range []string{"d1", "d2", "d3"} {
		must(t, s.IssueCertificate(ctx, cert(sn, ""), "", t0, store.AuditEvent{}))
		if sn == "d3" {
			continue
		}
		_, err := s.UpdateStatus(ctx, store.StatusChange{Serial: sn, From: []store.Status{store.StatusGood}, To: store.StatusHold,
			Reason: 6, RevokedAt: t0, At: t0.Add(time.Duration(2-i) * time.Minute)})
		must(t, err)
	}
	_, err := s.UpdateStatus(ctx, store.StatusChange{Serial: "d2", From: []store.Status{store.StatusHold}, To: store.StatusGood,
		At: t0.Add(5 * time.Minute)})
	must(t, err)
	list := func(since time.Time) string {
		cs, err := s.StatusChanges(ctx, "issuing", since, 10)
		must(t, err)
		var got []string
		for _, c := range cs {
			got = append(got, fmt.Sprintf("%s/%s@%v", c.Serial, c.Status, c.StatusChangedAt.Sub(t0)))
		}
		return fmt.Sprint(got)
	}
	if got := list(t0); got != "[d1/hold@2m0s d2/good@5m0s]" {
		t.Fatalf("since t0: %s", got)
	}
	if got := list(t0.Add(3 * time.Minute)); got != "[d2/good@5m0s]" {
		t.Fatalf("since t0+3m: %s", got)
	}
	if got := list(t0.Add(6 * time.Minute)); got != "[]" {
		t.Fatalf("since t0+6m: %s", got)
	}
}

func testCredentials(t *testing.T, s store.Store) {
	must(t, s.CreateCredential(ctx, store.Credential{ID: "admin", Role: "admin", Hash: []byte{9, 9}, CreatedAt: t0}))
	wantErr(t, s.CreateCredential(ctx, store.Credential{ID: "admin", Role: "admin", Hash: []byte{1}, CreatedAt: t0}), store.ErrAlreadyExists)
	c, err := s.GetCredential(ctx, "admin")
	must(t, err)
	if string(c.Hash) != string([]byte{9, 9}) || c.Role != "admin" {
		t.Fatalf("got %+v", c)
	}
	_, err = s.GetCredential(ctx, "nobody")
	wantErr(t, err, store.ErrNotFound)
}

func testAudit(t *testing.T, s store.Store) {
	for i := range 5 {
		must(t, s.AppendAudit(ctx, store.AuditEvent{Time: t0.Add(time.Duration(i) * time.Second), Actor: "admin:admin",
			Action: "certificate.revoke", Subject: fmt.Sprint(i), Details: `{"reason":1}`}))
	}
	first, err := s.ListAudit(ctx, 0, 3)
	must(t, err)
	if len(first) != 3 || first[0].Subject != "0" || first[2].Subject != "2" {
		t.Fatalf("first page %+v", first)
	}
	rest, err := s.ListAudit(ctx, first[2].ID, 10)
	must(t, err)
	if len(rest) != 2 || rest[0].Subject != "3" || !rest[1].Time.Equal(t0.Add(4*time.Second)) {
		t.Fatalf("second page %+v", rest)
	}
}
