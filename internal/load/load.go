// Package load drives a running Yagona server's real HTTP surface with
// bounded scenarios and measures throughput and latency, next to the raw
// ECDSA P-256 rates of the same machine in the same run, so results compare
// across machines as ratios. cmd/yagona-load and the HTTP benchmarks use it.
// Only loopback targets are meant; every loop is bounded in count and time.
//
// # Replicas
//
// Options.Server and Options.OCSPURL take one URL or several separated by
// commas. Timed worker w sends to target w mod n on keep-alive connections
// of its own; setup (people, enrollments, the client, untimed logins) goes
// to the first target. With Options.Cross a login starts (authorize,
// challenge) on the worker's target and ends (certificate POST, code
// exchange) on the next, which only works when replicas share state. Each
// worker carries its browser cookie per host name, not per port, as a
// browser does (RFC 6265 §8.5), so replicas on one host see it.
//
// # JSON report
//
// Report marshals to one object, which fault tests parse
// (yagona-load -json):
//
//	scenario      the scenario run
//	requests      timed requests made (ok + errors)
//	ok, errors    requests that succeeded, and that failed
//	seconds       length of the timed phase
//	per_second    successful requests per second
//	p50_ms, p99_ms, p999_ms, max_ms
//	              latency of successful requests, in milliseconds
//	status        answers by HTTP status, {"200": 980, "503": 20}; "none"
//	              counts requests without an answer (refused, reset,
//	              timed out). A multi-step request (a login) counts the
//	              status of its failing step, or of its last on success.
//	error_messages up to 5 distinct error messages, first seen first,
//	              [{"message": "...", "count": 3}]
//	              ([] when none)
//	first_error   the first error message (absent when none)
//	timeline      per second of the run, [{"ok": 950, "errors": 0}, ...],
//	              by the second each request started in
//	targets       the same fields per target, each with "target" (its
//	              URL); worker w's requests count for target w mod n
//	concurrency   workers; rate_limit: the -rate cap, when set;
//	              cross: true for cross-replica logins
//	cpus          this machine's CPUs
//	ecdsa_p256_sign_per_second_per_core, ecdsa_p256_verify_per_second_per_core
//	              raw single-core rates measured after the timed phase
//	x_sign_rate, x_verify_rate
//	              per_second divided by those rates
package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Options configure a run. Server and OCSPURL each name one target or
// several separated by commas (replicas); setup goes to the first.
type Options struct {
	Server, OCSPURL, CAFile, TokenFile, Scenario string
	N, Concurrency, Certs                        int
	Duration                                     time.Duration
	// Timeout bounds each request's connection I/O; if zero, 10 s.
	Timeout time.Duration
	// Rate caps the timed requests per second over all workers; if zero,
	// there is no cap.
	Rate float64
	// Cross makes a login start on a worker's target and finish (the
	// certificate POST and the code exchange) on the next one.
	Cross bool
	// Mix weighs the scenarios of the mixed scenario, as
	// "login=1,introspect=5"; if empty, DefaultMix.
	Mix string
	// Phase, if set, is called with "timed" when the untimed setup is
	// over and the timed phase starts, and with "done" when it ends, so a
	// caller can sample the servers' CPU time around the timed phase.
	Phase func(name string)
}

// Run prepares the scenario untimed, then times it.
func Run(ctx context.Context, o Options) (Report, error) {
	c, err := NewClient(o)
	if err != nil {
		return Report{}, err
	}
	p, err := c.Prepare(o.Scenario)
	if err != nil {
		return Report{}, err
	}
	if o.Phase != nil {
		o.Phase("timed")
	}
	rep := Timed(ctx, o, p)
	if o.Phase != nil {
		o.Phase("done")
	}
	if p.Close != nil {
		p.Close()
	}
	rep.Scenario, rep.Cross = o.Scenario, o.Cross && usesCross(o.Scenario)
	rep.SignPerSec, rep.VerifyPerSec = CryptoRates(300 * time.Millisecond)
	rep.XSign, rep.XVerify = rep.PerSecond/rep.SignPerSec, rep.PerSecond/rep.VerifyPerSec
	return rep, nil
}

