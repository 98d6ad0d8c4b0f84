package idp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// authenticateClient authenticates the client calling endpoint with the
// method it registered, and no other.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, v url.Values, endpoint string) (*Client, error) {
	pc, err := readClientAuth(r, v)
	if err != nil {
		return nil, err
	}
	if p.limited(ctx, r, pc.id) {
		return nil, oerr(errSlowDown, "too many failed attempts; wait a minute")
	}
	c, err := p.client(ctx, pc.id)
	if err != nil {
		return nil, err
	}
	if c == nil {
		p.fail(ctx, r, "")
		return nil, errClientAuth
	}
	if !p.clientProves(ctx, r, c, pc, endpoint) {
		p.fail(ctx, r, c.ID)
		return nil, errClientAuth
	}
	return c, nil
}

var errClientAuth = oerr(errInvalidClient, "client authentication failed")

// assertionAlgs are the JWS algorithms a private_key_jwt client assertion
// may be signed with.
var assertionAlgs = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}

// presented is the client authentication a request carries.
type presented struct {
	id         string // the client it names
	basic      bool   // HTTP Basic, with secret
	secret     string
	assertion  string // private_key_jwt
	postSecret string // client_secret_post
}

// none reports whether the request carries no credential (tls_client_auth
// and public clients).
func (pc presented) none() bool { return !pc.basic && pc.assertion == "" && pc.postSecret == "" }

// readClientAuth reads the client authentication of a request: at most
// one method, naming one client.
func readClientAuth(r *http.Request, v url.Values) (presented, error) {
	var pc presented
	pc.id, pc.secret, pc.basic = r.BasicAuth()
	if pc.basic {
		var err1, err2 error
		pc.id, err1 = url.QueryUnescape(pc.id)
		pc.secret, err2 = url.QueryUnescape(pc.secret)
		if err1 != nil || err2 != nil {
			return pc, errClientAuth
		}
	}
	pc.assertion = v.Get("client_assertion")
	if pc.assertion != "" && v.Get("client_assertion_type") != assertionType {
		return pc, oerr(errInvalidClient, "client_assertion_type must be "+assertionType)
	}
	if pc.assertion != "" && pc.basic {
		return pc, oerr(errInvalidRequest, "more than one client authentication method")
	}
	if pc.assertion != "" {
		var err error
		if pc.id, err = assertionIssuer(pc.assertion); err != nil {
			return pc, errClientAuth.with(err)
		}
	}
	if !pc.basic && pc.assertion == "" {
		pc.id = v.Get("client_id")
	}
	pc.postSecret = v.Get("client_secret")
	if pc.postSecret != "" && (pc.basic || pc.assertion != "") {
		return pc, oerr(errInvalidRequest, "more than one client authentication method")
	}
	if cid := v.Get("client_id"); cid != "" && cid != pc.id {
		return pc, oerr(errInvalidClient, "client_id does not match the client authentication")
	}
	if pc.id == "" {
		return pc, oerr(errInvalidClient, "no client authentication")
	}
	return pc, nil
}

// clientProves reports whether pc is the authentication c registered.
func (p *Provider) clientProves(ctx context.Context, r *http.Request, c *Client, pc presented, endpoint string) bool {
	switch c.AuthMethod {
	case AuthSecretBasic:
		// A secret is accepted in the Authorization header (preferred) or
		// in the body (client_secret_post), never both.
		if pc.basic {
			return c.secretMatches(pc.secret)
		}
		return pc.postSecret != "" && c.secretMatches(pc.postSecret)
	case AuthPrivateKeyJWT:
		if pc.assertion == "" {
			return false
		}
		if err := p.checkAssertion(ctx, c, pc.assertion, endpoint); err != nil {
			p.log.DebugContext(ctx, "client assertion refused", "client", c.ID, "err", err)
			return false
		}
		return true
	case AuthTLSClient:
		return pc.none() && p.checkClientTLS(ctx, r, c) == nil
	case AuthNone:
		return pc.none()
	}
	return false
}

// assertionIssuer reads iss from an assertion before it is verified, only
// to find the client whose keys verify it.
func assertionIssuer(tok string) (string, error) {
	if len(tok) > maxTokenSize {
		return "", errors.New("assertion too large")
	}
	var cl jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &cl); err != nil {
		return "", err
	}
	return cl.Issuer, nil
}

// checkAssertion validates a private_key_jwt client assertion (RFC 7523
// §3): signed by a registered key, iss = sub = client_id, aud naming this
// provider, exp in the near future, jti never seen before.
func (p *Provider) checkAssertion(ctx context.Context, c *Client, tok, endpoint string) error {
	var cl jwt.RegisteredClaims
	parser := jwt.NewParser(jwt.WithValidMethods(assertionAlgs),
		jwt.WithExpirationRequired(), jwt.WithIssuer(c.ID), jwt.WithSubject(c.ID), jwt.WithTimeFunc(p.now), jwt.WithLeeway(30*time.Second))
	_, err := parser.ParseWithClaims(tok, &cl, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		var cands []jwt.VerificationKey
		for _, k := range c.keys.Keys {
			if kid == "" || k.KeyID == kid {
				cands = append(cands, k.Key)
			}
		}
		if len(cands) == 0 {
			return nil, errors.New("no registered key matches")
		}
		return jwt.VerificationKeySet{Keys: cands}, nil
	})
	if err != nil {
		return err
	}
	audOK := false
	for _, a := range cl.Audience {
		if a == p.cfg.Issuer || a == p.url(endpoint) || a == p.url(pathToken) {
			audOK = true
		}
	}
	if !audOK {
		return fmt.Errorf("audience %v does not name this provider", cl.Audience)
	}
	now := p.now()
	if cl.ExpiresAt.Sub(now) > maxAssertionTTL {
		return errors.New("assertion lives too long")
	}
	if cl.ID == "" || len(cl.ID) > 256 {
		return errors.New("jti is required")
	}
	fresh, err := p.cache.Add(ctx, "jti:"+c.ID+":"+hashKey("", cl.ID), []byte{1}, cl.ExpiresAt.Sub(now)+time.Minute)
	if err != nil {
		return err
	}
	if !fresh {
		return errors.New("jti replayed")
	}
	return nil
}

// checkClientTLS checks the connection's client certificate for a
// tls_client_auth client: issued by our CA (any anchor), valid, not
// revoked, with the registered subject.
func (p *Provider) checkClientTLS(ctx context.Context, r *http.Request, c *Client) error {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return errors.New("no client certificate")
	}
	leaf := r.TLS.PeerCertificates[0]
	if leaf.Subject.String() != c.TLSSubjectDN {
		return errors.New("subject does not match")
	}
	return p.cfg.Certs.CheckService(ctx, leaf, r.TLS.PeerCertificates[1:], p.now())
}
