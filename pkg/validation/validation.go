// Package validation validates CMS/CAdES signatures and writes a report
// per signer with the ETSI EN 319 102-1 indication (TOTAL-PASSED,
// TOTAL-FAILED, INDETERMINATE) and sub-indication, the signer's identity,
// the claimed signing time, the best proof of existence, the chain, the
// revocation data used and every check made, under a validation policy
// held as data (Policy).
//
// The signer-claimed signing time is never proof of existence; a valid
// signature time-stamp is (its token's own chain is validated at its
// time). A certificate revoked after a proven signing time passes; revoked
// without proof of earlier existence is INDETERMINATE REVOKED_NO_POE. A
// status that cannot be learnt is INDETERMINATE TRY_LATER, never a bare
// failure. Nothing is fetched for a certificate before its chain is
// validated.
package validation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/ident"
)

// Indications and sub-indications (ETSI EN 319 102-1 §5.1).
const (
	TotalPassed   = "TOTAL-PASSED"
	TotalFailed   = "TOTAL-FAILED"
	Indeterminate = "INDETERMINATE"

	FormatFailure             = "FORMAT_FAILURE"
	HashFailure               = "HASH_FAILURE"
	SigCryptoFailure          = "SIG_CRYPTO_FAILURE"
	Revoked                   = "REVOKED"
	RevokedNoPOE              = "REVOKED_NO_POE"
	NoCertificateChainFound   = "NO_CERTIFICATE_CHAIN_FOUND"
	NoSigningCertificateFound = "NO_SIGNING_CERTIFICATE_FOUND"
	OutOfBoundsNoPOE          = "OUT_OF_BOUNDS_NO_POE"
	TryLater                  = "TRY_LATER"
	CryptoConstraintsNoPOE    = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	ChainConstraintsFailure   = "CHAIN_CONSTRAINTS_FAILURE"
)

// Status is what a status source knows of a certificate.
type Status struct {
	State     string    // "good", "revoked" (suspensions too), "unknown"
	RevokedAt time.Time // when revoked
	Source    string    // "ca-records", "ocsp", ...
}

// StatusSource answers for the certificates of one anchor, after their
// chain has been validated. An error means the status cannot be learnt
// now (TRY_LATER).
type StatusSource interface {
	Status(ctx context.Context, cert, issuer *x509.Certificate) (Status, error)
}

// Anchor is a trusted CA.
type Anchor struct {
	Name          string
	Root          *x509.Certificate
	Intermediates []*x509.Certificate
	Status        StatusSource // nil: status unavailable (TRY_LATER)
}

// Validator validates signatures.
type Validator struct {
	Anchors []Anchor
	Policy  *Policy
	Now     func() time.Time // nil: time.Now

	once  sync.Once
	pools []*x509.CertPool
}

// Input is one validation request.
type Input struct {
	Signature []byte // DER CMS SignedData
	Document  []byte // the detached document; nil if the signature carries it
	// Digests of the detached document instead of the document (a
	// streamed upload, or a decision registered by its hash): by
	// crypto.SHA256, SHA384, SHA512.
	Digests map[crypto.Hash][]byte
	Time    time.Time // validation time; zero: now
}

// Report is the result, the same for the same input, policy and time.
type Report struct {
	Policy         string         `json:"policy"`
	ValidationTime time.Time      `json:"validation_time"`
	Indication     string         `json:"indication"` // the worst of the signers'
	SubIndication  string         `json:"sub_indication,omitempty"`
	DocumentSHA256 string         `json:"document_sha256,omitempty"`
	Detached       bool           `json:"detached"`
	Signers        []SignerReport `json:"signers"`
}

// SignerReport is one signature's result.
type SignerReport struct {
	Indication         string      `json:"indication"`
	SubIndication      string      `json:"sub_indication,omitempty"`
	Signer             *SignerID   `json:"signer,omitempty"`
	ClaimedSigningTime *time.Time  `json:"claimed_signing_time,omitempty"`
	BestSignatureTime  time.Time   `json:"best_signature_time"`
	ProofOfExistence   string      `json:"proof_of_existence"` // "signature-timestamp" or "validation-time"
	Timestamp          *TSReport   `json:"timestamp,omitempty"`
	Chain              []CertInfo  `json:"chain,omitempty"`
	Revocation         *Revocation `json:"revocation,omitempty"`
	Checks             []Check     `json:"checks"`
}

