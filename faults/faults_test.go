package faults

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/crypto/ocsp"

	"github.com/yagona/yagona/configs"
	"github.com/yagona/yagona/pkg/store/storetest"
)

// lease is the job lease of the replicas under test: a dead leader is
// replaced within it (plus one renewal period, a third of it).
const lease = 6 * time.Second

func TestFaults(t *testing.T) {
	if os.Getenv("YAGONA_TEST_FAULTS") != "1" {
		t.Skip("fault tests: set YAGONA_TEST_FAULTS=1 with YAGONA_TEST_POSTGRES_URL and redis-server on the PATH (.ci/run does)")
	}
	c := newCluster(t, 3)
	t.Run("LoginAcrossReplicas", c.loginAcrossReplicas)
	t.Run("RevocationReachesEveryReplica", c.revocationReachesEveryReplica)
	t.Run("KilledMidIssuance", c.killedMidIssuance)
	t.Run("JobLeaderKilled", c.jobLeaderKilled)
	t.Run("RedisStopped", c.redisStopped)
	t.Run("PostgresStopped", c.postgresStopped)
	t.Run("MemoryWithLiveSessions", c.memoryWithLiveSessions)
}

type replica struct {
	name        string
	https, http string // base URLs
	config      string
	logFile     string
	mu          sync.Mutex
	cmd         *exec.Cmd
	exited      chan struct{}
}

type cluster struct {
	t            *testing.T
	dir          string
	yagona, load string
	redisAddr    string
	redis        *exec.Cmd
	pgURL        string
	reps         []*replica
	client       *http.Client
	token        string
	rootFile     string
	tokenFile    string
	issuer       *x509.Certificate
	people       atomic.Int64
	clientID     string
	clientSecret string
	redirectURI  string
	runID        string
}

