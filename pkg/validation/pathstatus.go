package validation

import (
	"context"
	"slices"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/trust"
)

// CAStatus is the status of a CA certificate on a signer's path that the
// revocation data carried in the signature gives (CAdES B-LT).
type CAStatus struct {
	Subject   string     `json:"subject"`
	Serial    string     `json:"serial"`
	State     string     `json:"state"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Source    string     `json:"source"`
}

// embedded is the revocation data sd carries (RFC 5940 OCSP responses and
// CRLs), for statuses no earlier than notBefore.
func embedded(sd *cms.Signed, notBefore time.Time) trust.Embedded {
	return trust.Embedded{Responses: sd.OCSPResponses, CRLs: sd.CRLs, NotBefore: notBefore}
}

// with is e and the revocation data sd carries too.
func with(e trust.Embedded, sd *cms.Signed) trust.Embedded {
	e.Responses = append(slices.Clip(e.Responses), sd.OCSPResponses...)
	e.CRLs = append(slices.Clip(e.CRLs), sd.CRLs...)
	return e
}

// caStatuses gives the status of each CA certificate on ch below its
// anchor's root that emb answers for; a CA it does not answer for is left
// out (its status is not asked of anyone: nothing is fetched for it).
func caStatuses(ctx context.Context, ch trust.Chain, emb trust.Embedded) []caStatus {
	var out []caStatus
	for i := 1; i+1 < len(ch.Certs); i++ {
		st, err := emb.Status(ctx, ch.Certs[i], ch.Certs[i+1])
		if err != nil {
			continue
		}
		c := ch.Certs[i]
		cs := CAStatus{Subject: c.Subject.String(), Serial: c.SerialNumber.Text(16), State: string(st.State), Source: string(st.Source)}
		if !st.Time.IsZero() {
			t := st.Time.UTC()
			cs.RevokedAt = &t
		}
		out = append(out, caStatus{report: cs, status: st})
	}
	return out
}

type caStatus struct {
	report CAStatus
	status trust.Status
}

// checkCAs checks the CAs on the signer's path that the signature carries
// revocation data for, each as the signer's own status is (the trust
// table's signature row, against proven), and reports them.
func checkCAs(ctx context.Context, o *outcome, ch trust.Chain, emb trust.Embedded, proven time.Time) {
	for _, cs := range caStatuses(ctx, ch, emb) {
		o.r.CAStatus = append(o.r.CAStatus, cs.report)
		ok, sub, detail := revocationCheck(cs.status, proven)
		o.check(CRevocation, ok, Indeterminate, sub, "CA "+cs.report.Subject+": "+detail)
	}
}

// tsaStatus reads the status of the TSA's certificate (its anchor's
// source, else the revocation data carried) and of the CAs on its path
// that the data answers for, through the trust table's time-stamp row at
// the stamped time: it returns the word of the first that voids the
// token, or "".
func tsaStatus(ctx context.Context, ch trust.Chain, emb trust.Embedded, at time.Time) string {
	st, err := ch.Status(ctx)
	if err != nil {
		if e, embErr := emb.Status(ctx, ch.Leaf(), ch.Issuer()); embErr == nil {
			st = e
		}
	}
	if rule := trust.RuleFor(trust.UseTimestamp, st.State); rule.Decide(st, at, false) != trust.Pass {
		return "the TSA's certificate was " + rule.Word + " before the stamped time"
	}
	for _, cs := range caStatuses(ctx, ch, emb) {
		if rule := trust.RuleFor(trust.UseTimestamp, cs.status.State); rule.Decide(cs.status, at, false) != trust.Pass {
			return "the TSA's CA " + cs.report.Subject + " was " + rule.Word + " before the stamped time"
		}
	}
	return ""
}