// Prepare sets a scenario up, untimed.
func (c *Client) Prepare(scenario string) (Plan, error) {
	o := c.o
	switch scenario {
	case "issue":
		return c.PrepareIssue(o.N)
	case "ocsp":
		return c.PrepareOCSP(o.Certs)
	case "tsa":
		return c.PrepareTSA(o.N)
	case "login":
		return c.PrepareLogin(o.Certs)
	case "code":
		return c.PrepareCode(o.N, o.Certs)
	case "refresh":
		return c.PrepareRefresh(o.Concurrency)
	case "introspect":
		return c.PrepareIntrospect(o.Concurrency)
	case "verify":
		return c.PrepareVerify(o.Certs)
	case "mixed":
		return c.PrepareMixed(o.Mix)
	}
	return Plan{}, fmt.Errorf("unknown scenario %q", scenario)
}

func usesCross(scenario string) bool { return scenario == "login" || scenario == "mixed" }

// CryptoRates measures single-core ECDSA P-256 sign and verify rates.
func CryptoRates(d time.Duration) (sign, verify float64) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("yagona"))
	n, start := 0, time.Now()
	var sig []byte
	for time.Since(start) < d {
		sig, _ = key.Sign(rand.Reader, digest[:], crypto.SHA256)
		n++
	}
	sign = float64(n) / time.Since(start).Seconds()
	n, start = 0, time.Now()
	for time.Since(start) < d {
		ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig)
		n++
	}
	return sign, float64(n) / time.Since(start).Seconds()
}

// Client talks to one server or to several replicas.
type Client struct {
	tlsConfig *tls.Config
	o         Options
	servers   []string // HTTPS base URLs
	ocsps     []string // OCSP URLs on the plain HTTP listeners
	https     *http.Client
	token     string

	clientID, clientSecret string // the OIDC scenarios' client
}

// NewClient connects to a server as an operator.
func NewClient(o Options) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	servers, err := targets(o.Server, "https")
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	ocsps, err := targets(o.OCSPURL, "http", "https")
	if err != nil {
		return nil, fmt.Errorf("ocsp: %w", err)
	}
	pemBytes, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, errors.New("no certificate in " + o.CAFile)
	}
	tok, err := os.ReadFile(o.TokenFile)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConns: 32, MaxIdleConnsPerHost: 32, TLSClientConfig: &tls.Config{RootCAs: pool}}
	return &Client{o: o, tlsConfig: &tls.Config{RootCAs: pool}, token: strings.TrimSpace(string(tok)),
		servers: servers, ocsps: ocsps, https: &http.Client{Timeout: 30 * time.Second, Transport: tr}}, nil
}

// targets splits a comma-separated list of URLs and checks each.
func targets(list string, schemes ...string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSuffix(strings.TrimSpace(t), "/")
		if t == "" {
			continue
		}
		u, err := url.Parse(t)
		if err != nil || !slices.Contains(schemes, u.Scheme) || u.Host == "" {
			return nil, fmt.Errorf("url %q: want %s://host:port", t, schemes[0])
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, errors.New("no URL")
	}
	return out, nil
}

// dial opens a keep-alive connection to the host of a target URL, over
// TLS for https.
func (c *Client) dial(target string) (net.Conn, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: c.o.Timeout}
	if u.Scheme == "https" {
		return tls.DialWithDialer(d, "tcp", u.Host, c.tlsConfig)
	}
	return d.Dial("tcp", u.Host)
}

// slots hold one value per worker, made on first use.
type slots[T any] struct {
	mu sync.Mutex
	m  map[int]T
}

func (s *slots[T]) get(w int) T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[w]
}

// each calls f on every value held.
func (s *slots[T]) each(f func(T)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.m {
		f(v)
	}
}

