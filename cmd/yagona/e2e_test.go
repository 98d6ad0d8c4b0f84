package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/store/storetest"
)

// testServer is a Yagona server started in-process on loopback ports with
// its own data directory.
type testServer struct {
	t       testing.TB
	cfg     *config.Config
	data    string
	https   string // https://127.0.0.1:port
	http    string // http://127.0.0.1:port
	client  *http.Client
	cancel  context.CancelFunc
	done    chan error
	rootPEM string
	stopped sync.Once
}

func startServer(t testing.TB, mutate func(*config.Config)) *testServer {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	lnS, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lnP, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, cfg: cfg, data: t.TempDir(), https: "https://" + lnS.Addr().String(), http: "http://" + lnP.Addr().String()}
	cfg.DataDir = s.data
	cfg.PublicURL.HTTPS, cfg.PublicURL.HTTP = s.https, s.http
	cfg.Log.Level = "warn"
	if mutate != nil {
		mutate(cfg)
	}
	s.data = cfg.DataDir // a second replica shares the first one's
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	g := &globals{out: io.Discard, errw: testWriter{t}}
	go func() { s.done <- serve(ctx, cfg, g, lnS, lnP) }()
	t.Cleanup(s.stop)
	rootPath := filepath.Join(s.data, "certs", "root.pem")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(s.http + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("server stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, err := os.ReadFile(rootPath)
	if err != nil {
		t.Fatal(err)
	}
	s.rootPEM = string(b)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	s.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return s
}

// stop stops the server (once: a test may stop it before its cleanup).
func (s *testServer) stop() {
	s.stopped.Do(func() {
		// Connections the client dialed but never used are "new" to the
		// server, and Shutdown waits 5 s before it counts them idle: close
		// them first.
		if s.client != nil {
			s.client.CloseIdleConnections()
		}
		http.DefaultClient.CloseIdleConnections()
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			s.t.Error("server did not stop")
		}
	})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// cli runs a yagona command against the server and returns its stdout.
func (s *testServer) cli(args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb)
	args = append(args, "--data", s.data)
	if args[0] == "ra" || args[0] == "cert" || args[0] == "client" || args[0] == "login" || args[0] == "verify" || args[0] == "log" && args[1] == "fetch" {
		args = append(args, "--server", s.https)
	}
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err != nil {
		return out.String(), fmt.Errorf("%w: %s", err, errb.String())
	}
	return out.String(), nil
}

