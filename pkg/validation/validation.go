// Package validation validates CMS/CAdES signatures and writes a report
// per signer with the ETSI EN 319 102-1 indication (TOTAL-PASSED,
// TOTAL-FAILED, INDETERMINATE) and sub-indication, the signer's identity,
// the claimed signing time, the best proof of existence, the chain, the
// revocation data used and every check made, under a validation policy
// held as data (Policy).
//
// Chains, purposes and statuses are the trust component's (pkg/trust):
// the signer's certificate is chained for a document signature, the TSA's
// for time-stamping, and what a status means is the trust table's
// signature and time-stamp rows.
//
// The signer-claimed signing time is never proof of existence; a valid
// signature time-stamp is (its token's own chain is validated at its
// time). A certificate revoked after a proven signing time passes; revoked
// without proof of earlier existence is INDETERMINATE REVOKED_NO_POE. A
// suspended certificate is reported as suspended: it passes like a revoked
// one when the signature is proven to exist before the suspension, and is
// INDETERMINATE TRY_LATER otherwise (the hold may be lifted or become a
// revocation). A status that cannot be learnt is INDETERMINATE TRY_LATER,
// never a bare failure. Nothing is fetched for a certificate before its
// chain is validated.
//
// A signature whose signed content (attached, or the detached document
// given) is a login statement (pkg/statement) is not a document
// signature, whatever else holds: TOTAL-FAILED FORMAT_FAILURE under the
// login_statement constraint, a check recorded only when it applies
// (docs/signatures.md says why). When only the document's digests are
// given, its first bytes (Input.Head) are what is checked.
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
	"time"

	"github.com/digitorus/timestamp"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/statement"
	"github.com/yagona/yagona/pkg/trust"
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

// Validator validates signatures.
type Validator struct {
	Trust  *trust.Verifier // the anchors, with their status sources
	Policy *Policy
	Now    func() time.Time // nil: time.Now
}

// Input is one validation request.
type Input struct {
	Signature []byte // DER CMS SignedData
	Document  []byte // the detached document; nil if the signature carries it
	// Digests of the detached document instead of the document (a
	// streamed upload, or a decision registered by its hash): by
	// crypto.SHA256, SHA384, SHA512.
	Digests map[crypto.Hash][]byte
	// Head is the start of the detached document (HeadSize bytes, or all
	// of a shorter one) when only its Digests are given: enough to
	// recognise a login statement. Nil: unknown.
	Head []byte
	Time time.Time // validation time; zero: now
}