func (s *slots[T]) set(w int, v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[int]T{}
	}
	s.m[w] = v
}

func (c *Client) post(path string, in, out any, auth bool) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", c.servers[0]+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.https.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %d %s", path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// setup registers n people with an enrollment each and makes their CSRs,
// on all cores, untimed.
func (c *Client) setup(n int) (codes, csrs []string, err error) {
	codes, csrs = make([]string, n), make([]string, n)
	run := fmt.Sprintf("%06d", time.Now().UnixNano()%1_000_000)
	var wg sync.WaitGroup
	var first atomic.Value
	var next atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				pinfl := fmt.Sprintf("9%s%07d", run, i)
				person := map[string]string{"pinfl": pinfl, "given_name": "Load", "surname": "Test", "birth_date": "1990-01-01"}
				var enr struct {
					Code string `json:"enrollment_code"`
				}
				if err := c.post("/api/v1/persons", person, nil, true); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
				if err := c.post("/api/v1/enrollments", map[string]string{"pinfl": pinfl, "profile": "citizen"}, &enr, true); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
				key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
				codes[i] = enr.Code
				csrs[i] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
			}
		}()
	}
	wg.Wait()
	if e, ok := first.Load().(error); ok {
		return nil, nil, fmt.Errorf("setup: %w", e)
	}
	return codes, csrs, nil
}

// PrepareIssue registers n people with an enrollment each and makes their
// CSRs, untimed; each timed request redeems one code with its CSR.
func (c *Client) PrepareIssue(n int) (Plan, error) {
	codes, csrs, err := c.setup(n)
	if err != nil {
		return Plan{}, err
	}
	bodies := make([][]byte, n)
	for i := range n {
		bodies[i], _ = json.Marshal(map[string]string{"csr": csrs[i], "enrollment_code": codes[i]})
	}
	p, err := c.rawPoster(c.servers, "/api/v1/certificates", "application/json", bodies, 201)
	if err != nil {
		return Plan{}, err
	}
	// Each enrollment code works once: index i must not wrap around.
	do := p.Do
	p.Do = func(w, i int) (int, error) {
		if i >= n {
			return 0, errors.New("more requests than prepared enrollments")
		}
		return do(w, i)
	}
	return p, nil
}

// PrepareOCSP enrolls certs certificates, untimed, and times OCSP POSTs
// for them in turn.
func (c *Client) PrepareOCSP(certs int) (Plan, error) {
	codes, csrs, err := c.setup(certs)
	if err != nil {
		return Plan{}, err
	}
	reqs := make([][]byte, certs)
	for i := range certs {
		var res struct {
			Certificate string `json:"certificate"`
			Chain       string `json:"chain"`
		}
		if err := c.post("/api/v1/certificates", map[string]string{"csr": csrs[i], "enrollment_code": codes[i]}, &res, false); err != nil {
			return Plan{}, err
		}
		leaf, err1 := parsePEM(res.Certificate)
		issuer, err2 := parsePEM(res.Chain)
		if err := errors.Join(err1, err2); err != nil {
			return Plan{}, err
		}
		if reqs[i], err = ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1}); err != nil {
			return Plan{}, err
		}
	}
	return c.rawPoster(c.ocsps, "", "application/ocsp-request", reqs, 200)
}

// PrepareTSA builds n time-stamp queries (SHA-256 of random documents,
// with nonces, asking for the certificate) and times them against
// /pki/tsa on the plain HTTP listeners (the OCSP URLs' hosts).
func (c *Client) PrepareTSA(n int) (Plan, error) {
	bases := make([]string, len(c.ocsps))
	for k, o := range c.ocsps {
		u, err := url.Parse(o)
		if err != nil {
			return Plan{}, err
		}
		u.Path = "/pki/tsa"
		bases[k] = u.String()
	}
	n = max(1, min(n, 10000))
	reqs := make([][]byte, n)
	for i := range n {
		doc := make([]byte, 32)
		_, _ = rand.Read(doc)
		sum := sha256.Sum256(doc)
		nonce := make([]byte, 8)
		_, _ = rand.Read(nonce)
		reqs[i] = tsQuery(sum[:], nonce)
	}
	return c.rawPoster(bases, "", "application/timestamp-query", reqs, 200)
}

