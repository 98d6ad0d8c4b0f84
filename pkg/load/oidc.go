package load

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yagona/yagona/pkg/cms"
)

// The OIDC scenarios log people in with the certificate challenge and
// exchange codes and refresh tokens, over raw keep-alive HTTP/1.1 on TLS
// (see rawPoster for why). Each worker is a browser of its own: it keeps
// the browser-binding cookie and never sends a session cookie, so every
// authorization needs a full login.

const (
	loadClient   = "load-rp"
	loadRedirect = "https://load-rp.example/callback"
)

// person is an enrolled holder the scenarios log in with.
type person struct {
	cert  *x509.Certificate
	chain []*x509.Certificate
	key   crypto.Signer
}

// oidcSetup enrolls n people (keys kept) and registers the load client.
func (c *Client) oidcSetup(n int) ([]person, string, error) {
	codes, _, err := c.setup(n)
	if err != nil {
		return nil, "", err
	}
	people := make([]person, n)
	for i := range n {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
		csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
		var res struct {
			Certificate string `json:"certificate"`
			Chain       string `json:"chain"`
		}
		if err := c.post("/api/v1/certificates", map[string]string{"csr": csr, "enrollment_code": codes[i]}, &res, false); err != nil {
			return nil, "", err
		}
		leaf, err1 := parsePEM(res.Certificate)
		issuer, err2 := parsePEM(res.Chain)
		if err := errors.Join(err1, err2); err != nil {
			return nil, "", err
		}
		people[i] = person{cert: leaf, chain: []*x509.Certificate{issuer}, key: key}
	}
	var reg struct {
		Secret string `json:"client_secret"`
	}
	id := fmt.Sprintf("%s-%d", loadClient, time.Now().UnixNano()%1_000_000)
	in := map[string]any{"client_id": id, "client_name": "Load test", "redirect_uris": []string{loadRedirect},
		"scopes": []string{"openid", "profile", "pinfl"}, "grant_types": []string{"authorization_code", "refresh_token"}}
	if err := c.post("/api/v1/clients", in, &reg, true); err != nil {
		return nil, "", err
	}
	c.clientID, c.clientSecret = id, reg.Secret
	return people, reg.Secret, nil
}

// browser is one worker's connection and cookie.
type browser struct {
	conn   net.Conn
	r      *bufio.Reader
	host   string
	cookie string // __Host-yagona_browser=...
}

type response struct {
	status   int
	location string
	cookies  []string
	body     []byte
}

func (c *Client) newBrowser() (*browser, error) {
	u, err := url.Parse(c.o.Server)
	if err != nil {
		return nil, err
	}
	conn, err := tls.Dial("tcp", u.Host, c.tlsConfig)
	if err != nil {
		return nil, err
	}
	return &browser{conn: conn, r: bufio.NewReaderSize(conn, 16<<10), host: u.Host}, nil
}

