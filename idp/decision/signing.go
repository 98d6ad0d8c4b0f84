package decision

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/ident"
	"github.com/yagona/yagona/pkg/statement"
	"github.com/yagona/yagona/pkg/store"
	"github.com/yagona/yagona/pkg/validation"
)

func (s *Service) handleSign(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	var in struct {
		Signature string `json:"signature"`
	}
	if err := decodeBody(w, r, &in, validation.MaxSignature*2); err != nil {
		s.fail(w, r, err)
		return
	}
	der, err := decodeB64(in.Signature)
	if err != nil || len(der) == 0 {
		s.fail(w, r, bad(http.StatusBadRequest, "invalid_signature", "signature must be base64 DER CMS"))
		return
	}
	v, err := s.sign(ctx, r.PathValue("id"), p, der)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, v)
}

// sign validates and records one official's signature; the last one the
// policy needs makes the decision final.
func (s *Service) sign(ctx context.Context, id string, p *Principal, der []byte) (view, error) {
	d, err := s.load(ctx, id)
	if err != nil {
		return view{}, err
	}
	if d.State != store.DecisionPending {
		return view{}, bad(http.StatusConflict, "not_pending", "the decision is "+d.State)
	}
	if statement.IsLoginStatement(d.Document) {
		return view{}, errLoginStatement
	}
	now := s.cfg.Now()
	in := validation.Input{Signature: der, Document: d.Document, Time: now}
	if d.Document == nil {
		// Registered by hash: signatures made with SHA-256 are checked
		// against it.
		in.Digests = map[crypto.Hash][]byte{crypto.SHA256: d.DocSHA256}
	}
	rep := s.cfg.Validator.Validate(ctx, in)
	if rep.Indication != validation.TotalPassed {
		return view{}, bad(http.StatusUnprocessableEntity, "signature_not_valid", rep.Indication+" "+rep.SubIndication)
	}
	if len(rep.Signers) != 1 || rep.Signers[0].Signer == nil {
		return view{}, bad(http.StatusUnprocessableEntity, "one_signer", "submit one signature at a time")
	}
	who := rep.Signers[0].Signer
	if p.PINFL == "" || who.PINFL != p.PINFL {
		return view{}, bad(http.StatusForbidden, "not_your_signature", "the signature is not the logged-in person's")
	}
	var pol Policy
	_ = json.Unmarshal(d.Policy, &pol)
	sigs, err := s.cfg.Store.DecisionSignatures(ctx, d.ID)
	if err != nil {
		return view{}, err
	}
	var filled []int
	for _, sg := range sigs {
		if sg.PINFL == p.PINFL {
			return view{}, bad(http.StatusConflict, "already_signed", "this official has signed this decision")
		}
		filled = append(filled, sg.Slot)
	}
	slot, err := pol.slotFor(ident.Identity{PINFL: who.PINFL, TIN: who.TIN, Organization: who.Organization, Title: who.Title}, filled)
	if err != nil {
		return view{}, err
	}
	repJSON, _ := json.Marshal(rep)
	ds := store.DecisionSignature{DecisionID: d.ID, Seq: len(sigs), PINFL: p.PINFL, Slot: slot, Signature: der, Report: repJSON, CreatedAt: now}
	var combined, logData []byte
	ev := store.AuditEvent{Time: now, Actor: "official:" + p.PINFL, Action: "decision.sign", Subject: d.ID}
	if len(sigs)+1 >= pol.Required {
		all := make([][]byte, 0, len(sigs)+1)
		signers := []string{}
		for _, sg := range sigs {
			all = append(all, sg.Signature)
			signers = append(signers, sg.PINFL)
		}
		all = append(all, der)
		signers = append(signers, p.PINFL)
		if combined, err = cms.Combine(all...); err != nil {
			return view{}, bad(http.StatusUnprocessableEntity, "cannot_combine", err.Error())
		}
		logData, _ = json.Marshal(map[string]any{"id": d.ID, "title": d.Title, "document_sha256": hex.EncodeToString(d.DocSHA256),
			"signers": signers, "final_at": now.UTC().Format(time.RFC3339), "combined_sha256": sha256Hex(combined)})
		ev.Action = "decision.final"
	}
	var hook *store.Webhook
	if combined != nil {
		fd := d
		fd.State = store.DecisionFinal
		hook = s.hook(fd)
	}
	if err := s.cfg.Store.AddDecisionSignature(ctx, ds, combined, logData, ev, hook); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return view{}, bad(http.StatusConflict, "already_signed", "this official has signed this decision")
		}
		return view{}, err
	}
	d, err = s.cfg.Store.GetDecision(ctx, d.ID)
	if err != nil {
		return view{}, err
	}
	if d.State == store.DecisionFinal {
		s.deliverSoon(ctx)
	}
	return s.view(ctx, d)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (s *Service) handleReject(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decodeBody(w, r, &in, 8<<10); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.load(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var pol Policy
	_ = json.Unmarshal(d.Policy, &pol)
	named := p.PINFL != "" && slices.ContainsFunc(pol.Signers, func(sg Signer) bool { return sg.PINFL == p.PINFL })
	if !named {
		s.fail(w, r, bad(http.StatusForbidden, "not_a_signer", "only an official the policy names by PINFL may reject"))
		return
	}
	s.setState(w, r, d, store.DecisionRejected, "rejected by "+p.PINFL+": "+strings.TrimSpace(in.Reason))
}

func (s *Service) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	d, err := s.load(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.ClientID != d.ClientID || !slices.Contains(p.Scopes, "decisions") {
		s.fail(w, r, bad(http.StatusForbidden, "not_owner", "only the service that registered the decision may withdraw it"))
		return
	}
	s.setState(w, r, d, store.DecisionWithdrawn, "withdrawn by the service")
}

func (s *Service) setState(w http.ResponseWriter, r *http.Request, d store.Decision, state, reason string) {
	nd := d
	nd.State, nd.Reason = state, reason
	if err := s.cfg.Store.SetDecisionState(r.Context(), d.ID, []string{store.DecisionPending}, state, reason, s.cfg.Now(), s.hook(nd)); err != nil {
		s.fail(w, r, err)
		return
	}
	d = nd
	s.deliverSoon(r.Context())
	s.writeView(w, r, d)
}
