package load

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
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
// authorization needs a full login. A browser keeps its cookies per host
// name, not per port (RFC 6265 §8.5), as real browsers do, so replicas on
// one host at different ports see the cookie a login began with on any of
// them.

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

// enroll enrolls n people, keys kept, untimed.
func (c *Client) enroll(n int) ([]person, error) {
	codes, _, err := c.setup(n)
	if err != nil {
		return nil, err
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
			return nil, err
		}
		leaf, err1 := parsePEM(res.Certificate)
		issuer, err2 := parsePEM(res.Chain)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		people[i] = person{cert: leaf, chain: []*x509.Certificate{issuer}, key: key}
	}
	return people, nil
}

// oidcSetup enrolls n people (keys kept) and registers the load client
// (once per Client).
func (c *Client) oidcSetup(n int) ([]person, error) {
	people, err := c.enroll(n)
	if err != nil || c.clientID != "" {
		return people, err
	}
	var reg struct {
		Secret string `json:"client_secret"`
	}
	id := fmt.Sprintf("%s-%d", loadClient, time.Now().UnixNano()%1_000_000)
	in := map[string]any{"client_id": id, "client_name": "Load test", "redirect_uris": []string{loadRedirect},
		"scopes": []string{"openid", "profile", "pinfl"}, "grant_types": []string{"authorization_code", "refresh_token"}}
	if err := c.post("/api/v1/clients", in, &reg, true); err != nil {
		return nil, err
	}
	c.clientID, c.clientSecret = id, reg.Secret
	return people, nil
}

// browser is one worker's user agent: a keep-alive connection per target
// and the browser-binding cookie per host name.
type browser struct {
	c       *Client
	conns   map[string]*httpConn // by target base URL
	cookies map[string]string    // by host name: "__Host-yagona_browser=..."
}

type httpConn struct {
	conn net.Conn
	r    *bufio.Reader
	host string // host:port, for the Host header
}

type response struct {
	status   int
	location string
	cookies  []string
	body     []byte
}

func (c *Client) newBrowser() *browser {
	return &browser{c: c, conns: map[string]*httpConn{}, cookies: map[string]string{}}
}

// close drops the browser's connections; it dials again when used.
func (b *browser) close() {
	for k, cn := range b.conns {
		cn.conn.Close()
		delete(b.conns, k)
	}
}

// do sends one request to target and reads the answer. On an I/O error the
// connection is closed, and the next request dials again.
func (b *browser) do(target, method, path, contentType, auth string, body []byte) (response, error) {
	u, err := url.Parse(target)
	if err != nil {
		return response{}, err
	}
	cn := b.conns[target]
	if cn == nil {
		conn, err := b.c.dial(target)
		if err != nil {
			return response{}, err
		}
		cn = &httpConn{conn: conn, r: bufio.NewReaderSize(conn, 16<<10), host: u.Host}
		b.conns[target] = cn
	}
	res, err := cn.do(b.cookies[u.Hostname()], method, path, contentType, auth, body, b.c.o.Timeout)
	if err != nil {
		cn.conn.Close()
		delete(b.conns, target)
		return res, err
	}
	for _, ck := range res.cookies {
		if v, ok := strings.CutPrefix(ck, "__Host-yagona_browser="); ok {
			b.cookies[u.Hostname()] = "__Host-yagona_browser=" + strings.SplitN(v, ";", 2)[0]
		}
	}
	return res, nil
}

func (cn *httpConn) do(cookie, method, path, contentType, auth string, body []byte, timeout time.Duration) (response, error) {
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, cn.host)
	if cookie != "" {
		fmt.Fprintf(&req, "Cookie: %s\r\n", cookie)
	}
	if auth != "" {
		fmt.Fprintf(&req, "Authorization: %s\r\n", auth)
	}
	if body != nil {
		fmt.Fprintf(&req, "Content-Type: %s\r\nContent-Length: %d\r\n", contentType, len(body))
	}
	req.WriteString("\r\n")
	req.Write(body)
	_ = cn.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := cn.conn.Write(req.Bytes()); err != nil {
		return response{}, err
	}
	var res response
	line, err := cn.r.ReadSlice('\n')
	if err != nil {
		return res, err
	}
	if res.status = statusCode(line); res.status == 0 {
		return res, fmt.Errorf("bad status line %q", line)
	}
	n, chunked := -1, false
	for {
		line, err := cn.r.ReadSlice('\n')
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
		res.body, err = readChunked(cn.r)
		return res, err
	case n >= 0:
		res.body = make([]byte, n)
		_, err = io.ReadFull(cn.r, res.body)
		return res, err
	}
	return res, errors.New("response without length")
}

