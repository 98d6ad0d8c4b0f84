package decision

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/store"
)

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.loadFor(w, r); ok {
		s.writeView(w, r, d)
	}
}

// writeView answers 200 with the decision as its parties see it.
func (s *Service) writeView(w http.ResponseWriter, r *http.Request, d store.Decision) {
	v, err := s.view(r.Context(), d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, v)
}

func (s *Service) handleDocument(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadFor(w, r)
	if !ok {
		return
	}
	if d.Document == nil {
		s.fail(w, r, bad(http.StatusNotFound, "document_not_held", "the service registered only the document's hash; get the document from the service"))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Document-SHA256", hex.EncodeToString(d.DocSHA256))
	_, _ = w.Write(d.Document)
}

// handleAwaiting lists the pending decisions that name the caller (by
// PINFL), and those that name a position anyone may hold.
func (s *Service) handleAwaiting(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	if p.PINFL == "" {
		s.fail(w, r, bad(http.StatusForbidden, "insufficient_scope", "a person's token (scope pinfl) is required"))
		return
	}
	list, err := s.cfg.Store.ListDecisions(ctx, store.DecisionPending, 1000)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []view{}
	for _, d := range list {
		var pol Policy
		_ = json.Unmarshal(d.Policy, &pol)
		sigs, err := s.cfg.Store.DecisionSignatures(ctx, d.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var filled []int
		signed := false
		for _, sg := range sigs {
			filled = append(filled, sg.Slot)
			signed = signed || sg.PINFL == p.PINFL
		}
		if signed || !s.cfg.Now().Before(d.Deadline) {
			continue
		}
		for i, sg := range pol.Signers {
			next := pol.Order != "sequential" || i == len(filled)
			if !slices.Contains(filled, i) && next && (sg.PINFL == p.PINFL || sg.PINFL == "") {
				v, err := s.view(ctx, d)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				out = append(out, v)
				break
			}
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"decisions": out})
}

func (s *Service) handleCombined(w http.ResponseWriter, r *http.Request) {
	d, err := s.load(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.State != store.DecisionFinal {
		s.fail(w, r, bad(http.StatusConflict, "not_final", "the decision is "+d.State))
		return
	}
	w.Header().Set("Content-Type", "application/pkcs7-signature")
	w.Header().Set("Content-Disposition", `attachment; filename="decision-`+d.ID+`.p7s"`)
	_, _ = w.Write(d.Combined)
}

// handleEvidence returns the evidence bundle of a final decision: the
// document hash, every signature with its validation report (time-stamps
// and revocation data inside), the combined CMS, and the log entry.
func (s *Service) handleEvidence(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, err := s.load(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sigs, err := s.cfg.Store.DecisionSignatures(ctx, d.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type sigEvidence struct {
		PINFL     string          `json:"pinfl"`
		Slot      int             `json:"slot"`
		Signature []byte          `json:"signature"`
		Report    json.RawMessage `json:"report"`
	}
	out := map[string]any{"id": d.ID, "title": d.Title, "state": d.State, "document_sha256": hex.EncodeToString(d.DocSHA256),
		"document_size": d.DocSize, "policy": json.RawMessage(d.Policy)}
	var ev []sigEvidence
	for _, sg := range sigs {
		ev = append(ev, sigEvidence{PINFL: sg.PINFL, Slot: sg.Slot, Signature: sg.Signature, Report: sg.Report})
	}
	out["signatures"] = ev
	if d.State == store.DecisionFinal {
		out["combined"] = d.Combined
		out["final_at"] = d.FinalAt
		if e, err := s.cfg.Store.FindLogEntry(ctx, "decision", d.ID); err == nil {
			out["log"] = map[string]any{"index": e.Index, "proof_url": "/log/proof/decision/" + d.ID}
		}
	}
	httpjson.Write(w, http.StatusOK, out)
}
