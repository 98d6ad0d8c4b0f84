// Package load drives a running Yagona server's real HTTP surface with
// bounded scenarios and measures throughput and latency, next to the raw
// ECDSA P-256 rates of the same machine in the same run, so results compare
// across machines as ratios. cmd/yagona-load and the HTTP benchmarks use it.
// Only loopback targets are meant; every loop is bounded in count and time.
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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Options configure a run.
type Options struct {
	Server, OCSPURL, CAFile, TokenFile, Scenario string
	N, Concurrency, Certs                        int
	Duration                                     time.Duration
}

// Report is the result of one run.
type Report struct {
	Scenario     string  `json:"scenario"`
	Requests     int     `json:"requests"`
	Errors       int     `json:"errors"`
	Seconds      float64 `json:"seconds"`
	PerSecond    float64 `json:"per_second"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
	Concurrency  int     `json:"concurrency"`
	CPUs         int     `json:"cpus"`
	SignPerSec   float64 `json:"ecdsa_p256_sign_per_second_per_core"`
	VerifyPerSec float64 `json:"ecdsa_p256_verify_per_second_per_core"`
	FirstError   string  `json:"first_error,omitempty"`
}

func (r Report) String() string {
	return fmt.Sprintf("%s: %d requests, %d errors in %.2fs: %.0f/s, p50 %.2f ms, p99 %.2f ms (c=%d, %d CPUs)\n"+
		"raw ECDSA P-256 on one core: %.0f sign/s, %.0f verify/s; throughput = %.3f x sign rate, %.3f x verify rate",
		r.Scenario, r.Requests, r.Errors, r.Seconds, r.PerSecond, r.P50ms, r.P99ms, r.Concurrency, r.CPUs,
		r.SignPerSec, r.VerifyPerSec, r.PerSecond/r.SignPerSec, r.PerSecond/r.VerifyPerSec)
}

// Run prepares the scenario untimed, then times it.
func Run(ctx context.Context, o Options) (Report, error) {
	c, err := NewClient(o)
	if err != nil {
		return Report{}, err
	}
	var work func(i int) error
	switch o.Scenario {
	case "issue":
		work, err = c.PrepareIssue(o.N)
	case "ocsp":
		work, err = c.PrepareOCSP(o.Certs)
	case "tsa":
		work, err = c.PrepareTSA(o.N)
	case "login":
		work, err = c.PrepareLogin(o.Certs)
	case "code":
		work, err = c.PrepareCode(o.N, o.Certs)
	case "refresh":
		work, err = c.PrepareRefresh(o.Concurrency)
	default:
		return Report{}, fmt.Errorf("unknown scenario %q", o.Scenario)
	}
	if err != nil {
		return Report{}, err
	}
	rep := Timed(ctx, o, work)
	rep.Scenario = o.Scenario
	rep.SignPerSec, rep.VerifyPerSec = CryptoRates(300 * time.Millisecond)
	return rep, nil
}

// Timed runs work(0..n-1) on o.Concurrency goroutines until n requests or
// o.Duration, and measures each call.
func Timed(ctx context.Context, o Options, work func(i int) error) Report {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var next atomic.Int64
	var errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, o.Concurrency)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= o.N {
					return
				}
				t0 := time.Now()
				if err := work(i); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	rep := Report{Requests: len(all) + int(errs.Load()), Errors: int(errs.Load()), Seconds: elapsed.Seconds(),
		PerSecond: float64(len(all)) / elapsed.Seconds(), Concurrency: o.Concurrency, CPUs: runtime.NumCPU()}
	if len(all) > 0 {
		rep.P50ms = ms(all[len(all)/2])
		rep.P99ms = ms(all[min(len(all)-1, len(all)*99/100)])
	}
	if v, ok := firstErr.Load().(string); ok {
		rep.FirstError = v
	}
	return rep
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

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

// Client talks to one server.
type Client struct {
	tlsConfig *tls.Config
	o         Options
	https     *http.Client
	plain     *http.Client
	token     string

	clientID, clientSecret string // the OIDC scenarios' client
}

// NewClient connects to a server as an operator.
func NewClient(o Options) (*Client, error) {
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
	tr := func() *http.Transport {
		return &http.Transport{MaxIdleConns: o.Concurrency * 2, MaxIdleConnsPerHost: o.Concurrency * 2,
			TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	return &Client{o: o, tlsConfig: &tls.Config{RootCAs: pool}, token: strings.TrimSpace(string(tok)),
		https: &http.Client{Timeout: 30 * time.Second, Transport: tr()},
		plain: &http.Client{Timeout: 30 * time.Second, Transport: tr()}}, nil
}

func (c *Client) post(path string, in, out any, auth bool) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest("POST", c.o.Server+path, bytes.NewReader(b))
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

func (c *Client) PrepareIssue(n int) (func(int) error, error) {
	codes, csrs, err := c.setup(n)
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, n)
	for i := range n {
		bodies[i], _ = json.Marshal(map[string]string{"csr": csrs[i], "enrollment_code": codes[i]})
	}
	work, err := c.rawPoster(c.o.Server+"/api/v1/certificates", "application/json", bodies, "201")
	if err != nil {
		return nil, err
	}
	// Each enrollment code works once: index i must not wrap around.
	return func(i int) error {
		if i >= n {
			return errors.New("more requests than prepared enrollments")
		}
		return work(i)
	}, nil
}

func (c *Client) PrepareOCSP(certs int) (func(int) error, error) {
	codes, csrs, err := c.setup(certs)
	if err != nil {
		return nil, err
	}
	reqs := make([][]byte, certs)
	for i := range certs {
		var res struct {
			Certificate string `json:"certificate"`
			Chain       string `json:"chain"`
		}
		if err := c.post("/api/v1/certificates", map[string]string{"csr": csrs[i], "enrollment_code": codes[i]}, &res, false); err != nil {
			return nil, err
		}
		leaf, err1 := parsePEM(res.Certificate)
		issuer, err2 := parsePEM(res.Chain)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		if reqs[i], err = ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1}); err != nil {
			return nil, err
		}
	}
	return c.rawPoster(c.o.OCSPURL, "application/ocsp-request", reqs, "200")
}

// PrepareTSA builds n time-stamp queries (SHA-256 of random documents,
// with nonces, asking for the certificate) and times them against
// /pki/tsa on the plain HTTP listener (the OCSP URL's host).
func (c *Client) PrepareTSA(n int) (func(int) error, error) {
	u, err := url.Parse(c.o.OCSPURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/pki/tsa"
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
	return c.rawPoster(u.String(), "application/timestamp-query", reqs, "200")
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

// rawPoster posts the bodies over raw keep-alive HTTP/1.1 connections
// (TLS for https URLs), one per worker goroutine, with prebuilt request
// bytes. Go's net/http client costs about as much CPU per request as the
// server does, so on a 2-core machine it would measure the client as much
// as the server; this is the same trade wrk makes.
func (c *Client) rawPoster(target, contentType string, bodies [][]byte, wantStatus string) (func(int) error, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("url %q: want http(s)://host:port/path", target)
	}
	wire := make([][]byte, len(bodies))
	for i, b := range bodies {
		wire[i] = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
			u.RequestURI(), u.Host, contentType, len(b), b)
	}
	status := []byte("HTTP/1.1 " + wantStatus + " ")
	var pool sync.Pool
	return func(i int) error {
		cn, _ := pool.Get().(*rawConn)
		if cn == nil {
			var conn net.Conn
			var err error
			if u.Scheme == "https" {
				conn, err = tls.Dial("tcp", u.Host, c.tlsConfig)
			} else {
				conn, err = net.Dial("tcp", u.Host)
			}
			if err != nil {
				return err
			}
			cn = &rawConn{c: conn, r: bufio.NewReaderSize(conn, 16<<10), status: status}
		}
		if err := cn.roundTrip(wire[i%len(wire)]); err != nil {
			cn.c.Close()
			return err
		}
		pool.Put(cn)
		return nil
	}, nil
}

type rawConn struct {
	c      net.Conn
	r      *bufio.Reader
	status []byte
}

// roundTrip writes one request and reads one response with the wanted
// status and a non-trivial body.
func (c *rawConn) roundTrip(req []byte) error {
	if _, err := c.c.Write(req); err != nil {
		return err
	}
	status, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, c.status) {
		return fmt.Errorf("response %q", bytes.TrimSpace(status))
	}
	n := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if n < 100 {
		return fmt.Errorf("response body of %d bytes", n)
	}
	_, err = c.r.Discard(n)
	return err
}

func parsePEM(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}