// tsQuery is a DER TimeStampReq (RFC 3161): version 1, SHA-256 imprint,
// nonce, certReq true.
func tsQuery(digest, nonce []byte) []byte {
	type imprint struct {
		Alg  struct{ Algorithm asn1.ObjectIdentifier }
		Hash []byte
	}
	type req struct {
		Version int
		Imprint imprint
		Nonce   *big.Int `asn1:"optional"`
		CertReq bool     `asn1:"optional"`
	}
	var r req
	r.Version = 1
	r.Imprint.Alg.Algorithm = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	r.Imprint.Hash = digest
	r.Nonce = new(big.Int).SetBytes(nonce)
	r.CertReq = true
	b, _ := asn1.Marshal(r)
	return b
}

// rawPoster posts the bodies to path on the targets over raw keep-alive
// HTTP/1.1 connections (TLS for https URLs), one per worker goroutine,
// worker w to target w mod len(targets), with prebuilt request bytes.
// Go's net/http client costs about as much CPU per request as the server
// does, so on a 2-core machine it would measure the client as much as the
// server; this is the same trade wrk makes. A request succeeds on the
// wanted status with a body of at least 100 bytes.
func (c *Client) rawPoster(targets []string, path, contentType string, bodies [][]byte, want int) (Plan, error) {
	wire := make([][][]byte, len(targets))
	for k, target := range targets {
		u, err := url.Parse(target + path)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return Plan{}, fmt.Errorf("url %q: want http(s)://host:port/path", target+path)
		}
		wire[k] = make([][]byte, len(bodies))
		for i, b := range bodies {
			wire[k][i] = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
				u.RequestURI(), u.Host, contentType, len(b), b)
		}
	}
	var conns slots[*rawConn]
	return Plan{Targets: targets, Do: func(w, i int) (int, error) {
		k := w % len(targets)
		cn := conns.get(w)
		if cn == nil {
			conn, err := c.dial(targets[k])
			if err != nil {
				return 0, err
			}
			cn = &rawConn{c: conn, r: bufio.NewReaderSize(conn, 16<<10), timeout: c.o.Timeout}
			conns.set(w, cn)
		}
		status, err := cn.roundTrip(wire[k][i%len(bodies)], want)
		if err != nil {
			cn.c.Close()
			conns.set(w, nil)
		}
		return status, err
	}, Close: func() {
		conns.each(func(cn *rawConn) {
			if cn != nil {
				cn.c.Close()
			}
		})
	}}, nil
}

type rawConn struct {
	c       net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

// roundTrip writes one request and reads one response, which must have
// the wanted status and a non-trivial body; it returns the status.
func (c *rawConn) roundTrip(req []byte, want int) (int, error) {
	_ = c.c.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.c.Write(req); err != nil {
		return 0, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	status := statusCode(line)
	if status == 0 {
		return 0, fmt.Errorf("response %q", bytes.TrimSpace(line))
	}
	if status != want {
		return status, fmt.Errorf("status %d", status)
	}
	n := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return status, err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if n < 100 {
		return status, fmt.Errorf("response body of %d bytes", n)
	}
	_, err = c.r.Discard(n)
	return status, err
}

// statusCode reads the code of an HTTP/1.1 status line, 0 if malformed.
func statusCode(line []byte) int {
	rest, ok := bytes.CutPrefix(line, []byte("HTTP/1.1 "))
	if !ok || len(rest) < 3 {
		return 0
	}
	n, err := strconv.Atoi(string(rest[:3]))
	if err != nil || n < 100 {
		return 0
	}
	return n
}

func parsePEM(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}
