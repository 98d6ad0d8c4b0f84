package cms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/yagona/yagona/idp/login"
	"github.com/yagona/yagona/pkg/httpjson"
)

// The challenge a client signs. ToSign is exactly (lines separated by
// "\n", no final newline):
//
//	yagona-login-v1
//	origin: <issuer>
//	request: <login request id>
//	nonce: <256-bit random, base64url>
//	issued-at: <RFC 3339 UTC>
const toSignHeader = "yagona-login-v1"

// challenge is kept for a login request until it is answered (once).
type challenge struct {
	ToSign  string    `json:"to_sign"`
	Browser string    `json:"browser"`
	Issued  time.Time `json:"issued"`
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
	toSign := strings.Join([]string{toSignHeader, "origin: " + s.h.Issuer(), "request: " + in.Request,
		"nonce: " + nonce(), "issued-at: " + now.Format(time.RFC3339)}, "\n")
	ch := challenge{ToSign: toSign, Browser: req.Browser(), Issued: now}
	if err := s.h.Put(ctx, kindChallenge, in.Request, ch, s.ttl); err != nil {
		login.WriteError(w, login.Unavailable())
		return
	}
	s.h.Count("challenge")
	httpjson.Write(w, http.StatusOK, map[string]any{"to_sign": toSign, "expires_in": int(s.ttl / time.Second)})
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
