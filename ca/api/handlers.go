package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/store"
)

type actorKey struct{}

func actorFrom(ctx context.Context) ca.Actor {
	a, _ := ctx.Value(actorKey{}).(ca.Actor)
	return a
}

// admin requires an operator token.
func (s *Server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := httpjson.Bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="yagona"`)
			httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusUnauthorized, "unauthorized", "an operator bearer token is required"))
			return
		}
		var id string
		var err error
		if s.cfg.Tokens != nil && !operator.IsToken(tok) {
			id, err = s.officer(r, tok)
		} else {
			id, err = s.cfg.Operators.Authenticate(r.Context(), tok)
		}
		if err != nil && !errors.Is(err, operator.ErrInvalid) {
			writeError(w, r, s.log, &ca.Error{Kind: ca.KindUnavailable, Code: "unavailable", Message: "cannot check the token now", Err: err})
			return
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="yagona", error="invalid_token"`)
			httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusUnauthorized, "unauthorized", "the token is not valid for the officer API"))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, ca.Actor{Admin: true, ID: id})))
	}
}

// anyActor accepts an operator token or, without an Authorization header,
// a holder's TLS client certificate.
func (s *Server) anyActor(next http.HandlerFunc) http.HandlerFunc {
	adminNext := s.admin(next)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			adminNext(w, r)
			return
		}
		actor, _, ok := s.holder(w, r)
		if !ok {
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, actor)))
	}
}

func (s *Server) holder(w http.ResponseWriter, r *http.Request) (ca.Actor, *http.Request, bool) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="yagona"`)
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusUnauthorized, "unauthorized", "an operator token or a client certificate is required"))
		return ca.Actor{}, r, false
	}
	actor, _, err := s.a.AuthenticateHolder(r.Context(), r.TLS.PeerCertificates)
	if err != nil {
		writeError(w, r, s.log, err)
		return ca.Actor{}, r, false
	}
	return actor, r, true
}

type personRequest struct {
	PINFL      string `json:"pinfl"`
	GivenName  string `json:"given_name"`
	Surname    string `json:"surname"`
	Patronymic string `json:"patronymic,omitempty"`
	BirthDate  string `json:"birth_date"`
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request) {
	var in personRequest
	if err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: s.cfg.MaxBody}, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p, err := s.a.RegisterPerson(r.Context(), actorFrom(r.Context()), ca.PersonInput(in))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, personRequest{PINFL: p.PINFL, GivenName: p.GivenName, Surname: p.Surname,
		Patronymic: p.Patronymic, BirthDate: p.BirthDate.Format(time.DateOnly)})
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) {
	p, err := s.a.Person(r.Context(), r.PathValue("pinfl"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	httpjson.Write(w, http.StatusOK, personRequest{PINFL: p.PINFL, GivenName: p.GivenName, Surname: p.Surname,
		Patronymic: p.Patronymic, BirthDate: p.BirthDate.Format(time.DateOnly)})
}

type organizationRequest struct {
	TIN  string `json:"tin"`
	Name string `json:"name"`
}

func (s *Server) putOrganization(w http.ResponseWriter, r *http.Request) {
	var in organizationRequest
	if err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: s.cfg.MaxBody}, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	o, err := s.a.RegisterOrganization(r.Context(), actorFrom(r.Context()), in.TIN, in.Name)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	httpjson.Write(w, http.StatusOK, organizationRequest{TIN: o.TIN, Name: o.Name})
}

type enrollmentRequest struct {
	PINFL      string `json:"pinfl"`
	Profile    string `json:"profile"`
	TIN        string `json:"tin,omitempty"`
	Title      string `json:"title,omitempty"`
	TTLSeconds int64  `json:"ttl_seconds,omitempty"`
}

type enrollmentResponse struct {
	ID        string    `json:"id"`
	Code      string    `json:"enrollment_code"`
	PINFL     string    `json:"pinfl"`
	Profile   string    `json:"profile"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) createEnrollment(w http.ResponseWriter, r *http.Request) {
	var in enrollmentRequest
	if err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: s.cfg.MaxBody}, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if in.TTLSeconds < 0 || in.TTLSeconds > 90*24*3600 {
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusBadRequest, "bad_request", "ttl_seconds must be between 60 and 7776000"))
		return
	}
	e, err := s.a.CreateEnrollment(r.Context(), actorFrom(r.Context()), ca.EnrollmentInput{
		PINFL: in.PINFL, Profile: in.Profile, TIN: in.TIN, Title: in.Title, TTL: time.Duration(in.TTLSeconds) * time.Second})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, enrollmentResponse{ID: e.ID, Code: e.Code, PINFL: e.PINFL, Profile: e.Profile, ExpiresAt: e.ExpiresAt})
}

