package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/trust"
)

// memKeys is an in-memory KeyStore for tests.
type memKeys struct {
	mu   sync.Mutex
	keys map[string]crypto.Signer
}

func (m *memKeys) Load(uri string) (crypto.Signer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[uri]
	if !ok {
		return nil, fmt.Errorf("no key %s", uri)
	}
	return k, nil
}

func (m *memKeys) Create(uri, alg string) (crypto.Signer, error) {
	curve := elliptic.P256()
	if alg == "ecdsa-p384" {
		curve = elliptic.P384()
	}
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[uri] = k
	return k, nil
}

func (m *memKeys) Exists(uri string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.keys[uri]
	return ok, nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	a     *Authority
	st    store.Store
	clock *fakeClock
	admin Actor
	root  *x509.Certificate
	hier  *Hierarchy
}

var testProfiles = map[string]Profile{
	"citizen": {Name: "citizen", Policy: asn1.ObjectIdentifier{2, 999, 860, 1, 1}, Validity: 2 * year,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}, Renewable: true},
	"official": {Name: "official", Policy: asn1.ObjectIdentifier{2, 999, 860, 1, 3}, Validity: year,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, Organization: true, Title: true, Renewable: true},
}

func newFixture(t *testing.T, opts ...func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "ca.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &fakeClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	linter, err := NewLinter(nil)
	if err != nil {
		t.Fatal(err)
	}
	ks := &memKeys{keys: map[string]crypto.Signer{}}
	h, err := LoadHierarchy(HierarchyConfig{CertDir: t.TempDir(), Keys: ks, RootKey: "root", IssuingKey: "issuing",
		Organization: "Yagona Test", RootName: "Test Root", IssuingName: "Test Issuing", Linter: linter, Now: clock.Now, URLs: rootURLs})
	if err != nil {
		t.Fatal(err)
	}
	iss, err := NewIssuer("issuing", h.Issuing, h.IssuingKey, linter)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuer: iss, Roots: []*x509.Certificate{h.Root}, Profiles: testProfiles,
		URLs: URLs{OCSP: "http://127.0.0.1/ocsp", CAIssuers: "http://127.0.0.1/pki/issuing.cer", CRL: "http://127.0.0.1/crl/issuing.crl"},
		Now:  clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := New(cfg, st, cache.NewMemory(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{a: a, st: st, clock: clock, admin: Actor{Admin: true, ID: "admin"}, root: h.Root, hier: h}
}

func (f *fixture) person(t *testing.T, pinfl string) {
	t.Helper()
	if _, err := f.a.RegisterPerson(context.Background(), f.admin, PersonInput{PINFL: pinfl, GivenName: "Aziz", Surname: "Rahimov", BirthDate: "1985-01-02"}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) enrollment(t *testing.T, pinfl string) EnrollmentCode {
	t.Helper()
	e, err := f.a.CreateEnrollment(context.Background(), f.admin, EnrollmentInput{PINFL: pinfl, Profile: "citizen"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func csrPEM(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func errCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return fmt.Sprintf("not a ca.Error: %v", err)
}

func TestEnrollSubjectFromRecord(t *testing.T) {
	f := newFixture(t)
	f.person(t, "30101851234567")
	e := f.enrollment(t, "30101851234567")
	key := newKey(t)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkixName("Mallory")}, key)
	iss, err := f.a.Enroll(context.Background(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), e.Code)
	if err != nil {
		t.Fatal(err)
	}
	c := iss.Cert
	if c.Subject.CommonName != "Aziz Rahimov" || c.Subject.SerialNumber != "PNOUZ-30101851234567" {
		t.Errorf("subject = %s", c.Subject)
	}
	if c.SerialNumber.BitLen() < 64 || len(c.SubjectKeyId) == 0 || len(c.AuthorityKeyId) == 0 ||
		len(c.OCSPServer) != 1 || len(c.CRLDistributionPoints) != 1 || len(c.IssuingCertificateURL) != 1 || len(c.Policies) != 1 {
		t.Errorf("missing extensions: %+v", c)
	}
	v, err := trust.NewVerifier(trust.Anchor{Name: "test", Root: f.root})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(c, iss.Chain, trust.DocumentSignature, f.clock.Now()); err != nil {
		t.Error(err)
	}
}

func TestEnrollRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "30101851234567")
	good := csrPEM(t, newKey(t))
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tampered := func() []byte {
		b, _ := pem.Decode(csrPEM(t, newKey(t)))
		b.Bytes[len(b.Bytes)-3] ^= 0xff
		return pem.EncodeToMemory(b)
	}()
	cases := []struct {
		name string
		csr  []byte
		code func() string
		want string
	}{
		{"malformed code", good, func() string { return "not-a-code" }, "invalid_code"},
		{"unknown code", good, func() string { return "0000000000-00000-00000-00000-00000" }, "invalid_code"},
		{"empty csr", nil, func() string { return f.enrollment(t, "30101851234567").Code }, "bad_csr"},
		{"garbage csr", []byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), func() string { return f.enrollment(t, "30101851234567").Code }, "bad_csr"},
		{"not pem", []byte("hello"), func() string { return f.enrollment(t, "30101851234567").Code }, "bad_csr"},
		{"trailing data", append(csrPEM(t, newKey(t)), "junk"...), func() string { return f.enrollment(t, "30101851234567").Code }, "bad_csr"},
		{"bad signature", tampered, func() string { return f.enrollment(t, "30101851234567").Code }, "bad_signature"},
		{"rsa 1024", csrPEM(t, rsa1024), func() string { return f.enrollment(t, "30101851234567").Code }, "weak_key"},
		{"p224", csrPEM(t, p224), func() string { return f.enrollment(t, "30101851234567").Code }, "unsupported_key"},
		{"ed25519 accepted", csrPEM(t, edKey), func() string { return f.enrollment(t, "30101851234567").Code }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.a.Enroll(ctx, c.csr, c.code())
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got := errCode(err); got != c.want {
				t.Fatalf("code = %s, want %s (%v)", got, c.want, err)
			}
		})
	}
	// Nothing was issued by the refused requests.
	cs, _ := f.st.ListCertificates(ctx, "30101851234567")
	if len(cs) != 1 {
		t.Fatalf("%d certificates issued, want 1", len(cs))
	}
}

func TestEnrollmentCodeLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "30101851234567")

	// Used once only.
	e := f.enrollment(t, "30101851234567")
	if _, err := f.a.Enroll(ctx, csrPEM(t, newKey(t)), e.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Enroll(ctx, csrPEM(t, newKey(t)), e.Code); errCode(err) != "code_used" {
		t.Fatalf("reuse: %v", err)
	}

	// Expires.
	e = f.enrollment(t, "30101851234567")
	f.clock.Advance(8 * 24 * time.Hour)
	if _, err := f.a.Enroll(ctx, csrPEM(t, newKey(t)), e.Code); errCode(err) != "code_expired" {
		t.Fatalf("expired: %v", err)
	}

	// Brute force: wrong secrets lock the enrollment, after which even the
	// right code fails.
	e = f.enrollment(t, "30101851234567")
	wrong := e.ID + "-00000-00000-00000-00000"
	for i := 1; i <= 5; i++ {
		_, err := f.a.Enroll(ctx, csrPEM(t, newKey(t)), wrong)
		want := "invalid_code"
		if i == 5 {
			want = "too_many_attempts"
		}
		if errCode(err) != want {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := f.a.Enroll(ctx, csrPEM(t, newKey(t)), e.Code); errCode(err) != "too_many_attempts" {
		t.Fatalf("after lock: %v", err)
	}
	// Codes are forgiving to type: lower case, spaces, O for 0.
	e = f.enrollment(t, "30101851234567")
	typed := []byte(e.Code)
	for i, c := range typed {
		if c >= 'A' && c <= 'Z' {
			typed[i] = c + 32
		}
	}
	if _, err := f.a.Enroll(ctx, csrPEM(t, newKey(t)), string(typed)); err != nil {
		t.Fatalf("lower-case code: %v", err)
	}
}

func TestEnrollConcurrentOneCertificate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "30101851234567")
	e := f.enrollment(t, "30101851234567")
	const n = 20
	csrs := make([][]byte, n)
	for i := range csrs {
		csrs[i] = csrPEM(t, newKey(t))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.a.Enroll(ctx, csrs[i], e.Code)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errCode(err) != "code_used":
			t.Errorf("unexpected error: %v", err)
		}
	}
	cs, _ := f.st.ListCertificates(ctx, "30101851234567")
	if ok != 1 || len(cs) != 1 {
		t.Fatalf("%d successes, %d certificates; want 1 and 1", ok, len(cs))
	}
}

func TestStatusChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "30101851234567")
	f.person(t, "30101851234568")
	iss, err := f.a.Enroll(ctx, csrPEM(t, newKey(t)), f.enrollment(t, "30101851234567").Code)
	if err != nil {
		t.Fatal(err)
	}
	serial := SerialHex(iss.Cert.SerialNumber)
	holder := Actor{ID: serial, PINFL: "30101851234567"}
	stranger := Actor{ID: "1", PINFL: "30101851234568"}

	steps := []struct {
		name   string
		do     func() (store.Certificate, error)
		want   string // error code, "" for success
		status store.Status
	}{
		{"stranger cannot suspend", func() (store.Certificate, error) { return f.a.Suspend(ctx, stranger, serial) }, "not_found", ""},
		{"holder suspends", func() (store.Certificate, error) { return f.a.Suspend(ctx, holder, serial) }, "", store.StatusHold},
		{"holder cannot resume", func() (store.Certificate, error) { return f.a.Resume(ctx, holder, serial) }, "forbidden", ""},
		{"suspend twice", func() (store.Certificate, error) { return f.a.Suspend(ctx, f.admin, serial) }, "bad_status", ""},
		{"officer resumes", func() (store.Certificate, error) { return f.a.Resume(ctx, f.admin, serial) }, "", store.StatusGood},
		{"resume good", func() (store.Certificate, error) { return f.a.Resume(ctx, f.admin, serial) }, "bad_status", ""},
		{"hold as revoke reason", func() (store.Certificate, error) { return f.a.Revoke(ctx, f.admin, serial, ReasonCertificateHold) }, "bad_reason", ""},
		{"holder cannot withdraw privilege", func() (store.Certificate, error) { return f.a.Revoke(ctx, holder, serial, ReasonPrivilegeWithdrawn) }, "forbidden", ""},
		{"holder revokes", func() (store.Certificate, error) { return f.a.Revoke(ctx, holder, serial, ReasonKeyCompromise) }, "", store.StatusRevoked},
		{"revoked stays revoked", func() (store.Certificate, error) { return f.a.Resume(ctx, f.admin, serial) }, "bad_status", ""},
		{"unknown serial", func() (store.Certificate, error) { return f.a.Revoke(ctx, f.admin, "abcdef", ReasonUnspecified) }, "not_found", ""},
		{"bad serial", func() (store.Certificate, error) { return f.a.Revoke(ctx, f.admin, "xyz", ReasonUnspecified) }, "bad_serial", ""},
	}
	for _, s := range steps {
		c, err := s.do()
		if s.want != "" {
			if errCode(err) != s.want {
				t.Fatalf("%s: got %v, want %s", s.name, err, s.want)
			}
			continue
		}
		if err != nil || c.Status != s.status {
			t.Fatalf("%s: %v, status %s", s.name, err, c.Status)
		}
	}
	crl, err := f.a.CRL(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(crl.DER)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.RevokedCertificateEntries) != 1 || rl.RevokedCertificateEntries[0].ReasonCode != ReasonKeyCompromise ||
		rl.RevokedCertificateEntries[0].SerialNumber.Cmp(iss.Cert.SerialNumber) != 0 {
		t.Fatalf("crl entries = %+v", rl.RevokedCertificateEntries)
	}
	if err := rl.CheckSignatureFrom(f.a.Issuer().Cert); err != nil {
		t.Fatal(err)
	}
}

func TestCRLNumbersGrow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var last int64
	for range 3 {
		c, err := f.a.IssueCRL(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.Number <= last {
			t.Fatalf("crl number %d after %d", c.Number, last)
		}
		last = c.Number
	}
}