func newCluster(t *testing.T, replicas int) *cluster {
	c := &cluster{t: t, dir: t.TempDir(), redirectURI: "https://fault-rp.example/callback"}
	c.runID = strconv.FormatInt(time.Now().UnixNano()%1_000_000, 10)
	c.pgURL = storetest.PostgresURL(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not on the PATH")
	}
	c.yagona = c.build("github.com/yagona/yagona/cmd/yagona", "yagona")
	c.load = c.build("github.com/yagona/yagona/cmd/yagona-load", "yagona-load")
	c.redisAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	c.startRedis()
	t.Cleanup(c.stopRedis)

	dev, err := configs.Files.ReadFile(configs.Default)
	if err != nil {
		t.Fatal(err)
	}
	for i := range replicas {
		r := &replica{name: fmt.Sprintf("r%d", i)}
		hp, pp := freePort(t), freePort(t)
		r.https, r.http = fmt.Sprintf("https://127.0.0.1:%d", hp), fmt.Sprintf("http://127.0.0.1:%d", pp)
		c.reps = append(c.reps, r)
		public := c.reps[0]
		cfg := strings.NewReplacer(
			"data_dir: yagona-data", "data_dir: "+filepath.Join(c.dir, "data"),
			"  https: 127.0.0.1:8443", fmt.Sprintf("  https: 127.0.0.1:%d", hp),
			"  http: 127.0.0.1:8080", fmt.Sprintf("  http: 127.0.0.1:%d", pp),
			"https://127.0.0.1:8443", public.https,
			"http://127.0.0.1:8080", public.http,
			"store: sqlite:yagona.db", "store: "+c.pgURL,
			"cache: memory", "cache: redis://"+c.redisAddr+"/0",
			"  level: info", "  level: warn",
		).Replace(string(dev)) + fmt.Sprintf("jobs:\n  lease: %s\n", lease)
		r.config = filepath.Join(c.dir, r.name+".yaml")
		r.logFile = filepath.Join(c.dir, r.name+".log")
		if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The first replica creates the CA hierarchy and keys in the shared
	// data directory (as an operator's first start does); the others
	// then start from it.
	c.start(c.reps[0])
	var wg sync.WaitGroup
	for _, r := range c.reps[1:] {
		wg.Go(func() { c.start(r) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, r := range c.reps {
			c.kill(r)
		}
	})
	c.rootFile = filepath.Join(c.dir, "data", "certs", "root.pem")
	c.tokenFile = filepath.Join(c.dir, "data", "secrets", "admin-token")
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(must(os.ReadFile(c.rootFile))) {
		t.Fatal("no root certificate")
	}
	c.token = strings.TrimSpace(string(must(os.ReadFile(c.tokenFile))))
	c.client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c.issuer = parseCert(t, must(os.ReadFile(filepath.Join(c.dir, "data", "certs", "issuing.pem"))))
	return c
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (c *cluster) build(pkg, name string) string {
	out := filepath.Join(c.dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// --- processes ---

func (c *cluster) startRedis() {
	host, port, _ := net.SplitHostPort(c.redisAddr)
	c.redis = exec.Command("redis-server", "--bind", host, "--port", port, "--save", "", "--appendonly", "no")
	if err := c.redis.Start(); err != nil {
		c.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !redisAnswers(c.redisAddr) {
		if time.Now().After(deadline) {
			c.t.Fatal("redis-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *cluster) stopRedis() {
	if c.redis != nil && c.redis.Process != nil {
		_ = c.redis.Process.Signal(syscall.SIGTERM)
		_ = c.redis.Wait()
		c.redis = nil
	}
}

func redisAnswers(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	_, _ = conn.Write([]byte("PING\r\n"))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.HasPrefix(line, "+PONG")
}

func (c *cluster) start(r *replica) {
	logf, err := os.OpenFile(r.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(c.yagona, "serve", "--config", r.config)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()
	deadline := time.Now().Add(90 * time.Second)
	for c.ready(r) != http.StatusOK {
		select {
		case <-exited:
			c.t.Fatalf("%s exited while starting:\n%s", r.name, tail(r.logFile))
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s not ready after 90 s:\n%s", r.name, tail(r.logFile))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to go.
func (c *cluster) kill(r *replica) {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// ready is the status of the replica's /readyz (0 without an answer).
func (c *cluster) ready(r *replica) int {
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(r.http + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitReady waits until every replica's /readyz answers want.
func (c *cluster) waitReady(want int, within time.Duration, reps ...*replica) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for _, r := range reps {
		for got := c.ready(r); got != want; got = c.ready(r) {
			if time.Now().After(deadline) {
				c.t.Fatalf("%s /readyz = %d after %v, want %d:\n%s", r.name, got, within, want, tail(r.logFile))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// --- HTTP ---

func (c *cluster) call(r *replica, method, path string, in any, auth bool) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.https+path, body)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

func (c *cluster) mustCall(r *replica, method, path string, in, out any, auth bool, want int) {
	c.t.Helper()
	st, b, err := c.call(r, method, path, in, auth)
	if err != nil || st != want {
		c.t.Fatalf("%s %s on %s: %d %v %s", method, path, r.name, st, err, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatal(err)
		}
	}
}

// enrollment registers a new person with a citizen enrollment and
// returns the code and a CSR.
func (c *cluster) enrollment(r *replica) (code, csr string) {
	c.t.Helper()
	pinfl := fmt.Sprintf("8%06s%07d", c.runID, c.people.Add(1))
	c.mustCall(r, "POST", "/api/v1/persons", map[string]string{"pinfl": pinfl, "given_name": "Fault", "surname": "Test",
		"birth_date": "1990-01-01"}, nil, true, http.StatusCreated)
	var enr struct {
		Code string `json:"enrollment_code"`
	}
	c.mustCall(r, "POST", "/api/v1/enrollments", map[string]string{"pinfl": pinfl, "profile": "citizen"}, &enr, true, http.StatusCreated)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	return enr.Code, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

type issued struct {
	Serial      string `json:"serial"`
	Certificate string `json:"certificate"`
}

func (c *cluster) enroll(r *replica) (string, *x509.Certificate) {
	c.t.Helper()
	code, csr := c.enrollment(r)
	var out issued
	c.mustCall(r, "POST", "/api/v1/certificates", map[string]string{"csr": csr, "enrollment_code": code}, &out, false, http.StatusCreated)
	return out.Serial, parseCert(c.t, []byte(out.Certificate))
}

func parseCert(t *testing.T, pemBytes []byte) *x509.Certificate {
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		t.Fatal("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// ocspStatus asks the replica's responder about cert (POST, no nonce).
func (c *cluster) ocspStatus(r *replica, cert *x509.Certificate) (int, error) {
	req, err := ocsp.CreateRequest(cert, c.issuer, nil)
	if err != nil {
		return 0, err
	}
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Post(r.http+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	der, _ := io.ReadAll(resp.Body)
	res, err := ocsp.ParseResponseForCert(der, cert, c.issuer)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", r.name, err)
	}
	return res.Status, nil
}

// --- yagona-load ---

type report struct {
	Requests      int            `json:"requests"`
	OK            int            `json:"ok"`
	Errors        int            `json:"errors"`
	PerSecond     float64        `json:"per_second"`
	P50           float64        `json:"p50_ms"`
	P99           float64        `json:"p99_ms"`
	XSign         float64        `json:"x_sign_rate"`
	XVerify       float64        `json:"x_verify_rate"`
	SignRate      float64        `json:"ecdsa_p256_sign_per_second_per_core"`
	VerifyRate    float64        `json:"ecdsa_p256_verify_per_second_per_core"`
	Status        map[string]int `json:"status"`
	ErrorMessages []struct {
		Message string `json:"message"`
		Count   int    `json:"count"`
	} `json:"error_messages"`
	Targets []struct {
		Target string `json:"target"`
		OK     int    `json:"ok"`
		Errors int    `json:"errors"`
	} `json:"targets"`
	cpu time.Duration // yagona-load's own CPU time, setup included
}

func (c *cluster) urls(reps []*replica) (servers, ocsps string) {
	var s, o []string
	for _, r := range reps {
		s = append(s, r.https)
		o = append(o, r.http+"/ocsp")
	}
	return strings.Join(s, ","), strings.Join(o, ",")
}

// runLoad runs yagona-load against reps and parses its report. phase, if
// set, is called when the timed phase starts ("timed") and ends ("done").
func (c *cluster) runLoad(ctx context.Context, reps []*replica, phase func(string), args ...string) (report, error) {
	servers, ocsps := c.urls(reps)
	args = append([]string{"-json", "-phases", "-server", servers, "-ocsp", ocsps, "-ca-file", c.rootFile, "-token-file", c.tokenFile}, args...)
	cmd := exec.CommandContext(ctx, c.load, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "yagona-load: "); ok && phase != nil && (name == "timed" || name == "done") {
				phase(name)
				continue
			}
			stderr.WriteString(sc.Text() + "\n")
		}
	}()
	err := cmd.Run()
	pw.Close()
	<-scanned
	if err != nil {
		return report{}, fmt.Errorf("yagona-load %v: %w\n%s", args, err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return report{}, fmt.Errorf("yagona-load report: %w\n%s", err, stdout.Bytes())
	}
	rep.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return rep, nil
}

func (c *cluster) mustLoad(reps []*replica, args ...string) report {
	c.t.Helper()
	return c.mustLoadPhased(reps, nil, args...)
}

func (c *cluster) mustLoadPhased(reps []*replica, phase func(string), args ...string) report {
	c.t.Helper()
	rep, err := c.runLoad(context.Background(), reps, phase, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("yagona-load %v: %d ok, %d errors, %.0f/s, p99 %.1f ms, status %v, raw rates %.0f sign/s %.0f verify/s",
		args, rep.OK, rep.Errors, rep.PerSecond, rep.P99, rep.Status, rep.SignRate, rep.VerifyRate)
	return rep
}

// background runs yagona-load until stop is called and returns its
// report then.
func (c *cluster) background(reps []*replica, args ...string) (stop func() report) {
	done := make(chan struct{})
	var rep report
	var err error
	go func() {
		defer close(done)
		rep, err = c.runLoad(context.Background(), reps, nil, args...)
	}()
	return func() report {
		<-done
		if err != nil {
			c.t.Fatal(err)
		}
		c.t.Logf("background yagona-load %v: %d ok, %d errors, status %v, errors %v", args, rep.OK, rep.Errors, rep.Status, rep.ErrorMessages)
		return rep
	}
}

// --- the faults ---

// loginAcrossReplicas: every login starts (authorize, challenge) on one
// replica and ends (certificate, code exchange) on the next.
func (c *cluster) loginAcrossReplicas(t *testing.T) {
	rep := c.mustLoad(c.reps, "-scenario", "login", "-cross", "-n", "60", "-c", "6", "-certs", "6", "-duration", "60s")
	if rep.Errors != 0 || rep.OK != 60 {
		t.Fatalf("cross-replica logins: %d ok, %d errors: %v", rep.OK, rep.Errors, rep.ErrorMessages)
	}
	for _, tg := range rep.Targets {
		if tg.OK == 0 {
			t.Errorf("no login started on %s", tg.Target)
		}
	}
}

// revocationReachesEveryReplica: a certificate revoked through one
// replica is answered revoked by every replica's OCSP responder within a
// second, although each had its good answer cached.
func (c *cluster) revocationReachesEveryReplica(t *testing.T) {
	serial, cert := c.enroll(c.reps[0])
	for _, r := range c.reps {
		for range 2 { // the second answer comes from the caches
			if st, err := c.ocspStatus(r, cert); err != nil || st != ocsp.Good {
				t.Fatalf("%s before revocation: %d %v", r.name, st, err)
			}
		}
	}
	c.mustCall(c.reps[1], "POST", "/api/v1/certificates/"+serial+"/revoke", map[string]string{"reason": "keyCompromise"}, nil, true, http.StatusOK)
	revokedAt := time.Now()
	var wg sync.WaitGroup
	for _, r := range c.reps {
		wg.Go(func() {
			for {
				st, err := c.ocspStatus(r, cert)
				if err == nil && st == ocsp.Revoked {
					t.Logf("%s answers revoked %v after the revocation returned", r.name, time.Since(revokedAt).Round(time.Millisecond))
					return
				}
				if time.Since(revokedAt) > time.Second {
					t.Errorf("%s still answers %d (%v) a second after the revocation", r.name, st, err)
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
}

func (c *cluster) db(t *testing.T) *sql.DB {
	db, err := sql.Open("pgx", c.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// killedMidIssuance: a replica killed with SIGKILL while it issues loses
// no certificate it answered 201 for, and leaves no certificate without
// its transparency-log entry; the others go on issuing.
func (c *cluster) killedMidIssuance(t *testing.T) {
	victim := c.reps[2]
	const n = 240
	codes, csrs := make([]string, n), make([]string, n)
	for i := range n {
		codes[i], csrs[i] = c.enrollment(c.reps[0])
	}
	stop := c.background(c.reps, "-scenario", "ocsp", "-n", "1000000", "-c", "6", "-certs", "6", "-rate", "300", "-duration", "6s")
	var mu sync.Mutex
	var answered []string
	var next atomic.Int64
	var killOnce sync.Once
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				st, b, err := c.call(victim, "POST", "/api/v1/certificates", map[string]string{"csr": csrs[i], "enrollment_code": codes[i]}, false)
				if err != nil {
					return // the replica is gone
				}
				if st != http.StatusCreated {
					t.Errorf("issuance on %s before the kill: %d %s", victim.name, st, b)
					return
				}
				var out issued
				_ = json.Unmarshal(b, &out)
				mu.Lock()
				answered = append(answered, out.Serial)
				k := len(answered)
				mu.Unlock()
				if k == n/3 {
					killOnce.Do(func() { go c.kill(victim) })
				}
			}
		})
	}
	wg.Wait()
	c.kill(victim)
	bg := stop()
	if bg.OK == 0 {
		t.Error("the background OCSP load got no answers")
	}
	t.Logf("%d certificates answered 201 before %s was killed", len(answered), victim.name)
	db := c.db(t)
	for _, s := range answered {
		var k int
		if err := db.QueryRow(`SELECT count(*) FROM certificates WHERE serial = $1`, s).Scan(&k); err != nil || k != 1 {
			t.Errorf("certificate %s was answered 201 but is not on record (%d, %v)", s, k, err)
		}
	}
	var orphans int
	if err := db.QueryRow(`SELECT count(*) FROM certificates c WHERE
		NOT EXISTS (SELECT 1 FROM log_queue q WHERE q.kind = 'certificate' AND q.ref = c.serial) AND
		NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.kind = 'certificate' AND e.ref = c.serial)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d certificates on record without a transparency-log entry", orphans)
	}
	// The survivors issue; the victim comes back.
	c.enroll(c.reps[0])
	c.enroll(c.reps[1])
	c.start(victim)
}

// metricsLine returns the value of a metric line such as
// `yagona_job_leader{lease="crl"}` on the replica's /metrics, or "".
func (c *cluster) metric(r *replica, series string) string {
	cl := http.Client{Timeout: 3 * time.Second}
	resp, err := cl.Get(r.http + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return v
		}
	}
	return ""
}

// leaders lists the replicas whose yagona_job_leader{lease} is 1.
func (c *cluster) leaders(job string, reps []*replica) []*replica {
	var out []*replica
	for _, r := range reps {
		if c.metric(r, `yagona_job_leader{lease="`+job+`"}`) == "1" {
			out = append(out, r)
		}
	}
	return out
}

// jobLeaderKilled: exactly one replica leads each job; when it is killed,
// another takes over within the lease.
func (c *cluster) jobLeaderKilled(t *testing.T) {
	var ls []*replica
	deadline := time.Now().Add(2 * lease)
	for ls = c.leaders("crl", c.reps); len(ls) != 1; ls = c.leaders("crl", c.reps) {
		if time.Now().After(deadline) {
			t.Fatalf("%d leaders of the crl job, want 1", len(ls))
		}
		time.Sleep(200 * time.Millisecond)
	}
	old := ls[0]
	var rest []*replica
	for _, r := range c.reps {
		if r != old {
			rest = append(rest, r)
		}
	}
	c.kill(old)
	killed := time.Now()
	for _, job := range []string{"crl", "log", "status-sweep", "ocsp-presign"} {
		for {
			ls := c.leaders(job, rest)
			if len(ls) == 1 {
				t.Logf("%s took over the %s job %v after %s was killed", ls[0].name, job, time.Since(killed).Round(100*time.Millisecond), old.name)
				break
			}
			if len(ls) > 1 {
				t.Fatalf("%d leaders of %s", len(ls), job)
			}
			// The lease runs out, then a renewal tick (a third of it)
			// takes it: allow one more third for scheduling.
			if time.Since(killed) > lease+2*lease/3 {
				t.Fatalf("no replica took over the %s job %v after its leader was killed", job, time.Since(killed))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	c.start(old)
	if ls := c.leaders("crl", c.reps); len(ls) != 1 {
		t.Fatalf("%d leaders of crl after the old leader came back", len(ls))
	}
}

// registerClient registers a relying party for the direct login checks.
func (c *cluster) registerClient(t *testing.T) {
	if c.clientID != "" {
		return
	}
	c.clientID = "fault-rp-" + c.runID
	var reg struct {
		Secret string `json:"client_secret"`
	}
	c.mustCall(c.reps[0], "POST", "/api/v1/clients", map[string]any{"client_id": c.clientID, "client_name": "Fault test",
		"redirect_uris": []string{c.redirectURI}, "scopes": []string{"openid", "pinfl"},
		"grant_types": []string{"authorization_code"}}, &reg, true, http.StatusCreated)
	c.clientSecret = reg.Secret
}

// authorize starts a login on r and returns the HTTP status.
func (c *cluster) authorize(r *replica) (int, error) {
	v := sha256.Sum256([]byte(c.runID))
	q := url.Values{"client_id": {c.clientID}, "response_type": {"code"}, "scope": {"openid pinfl"},
		"redirect_uri": {c.redirectURI}, "state": {"s-" + c.runID}, "nonce": {"n-" + c.runID},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(v[:])}, "code_challenge_method": {"S256"}}
	cl := *c.client
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cl.Get(r.https + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// redisStopped: with Redis gone, OCSP answers keep coming (signed live),
// logins are refused with 503 and /readyz says 503; when Redis is back,
// everything recovers by itself.
func (c *cluster) redisStopped(t *testing.T) {
	c.registerClient(t)
	_, cert := c.enroll(c.reps[0])
	for _, r := range c.reps {
		if st, err := c.authorize(r); err != nil || st >= 400 {
			t.Fatalf("%s authorize before the fault: %d %v", r.name, st, err)
		}
	}
	c.stopRedis()
	defer func() {
		if c.redis == nil {
			c.startRedis()
		}
	}()
	for i := range 60 {
		r := c.reps[i%len(c.reps)]
		if st, err := c.ocspStatus(r, cert); err != nil || st != ocsp.Good {
			t.Fatalf("OCSP on %s without Redis: %d %v", r.name, st, err)
		}
	}
	c.waitReady(http.StatusServiceUnavailable, 10*time.Second, c.reps...)
	for _, r := range c.reps {
		start := time.Now()
		st, err := c.authorize(r)
		if err != nil || st != http.StatusServiceUnavailable {
			t.Errorf("%s authorize without Redis: %d %v, want 503", r.name, st, err)
		}
		t.Logf("%s refused a login without Redis in %v", r.name, time.Since(start).Round(time.Millisecond))
	}
	c.startRedis()
	c.waitReady(http.StatusOK, 30*time.Second, c.reps...)
	rep := c.mustLoad(c.reps, "-scenario", "login", "-cross", "-n", "30", "-c", "3", "-certs", "3", "-duration", "60s")
	if rep.Errors != 0 {
		t.Fatalf("logins after Redis came back: %d errors: %v", rep.Errors, rep.ErrorMessages)
	}
}

func shell(t *testing.T, env string) {
	cmd := os.Getenv(env)
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s (%s): %v\n%s", env, cmd, err, out)
	}
}

// postgresStopped: with PostgreSQL down, requests that need it fail fast
// with 503, /readyz says 503, OCSP answers cached statuses; when it is
// back, every replica recovers by itself.
func (c *cluster) postgresStopped(t *testing.T) {
	if os.Getenv("YAGONA_TEST_PG_STOP") == "" || os.Getenv("YAGONA_TEST_PG_START") == "" {
		t.Skip("set YAGONA_TEST_PG_STOP and YAGONA_TEST_PG_START to commands that stop and start PostgreSQL (.ci/run does)")
	}
	serial, cert := c.enroll(c.reps[0])
	for _, r := range c.reps {
		if st, err := c.ocspStatus(r, cert); err != nil || st != ocsp.Good {
			t.Fatalf("%s OCSP before: %d %v", r.name, st, err)
		}
	}
	shell(t, "YAGONA_TEST_PG_STOP")
	started := false
	defer func() {
		if !started {
			shell(t, "YAGONA_TEST_PG_START")
		}
	}()
	c.waitReady(http.StatusServiceUnavailable, 15*time.Second, c.reps...)
	for _, r := range c.reps {
		start := time.Now()
		st, b, err := c.call(r, "GET", "/api/v1/certificates/"+serial, nil, true)
		took := time.Since(start)
		if err != nil || st != http.StatusServiceUnavailable {
			t.Errorf("%s without PostgreSQL: %d %v %s, want 503", r.name, st, err, b)
		}
		if took > 5*time.Second {
			t.Errorf("%s took %v to refuse: not failing fast", r.name, took)
		}
		t.Logf("%s refused in %v without PostgreSQL", r.name, took.Round(time.Millisecond))
		if st, err := c.ocspStatus(r, cert); err != nil || st != ocsp.Good {
			t.Errorf("%s OCSP from cache without PostgreSQL: %d %v", r.name, st, err)
		}
	}
	shell(t, "YAGONA_TEST_PG_START")
	started = true
	c.waitReady(http.StatusOK, 60*time.Second, c.reps...)
	for _, r := range c.reps {
		c.enroll(r)
	}
}

// memoryWithLiveSessions: with many live login sessions (in Redis), each
// replica's resident memory stays under 200 MB.
func (c *cluster) memoryWithLiveSessions(t *testing.T) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("YAGONA_TEST_FAULTS_SESSIONS")); err == nil && v > 0 {
		n = v
	}
	rep := c.mustLoad(c.reps, "-scenario", "login", "-n", strconv.Itoa(n), "-c", "12", "-certs", "24", "-duration", "300s")
	if rep.OK < n*99/100 {
		t.Fatalf("only %d of %d logins succeeded: %v", rep.OK, n, rep.ErrorMessages)
	}
	for _, r := range c.reps {
		r.mu.Lock()
		pid := r.cmd.Process.Pid
		r.mu.Unlock()
		rss := rssMB(t, pid)
		t.Logf("%s: %.1f MB resident after %d logins over 3 replicas (sessions in Redis)", r.name, rss, rep.OK)
		if rss >= 200 {
			t.Errorf("%s uses %.1f MB resident, want under 200 MB", r.name, rss)
		}
	}
	if out, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strings.TrimPrefix(c.redisAddr, "127.0.0.1:"), "dbsize").Output(); err == nil {
		t.Logf("redis keys: %s", bytes.TrimSpace(out))
	}
}

func rssMB(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
