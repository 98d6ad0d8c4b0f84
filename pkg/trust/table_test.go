package trust

import (
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestStatusTable runs every state through every use: the word the use
// speaks, the verdict with no proof of existence and a closed anchor, with
// a proof of existence before the status time, with one after it, and
// with the anchor failing open.
func TestStatusTable(t *testing.T) {
	type want struct {
		word                           string
		plain, before, after, failOpen Verdict
	}
	P, R, L := Pass, Refuse, TryLater
	cases := map[Use]map[State]want{
		UseLogin: {
			Good:        {"good", P, P, P, P},
			Suspended:   {"suspended", R, R, R, R},
			Revoked:     {"revoked", R, R, R, R},
			Unknown:     {"unknown", R, R, R, R},
			Unavailable: {"unavailable", R, R, R, P},
		},
		UseSignature: {
			Good:        {"good", P, P, P, P},
			Suspended:   {"suspended", L, P, L, L},
			Revoked:     {"revoked", R, P, R, R},
			Unknown:     {"unknown", L, L, L, L},
			Unavailable: {"unavailable", L, L, L, L},
		},
		UseTimestamp: {
			Good:        {"good", P, P, P, P},
			Suspended:   {"suspended", R, P, R, R},
			Revoked:     {"revoked", R, P, R, R},
			Unknown:     {"unknown", P, P, P, P},
			Unavailable: {"unavailable", P, P, P, P},
		},
		UseOCSP: {
			Good:        {"good", P, P, P, P},
			Suspended:   {"revoked", R, R, R, R},
			Revoked:     {"revoked", R, R, R, R},
			Unknown:     {"unknown", R, R, R, R},
			Unavailable: {"tryLater", L, L, L, L},
		},
		UseDisplay: {
			Good:        {"good", P, P, P, P},
			Suspended:   {"suspended", R, R, R, R},
			Revoked:     {"revoked", R, R, R, R},
			Unknown:     {"unknown", R, R, R, R},
			Unavailable: {"unavailable", L, L, L, L},
		},
	}
	at := t0
	for _, use := range uses {
		for _, state := range states {
			w, ok := cases[use][state]
			if !ok {
				t.Fatalf("no expectation for %s × %s", use, state)
			}
			t.Run(string(use)+"/"+string(state), func(t *testing.T) {
				r := RuleFor(use, state)
				st := Status{State: state, Time: at}
				got := want{r.Word, r.Decide(st, time.Time{}, false), r.Decide(st, at.Add(-time.Second), false),
					r.Decide(st, at.Add(time.Second), false), r.Decide(st, time.Time{}, true)}
				if got != w {
					t.Errorf("got %+v, want %+v", got, w)
				}
			})
		}
	}
	if len(table) != len(uses) {
		t.Errorf("the table has %d uses, the test %d", len(table), len(uses))
	}
}

// TestSuspendedReadsTheSame: the one word for a suspension in every use
// that has words, and certificateHold on the OCSP wire.
func TestSuspendedReadsTheSame(t *testing.T) {
	for _, use := range []Use{UseLogin, UseSignature, UseTimestamp, UseDisplay} {
		if w := RuleFor(use, Suspended).Word; w != "suspended" {
			t.Errorf("%s says %q", use, w)
		}
	}
	if st, reason := OCSPAnswer(Status{State: Suspended, Reason: ReasonUnspecified, Time: t0}); st != ocsp.Revoked || reason != ReasonCertificateHold {
		t.Errorf("OCSP: %d reason %d, want revoked certificateHold", st, reason)
	}
}

func TestRuleForOutsideTheVocabulary(t *testing.T) {
	if r := RuleFor(UseLogin, State("hold")); r != RuleFor(UseLogin, Unknown) {
		t.Errorf("a state outside the vocabulary: %+v", r)
	}
	if r := RuleFor(Use("nothing"), Good); r.Verdict != Refuse {
		t.Errorf("an unknown use: %+v", r)
	}
}

func TestOCSPAnswer(t *testing.T) {
	const keyCompromise Reason = 1
	for _, tc := range []struct {
		st     Status
		status int
		reason Reason
	}{
		{Status{State: Good}, ocsp.Good, 0},
		{Status{State: Revoked, Reason: keyCompromise}, ocsp.Revoked, keyCompromise},
		{Status{State: Suspended, Reason: ReasonCertificateHold}, ocsp.Revoked, ReasonCertificateHold},
		{Status{State: Unknown}, ocsp.Unknown, 0},
		{Status{State: Unavailable}, ocsp.Unknown, 0},
	} {
		if st, r := OCSPAnswer(tc.st); st != tc.status || r != tc.reason {
			t.Errorf("%s: %d %d, want %d %d", tc.st.State, st, r, tc.status, tc.reason)
		}
	}
}

func TestFromOCSP(t *testing.T) {
	at := t0.In(time.FixedZone("UZT", 5*3600))
	for _, tc := range []struct {
		r    ocsp.Response
		want Status
	}{
		{ocsp.Response{Status: ocsp.Good}, Status{State: Good, Source: SourceOCSP}},
		{ocsp.Response{Status: ocsp.Revoked, RevokedAt: at, RevocationReason: ocsp.KeyCompromise},
			Status{State: Revoked, Reason: 1, Time: t0, Source: SourceOCSP}},
		{ocsp.Response{Status: ocsp.Revoked, RevokedAt: at, RevocationReason: ocsp.CertificateHold},
			Status{State: Suspended, Reason: ReasonCertificateHold, Time: t0, Source: SourceOCSP}},
		{ocsp.Response{Status: ocsp.Unknown}, Status{State: Unknown, Source: SourceOCSP}},
	} {
		if got := FromOCSP(&tc.r, SourceOCSP); got != tc.want {
			t.Errorf("%d: %+v, want %+v", tc.r.Status, got, tc.want)
		}
	}
}
