package cms

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/yagona/yagona/idp/login"
	cmssig "github.com/yagona/yagona/pkg/cms"
	"github.com/yagona/yagona/pkg/httpjson"
	"github.com/yagona/yagona/pkg/statement"
)

// Codes of this method's refusals, besides the login API's shared ones.
const (
	codeChallengeExpired = "challenge_expired"
	codeInvalidSignature = "invalid_signature"
)

// finish checks a CMS signature over the request's challenge and logs the
// person in.
func (s *steps) finish(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var in struct {
		Request   string `json:"request"`
		Signature string `json:"signature"`
	}
	if !s.intake(w, r, maxFinishBody, &in) {
		return
	}
	next, e := s.login(ctx, w, r, in.Request, in.Signature)
	if e != nil {
		s.h.Fail(ctx, r, in.Request)
		s.h.Count("failed")
		login.WriteError(w, e)
		return
	}
	s.h.Count("ok")
	httpjson.Write(w, http.StatusOK, map[string]string{"redirect": next})
}

func (s *steps) login(ctx context.Context, w http.ResponseWriter, r *http.Request, id, sig string) (string, *login.Error) {
	req, e := s.h.Request(ctx, r, id)
	if e != nil {
		return "", e
	}
	if s.h.Limited(ctx, r, req.ClientID()) {
		return "", login.RateLimited("too many failed logins for this service; wait a minute")
	}
	ch, e := s.takeChallenge(ctx, req)
	if e != nil {
		return "", e
	}
	start := time.Now()
	leaf, extra, e := verifyChallenge(sig, ch.ToSign)
	s.h.Observe(stepVerify, start)
	if e != nil {
		return "", e
	}
	if e := s.checkStatement(ch, req); e != nil {
		return "", e
	}
	return s.h.Complete(ctx, w, r, req, login.Proof{Method: Name, Leaf: leaf, Extra: extra})
}

// verifyChallenge checks that sig is a CMS signature by one signer over
// exactly toSign (attached, or detached over it), and returns the signer's
// certificate and the certificates the signature carries.
func verifyChallenge(sig, toSign string) (*x509.Certificate, []*x509.Certificate, *login.Error) {
	der, err := decodeSignature(sig)
	if err != nil {
		return nil, nil, refused("signature must be base64 DER CMS SignedData: " + err.Error())
	}
	signed, err := cmssig.Verify(der, nil)
	if err != nil {
		if s2, err2 := cmssig.Verify(der, []byte(toSign)); err2 == nil {
			signed, err = s2, nil
		}
	}
	if err != nil {
		return nil, nil, refused(reason(err))
	}
	if !bytes.Equal(signed.Content, []byte(toSign)) {
		if statement.IsLoginStatement(signed.Content) {
			return nil, nil, refused("the signed content is a login statement, but not this login's statement: ask for a new one and sign it unchanged")
		}
		return nil, nil, refused("the signed content is not this login's statement")
	}
	if len(signed.Signers) != 1 {
		return nil, nil, refused("exactly one signer is expected")
	}
	if signed.Signers[0].Certificate == nil {
		return nil, nil, refused("no signer certificate")
	}
	return signed.Signers[0].Certificate, signed.Certificates, nil
}

// checkStatement re-reads the issued statement and checks it names this
// provider, the request's service and request, the challenge's nonce, and
// has not expired (defence in depth: the signed content already equals
// the statement issued for this request).
func (s *steps) checkStatement(ch *challenge, req login.Request) *login.Error {
	st, err := statement.Parse([]byte(ch.ToSign))
	switch {
	case err != nil:
		return refused("the signed content is not a login statement of this version")
	case st.Issuer != s.h.Issuer() || st.ClientID != req.ClientID() || st.Request != req.ID() || st.Nonce != ch.Nonce:
		return refused("the signed content is not this login's statement")
	case !s.h.Now().Before(st.ExpiresAt):
		return &login.Error{Status: http.StatusBadRequest, Code: codeChallengeExpired, Key: "error.request_expired",
			Detail: "the login statement expired; ask for a new one"}
	}
	return nil
}

func refused(detail string) *login.Error {
	return &login.Error{Status: http.StatusBadRequest, Code: codeInvalidSignature, Detail: detail, Key: "error.login_failed"}
}

func reason(err error) string {
	switch {
	case errors.Is(err, cmssig.ErrSignature):
		return "the signature does not verify"
	case errors.Is(err, cmssig.ErrUnsupported):
		return "the signature uses an unsupported algorithm"
	default:
		return "the signature is not valid DER CMS SignedData"
	}
}

// decodeSignature accepts standard or URL-safe base64, padded or not, and
// a PEM "CMS"/"PKCS7" block.
func decodeSignature(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		b, rest := pem.Decode([]byte(s))
		if b == nil || len(bytes.TrimSpace(rest)) != 0 {
			return nil, errors.New("bad PEM")
		}
		return b.Bytes, nil
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, s)
	if len(s) > base64.StdEncoding.EncodedLen(maxSignature) {
		return nil, errors.New("too large")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}