// SignerID is who signed, from the certificate.
type SignerID struct {
	Name         string `json:"name"`
	PINFL        string `json:"pinfl,omitempty"`
	Organization string `json:"organization,omitempty"`
	TIN          string `json:"tin,omitempty"`
	Title        string `json:"title,omitempty"`
	Subject      string `json:"subject"`
	Serial       string `json:"serial"`
	Issuer       string `json:"issuer"`
}

// CertInfo is one certificate of the chain.
type CertInfo struct {
	Subject   string    `json:"subject"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"`
}

// Revocation is the status data used.
type Revocation struct {
	State     string     `json:"state"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Source    string     `json:"source"`
	Anchor    string     `json:"anchor"`
}

// TSReport is the signature time-stamp used as proof of existence.
type TSReport struct {
	Time   time.Time `json:"time"`
	Serial string    `json:"serial"`
	TSA    string    `json:"tsa"`
	Valid  bool      `json:"valid"`
	Detail string    `json:"detail,omitempty"`
}

// Check is one constraint's result.
type Check struct {
	Constraint string `json:"constraint"`
	Level      Level  `json:"level"`
	Result     string `json:"result"` // passed, failed, skipped
	Detail     string `json:"detail,omitempty"`
}

var rank = map[string]int{TotalPassed: 0, Indeterminate: 1, TotalFailed: 2}

// Validate validates every signer of in.Signature.
func (v *Validator) Validate(ctx context.Context, in Input) *Report {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	vt := in.Time
	if vt.IsZero() {
		vt = now()
	}
	vt = vt.UTC().Truncate(time.Second)
	rep := &Report{Policy: v.Policy.Name, ValidationTime: vt, Detached: in.Document != nil || in.Digests != nil}
	if in.Document != nil {
		sum := sha256.Sum256(in.Document)
		rep.DocumentSHA256 = hex.EncodeToString(sum[:])
	} else if d := in.Digests[crypto.SHA256]; d != nil {
		rep.DocumentSHA256 = hex.EncodeToString(d)
	}
	var signed *cms.Signed
	var err error
	if in.Digests != nil && in.Document == nil {
		signed, err = cms.ParseDigests(in.Signature, in.Digests)
	} else {
		signed, err = cms.Parse(in.Signature, in.Document)
	}
	if err != nil {
		rep.Indication, rep.SubIndication = TotalFailed, FormatFailure
		rep.Signers = []SignerReport{{Indication: TotalFailed, SubIndication: FormatFailure, BestSignatureTime: vt, ProofOfExistence: "validation-time",
			Checks: []Check{{Constraint: CFormat, Level: Fail, Result: "failed", Detail: err.Error()}}}}
		return rep
	}
	rep.Indication = TotalPassed
	for _, s := range signed.Signers {
		sr := v.signer(ctx, signed, s, vt)
		if rank[sr.Indication] > rank[rep.Indication] {
			rep.Indication, rep.SubIndication = sr.Indication, sr.SubIndication
		}
		rep.Signers = append(rep.Signers, sr)
	}
	return rep
}

// outcome collects checks and the first decisive failure.
type outcome struct {
	r       *SignerReport
	p       *Policy
	decided bool
}

// check records a constraint; a failed FAIL-level constraint decides the
// indication (the first one does).
func (o *outcome) check(c string, ok bool, ind, sub, detail string) bool {
	l := o.p.level(c)
	if l == Ignore {
		o.r.Checks = append(o.r.Checks, Check{Constraint: c, Level: l, Result: "skipped"})
		return true
	}
	res := "passed"
	if !ok {
		res = "failed"
		if l == Fail && !o.decided {
			o.decided = true
			o.r.Indication, o.r.SubIndication = ind, sub
		}
	}
	o.r.Checks = append(o.r.Checks, Check{Constraint: c, Level: l, Result: res, Detail: detail})
	return ok || l != Fail
}

func (v *Validator) signer(ctx context.Context, sd *cms.Signed, s cms.Signer, vt time.Time) SignerReport {
	r := SignerReport{Indication: TotalPassed, BestSignatureTime: vt, ProofOfExistence: "validation-time"}
	o := &outcome{r: &r, p: v.Policy}
	if !s.SigningTime.IsZero() {
		t := s.SigningTime
		r.ClaimedSigningTime = &t
	}
	o.check(CFormat, true, "", "", "DER CMS SignedData")
	if s.Certificate == nil || errors.Is(s.Err, cms.ErrMalformed) && s.Certificate == nil {
		o.check(CSignature, false, Indeterminate, NoSigningCertificateFound, "the signer's certificate is not in the signature")
		return r
	}
	c := s.Certificate
	id := ident.FromCertificate(c)
	r.Signer = &SignerID{Name: c.Subject.CommonName, PINFL: id.PINFL, Organization: id.Organization, TIN: id.TIN, Title: id.Title,
		Subject: c.Subject.String(), Serial: c.SerialNumber.Text(16), Issuer: c.Issuer.String()}
	switch {
	case errors.Is(s.Err, cms.ErrDigest):
		o.check(CMessageDigest, false, TotalFailed, HashFailure, "the document is not the one signed")
		return r
	case errors.Is(s.Err, cms.ErrUnsupported):
		o.check(CAlgorithm, false, Indeterminate, CryptoConstraintsNoPOE, s.Err.Error())
		return r
	case errors.Is(s.Err, cms.ErrContentType):
		o.check(CContentType, false, TotalFailed, FormatFailure, s.Err.Error())
		return r
	case errors.Is(s.Err, cms.ErrSignature):
		o.check(CMessageDigest, true, "", "", "")
		o.check(CSignature, false, TotalFailed, SigCryptoFailure, "the signature value does not verify")
		return r
	case s.Err != nil:
		o.check(CFormat, false, TotalFailed, FormatFailure, s.Err.Error())
		return r
	}
	o.check(CContentType, true, "", "", "")
	o.check(CMessageDigest, true, "", "", s.DigestAlgorithm)
	o.check(CSignature, true, "", "", "")
	weak := ""
	if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		weak = fmt.Sprintf("RSA key of %d bits", k.N.BitLen())
	}
	o.check(CAlgorithm, weak == "", Indeterminate, CryptoConstraintsNoPOE, weak)
	certHash := sha256.Sum256(c.Raw)
	switch {
	case s.SigningCertV2 == nil:
		o.check(CSigningCertRef, false, TotalFailed, FormatFailure, "no signing-certificate-v2 attribute (CAdES baseline requires it)")
	case !bytes.Equal(s.SigningCertV2, certHash[:]):
		o.check(CSigningCertRef, false, Indeterminate, NoSigningCertificateFound, "signing-certificate-v2 names another certificate")
	default:
		o.check(CSigningCertRef, true, "", "", "")
	}
	o.check(CSigningTime, s.SigningTime.IsZero() == false, TotalFailed, FormatFailure, "claimed, not proof")

	// Proof of existence: the earliest valid signature time-stamp.
	for _, tok := range s.Timestamps {
		ts := v.timestamp(ctx, tok, s.Signature)
		if ts.Valid && (r.Timestamp == nil || !r.Timestamp.Valid || ts.Time.Before(r.Timestamp.Time)) {
			t := ts
			r.Timestamp = &t
		} else if r.Timestamp == nil {
			t := ts
			r.Timestamp = &t
		}
	}
	if r.Timestamp != nil && r.Timestamp.Valid {
		r.BestSignatureTime, r.ProofOfExistence = r.Timestamp.Time, "signature-timestamp"
		o.check(CSignatureTimeStamp, true, "", "", "time-stamped at "+r.Timestamp.Time.Format(time.RFC3339))
	} else {
		detail := "no signature time-stamp"
		if r.Timestamp != nil {
			detail = "time-stamp not valid: " + r.Timestamp.Detail
		}
		o.check(CSignatureTimeStamp, false, Indeterminate, CryptoConstraintsNoPOE, detail)
	}
	best := r.BestSignatureTime

	// Chain, at a time inside the certificate's validity (validity is a
	// separate check, against the best signature time).
	at := best
	if at.After(c.NotAfter) {
		at = c.NotAfter
	}
	if at.Before(c.NotBefore) {
		at = c.NotBefore
	}
	anchor, chain := v.chain(c, sd.Certificates, at)
	if anchor == nil {
		o.check(CChain, false, Indeterminate, NoCertificateChainFound, "the certificate does not chain to a trusted authority")
		return r
	}
	for _, x := range chain {
		h := sha256.Sum256(x.Raw)
		r.Chain = append(r.Chain, CertInfo{Subject: x.Subject.String(), Serial: x.SerialNumber.Text(16), NotBefore: x.NotBefore.UTC(),
			NotAfter: x.NotAfter.UTC(), SHA256: hex.EncodeToString(h[:])})
	}
	o.check(CChain, true, "", "", anchor.Name)
	o.check(CKeyUsage, c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) != 0, TotalFailed, ChainConstraintsFailure,
		"needs digitalSignature or nonRepudiation")
	inBounds := !best.Before(c.NotBefore) && !best.After(c.NotAfter)
	o.check(CValidity, inBounds, Indeterminate, OutOfBoundsNoPOE, fmt.Sprintf("valid %s to %s; best signature time %s",
		c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), best.Format(time.RFC3339)))

	// Revocation, only now that the chain holds: the status source, else
	// an OCSP response the signature carries (B-LT) issued after the best
	// signature time.
	var st Status
	err := errors.New("no status source for " + anchor.Name)
	if anchor.Status != nil {
		st, err = anchor.Status.Status(ctx, c, chain[1])
	}
	if err != nil {
		if emb, ok := embeddedStatus(sd.OCSPResponses, c, chain[1], best); ok {
			st, err = emb, nil
		}
	}
	if err != nil {
		o.check(CRevocation, false, Indeterminate, TryLater, "status unavailable: "+err.Error())
		return r
	}
	rv := &Revocation{State: st.State, Source: st.Source, Anchor: anchor.Name}
	if !st.RevokedAt.IsZero() {
		t := st.RevokedAt.UTC()
		rv.RevokedAt = &t
	}
	r.Revocation = rv
	switch st.State {
	case "good":
		o.check(CRevocation, true, "", "", "good")
	case "revoked":
		if r.ProofOfExistence == "signature-timestamp" && best.Before(st.RevokedAt) {
			o.check(CRevocation, true, "", "", "revoked at "+st.RevokedAt.UTC().Format(time.RFC3339)+", after the proven signing time")
		} else {
			o.check(CRevocation, false, Indeterminate, RevokedNoPOE, "revoked at "+st.RevokedAt.UTC().Format(time.RFC3339)+" with no proof the signature existed before")
		}
	default:
		o.check(CRevocation, false, Indeterminate, TryLater, "the authority does not know the certificate")
	}
	return r
}

// verifiedPools holds, per anchor, its intermediates that verified against
// its root, checked once: a leaf is verified against them directly (their
// and the root's validity still checked at the time asked), which saves
// the root's signature check (P-384 in production) on every validation.
func (v *Validator) verifiedPools() []*x509.CertPool {
	v.once.Do(func() {
		v.pools = make([]*x509.CertPool, len(v.Anchors))
		for i, a := range v.Anchors {
			p := x509.NewCertPool()
			for _, ic := range a.Intermediates {
				if ic.IsCA && ic.CheckSignatureFrom(a.Root) == nil {
					p.AddCert(ic)
				}
			}
			v.pools[i] = p
		}
	})
	return v.pools
}

// chain finds an anchor and a chain for c at time at.
func (v *Validator) chain(c *x509.Certificate, extra []*x509.Certificate, at time.Time) (*Anchor, []*x509.Certificate) {
	pools := v.verifiedPools()
	for i := range v.Anchors {
		a := &v.Anchors[i]
		chains, err := c.Verify(x509.VerifyOptions{Roots: pools[i], CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err == nil && len(chains[0]) == 2 {
			inter := chains[0][1]
			if !at.Before(inter.NotBefore) && !at.After(inter.NotAfter) && !at.Before(a.Root.NotBefore) && !at.After(a.Root.NotAfter) {
				return a, []*x509.Certificate{c, inter, a.Root}
			}
		}
	}
	for i := range v.Anchors {
		a := &v.Anchors[i]
		roots := x509.NewCertPool()
		roots.AddCert(a.Root)
		inter := x509.NewCertPool()
		for _, x := range slices.Concat(a.Intermediates, extra) {
			inter.AddCert(x)
		}
		chains, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err == nil && len(chains[0]) >= 2 {
			return a, chains[0]
		}
	}
	return nil, nil
}

var oidTSTInfo = []int{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// timestamp validates a signature time-stamp token over sig: its CMS
// signature, the imprint, and the TSA's chain at the stamped time with the
// timeStamping usage.
func (v *Validator) timestamp(ctx context.Context, tok, sig []byte) TSReport {
	bad := func(format string, args ...any) TSReport { return TSReport{Detail: fmt.Sprintf(format, args...)} }
	signed, err := cms.Verify(tok, nil)
	if err != nil || len(signed.Signers) != 1 {
		return bad("the token's signature does not verify")
	}
	ts, err := timestamp.Parse(tok)
	if err != nil {
		return bad("not a time-stamp token: %v", err)
	}
	out := TSReport{Time: ts.Time.UTC(), Serial: ts.SerialNumber.Text(16)}
	h := ts.HashAlgorithm
	if h != crypto.SHA256 && h != crypto.SHA384 && h != crypto.SHA512 {
		out.Detail = "weak imprint hash"
		return out
	}
	d := h.New()
	d.Write(sig)
	if !bytes.Equal(d.Sum(nil), ts.HashedMessage) {
		out.Detail = "the token is for another signature"
		return out
	}
	tsa := signed.Signers[0].Certificate
	out.TSA = tsa.Subject.String()
	if len(tsa.ExtKeyUsage) != 1 || tsa.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		out.Detail = "the signer is not a time-stamping authority"
		return out
	}
	var anchor *Anchor
	var chain []*x509.Certificate
	for i := range v.Anchors {
		a := &v.Anchors[i]
		roots := x509.NewCertPool()
		roots.AddCert(a.Root)
		inter := x509.NewCertPool()
		for _, x := range slices.Concat(a.Intermediates, signed.Certificates) {
			inter.AddCert(x)
		}
		if chains, err := tsa.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: out.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err == nil && len(chains[0]) >= 2 {
			anchor, chain = a, chains[0]
			break
		}
	}
	if anchor == nil {
		out.Detail = "the TSA does not chain to a trusted authority at the stamped time"
		return out
	}
	// A TSA certificate revoked before the stamped time proves nothing.
	// An unknown status does not void the token (the TSA's key is held by
	// the authority itself); a known revocation does.
	if anchor.Status != nil {
		if st, err := anchor.Status.Status(ctx, tsa, chain[1]); err == nil && st.State == "revoked" && !st.RevokedAt.After(out.Time) {
			out.Detail = "the TSA's certificate was revoked before the stamped time"
			return out
		}
	}
	out.Valid = true
	return out
}

// embeddedStatus reads the status of c from the OCSP responses a
// signature carries: a response that verifies (signed by the issuer or its
// delegated responder) and was issued no earlier than five minutes before
// the best signature time.
func embeddedStatus(responses [][]byte, c, issuer *x509.Certificate, best time.Time) (Status, bool) {
	for _, der := range responses {
		r, err := ocsp.ParseResponseForCert(der, c, issuer)
		if err != nil || r.ThisUpdate.Before(best.Add(-5*time.Minute)) {
			continue
		}
		switch r.Status {
		case ocsp.Good:
			return Status{State: "good", Source: "embedded-ocsp"}, true
		case ocsp.Revoked:
			return Status{State: "revoked", RevokedAt: r.RevokedAt, Source: "embedded-ocsp"}, true
		}
	}
	return Status{}, false
}
