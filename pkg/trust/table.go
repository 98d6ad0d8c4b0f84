package trust

import (
	"time"

	"golang.org/x/crypto/ocsp"
)

// Use is what a certificate's status is asked for.
type Use string

// The uses.
const (
	UseLogin     Use = "login"     // a person's login; a service's or a holder's TLS client authentication
	UseSignature Use = "signature" // the signer's certificate in signature validation
	UseTimestamp Use = "timestamp" // the TSA's certificate in time-stamp validation
	UseOCSP      Use = "ocsp"      // the answer our OCSP responder gives for our own certificate
	UseDisplay   Use = "display"   // the word the command line and pages show
)

// uses lists every use, in the table's order.
var uses = []Use{UseLogin, UseSignature, UseTimestamp, UseOCSP, UseDisplay}

// Verdict is what a status allows a use to do.
type Verdict int

// The verdicts.
const (
	Pass     Verdict = iota + 1 // go on
	Refuse                      // the status forbids it
	TryLater                    // it cannot be decided now
)

func (v Verdict) String() string {
	switch v {
	case Pass:
		return "pass"
	case Refuse:
		return "refuse"
	case TryLater:
		return "try later"
	}
	return "invalid"
}

// Rule is one cell of the status table: what one state means for one use.
type Rule struct {
	Word    string  // what the use calls the state (OCSP: the certStatus it answers)
	Verdict Verdict // what the state allows, unless a condition below holds
	// PassIfExistedBefore: the object checked (a signature, a time-stamp
	// token) proven to exist before the status time passes.
	PassIfExistedBefore bool
	// PassIfFailOpen: an anchor set to fail open passes.
	PassIfFailOpen bool
	// Reason, when not zero, is the CRL reason the use gives instead of
	// the status's own (OCSP: certificateHold for a suspension).
	Reason Reason
}

// Decide applies r to st: Pass when a condition of r holds (existed, the
// time the object checked is proven to exist, is before st.Time; zero
// existed means no proof; failOpen is the anchor's flag), r.Verdict
// otherwise.
func (r Rule) Decide(st Status, existed time.Time, failOpen bool) Verdict {
	switch {
	case r.PassIfExistedBefore && !existed.IsZero() && existed.Before(st.Time):
		return Pass
	case r.PassIfFailOpen && failOpen:
		return Pass
	}
	return r.Verdict
}

// table is what each state means for each use; docs/trust.md shows it.
//
// A suspension is a revocation on hold (RFC 5280 §5.3.1): it refuses a
// login like a revocation; in validation it is reported as "suspended" and
// cannot be decided until the hold is lifted or made a revocation
// (INDETERMINATE TRY_LATER) unless the signature is proven to exist before
// it; OCSP has no word for it and answers revoked with certificateHold
// (RFC 6960 §2.2).
var table = map[Use]map[State]Rule{
	UseLogin: {Good: pass("good"), Suspended: refuse("suspended"), Revoked: refuse("revoked"), Unknown: refuse("unknown"),
		Unavailable: refuse("unavailable").unlessFailOpen()},
	UseSignature: {Good: pass("good"), Suspended: tryLater("suspended").unlessExistedBefore(),
		Revoked: refuse("revoked").unlessExistedBefore(), Unknown: tryLater("unknown"), Unavailable: tryLater("unavailable")},
	// A TSA's key is held by an authority: only a known revocation or
	// suspension before the stamped time voids its token.
	UseTimestamp: {Good: pass("good"), Suspended: refuse("suspended").unlessExistedBefore(),
		Revoked: refuse("revoked").unlessExistedBefore(), Unknown: pass("unknown"), Unavailable: pass("unavailable")},
	UseOCSP: {Good: pass("good"), Suspended: refuse("revoked").withReason(ReasonCertificateHold), Revoked: refuse("revoked"),
		Unknown: refuse("unknown"), Unavailable: tryLater("tryLater")},
	UseDisplay: {Good: pass("good"), Suspended: refuse("suspended"), Revoked: refuse("revoked"), Unknown: refuse("unknown"),
		Unavailable: tryLater("unavailable")},
}

// The table's cells.
func pass(word string) Rule     { return Rule{Word: word, Verdict: Pass} }
func refuse(word string) Rule   { return Rule{Word: word, Verdict: Refuse} }
func tryLater(word string) Rule { return Rule{Word: word, Verdict: TryLater} }

func (r Rule) unlessExistedBefore() Rule     { r.PassIfExistedBefore = true; return r }
func (r Rule) unlessFailOpen() Rule          { r.PassIfFailOpen = true; return r }
func (r Rule) withReason(reason Reason) Rule { r.Reason = reason; return r }

// RuleFor returns what state means for use. A state outside the
// vocabulary is taken as Unknown; an unknown use refuses.
func RuleFor(use Use, state State) Rule {
	rules, ok := table[use]
	if !ok {
		return Rule{Word: string(state), Verdict: Refuse}
	}
	if r, ok := rules[state]; ok {
		return r
	}
	return rules[Unknown]
}

// OCSPAnswer is the certStatus our OCSP responder gives for st, numbered
// as golang.org/x/crypto/ocsp numbers them (ocsp.Good, ocsp.Revoked,
// ocsp.Unknown), with the CRL reason of a revocation. Unavailable has no
// certStatus: the responder answers tryLater before asking this.
func OCSPAnswer(st Status) (certStatus int, reason Reason) {
	r := RuleFor(UseOCSP, st.State)
	switch r.Word {
	case "good":
		return ocsp.Good, 0
	case "revoked":
		if r.Reason != 0 {
			return ocsp.Revoked, r.Reason
		}
		return ocsp.Revoked, st.Reason
	}
	return ocsp.Unknown, 0
}

// FromOCSP is the status an OCSP answer gives: revoked with reason
// certificateHold is a suspension (RFC 5280 §5.3.1).
func FromOCSP(r *ocsp.Response, src Source) Status {
	switch r.Status {
	case ocsp.Good:
		return Status{State: Good, Source: src}
	case ocsp.Revoked:
		st := Status{State: Revoked, Reason: Reason(r.RevocationReason), Time: r.RevokedAt.UTC(), Source: src}
		if st.Reason == ReasonCertificateHold {
			st.State = Suspended
		}
		return st
	}
	return Status{State: Unknown, Source: src}
}
