package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/load"
	"github.com/yagona/yagona/internal/reqid"
)

// logTB captures what the server logs (through testWriter) besides
// passing it to the test log.
type logTB struct {
	testing.TB
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (l logTB) Log(args ...any) {
	l.mu.Lock()
	fmt.Fprintln(l.buf, args...)
	l.mu.Unlock()
	l.TB.Log(args...)
}

func (l logTB) logs() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// observedServer is a test server logging JSON at debug level, after one
// round of every kind of traffic the dashboard and alerts describe:
// enrollment (and a refused one), a complete certificate login with code
// exchange, an OCSP request, a time-stamp, a revocation.
type observedServer struct {
	*testServer
	log     logTB
	revoked string // serial of the revoked certificate
}

func startObserved(t *testing.T) observedServer {
	t.Helper()
	ltb := logTB{TB: t, mu: new(sync.Mutex), buf: new(bytes.Buffer)}
	s := startServer(ltb, func(c *config.Config) { c.Log.Level, c.Log.Format = "debug", "json" })
	o := load.Options{Server: s.https, OCSPURL: s.http + "/ocsp", CAFile: filepath.Join(s.data, "certs", "root.pem"),
		TokenFile: filepath.Join(s.data, "secrets", "admin-token"), Concurrency: 1, Certs: 1}
	c, err := load.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	for name, prepare := range map[string]func() (load.Plan, error){
		"login": func() (load.Plan, error) { return c.PrepareLogin(1) }, // enrolls, logs in, exchanges the code
		"ocsp":  func() (load.Plan, error) { return c.PrepareOCSP(1) },
		"tsa":   func() (load.Plan, error) { return c.PrepareTSA(1) },
	} {
		plan, err := prepare()
		if err == nil {
			_, err = plan.Do(0, 0)
			if plan.Close != nil {
				plan.Close()
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if st := s.api("POST", "/api/v1/certificates", "", map[string]string{"csr": "no", "enrollment_code": "no"}, nil); st != http.StatusUnauthorized {
		t.Fatalf("bad enrollment: %d", st)
	}
	serial := enrollByAPI(s, "31204900012345")
	if st := s.api("POST", "/api/v1/certificates/"+serial+"/revoke", s.adminToken(), map[string]string{"reason": "superseded"}, nil); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	return observedServer{s, ltb, serial}
}

// enrollByAPI records a person, enrolls them as a citizen with a fresh
// key and returns the certificate's serial.
func enrollByAPI(s *testServer, pinfl string) string {
	t, tok := s.t, s.adminToken()
	t.Helper()
	if st := s.api("POST", "/api/v1/persons", tok, map[string]string{"pinfl": pinfl, "given_name": "Dilnoza", "surname": "Karimova", "birth_date": "1990-04-12"}, nil); st != http.StatusCreated {
		t.Fatalf("person: %d", st)
	}
	var enr struct {
		Code string `json:"enrollment_code"`
	}
	if st := s.api("POST", "/api/v1/enrollments", tok, map[string]string{"pinfl": pinfl, "profile": "citizen"}, &enr); st != http.StatusCreated {
		t.Fatalf("enrollment: %d", st)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	var res struct {
		Serial string `json:"serial"`
	}
	if st := s.api("POST", "/api/v1/certificates", "", map[string]string{"csr": string(csr), "enrollment_code": enr.Code}, &res); st != http.StatusCreated {
		t.Fatalf("enroll: %d", st)
	}
	return res.Serial
}

// exported scrapes /metrics and returns the names of the samples in it
// (a histogram's name_bucket, name_sum and name_count among them).
func (s *testServer) exported() map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(string(s.fetch(s.http+"/metrics")), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		names[name] = true
	}
	return names
}

func TestObservability(t *testing.T) {
	s := startObserved(t)

	t.Run("request id", func(t *testing.T) {
		for in, keep := range map[string]bool{"obs-test.1_A": true, "bad id": false, strings.Repeat("x", 65): false} {
			req, _ := http.NewRequest("GET", s.http+"/pki/roots.pem?code=SECRET-QUERY", nil)
			req.Header.Set(reqid.Header, in)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := resp.Header.Get(reqid.Header)
			if keep != (got == in) || !reqid.Valid(got) {
				t.Errorf("sent %q, answered %q", in, got)
			}
		}
		logs := s.log.logs()
		if !strings.Contains(logs, `"msg":"http request"`) || !strings.Contains(logs, `"request_id":"obs-test.1_A"`) ||
			!strings.Contains(logs, `"path":"/pki/roots.pem"`) {
			t.Errorf("no access line with the request id:\n%s", grepLines(logs, "http request"))
		}
		if strings.Contains(logs, "SECRET-QUERY") {
			t.Error("the query string reached the log")
		}
		// Records the CA and the IdP make inside their handlers carry the id.
		for _, msg := range []string{`"msg":"audit"`, `"action":"certificate.revoke"`} {
			line := grepLines(logs, msg)
			if line == "" || !strings.Contains(line, `"request_id":"`) {
				t.Errorf("%s logged without a request id: %q", msg, line)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		body := string(s.fetch(s.http + "/metrics"))
		for _, want := range []string{
			`yagona_http_requests_total{code="201",listener="https",route="/api/v1/certificates"}`,
			`yagona_http_requests_total{code="200",listener="http",route="/ocsp"}`,
			`yagona_http_request_duration_seconds_count{listener="https",route="POST /oauth2/token"}`,
			`yagona_issuance_stage_seconds_count{stage="csr_check"}`,
			`yagona_issuance_stage_seconds_count{stage="lint"}`,
			`yagona_issuance_stage_seconds_count{stage="sign"}`,
			`yagona_issuance_stage_seconds_count{stage="store"}`,
			`yagona_login_step_seconds_count{step="challenge"}`,
			`yagona_login_step_seconds_count{step="cms_verify"}`,
			`yagona_login_step_seconds_count{step="chain_status"}`,
			`yagona_login_step_seconds_count{step="session"}`,
			`yagona_login_step_seconds_count{step="code_issue"}`,
			`yagona_login_step_seconds_count{step="code_exchange"}`,
			`yagona_crl_next_update_timestamp_seconds{issuer="issuing"}`,
			`yagona_ready{component="store"} 1`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		// No raw paths as labels: the revocation's serial and the OCSP
		// request in the path stay out of them.
		for _, m := range regexp.MustCompile(`route="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			if strings.Contains(m[1], s.revoked) || strings.HasPrefix(m[1], "/ocsp/") {
				t.Errorf("route label %q is a raw path", m[1])
			}
		}
	})

	t.Run("dashboard and alerts", func(t *testing.T) {
		exported := s.exported()
		refs := monitoringRefs(t)
		if len(refs) < 15 {
			t.Fatalf("only %d metric names found in the dashboard and alerts", len(refs))
		}
		for name, where := range refs {
			if !exported[name] {
				t.Errorf("%s (used in %s) is not exported by the server", name, strings.Join(where, ", "))
			}
		}
	})
}

// metricRef finds metric names in PromQL: ours and the Go and process
// collectors'.
var metricRef = regexp.MustCompile(`\b(?:yagona|go|process)_[a-z0-9_]*[a-z0-9]`)

// monitoringRefs returns the metric names configs/grafana-dashboard.json
// and configs/prometheus-alerts.yaml use, each with where it is used. It
// also checks the files' shape: every panel has a title and a query, every
// alert a name, an expression, a severity, a summary and a runbook section
// that exists in docs/operations.md.
func monitoringRefs(t *testing.T) map[string][]string {
	t.Helper()
	refs := map[string][]string{}
	add := func(expr, where string) {
		for _, m := range metricRef.FindAllString(expr, -1) {
			if !slices.Contains(refs[m], where) {
				refs[m] = append(refs[m], where)
			}
		}
	}

	var dash struct {
		Title  string  `json:"title"`
		UID    string  `json:"uid"`
		Panels []panel `json:"panels"`
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatal("grafana-dashboard.json: no title, uid or panels")
	}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Title == "" || len(p.Targets) == 0 {
				t.Errorf("dashboard panel %q (%s) has no title or no query", p.Title, p.Type)
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" {
					t.Errorf("dashboard panel %q has an empty query", p.Title)
				}
				add(tg.Expr, "dashboard panel "+p.Title)
			}
		}
	}
	walk(dash.Panels)

	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err = os.ReadFile(filepath.Join("..", "..", "configs", "prometheus-alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("prometheus-alerts.yaml: %v", err)
	}
	ops, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := markdownAnchors(string(ops))
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert %q: needs alert, expr, labels.severity and annotations.summary", r.Alert)
			}
			rb := r.Annotations["runbook_url"]
			_, anchor, _ := strings.Cut(rb, "operations.md#")
			if !anchors[anchor] {
				t.Errorf("alert %q: runbook_url %q names no section of docs/operations.md", r.Alert, rb)
			}
			add(r.Expr, "alert "+r.Alert)
		}
	}
	if n == 0 {
		t.Fatal("prometheus-alerts.yaml has no rules")
	}
	return refs
}

type panel struct {
	Title   string  `json:"title"`
	Type    string  `json:"type"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// markdownAnchors returns the GitHub anchors of the headings in md.
func markdownAnchors(md string) map[string]bool {
	out := map[string]bool{}
	strip := regexp.MustCompile("[^a-z0-9 _-]")
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		out[strings.ReplaceAll(strip.ReplaceAllString(h, ""), " ", "-")] = true
	}
	return out
}

// TestMetricRef: the names the drift check looks for are found in PromQL
// and nothing else is taken for one.
func TestMetricRef(t *testing.T) {
	for expr, want := range map[string][]string{
		`histogram_quantile(0.99, sum by (le, route) (rate(yagona_http_request_duration_seconds_bucket{job=~"$job"}[5m])))`: {"yagona_http_request_duration_seconds_bucket"},
		`sum by (lease) (yagona_job_leader{job="yagona"}) != 1`:                                                             {"yagona_job_leader"},
		`process_open_fds / process_max_fds`:                                                                                {"process_open_fds", "process_max_fds"},
		`rate(go_gc_duration_seconds_sum[5m]) and on() up{job="yagona"}`:                                                    {"go_gc_duration_seconds_sum"},
		`max by (issuer) (yagona_crl_next_update_timestamp_seconds) - time() < 6 * 3600`:                                    {"yagona_crl_next_update_timestamp_seconds"},
		`sum(rate(x_yagona_other[5m]))`:                                                                                     nil,
	} {
		if got := metricRef.FindAllString(expr, -1); !slices.Equal(got, want) {
			t.Errorf("%s: found %q, want %q", expr, got, want)
		}
	}
}
