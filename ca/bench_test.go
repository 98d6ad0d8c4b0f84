package ca

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkEnroll measures issuance without HTTP: code check, CSR check,
// lint, sign and the SQLite transaction. Setup is untimed.
func BenchmarkEnroll(b *testing.B) {
	f := newFixture(&testing.T{})
	ctx := context.Background()
	n := b.N
	codes, csrs := make([]string, n), make([][]byte, n)
	for i := range n {
		pinfl := fmt.Sprintf("7%013d", i)
		if _, err := f.a.RegisterPerson(ctx, f.admin, PersonInput{PINFL: pinfl, GivenName: "A", Surname: "B", BirthDate: "1990-01-01"}); err != nil {
			b.Fatal(err)
		}
		e, err := f.a.CreateEnrollment(ctx, f.admin, EnrollmentInput{PINFL: pinfl, Profile: "citizen"})
		if err != nil {
			b.Fatal(err)
		}
		codes[i], csrs[i] = e.Code, csrPEM(&testing.T{}, newKey(&testing.T{}))
	}
	b.ResetTimer()
	for i := range n {
		if _, err := f.a.Enroll(ctx, csrs[i], codes[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLint is the cost of the pre-issuance lint alone.
func BenchmarkLint(b *testing.B) {
	f := newFixture(&testing.T{})
	f.person(&testing.T{}, "30101851234567")
	iss, err := f.a.Enroll(context.Background(), csrPEM(&testing.T{}, newKey(&testing.T{})), f.enrollment(&testing.T{}, "30101851234567").Code)
	if err != nil {
		b.Fatal(err)
	}
	l, _ := NewLinter(nil)
	for b.Loop() {
		if err := l.Certificate(iss.Cert.Raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseCSR is the cost of CSR intake (parse, key check, signature).
func BenchmarkParseCSR(b *testing.B) {
	csr := csrPEM(&testing.T{}, newKey(&testing.T{}))
	for b.Loop() {
		if _, err := ParseCSR(csr); err != nil {
			b.Fatal(err)
		}
	}
}