func readChunked(r *bufio.Reader) ([]byte, error) {
	var out []byte
	for range 1 << 20 {
		l, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.ParseInt(strings.TrimSpace(l), 16, 32)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("bad chunk size %q", l)
		}
		if size == 0 {
			_, err = r.ReadString('\n')
			return out, err
		}
		chunk := make([]byte, size+2)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return nil, err
		}
		out = append(out, chunk[:size]...)
	}
	return nil, errors.New("too many chunks")
}

// statusError is a request that got an answer, but the wrong one.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func badStatus(step string, res response) error {
	body := res.body
	if len(body) > 200 {
		body = body[:200]
	}
	return &statusError{res.status, fmt.Sprintf("%s: %d %s", step, res.status, bytes.TrimSpace(body))}
}

// outcome is what a timed call reports: the status of the last answer on
// success, of the failing one on error (0 when none came).
func outcome(res response, err error) (int, error) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, err
	}
	if err != nil {
		return 0, err
	}
	return res.status, nil
}

// login runs authorize and challenge on target from, the client's CMS
// signature, and POST /login/certificate on target to, and returns the
// code.
func (c *Client) login(b *browser, p person, from, to string) (code, verifier string, err error) {
	vb := make([]byte, 32)
	_, _ = rand.Read(vb)
	verifier = base64.RawURLEncoding.EncodeToString(vb)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {c.clientID}, "redirect_uri": {loadRedirect}, "response_type": {"code"}, "scope": {"openid profile pinfl"},
		"state": {"s"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	res, err := b.do(from, "GET", "/oauth2/authorize?"+q.Encode(), "", "", nil)
	if err != nil {
		return "", "", err
	}
	id, ok := strings.CutPrefix(res.location, "/login?request=")
	if res.status != 302 || !ok {
		return "", "", badStatus("authorize", res)
	}
	res, err = b.do(from, "POST", "/login/challenge", "application/json", "", []byte(`{"request":"`+id+`"}`))
	if err != nil {
		return "", "", err
	}
	var ch struct {
		ToSign string `json:"to_sign"`
	}
	if res.status != 200 || json.Unmarshal(res.body, &ch) != nil {
		return "", "", badStatus("challenge", res)
	}
	der, err := cms.Sign([]byte(ch.ToSign), p.cert, p.chain, p.key, false, time.Now())
	if err != nil {
		return "", "", err
	}
	body, _ := json.Marshal(map[string]string{"request": id, "signature": base64.StdEncoding.EncodeToString(der)})
	res, err = b.do(to, "POST", "/login/certificate", "application/json", "", body)
	if err != nil {
		return "", "", err
	}
	var done struct {
		Redirect string `json:"redirect"`
	}
	if res.status != 200 || json.Unmarshal(res.body, &done) != nil {
		return "", "", badStatus("login", res)
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

// tokenCall posts a token request to target and returns the answer's
// string fields the scenarios use. It does not decode the whole JSON: the
// load generator shares the 2 cores with the server and must stay cheap
// (the interop tests check the answers in full).
func (c *Client) tokenCall(b *browser, target string, form url.Values) (map[string]string, error) {
	res, err := b.do(target, "POST", "/oauth2/token", "application/x-www-form-urlencoded", c.basic(), []byte(form.Encode()))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		out[k] = jsonString(res.body, k)
	}
	if res.status != 200 || out["access_token"] == "" {
		return nil, badStatus("token", res)
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

func (c *Client) exchange(b *browser, target, code, verifier string) (map[string]string, error) {
	return c.tokenCall(b, target, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {loadRedirect}, "code_verifier": {verifier}})
}

// browsers give each timed worker a browser of its own.
type browsers struct {
	c *Client
	s slots[*browser]
}

func (bs *browsers) of(w int) *browser {
	b := bs.s.get(w)
	if b == nil {
		b = bs.c.newBrowser()
		bs.s.set(w, b)
	}
	return b
}

// close closes every browser's connections.
func (bs *browsers) close() { bs.s.each(func(b *browser) { b.close() }) }

// timed wraps a call on worker w's browser: the status of the last answer
// (or of the failing one) and the error.
func (bs *browsers) timed(w int, f func(b *browser) error) (int, error) {
	b := bs.of(w)
	st, err := outcome(response{status: 200}, f(b))
	if err != nil && st == 0 {
		b.close() // no answer: the next call dials again
	}
	return st, err
}

// target is worker w's target; next is the one after it, where a
// cross-replica login ends (the same one when Cross is off).
func (c *Client) target(w int) (this, next string) {
	this = c.servers[w%len(c.servers)]
	if !c.o.Cross {
		return this, this
	}
	return this, c.servers[(w+1)%len(c.servers)]
}

// untimed runs f(b, i) for i in 0..n-1 on a few browsers talking to the
// first target; each browser stops at its first error, and the errors
// are returned joined.
func (c *Client) untimed(n int, f func(b *browser, i int) error) error {
	const workers = 8
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := c.newBrowser()
			defer b.close()
			for i := w; i < n; i += workers {
				if errs[w] = f(b, i); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PrepareLogin times complete certificate logins: authorize, challenge,
// the client's CMS signature, verification, code, token. With Cross set,
// the certificate POST and the code exchange go to the next target.
func (c *Client) PrepareLogin(people int) (Plan, error) {
	ps, err := c.oidcSetup(people)
	if err != nil {
		return Plan{}, err
	}
	bs := &browsers{c: c}
	return Plan{Targets: c.servers, Close: bs.close, Do: func(w, i int) (int, error) {
		from, to := c.target(w)
		return bs.timed(w, func(b *browser) error {
			code, v, err := c.login(b, ps[i%len(ps)], from, to)
			if err != nil {
				return err
			}
			_, err = c.exchange(b, to, code, v)
			return err
		})
	}}, nil
}

// PrepareCode logs in n times untimed and times the code exchanges.
func (c *Client) PrepareCode(n, people int) (Plan, error) {
	ps, err := c.oidcSetup(people)
	if err != nil {
		return Plan{}, err
	}
	type pending struct{ code, verifier string }
	codes := make([]pending, n)
	first := c.servers[0]
	err = c.untimed(n, func(b *browser, i int) error {
		code, v, err := c.login(b, ps[i%len(ps)], first, first)
		codes[i] = pending{code, v}
		return err
	})
	if err != nil {
		return Plan{}, err
	}
	bs := &browsers{c: c}
	return Plan{Targets: c.servers, Close: bs.close, Do: func(w, i int) (int, error) {
		if i >= n {
			return 0, errors.New("more requests than prepared codes")
		}
		this, _ := c.target(w)
		return bs.timed(w, func(b *browser) error {
			_, err := c.exchange(b, this, codes[i].code, codes[i].verifier)
			return err
		})
	}}, nil
}

// tokens logs in n times untimed (spread over a few people) and returns
// the token answers.
func (c *Client) tokens(n int) ([]map[string]string, error) {
	ps, err := c.oidcSetup(min(n, 8))
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, n)
	first := c.servers[0]
	err = c.untimed(n, func(b *browser, i int) error {
		code, v, err := c.login(b, ps[i%len(ps)], first, first)
		if err != nil {
			return err
		}
		out[i], err = c.exchange(b, first, code, v)
		return err
	})
	return out, err
}

// PrepareRefresh logs in once per chain untimed; each timed call rotates
// one chain's refresh token (a chain is used by one call at a time).
func (c *Client) PrepareRefresh(chains int) (Plan, error) {
	chains = max(1, chains)
	toks, err := c.tokens(chains)
	if err != nil {
		return Plan{}, err
	}
	type chain struct {
		mu  sync.Mutex
		tok string
	}
	cs := make([]*chain, chains)
	for i := range chains {
		cs[i] = &chain{tok: toks[i]["refresh_token"]}
	}
	bs := &browsers{c: c}
	return Plan{Targets: c.servers, Close: bs.close, Do: func(w, i int) (int, error) {
		ch := cs[i%len(cs)]
		ch.mu.Lock()
		defer ch.mu.Unlock()
		this, _ := c.target(w)
		return bs.timed(w, func(b *browser) error {
			out, err := c.tokenCall(b, this, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ch.tok}})
			if err != nil {
				return err
			}
			if out["refresh_token"] == "" {
				return errors.New("refresh: no new refresh token")
			}
			ch.tok = out["refresh_token"]
			return nil
		})
	}}, nil
}

// PrepareIntrospect logs in n times untimed (one per client worker, as a
// relying party holds its users' tokens) and times RFC 7662 introspection
// of the access tokens by the client (client_secret_basic); an answer
// must say the token is active.
func (c *Client) PrepareIntrospect(n int) (Plan, error) {
	n = max(1, n)
	toks, err := c.tokens(n)
	if err != nil {
		return Plan{}, err
	}
	bodies := make([][]byte, n)
	for i, t := range toks {
		bodies[i] = []byte(url.Values{"token": {t["access_token"]}, "token_type_hint": {"access_token"}}.Encode())
	}
	bs := &browsers{c: c}
	return Plan{Targets: c.servers, Close: bs.close, Do: func(w, i int) (int, error) {
		this, _ := c.target(w)
		return bs.timed(w, func(b *browser) error {
			res, err := b.do(this, "POST", "/oauth2/introspect", "application/x-www-form-urlencoded", c.basic(), bodies[i%n])
			if err != nil {
				return err
			}
			if res.status != 200 || !bytes.Contains(res.body, []byte(`"active":true`)) {
				return badStatus("introspect", res)
			}
			return nil
		})
	}}, nil
}