func TestRenew(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.person(t, "30101851234567")
	oldKey := newKey(t)
	iss, err := f.a.Enroll(ctx, csrPEM(t, oldKey), f.enrollment(t, "30101851234567").Code)
	if err != nil {
		t.Fatal(err)
	}
	chain := []*x509.Certificate{iss.Cert, iss.Chain[0]}
	_, rec, err := f.a.AuthenticateHolder(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Renew(ctx, iss.Cert, rec, csrPEM(t, oldKey)); errCode(err) != "key_reuse" {
		t.Fatalf("same key: %v", err)
	}
	renewed, err := f.a.Renew(ctx, iss.Cert, rec, csrPEM(t, newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Cert.Subject.String() != iss.Cert.Subject.String() {
		t.Fatalf("subject changed: %s", renewed.Cert.Subject)
	}
	// A suspended certificate does not authenticate; nor does an expired one.
	if _, err := f.a.Suspend(ctx, f.admin, rec.Serial); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.a.AuthenticateHolder(ctx, chain); errCode(err) != "bad_client_certificate" {
		t.Fatalf("suspended: %v", err)
	}
	f.clock.Advance(3 * year)
	if _, _, err := f.a.AuthenticateHolder(ctx, []*x509.Certificate{renewed.Cert, renewed.Chain[0]}); errCode(err) != "bad_client_certificate" {
		t.Fatalf("expired: %v", err)
	}
}

func TestRegistrationValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cases := []struct {
		name string
		in   PersonInput
		want string
	}{
		{"short pinfl", PersonInput{PINFL: "123", GivenName: "A", Surname: "B", BirthDate: "1990-01-01"}, "invalid_pinfl"},
		{"letters in pinfl", PersonInput{PINFL: "3010185123456a", GivenName: "A", Surname: "B", BirthDate: "1990-01-01"}, "invalid_pinfl"},
		{"no surname", PersonInput{PINFL: "30101851234567", GivenName: "A", BirthDate: "1990-01-01"}, "invalid_name"},
		{"control char", PersonInput{PINFL: "30101851234567", GivenName: "A\x00", Surname: "B", BirthDate: "1990-01-01"}, "invalid_name"},
		{"future birth", PersonInput{PINFL: "30101851234567", GivenName: "A", Surname: "B", BirthDate: "2999-01-01"}, "invalid_birth_date"},
		{"bad date", PersonInput{PINFL: "30101851234567", GivenName: "A", Surname: "B", BirthDate: "01.01.1990"}, "invalid_birth_date"},
		{"ok", PersonInput{PINFL: "30101851234567", GivenName: "Oʻgʻiloy", Surname: "Toʻxtayeva", BirthDate: "1990-01-01"}, ""},
		{"duplicate", PersonInput{PINFL: "30101851234567", GivenName: "A", Surname: "B", BirthDate: "1990-01-01"}, "already_exists"},
	}
	for _, c := range cases {
		_, err := f.a.RegisterPerson(ctx, f.admin, c.in)
		if c.want == "" && err != nil || c.want != "" && errCode(err) != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := f.a.RegisterOrganization(ctx, f.admin, "12345678", "X"); errCode(err) != "invalid_tin" {
		t.Errorf("tin: %v", err)
	}
	if _, err := f.a.CreateEnrollment(ctx, f.admin, EnrollmentInput{PINFL: "30101851234567", Profile: "official"}); errCode(err) != "invalid_tin" {
		t.Errorf("official without tin: %v", err)
	}
	if _, err := f.a.CreateEnrollment(ctx, f.admin, EnrollmentInput{PINFL: "30101851234567", Profile: "nope"}); errCode(err) != "unknown_profile" {
		t.Errorf("unknown profile: %v", err)
	}
	if _, err := f.a.CreateEnrollment(ctx, f.admin, EnrollmentInput{PINFL: "99999999999999", Profile: "citizen"}); errCode(err) != "not_found" {
		t.Errorf("unknown person: %v", err)
	}
}

func pkixName(cn string) pkix.Name { return pkix.Name{CommonName: cn} }
