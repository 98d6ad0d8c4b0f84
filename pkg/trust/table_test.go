package trust

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestStatusTable runs every state through every use: the word the use
// speaks, the verdict with no proof of existence and a closed anchor, with
// a proof of existence before the status time, with one after it, and
// with the anchor failing open.
func TestStatusTable(t *testing.T) {
	// use, state: the word, then the verdict plain, with a proof of
	// existence before the status time, with one after it, failing open.
	const grid = `
	login      good         good         pass     pass     pass     pass
	login      suspended    suspended    refuse   refuse   refuse   refuse
	login      revoked      revoked      refuse   refuse   refuse   refuse
	login      unknown      unknown      refuse   refuse   refuse   refuse
	login      unavailable  unavailable  refuse   refuse   refuse   pass
	signature  good         good         pass     pass     pass     pass
	signature  suspended    suspended    later    pass     later    later
	signature  revoked      revoked      refuse   pass     refuse   refuse
	signature  unknown      unknown      later    later    later    later
	signature  unavailable  unavailable  later    later    later    later
	timestamp  good         good         pass     pass     pass     pass
	timestamp  suspended    suspended    refuse   pass     refuse   refuse
	timestamp  revoked      revoked      refuse   pass     refuse   refuse
	timestamp  unknown      unknown      pass     pass     pass     pass
	timestamp  unavailable  unavailable  pass     pass     pass     pass
	ocsp       good         good         pass     pass     pass     pass
	ocsp       suspended    revoked      refuse   refuse   refuse   refuse
	ocsp       revoked      revoked      refuse   refuse   refuse   refuse
	ocsp       unknown      unknown      refuse   refuse   refuse   refuse
	ocsp       unavailable  tryLater     later    later    later    later
	display    good         good         pass     pass     pass     pass
	display    suspended    suspended    refuse   refuse   refuse   refuse
	display    revoked      revoked      refuse   refuse   refuse   refuse
	display    unknown      unknown      refuse   refuse   refuse   refuse
	display    unavailable  unavailable  later    later    later    later
`
	names := map[Verdict]string{Pass: "pass", Refuse: "refuse", TryLater: "later"}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(grid), "\n") {
		f := strings.Fields(line)
		want[f[0]+"/"+f[1]] = strings.Join(f[2:], " ")
	}
	at := t0
	for _, use := range uses {
		for _, state := range states {
			key := string(use) + "/" + string(state)
			w, ok := want[key]
			if !ok {
				t.Fatalf("no expectation for %s", key)
			}
			t.Run(key, func(t *testing.T) {
				r := RuleFor(use, state)
				st := Status{State: state, Time: at}
				got := strings.Join([]string{r.Word, names[r.Decide(st, time.Time{}, false)], names[r.Decide(st, at.Add(-time.Second), false)],
					names[r.Decide(st, at.Add(time.Second), false)], names[r.Decide(st, time.Time{}, true)]}, " ")
				if got != w {
					t.Errorf("got %q, want %q", got, w)
				}
			})
		}
	}
	if len(want) != len(uses)*len(states) {
		t.Errorf("the grid has %d rows, want %d", len(want), len(uses)*len(states))
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