// HeadSize is how much of a streamed document Input.Head keeps.
const HeadSize = 128

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
	// CAStatus is the status of the CAs on the path that the signature's
	// revocation data gives (B-LT); empty when it carries none for them.
	CAStatus []CAStatus `json:"ca_status,omitempty"`
	Checks   []Check    `json:"checks"`
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
	content := signed.Content
	if content == nil {
		content = in.Head
	}
	login := statement.IsLoginStatement(content)
	for _, s := range signed.Signers {
		sr := v.signer(ctx, signed, s, vt, login)
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

// signer validates one signer of sd; login is set when the signed content
// is a login statement.
func (v *Validator) signer(ctx context.Context, sd *cms.Signed, s cms.Signer, vt time.Time, login bool) SignerReport {
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
	if login {
		o.check(CLoginStatement, false, TotalFailed, FormatFailure, loginStatementDetail)
	}
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
		ts := v.timestamp(ctx, tok, s.Signature, embedded(sd, time.Time{}))
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
	v.chainAndStatus(ctx, o, sd, c)
	return r
}

// chainAndStatus checks the signer's chain, key usage, validity at the
// best signature time and, only once the chain holds, its status.
func (v *Validator) chainAndStatus(ctx context.Context, o *outcome, sd *cms.Signed, c *x509.Certificate) {
	r := o.r
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
	ch, err := v.Trust.Verify(c, sd.Certificates, trust.DocumentSignature, at)
	var notFor *trust.PurposeError
	if err != nil && !errors.As(err, &notFor) {
		o.check(CChain, false, Indeterminate, NoCertificateChainFound, "the certificate does not chain to a trusted authority")
		return
	}
	for _, x := range ch.Certs {
		h := sha256.Sum256(x.Raw)
		r.Chain = append(r.Chain, CertInfo{Subject: x.Subject.String(), Serial: x.SerialNumber.Text(16), NotBefore: x.NotBefore.UTC(),
			NotAfter: x.NotAfter.UTC(), SHA256: hex.EncodeToString(h[:])})
	}
	o.check(CChain, true, "", "", ch.Anchor.Name)
	o.check(CKeyUsage, notFor == nil, TotalFailed, ChainConstraintsFailure, "needs digitalSignature or nonRepudiation")
	inBounds := !best.Before(c.NotBefore) && !best.After(c.NotAfter)
	o.check(CValidity, inBounds, Indeterminate, OutOfBoundsNoPOE, fmt.Sprintf("valid %s to %s; best signature time %s",
		c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), best.Format(time.RFC3339)))

	// Revocation, only now that the chain holds: the anchor's status
	// source, else the revocation data the signature carries (B-LT): an
	// OCSP response issued after the best signature time, or a CRL
	// current then.
	emb := embedded(sd, best)
	st, err := ch.Status(ctx)
	if err != nil {
		if e, embErr := emb.Status(ctx, c, ch.Issuer()); embErr == nil {
			st, err = e, nil
		}
	}
	if err != nil {
		o.check(CRevocation, false, Indeterminate, TryLater, "status unavailable: "+err.Error())
		return
	}
	rv := &Revocation{State: string(st.State), Source: string(st.Source), Anchor: ch.Anchor.Name}
	if !st.Time.IsZero() {
		t := st.Time.UTC()
		rv.RevokedAt = &t
	}
	r.Revocation = rv
	var proven time.Time // when the signature is proven to exist
	if r.ProofOfExistence == "signature-timestamp" {
		proven = best
	}
	ok, sub, detail := revocationCheck(st, proven)
	o.check(CRevocation, ok, Indeterminate, sub, detail)
	checkCAs(ctx, o, ch, emb, proven)
}

// revocationSub is the sub-indication of each verdict the trust table's
// signature row gives.
var revocationSub = map[trust.Verdict]string{trust.Refuse: RevokedNoPOE, trust.TryLater: TryLater}

// revocationCheck reads st through the trust table's signature row.
func revocationCheck(st trust.Status, proven time.Time) (ok bool, sub, detail string) {
	rule := trust.RuleFor(trust.UseSignature, st.State)
	verdict := rule.Decide(st, proven, false)
	at := st.Time.UTC().Format(time.RFC3339)
	switch {
	case !rule.PassIfExistedBefore && verdict == trust.Pass:
		detail = rule.Word
	case rule.PassIfExistedBefore && verdict == trust.Pass:
		detail = rule.Word + " at " + at + ", after the proven signing time"
	case rule.PassIfExistedBefore:
		detail = rule.Word + " at " + at + " with no proof the signature existed before"
	default:
		detail = "the authority does not know the certificate"
	}
	return verdict == trust.Pass, revocationSub[verdict], detail
}

var oidTSTInfo = []int{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// timestamp validates a signature time-stamp token over sig: its CMS
// signature, the imprint, and the TSA's chain at the stamped time with the
// timeStamping usage, and its path's status (emb: the revocation data the
// signature carries, with the token's own).
func (v *Validator) timestamp(ctx context.Context, tok, sig []byte, emb trust.Embedded) TSReport {
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
	if trust.Timestamp.Check(tsa) != nil {
		out.Detail = "the signer is not a time-stamping authority"
		return out
	}
	ch, err := v.Trust.Verify(tsa, signed.Certificates, trust.Timestamp, out.Time)
	if err != nil {
		out.Detail = "the TSA does not chain to a trusted authority at the stamped time"
		return out
	}
	// A TSA certificate (or a CA on its path) revoked or suspended before
	// the stamped time proves nothing; an unknown or unavailable status
	// does not void the token (the trust table's time-stamp row).
	emb = with(emb, signed)
	emb.NotBefore = out.Time
	if detail := tsaStatus(ctx, ch, emb, out.Time); detail != "" {
		out.Detail = detail
		return out
	}
	out.Valid = true
	return out
}
