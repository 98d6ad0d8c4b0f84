package idp

import (
	"io"
	"net/http"
	"time"

	"github.com/yagona/yagona/idp/pages"
	"github.com/yagona/yagona/pkg/validation"
	"github.com/yagona/yagona/pkg/web"
)

// VerifyPage serves /verify: a citizen drops a signature file (and the
// document, if separate) and reads the result in their language. Nothing
// sent is kept.
func (p *Provider) VerifyPage(v *validation.Validator) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.SetLang(w, r)
		if r.Method != http.MethodPost {
			p.pages.Render(w, r, pages.VerifyPage{}, http.StatusOK)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, validation.MaxSignature*2+validation.MaxDocument+64<<10)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			p.pages.Render(w, r, pages.VerifyPage{Error: "error.bad_request"}, http.StatusBadRequest)
			return
		}
		read := func(field string, limit int64) ([]byte, bool) {
			f, _, err := r.FormFile(field)
			if err != nil {
				return nil, false
			}
			defer f.Close()
			b, err := io.ReadAll(io.LimitReader(f, limit+1))
			return b, err == nil && int64(len(b)) <= limit
		}
		sig, ok := read("signature", validation.MaxSignature)
		if !ok || len(sig) == 0 {
			p.pages.Render(w, r, pages.VerifyPage{Error: "error.bad_request"}, http.StatusBadRequest)
			return
		}
		doc, hasDoc := read("document", validation.MaxDocument)
		if !hasDoc || len(doc) == 0 {
			doc = nil
		}
		rep := v.Validate(r.Context(), validation.Input{Signature: sig, Document: doc})
		pg := pages.VerifyPage{Checked: true, Overall: outcome(rep.Indication)}
		for _, s := range rep.Signers {
			vs := pages.VerifySigner{Outcome: outcome(s.Indication), Reason: s.SubIndication,
				ExistedBy: s.BestSignatureTime.Format("2006-01-02 15:04:05 UTC"), Proven: s.ProofOfExistence == "signature-timestamp"}
			if s.Signer != nil {
				vs.Name, vs.PINFL, vs.Organization = s.Signer.Name, s.Signer.PINFL, s.Signer.Organization
			}
			if s.ClaimedSigningTime != nil {
				vs.Claimed = s.ClaimedSigningTime.UTC().Format(time.DateTime + " UTC")
			}
			pg.Signers = append(pg.Signers, vs)
		}
		p.pages.Render(w, r, pg, http.StatusOK)
	})
	return web.NewGuard(nil).Page(h)
}

func outcome(indication string) string {
	switch indication {
	case validation.TotalPassed:
		return "passed"
	case validation.TotalFailed:
		return "failed"
	}
	return "indeterminate"
}