func (s *testServer) mustCLI(args ...string) string {
	s.t.Helper()
	out, err := s.cli(args...)
	if err != nil {
		s.t.Fatalf("yagona %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// api sends JSON to the API and decodes the answer; it returns the status.
func (s *testServer) api(method, path, token string, in, out any) int {
	s.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.https+path, body)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func (s *testServer) adminToken() string {
	b, err := os.ReadFile(filepath.Join(s.data, "secrets", "admin-token"))
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func needOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH")
	}
}

// openssl runs openssl in dir and returns stdout+stderr.
func openssl(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustOpenSSL(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := openssl(t, dir, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// enrollWithOpenSSL registers a person, makes a key and CSR with OpenSSL
// (with a subject the CA must ignore), enrolls, and writes leaf.pem,
// issuing.pem and root.pem into dir.
func (s *testServer) enrollWithOpenSSL(dir, pinfl, profile string, extra map[string]string) (serial string) {
	t := s.t
	t.Helper()
	s.mustCLI("ra", "person", "add", "--pinfl", pinfl, "--given-name", "Dilnoza", "--surname", "Karimova", "--birth-date", "1990-04-12")
	args := []string{"ra", "enroll", "--json", "--pinfl", pinfl, "--profile", profile}
	for k, v := range extra {
		args = append(args, "--"+k, v)
	}
	var enr struct {
		Code string `json:"enrollment_code"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI(args...)), &enr); err != nil {
		t.Fatal(err)
	}
	mustOpenSSL(t, dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem")
	mustOpenSSL(t, dir, "req", "-new", "-key", "key.pem", "-subj", "/CN=Not From The CSR/O=Evil", "-out", "req.pem")
	csr, _ := os.ReadFile(filepath.Join(dir, "req.pem"))
	var res struct {
		Serial      string `json:"serial"`
		Certificate string `json:"certificate"`
		Chain       string `json:"chain"`
	}
	if st := s.api("POST", "/api/v1/certificates", "", map[string]string{"csr": string(csr), "enrollment_code": enr.Code}, &res); st != 201 {
		t.Fatalf("enroll: status %d", st)
	}
	write(t, dir, "leaf.pem", res.Certificate)
	write(t, dir, "issuing.pem", res.Chain)
	write(t, dir, "root.pem", s.rootPEM)
	return res.Serial
}

func write(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *testServer) ocspStatus(dir string, nonce bool) string {
	t := s.t
	t.Helper()
	args := []string{"ocsp", "-issuer", "issuing.pem", "-cert", "leaf.pem", "-url", s.http + "/ocsp",
		"-CAfile", "root.pem", "-verify_other", "issuing.pem"}
	if !nonce {
		args = append(args, "-no_nonce")
	}
	out := mustOpenSSL(t, dir, args...)
	if !strings.Contains(out, "Response verify OK") {
		t.Fatalf("ocsp response did not verify:\n%s", out)
	}
	if nonce && strings.Contains(out, "WARNING: no nonce") {
		t.Fatalf("nonce not echoed:\n%s", out)
	}
	return out
}

func TestOpenSSLLifecycle(t *testing.T) {
	needOpenSSL(t)
	lifecycle(t, startServer(t, nil))
}

// TestOpenSSLLifecyclePostgresRedis runs the same lifecycle on PostgreSQL
// and Redis, the production backends.
func TestOpenSSLLifecyclePostgresRedis(t *testing.T) {
	needOpenSSL(t)
	rd := os.Getenv("YAGONA_TEST_REDIS_URL")
	if rd == "" {
		t.Skip("set YAGONA_TEST_REDIS_URL (and YAGONA_TEST_POSTGRES_URL) to run the lifecycle on PostgreSQL and Redis")
	}
	schemaURL := storetest.PostgresURL(t)
	lifecycle(t, startServer(t, func(c *config.Config) {
		c.Store, c.Cache = schemaURL, rd
	}))
}

func lifecycle(t *testing.T, s *testServer) {
	dir := t.TempDir()
	serial := s.enrollWithOpenSSL(dir, "31204900012345", "citizen", nil)

	// The subject came from the registration record, not the CSR.
	subj := mustOpenSSL(t, dir, "x509", "-in", "leaf.pem", "-noout", "-subject", "-nameopt", "RFC2253")
	if !strings.Contains(subj, "serialNumber=PNOUZ-31204900012345") || strings.Contains(subj, "Evil") {
		t.Fatalf("subject = %s", subj)
	}
	if out := mustOpenSSL(t, dir, "verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "leaf.pem"); !strings.Contains(out, "leaf.pem: OK") {
		t.Fatalf("verify: %s", out)
	}
	if uri := mustOpenSSL(t, dir, "x509", "-in", "leaf.pem", "-noout", "-ocsp_uri"); strings.TrimSpace(uri) != s.http+"/ocsp" {
		t.Fatalf("ocsp uri = %q", uri)
	}
	if out := s.ocspStatus(dir, true); !strings.Contains(out, "leaf.pem: good") {
		t.Fatalf("want good:\n%s", out)
	}
	s.ocspGET(t, dir)

	// Suspend: OCSP says revoked with certificateHold; resume: good again.
	s.mustCLI("cert", "suspend", "--serial", serial)
	if out := s.ocspStatus(dir, false); !strings.Contains(out, "leaf.pem: revoked") || !strings.Contains(out, "certificateHold") {
		t.Fatalf("want revoked (hold):\n%s", out)
	}
	s.mustCLI("cert", "resume", "--serial", serial)
	if out := s.ocspStatus(dir, false); !strings.Contains(out, "leaf.pem: good") {
		t.Fatalf("want good after resume:\n%s", out)
	}

	// Revoke: OCSP says revoked with the reason; the CRL makes verify fail.
	s.mustCLI("cert", "revoke", "--serial", serial, "--reason", "keyCompromise")
	if out := s.ocspStatus(dir, true); !strings.Contains(out, "leaf.pem: revoked") || !strings.Contains(out, "Reason: keyCompromise") {
		t.Fatalf("want revoked keyCompromise:\n%s", out)
	}
	// The certificate names the full CRL, then its CRL shard; the shard's
	// CRL (partitioned, with an issuing distribution point naming the same
	// URL) revokes it, and so does the full CRL (no such extension).
	leaf, err := x509.ParseCertificate(readPEM(t, filepath.Join(dir, "leaf.pem")))
	if err != nil {
		t.Fatal(err)
	}
	dps := leaf.CRLDistributionPoints
	if len(dps) != 2 || dps[0] != s.http+"/crl/issuing.crl" || !strings.HasPrefix(dps[1], s.http+"/crl/issuing-") {
		t.Fatalf("CRL distribution points %q, want the full CRL, then one shard of %s/crl/issuing", dps, s.http)
	}
	for i, u := range dps {
		crl := s.fetch(u)
		write(t, dir, "crl.der", string(crl))
		mustOpenSSL(t, dir, "crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem")
		txt := mustOpenSSL(t, dir, "crl", "-in", "crl.pem", "-noout", "-text")
		if hasIDP := strings.Contains(txt, "Issuing Distribution Point: critical") && strings.Contains(txt, u); hasIDP != (i == 1) {
			t.Fatalf("%s: issuing distribution point %v, want %v:\n%s", u, hasIDP, i == 1, txt)
		}
		out, err := openssl(t, dir, "verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "-CRLfile", "crl.pem", "leaf.pem")
		if err == nil || !strings.Contains(out, "certificate revoked") {
			t.Fatalf("verify -crl_check with %s: err=%v\n%s", u, err, out)
		}
	}
	// Another shard's CRL is out of scope for this certificate: OpenSSL
	// finds no CRL for it rather than taking its silence for good.
	shard, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(dps[1], s.http+"/crl/issuing-"), ".crl"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "other.der", string(s.fetch(s.http+"/crl/issuing-"+strconv.FormatInt(shard+1, 10)+".crl")))
	mustOpenSSL(t, dir, "crl", "-inform", "DER", "-in", "other.der", "-out", "other.pem")
	out, err := openssl(t, dir, "verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem", "-CRLfile", "other.pem", "leaf.pem")
	if err == nil || !strings.Contains(out, "different CRL scope") {
		t.Fatalf("verify with another shard's CRL: err=%v\n%s", err, out)
	}
	// A revoked certificate stays revoked.
	if _, err := s.cli("cert", "resume", "--serial", serial); err == nil {
		t.Fatal("resume of a revoked certificate succeeded")
	}
	show := s.mustCLI("cert", "show", "--json", "--serial", serial)
	if !strings.Contains(show, `"status": "revoked"`) || !strings.Contains(show, `"reason": "keyCompromise"`) {
		t.Fatalf("cert show: %s", show)
	}
}

// ocspGET asks by GET (RFC 6960 A.1) with the base64 left unescaped, '/'
// and '+' included, as many clients send it, and parses the answer.
func (s *testServer) ocspGET(t *testing.T, dir string) {
	leaf, _ := x509.ParseCertificate(readPEM(t, filepath.Join(dir, "leaf.pem")))
	issuer, _ := x509.ParseCertificate(readPEM(t, filepath.Join(dir, "issuing.pem")))
	for i := 0; i < 5000; i++ { // vary the serial until the base64 holds "//"
		probe := *leaf
		if i > 0 { // a random serial changes a run of base64 characters
			var r [16]byte
			_, _ = rand.Read(r[:])
			probe.SerialNumber = new(big.Int).SetBytes(r[:])
		}
		der, err := ocsp.CreateRequest(&probe, issuer, nil)
		if err != nil {
			t.Fatal(err)
		}
		b64 := base64.StdEncoding.EncodeToString(der)
		if i > 0 && !strings.Contains(b64, "//") {
			continue
		}
		resp, err := http.Get(s.http + "/ocsp/" + b64)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("GET %s: %d %q", b64, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if _, err := ocsp.ParseResponse(body, issuer); err != nil {
			t.Fatalf("GET %s: %v", b64, err)
		}
		if i > 0 {
			return
		}
	}
	t.Fatal("found no serial whose request has // in base64")
}

func (s *testServer) fetch(url string) []byte {
	s.t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}

// TestProfilesLintClean issues a certificate of every profile (and the
// system certificates, the CA certificates and every CRL the server
// publishes, the root's included) and lints them with zlint's RFC 5280 and
// ETSI rules.
func TestProfilesLintClean(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	tok := s.adminToken()
	if st := s.api("POST", "/api/v1/organizations", tok, map[string]string{"tin": "201234567", "name": "Oʻzbekiston Davlat Xizmatlari Agentligi"}, nil); st != 200 {
		t.Fatalf("org: %d", st)
	}
	cases := []struct {
		profile, pinfl string
		extra          map[string]string
	}{
		{"citizen", "41001900000011", nil},
		{"employee", "41001900000012", map[string]string{"tin": "201234567"}},
		{"official", "41001900000013", map[string]string{"tin": "201234567", "title": "Bosh mutaxassis"}},
		{"service", "41001900000014", map[string]string{"tin": "201234567", "title": "my.gov.uz portal"}},
	}
	var ders [][]byte
	for _, c := range cases {
		dir := t.TempDir()
		s.enrollWithOpenSSL(dir, c.pinfl, c.profile, c.extra)
		ders = append(ders, readPEM(t, filepath.Join(dir, "leaf.pem")))
	}
	for _, f := range []string{"ocsp.pem", "tls.pem", "tsa.pem", "issuing.pem", "root.pem"} {
		ders = append(ders, readPEM(t, filepath.Join(s.data, "certs", f)))
	}
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: lint.SourceList{lint.RFC5280, lint.RFC5480, lint.RFC3279, lint.EtsiEsi}})
	if err != nil {
		t.Fatal(err)
	}
	for i, der := range ders {
		c, err := zx509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range zlint.LintCertificateEx(c, reg).Results {
			if r.Status == lint.Error || r.Status == lint.Fatal || r.Status == lint.Warn {
				t.Errorf("certificate %d (%s): %s: %s %s", i, c.Subject.CommonName, name, r.Status, r.Details)
			}
		}
	}
	leaf, err := x509.ParseCertificate(ders[0])
	if err != nil {
		t.Fatal(err)
	}
	issuing, err := x509.ParseCertificate(readPEM(t, filepath.Join(s.data, "certs", "issuing.pem")))
	if err != nil {
		t.Fatal(err)
	}
	// Every CRL: the full one and the shard the leaf names, and the root's.
	for _, u := range append(leaf.CRLDistributionPoints, issuing.CRLDistributionPoints...) {
		crl, err := zx509.ParseRevocationList(s.fetch(u))
		if err != nil {
			t.Fatal(err)
		}
		for name, r := range zlint.LintRevocationListEx(crl, reg).Results {
			if r.Status == lint.Error || r.Status == lint.Fatal || r.Status == lint.Warn {
				t.Errorf("crl %s: %s: %s %s", u, name, r.Status, r.Details)
			}
		}
	}
}

func readPEM(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	return block.Bytes
}

// TestCitizenClient walks the citizen's own client: a key made by
// `yagona key new`, enrollment with it, renewal proven by the current
// certificate over TLS, and self-service suspension, which only an officer
// may lift.
func TestCitizenClient(t *testing.T) {
	needOpenSSL(t)
	s := startServer(t, nil)
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	t.Setenv("YAGONA_KEY_PASSPHRASE", "a long passphrase for tests")
	s.mustCLI("ra", "person", "add", "--pinfl", "61234567890123", "--given-name", "Botir", "--surname", "Xolmatov", "--birth-date", "1979-09-09")
	var enr struct {
		Code string `json:"enrollment_code"`
	}
	if err := json.Unmarshal([]byte(s.mustCLI("ra", "enroll", "--json", "--pinfl", "61234567890123")), &enr); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("key", "new", "--out", p("old.key"))
	// OpenSSL reads the encrypted PKCS#8 key with the same passphrase.
	mustOpenSSL(t, dir, "pkey", "-in", "old.key", "-passin", "env:YAGONA_KEY_PASSPHRASE", "-noout")
	s.mustCLI("cert", "enroll", "--code", enr.Code, "--key", p("old.key"), "--out", p("old.pem"), "--chain", p("chain.pem"))
	s.mustCLI("key", "new", "--out", p("new.key"))
	// Renewal onto the old key is refused; onto a new key it works.
	if _, err := s.cli("cert", "renew", "--cert", p("old.pem"), "--key", p("old.key"), "--new-key", p("old.key"), "--out", p("x.pem"), "--chain", p("x-chain.pem")); err == nil || !strings.Contains(err.Error(), "key_reuse") {
		t.Fatalf("renewal onto the same key: %v", err)
	}
	var renewed struct {
		Serial string `json:"serial"`
	}
	out := s.mustCLI("cert", "renew", "--json", "--cert", p("old.pem"), "--key", p("old.key"), "--new-key", p("new.key"), "--out", p("new.pem"), "--chain", p("new-chain.pem"))
	if err := json.Unmarshal([]byte(out), &renewed); err != nil {
		t.Fatal(err)
	}
	oldSubj := mustOpenSSL(t, dir, "x509", "-in", "old.pem", "-noout", "-subject")
	if newSubj := mustOpenSSL(t, dir, "x509", "-in", "new.pem", "-noout", "-subject"); newSubj != oldSubj {
		t.Fatalf("renewal changed the subject: %s vs %s", newSubj, oldSubj)
	}
	// The holder suspends the new certificate with it; lifting needs an officer.
	s.mustCLI("cert", "suspend", "--serial", renewed.Serial, "--cert", p("new.pem"), "--key", p("new.key"))
	if _, err := s.cli("cert", "resume", "--serial", renewed.Serial, "--cert", p("old.pem"), "--key", p("old.key")); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("holder resume: %v", err)
	}
	// A suspended certificate no longer authenticates its holder.
	if _, err := s.cli("cert", "show", "--serial", renewed.Serial, "--cert", p("new.pem"), "--key", p("new.key")); err == nil || !strings.Contains(err.Error(), "bad_client_certificate") {
		t.Fatalf("suspended certificate authenticated: %v", err)
	}
	s.mustCLI("cert", "resume", "--serial", renewed.Serial)
	s.mustCLI("cert", "show", "--serial", renewed.Serial, "--cert", p("new.pem"), "--key", p("new.key"))
}

// TestTimeStampOpenSSL: openssl ts makes a query, the server's TSA
// answers at /pki/tsa on the plain listener, and openssl ts -verify
// accepts the token against the Yagona root.
func TestTimeStampOpenSSL(t *testing.T) {
	needOpenSSL(t)
	timeStampOpenSSL(t, startServer(t, nil))
}

// timeStampOpenSSL has openssl ts ask s for a time-stamp and verify it.
func timeStampOpenSSL(t *testing.T, s *testServer) {
	dir := t.TempDir()
	write(t, dir, "doc.txt", "a decision of the ministry\n")
	write(t, dir, "root.pem", s.rootPEM)
	write(t, dir, "issuing.pem", string(s.fetch(s.http+"/pki/ca.pem")))
	mustOpenSSL(t, dir, "ts", "-query", "-data", "doc.txt", "-sha256", "-cert", "-out", "req.tsq")
	q, _ := os.ReadFile(filepath.Join(dir, "req.tsq"))
	resp, err := http.Post(s.http+"/pki/tsa", "application/timestamp-query", bytes.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/timestamp-reply" {
		t.Fatalf("tsa: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	write(t, dir, "resp.tsr", string(body))
	out := mustOpenSSL(t, dir, "ts", "-verify", "-in", "resp.tsr", "-queryfile", "req.tsq", "-CAfile", "root.pem", "-untrusted", "issuing.pem")
	if !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify: %s", out)
	}
	text := mustOpenSSL(t, dir, "ts", "-reply", "-in", "resp.tsr", "-text")
	if !strings.Contains(text, "Policy OID: 2.999.860.2.1") {
		t.Fatalf("policy: %s", text)
	}
	// The TSA certificate: critical extended key usage timeStamping.
	tsaText := mustOpenSSL(t, filepath.Join(s.data, "certs"), "x509", "-in", "tsa.pem", "-noout", "-text")
	if !strings.Contains(tsaText, "X509v3 Extended Key Usage: critical") || !strings.Contains(tsaText, "Time Stamping") {
		t.Fatalf("tsa certificate: %s", tsaText)
	}
}