func (b *browser) do(method, path, contentType, auth string, body []byte) (response, error) {
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, b.host)
	if b.cookie != "" {
		fmt.Fprintf(&req, "Cookie: %s\r\n", b.cookie)
	}
	if auth != "" {
		fmt.Fprintf(&req, "Authorization: %s\r\n", auth)
	}
	if body != nil {
		fmt.Fprintf(&req, "Content-Type: %s\r\nContent-Length: %d\r\n", contentType, len(body))
	}
	req.WriteString("\r\n")
	req.Write(body)
	if _, err := b.conn.Write(req.Bytes()); err != nil {
		return response{}, err
	}
	var res response
	line, err := b.r.ReadSlice('\n')
	if err != nil {
		return res, err
	}
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return res, fmt.Errorf("bad status line %q", line)
	}
	res.status, _ = strconv.Atoi(f[1])
	n, chunked := -1, false
	for {
		line, err := b.r.ReadSlice('\n')
		if err != nil {
			return res, err
		}
		if len(line) <= 2 {
			break
		}
		k, v, _ := strings.Cut(string(line), ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-length":
			n, _ = strconv.Atoi(v)
		case "location":
			res.location = v
		case "set-cookie":
			res.cookies = append(res.cookies, v)
		case "transfer-encoding":
			chunked = strings.EqualFold(v, "chunked")
		}
	}
	switch {
	case chunked:
		var out []byte
		for {
			l, err := b.r.ReadString('\n')
			if err != nil {
				return res, err
			}
			size, err := strconv.ParseInt(strings.TrimSpace(l), 16, 32)
			if err != nil {
				return res, err
			}
			if size == 0 {
				_, err = b.r.ReadString('\n')
				res.body = out
				return res, err
			}
			chunk := make([]byte, size+2)
			if _, err := io.ReadFull(b.r, chunk); err != nil {
				return res, err
			}
			out = append(out, chunk[:size]...)
		}
	case n >= 0:
		res.body = make([]byte, n)
		_, err = io.ReadFull(b.r, res.body)
		return res, err
	}
	return res, errors.New("response without length")
}

// login runs authorize -> challenge -> CMS signature -> certificate and
// returns the code.
func (c *Client) login(b *browser, p person) (code, verifier string, err error) {
	vb := make([]byte, 32)
	_, _ = rand.Read(vb)
	verifier = base64.RawURLEncoding.EncodeToString(vb)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {c.clientID}, "redirect_uri": {loadRedirect}, "response_type": {"code"}, "scope": {"openid profile pinfl"},
		"state": {"s"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	res, err := b.do("GET", "/oauth2/authorize?"+q.Encode(), "", "", nil)
	if err != nil {
		return "", "", err
	}
	for _, ck := range res.cookies {
		if v, ok := strings.CutPrefix(ck, "__Host-yagona_browser="); ok {
			b.cookie = "__Host-yagona_browser=" + strings.SplitN(v, ";", 2)[0]
		}
	}
	id, ok := strings.CutPrefix(res.location, "/login?request=")
	if res.status != 302 || !ok {
		return "", "", fmt.Errorf("authorize: %d %q", res.status, res.location)
	}
	res, err = b.do("POST", "/login/challenge", "application/json", "", []byte(`{"request":"`+id+`"}`))
	if err != nil {
		return "", "", err
	}
	var ch struct {
		ToSign string `json:"to_sign"`
	}
	if res.status != 200 || json.Unmarshal(res.body, &ch) != nil {
		return "", "", fmt.Errorf("challenge: %d %s", res.status, res.body)
	}
	der, err := cms.Sign([]byte(ch.ToSign), p.cert, p.chain, p.key, false, time.Now())
	if err != nil {
		return "", "", err
	}
	body, _ := json.Marshal(map[string]string{"request": id, "signature": base64.StdEncoding.EncodeToString(der)})
	res, err = b.do("POST", "/login/certificate", "application/json", "", body)
	if err != nil {
		return "", "", err
	}
	var done struct {
		Redirect string `json:"redirect"`
	}
	if res.status != 200 || json.Unmarshal(res.body, &done) != nil {
		return "", "", fmt.Errorf("login: %d %s", res.status, res.body)
	}
	u, err := url.Parse(done.Redirect)
	if err != nil || u.Query().Get("code") == "" {
		return "", "", fmt.Errorf("login: no code in %q", done.Redirect)
	}
	return u.Query().Get("code"), verifier, nil
}

func (c *Client) basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.clientID)+":"+url.QueryEscape(c.clientSecret)))
}

// tokenCall posts a token request and returns the answer's string fields
// the scenarios use. It does not decode the whole JSON: the load
// generator shares the 2 cores with the server and must stay cheap (the
// interop tests check the answers in full).
func (c *Client) tokenCall(b *browser, form url.Values) (map[string]string, error) {
	res, err := b.do("POST", "/oauth2/token", "application/x-www-form-urlencoded", c.basic(), []byte(form.Encode()))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		out[k] = jsonString(res.body, k)
	}
	if res.status != 200 || out["access_token"] == "" {
		return nil, fmt.Errorf("token: %d %s", res.status, res.body)
	}
	return out, nil
}