type issueRequest struct {
	CSR            string `json:"csr"`
	EnrollmentCode string `json:"enrollment_code"`
}

type issueResponse struct {
	Serial      string    `json:"serial"`
	Profile     string    `json:"profile"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	Certificate string    `json:"certificate"`
	Chain       string    `json:"chain"`
}

func (s *Server) issued(w http.ResponseWriter, iss *ca.Issued, profile string) {
	var chain []byte
	for _, c := range iss.Chain {
		chain = append(chain, pemCert(c)...)
	}
	httpjson.Write(w, http.StatusCreated, issueResponse{Serial: ca.SerialHex(iss.Cert.SerialNumber), Profile: profile,
		NotBefore: iss.Cert.NotBefore, NotAfter: iss.Cert.NotAfter,
		Certificate: string(pemCert(iss.Cert)), Chain: string(chain)})
}

// throttled refuses a client address that failed too often recently.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request) bool {
	if _, err := s.cfg.Limiter.Get(r.Context(), "rl-block:"+clientAddr(r)); err == nil {
		w.Header().Set("Retry-After", "60")
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusTooManyRequests, "rate_limited", "too many failed attempts from this address; wait a minute"))
		return true
	}
	return false
}

// countFailure counts a failed attempt against the client's address.
func (s *Server) countFailure(r *http.Request, err error) {
	if k := ca.AsError(err).Kind; k != ca.KindUnauthorized && k != ca.KindInvalid && k != ca.KindRateLimited {
		return
	}
	addr := clientAddr(r)
	n, cerr := s.cfg.Limiter.Incr(r.Context(), "rl-fail:"+addr, time.Minute)
	if cerr == nil && n >= int64(s.cfg.FailuresPerMinute) {
		_ = s.cfg.Limiter.Set(r.Context(), "rl-block:"+addr, []byte{1}, time.Minute)
	}
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if s.throttled(w, r) {
		return
	}
	var in issueRequest
	if err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: s.cfg.MaxBody}, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	iss, err := s.a.Enroll(r.Context(), []byte(in.CSR), in.EnrollmentCode)
	if err != nil {
		s.countFailure(r, err)
		s.metrics.issueFailed(err)
		writeError(w, r, s.log, err)
		return
	}
	s.metrics.issued(iss.Profile, time.Since(start))
	s.issued(w, iss, iss.Profile)
}

type renewRequest struct {
	CSR string `json:"csr"`
}

func (s *Server) renew(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if s.throttled(w, r) {
		return
	}
	var in renewRequest
	if err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: s.cfg.MaxBody}, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		httpjson.WriteProblem(w, httpjson.NewProblem(http.StatusUnauthorized, "unauthorized", "renewal needs the current certificate as TLS client certificate"))
		return
	}
	_, rec, err := s.a.AuthenticateHolder(r.Context(), r.TLS.PeerCertificates)
	if err == nil {
		var iss *ca.Issued
		iss, err = s.a.Renew(r.Context(), r.TLS.PeerCertificates[0], rec, []byte(in.CSR))
		if err == nil {
			s.metrics.issued(rec.Profile, time.Since(start))
			s.issued(w, iss, rec.Profile)
			return
		}
	}
	s.countFailure(r, err)
	s.metrics.issueFailed(err)
	writeError(w, r, s.log, err)
}

func (s *Server) getCertificate(w http.ResponseWriter, r *http.Request) {
	c, err := s.a.Certificate(r.Context(), actorFrom(r.Context()), r.PathValue("serial"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	httpjson.Write(w, http.StatusOK, toCertJSON(c))
}

func (s *Server) listCertificates(w http.ResponseWriter, r *http.Request) {
	cs, err := s.a.Certificates(r.Context(), actorFrom(r.Context()), r.URL.Query().Get("pinfl"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]certJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, toCertJSON(c))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"certificates": out})
}

type revokeRequest struct {
	Reason string `json:"reason,omitempty"`
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	var in revokeRequest
	if err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: s.cfg.MaxBody, EmptyOK: true}, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	reason, err := ca.ParseReason(in.Reason)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	rec, err := s.a.Revoke(r.Context(), actorFrom(r.Context()), r.PathValue("serial"), reason)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.metrics.statusChanged("revoke")
	httpjson.Write(w, http.StatusOK, toCertJSON(rec))
}

// statusChange is the handler of a status change that takes no
// arguments (suspend, resume); name labels the metric.
func (s *Server) statusChange(name string, change func(context.Context, ca.Actor, string) (store.Certificate, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: s.cfg.MaxBody, EmptyOK: true}, &struct{}{}); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		rec, err := change(r.Context(), actorFrom(r.Context()), r.PathValue("serial"))
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		s.metrics.statusChanged(name)
		httpjson.Write(w, http.StatusOK, toCertJSON(rec))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
