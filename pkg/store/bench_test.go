package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// BenchmarkIssueCertificate is the issuance transaction on SQLite: claim
// the enrollment, insert the certificate and its audit entry.
func BenchmarkIssueCertificate(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	_ = s.CreatePerson(ctx, store.Person{PINFL: "30101851234567", GivenName: "A", Surname: "B", BirthDate: now, CreatedAt: now})
	for i := range b.N {
		_ = s.CreateEnrollment(ctx, store.Enrollment{ID: fmt.Sprint("e", i), CodeHash: make([]byte, 32), PINFL: "30101851234567",
			Profile: "citizen", MaxAttempts: 5, ExpiresAt: now.Add(time.Hour), CreatedAt: now})
	}
	der := make([]byte, 700)
	b.ResetTimer()
	for i := range b.N {
		c := store.Certificate{Serial: fmt.Sprintf("%032x", i), Issuer: "issuing", PINFL: "30101851234567", Profile: "citizen",
			NotBefore: now, NotAfter: now.Add(time.Hour), DER: der, Status: store.StatusGood, CreatedAt: now}
		ev := store.AuditEvent{Time: now, Actor: "enrollment", Action: "certificate.issue", Subject: c.Serial, Details: `{"profile":"citizen"}`}
		if err := s.IssueCertificate(ctx, c, fmt.Sprint("e", i), now, ev); err != nil {
			b.Fatal(err)
		}
	}
}
