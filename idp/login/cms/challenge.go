package cms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/statement"
)

// challenge is kept for a login request until it is answered (once).
// ToSign is the login statement (pkg/statement) the person signs: it
// names the provider, the service, the login page's origin, the request,
// a fresh nonce and its lifetime.
type challenge struct {
	ToSign  string    `json:"to_sign"`
	Browser string    `json:"browser"`
	Issued  time.Time `json:"issued"`
	Nonce   string    `json:"nonce"`
}

const (
	kindChallenge = "ch:"        // the host's key prefix of a request's challenge
	maxBeginBody  = 4 << 10      // bytes of the challenge request
	maxFinishBody = 256 << 10    // bytes of the signature request
	maxSignature  = 128 << 10    // DER bytes of the signature
	stepChallenge = "challenge"  // issue a challenge (yagona_login_step_seconds)
	stepVerify    = "cms_verify" // decode and verify the CMS signature
)

// steps are the method's handlers over its host.
type steps struct {
	h   login.Host
	ttl time.Duration
}

// begin issues a fresh challenge for a pending login request; it replaces
// the request's previous one.
func (s *steps) begin(w http.ResponseWriter, r *http.Request) {
	defer s.h.Observe(stepChallenge, time.Now())
	ctx := r.Context()
	var in struct {
		Request string `json:"request"`
	}
	if !s.intake(w, r, maxBeginBody, &in) {
		return
	}
	req, e := s.h.Request(ctx, r, in.Request)
	if e != nil {
		s.h.Fail(ctx, r, "")
		login.WriteError(w, e)
		return
	}
	now := s.h.Now().UTC().Truncate(time.Second)
	st := s.statement(req, now)
	text, err := statement.Build(st)
	if err != nil {
		login.WriteError(w, &login.Error{Status: http.StatusInternalServerError, Code: login.CodeUnavailable,
			Detail: "cannot word the login statement", Key: "error.server"})
		return
	}
	toSign := string(text)
	ch := challenge{ToSign: toSign, Browser: req.Browser(), Issued: now, Nonce: st.Nonce}
	if err := s.h.Put(ctx, kindChallenge, in.Request, ch, s.ttl); err != nil {
		login.WriteError(w, login.Unavailable())
		return
	}
	s.h.Count("challenge")
	httpjson.Write(w, http.StatusOK, map[string]any{"to_sign": toSign, "expires_in": int(s.ttl / time.Second)})
}

// statement is the login statement of a fresh challenge for req, issued
// at now.
func (s *steps) statement(req login.Request, now time.Time) statement.Statement {
	name := printable(req.ClientName())
	if name == "" {
		name = req.ClientID()
	}
	return statement.Statement{Issuer: s.h.Issuer(), ClientID: req.ClientID(), ClientName: name,
		Origin: origin(s.h.Issuer()), Request: req.ID(), Nonce: nonce(), IssuedAt: now, ExpiresAt: now.Add(s.ttl)}
}

// printable is name on one line, without control characters, trimmed.
func printable(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(name, "?"))
	return strings.TrimSpace(name)
}

// origin is the scheme://host[:port] of the provider's URL (its login
// page's origin).
func origin(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return issuer
	}
	return u.Scheme + "://" + u.Host
}

// intake refuses a source past its failed attempts, then reads the body
// into v; on failure it has answered.
func (s *steps) intake(w http.ResponseWriter, r *http.Request, maxBytes int64, v any) bool {
	if s.h.Limited(r.Context(), r, "") {
		login.WriteError(w, login.RateLimited("too many failed attempts; wait a minute"))
		return false
	}
	if e := login.Decode(w, r, maxBytes, v); e != nil {
		login.WriteError(w, e)
		return false
	}
	return true
}

// takeChallenge removes the request's challenge (so it is used at most
// once, whatever the signature) and checks it is live and bound to the
// request's browser.
func (s *steps) takeChallenge(ctx context.Context, req login.Request) (*challenge, *login.Error) {
	var ch challenge
	found, err := s.h.Take(ctx, kindChallenge, req.ID(), &ch)
	if err != nil {
		return nil, login.Unavailable()
	}
	if !found {
		return nil, &login.Error{Status: http.StatusBadRequest, Code: codeChallengeExpired, Key: "error.request_expired",
			Detail: "no live challenge for this request: it expired or was used; ask for a new one"}
	}
	if ch.Browser != req.Browser() {
		return nil, &login.Error{Status: http.StatusForbidden, Code: login.CodeInvalidRequest, Key: "error.bad_request",
			Detail: "the challenge belongs to another browser session"}
	}
	if age := s.h.Now().Sub(ch.Issued); age > s.ttl || age < -time.Minute {
		return nil, &login.Error{Status: http.StatusBadRequest, Code: codeChallengeExpired, Key: "error.request_expired",
			Detail: "the challenge expired; ask for a new one"}
	}
	return &ch, nil
}

// nonce is 256 random bits, base64url.
func nonce() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