// jsonString finds "key":"value" in a flat JSON object whose values of
// interest have no escapes (tokens are base64url).
func jsonString(body []byte, key string) string {
	pat := []byte(`"` + key + `":"`)
	i := bytes.Index(body, pat)
	if i < 0 {
		return ""
	}
	rest := body[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func (c *Client) exchange(b *browser, code, verifier string) (map[string]string, error) {
	return c.tokenCall(b, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {loadRedirect}, "code_verifier": {verifier}})
}

// browserPool hands each call a browser of its own.
type browserPool struct {
	c    *Client
	pool sync.Pool
}

func (p *browserPool) with(f func(b *browser) error) error {
	b, _ := p.pool.Get().(*browser)
	if b == nil {
		var err error
		if b, err = p.c.newBrowser(); err != nil {
			return err
		}
	}
	if err := f(b); err != nil {
		b.conn.Close()
		return err
	}
	p.pool.Put(b)
	return nil
}

// PrepareLogin times complete certificate logins: authorize, challenge,
// the client's CMS signature, verification, code, token.
func (c *Client) PrepareLogin(people int) (func(int) error, error) {
	ps, _, err := c.oidcSetup(people)
	if err != nil {
		return nil, err
	}
	bp := &browserPool{c: c}
	return func(i int) error {
		return bp.with(func(b *browser) error {
			code, v, err := c.login(b, ps[i%len(ps)])
			if err != nil {
				return err
			}
			_, err = c.exchange(b, code, v)
			return err
		})
	}, nil
}

// PrepareCode logs in n times untimed and times the code exchanges.
func (c *Client) PrepareCode(n, people int) (func(int) error, error) {
	ps, _, err := c.oidcSetup(people)
	if err != nil {
		return nil, err
	}
	type pending struct{ code, verifier string }
	codes := make([]pending, n)
	bp := &browserPool{c: c}
	var wg sync.WaitGroup
	var first error
	var mu sync.Mutex
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				err := bp.with(func(b *browser) error {
					code, v, err := c.login(b, ps[i%len(ps)])
					codes[i] = pending{code, v}
					return err
				})
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return func(i int) error {
		if i >= n {
			return errors.New("more requests than prepared codes")
		}
		return bp.with(func(b *browser) error {
			_, err := c.exchange(b, codes[i].code, codes[i].verifier)
			return err
		})
	}, nil
}

// PrepareRefresh logs in once per chain untimed; each timed call rotates
// one chain's refresh token (a chain is used by one call at a time).
func (c *Client) PrepareRefresh(chains int) (func(int) error, error) {
	ps, _, err := c.oidcSetup(min(chains, 8))
	if err != nil {
		return nil, err
	}
	bp := &browserPool{c: c}
	type chain struct {
		mu  sync.Mutex
		tok string
	}
	cs := make([]*chain, chains)
	for i := range chains {
		err := bp.with(func(b *browser) error {
			code, v, err := c.login(b, ps[i%len(ps)])
			if err != nil {
				return err
			}
			out, err := c.exchange(b, code, v)
			if err != nil {
				return err
			}
			cs[i] = &chain{tok: out["refresh_token"]}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return func(i int) error {
		ch := cs[i%len(cs)]
		ch.mu.Lock()
		defer ch.mu.Unlock()
		return bp.with(func(b *browser) error {
			out, err := c.tokenCall(b, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ch.tok}})
			if err != nil {
				return err
			}
			if out["refresh_token"] == "" {
				return errors.New("refresh: no new refresh token")
			}
			ch.tok = out["refresh_token"]
			return nil
		})
	}, nil
}
