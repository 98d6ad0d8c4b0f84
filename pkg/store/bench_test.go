package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/store/storetest"
)

// BenchmarkIssueCertificate is the issuance transaction: claim the
// enrollment, insert the certificate and its audit entry. Serial is one
// caller at a time; Parallel is GOMAXPROCS*8 callers at once, as under HTTP
// load. The PostgreSQL cases run when YAGONA_TEST_POSTGRES_URL is set.
func BenchmarkIssueCertificate(b *testing.B) {
	sqlite := func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "bench.db") }
	for _, db := range []struct {
		name string
		url  func(b *testing.B) string
	}{{"SQLite", sqlite}, {"Postgres", func(b *testing.B) string { return storetest.PostgresURL(b) }}} {
		b.Run(db.name+"/Serial", func(b *testing.B) { benchIssue(b, db.url(b), false) })
		b.Run(db.name+"/Parallel", func(b *testing.B) { benchIssue(b, db.url(b), true) })
	}
}

func benchIssue(b *testing.B, url string, parallel bool) {
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	if err := s.CreatePerson(ctx, store.Person{PINFL: "30101851234567", GivenName: "A", Surname: "B", BirthDate: now, CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		if err := s.CreateEnrollment(ctx, store.Enrollment{ID: fmt.Sprint("e", i), CodeHash: make([]byte, 32), PINFL: "30101851234567",
			Profile: "citizen", MaxAttempts: 5, ExpiresAt: now.Add(time.Hour), CreatedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	der := make([]byte, 700)
	issue := func(i int) error {
		c := store.Certificate{Serial: fmt.Sprintf("%032x", i), Issuer: "issuing", PINFL: "30101851234567", Profile: "citizen",
			EnrollmentID: fmt.Sprint("e", i), NotBefore: now, NotAfter: now.Add(time.Hour), DER: der, Status: store.StatusGood, CreatedAt: now}
		ev := store.AuditEvent{Time: now, Actor: "enrollment", Action: "certificate.issue", Subject: c.Serial, Details: `{"profile":"citizen"}`}
		return s.IssueCertificate(ctx, c, c.EnrollmentID, now, ev)
	}
	b.ResetTimer()
	if !parallel {
		for i := range b.N {
			if err := issue(i); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		var next atomic.Int64
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := issue(int(next.Add(1) - 1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "issues/s")
}
