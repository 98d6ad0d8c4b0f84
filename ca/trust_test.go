package ca

import (
	"context"
	"math/big"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/ca/responder"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/trust"
)

// TestRecordStatus walks one certificate through the statuses a record
// can hold: the trust source and the OCSP answer read the same record
// through the one mapping (a hold is suspended, and OCSP says revoked
// with certificateHold).
func TestRecordStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cert := f.enrollN(t, 1)[0]
	serial := SerialHex(cert.SerialNumber)
	var _ trust.StatusSource = f.a
	steps := []struct {
		name   string
		change func() error
		state  trust.State
		ocsp   int
		reason int
	}{
		{"issued", func() error { return nil }, trust.Good, responder.Good, 0},
		{"suspended", func() error { _, err := f.a.Suspend(ctx, f.admin, serial); return err }, trust.Suspended, responder.Revoked, ocsp.CertificateHold},
		{"resumed", func() error { _, err := f.a.Resume(ctx, f.admin, serial); return err }, trust.Good, responder.Good, 0},
		{"revoked", func() error { _, err := f.a.Revoke(ctx, f.admin, serial, ReasonKeyCompromise); return err }, trust.Revoked, responder.Revoked,
			ocsp.KeyCompromise},
	}
	for _, s := range steps {
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		st, err := f.a.Status(ctx, cert, nil)
		if err != nil || st.State != s.state || st.Source != trust.SourceRecords {
			t.Fatalf("%s: Status = %+v, %v; want %s", s.name, st, err, s.state)
		}
		if s.state != trust.Good && (st.Time.IsZero() || int(st.Reason) != s.reason) {
			t.Fatalf("%s: Status = %+v; want a time and reason %d", s.name, st, s.reason)
		}
		cs, err := f.a.OCSPStatus(ctx, cert.SerialNumber)
		if err != nil || cs.Status != s.ocsp || cs.Reason != s.reason || (s.ocsp == responder.Revoked) != !cs.RevokedAt.IsZero() {
			t.Fatalf("%s: OCSPStatus = %+v, %v", s.name, cs, err)
		}
		if w := trust.RuleFor(trust.UseDisplay, RecordState(mustRecord(t, f, serial))).Word; w != string(s.state) {
			t.Fatalf("%s: displayed as %q", s.name, w)
		}
	}
	unknown := *cert
	unknown.SerialNumber = big.NewInt(7)
	if st, err := f.a.Status(ctx, &unknown, nil); err != nil || st.State != trust.Unknown {
		t.Fatalf("a serial never issued: %+v, %v", st, err)
	}
}

func mustRecord(t *testing.T, f *fixture, serial string) store.Status {
	t.Helper()
	c, err := f.a.Certificate(context.Background(), f.admin, serial)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}
