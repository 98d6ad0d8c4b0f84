package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/load"
	"github.com/yagona/yagona/pkg/store/storetest"
)

// The HTTP benchmarks start a real server in-process and drive it through
// internal/load, the same code as cmd/yagona-load. Setup (people, enrollments,
// CSRs) is untimed. They report requests/s, p50/p99 and the ratio of the
// request rate to this machine's single-core ECDSA P-256 signing rate,
// measured in the same run (docs/performance.md).
//
//	go test ./cmd/yagona -run '^$' -bench 'HTTP' -benchtime 4000x

func benchServer(b *testing.B) (*testServer, load.Options) {
	s := startServer(b, func(c *config.Config) {
		c.Log.Level = "error"
		// YAGONA_BENCH_PRODUCTION=1 measures on PostgreSQL and Redis.
		if os.Getenv("YAGONA_BENCH_PRODUCTION") == "1" {
			c.Store, c.Cache = storetest.PostgresURL(b), os.Getenv("YAGONA_TEST_REDIS_URL")
		}
	})
	return s, load.Options{
		Server: s.https, OCSPURL: s.http + "/ocsp",
		CAFile:      filepath.Join(s.data, "certs", "root.pem"),
		TokenFile:   filepath.Join(s.data, "secrets", "admin-token"),
		Concurrency: 32, Duration: 2 * time.Minute, Certs: 50,
	}
}

func report(b *testing.B, rep load.Report) {
	if rep.Errors > 0 {
		b.Fatalf("%d errors, first: %s", rep.Errors, rep.FirstError)
	}
	sign, verify := load.CryptoRates(200 * time.Millisecond)
	b.ReportMetric(rep.PerSecond, "req/s")
	b.ReportMetric(rep.P50ms, "p50-ms")
	b.ReportMetric(rep.P99ms, "p99-ms")
	b.ReportMetric(rep.PerSecond/sign, "x-sign-rate")
	b.ReportMetric(rep.PerSecond/verify, "x-verify-rate")
}

func BenchmarkIssueHTTP(b *testing.B) {
	_, o := benchServer(b)
	c, err := load.NewClient(o)
	if err != nil {
		b.Fatal(err)
	}
	work, err := c.PrepareIssue(b.N)
	if err != nil {
		b.Fatal(err)
	}
	o.N = b.N
	b.ResetTimer()
	rep := load.Timed(context.Background(), o, work)
	b.StopTimer()
	report(b, rep)
}

func BenchmarkOCSPHTTP(b *testing.B) {
	_, o := benchServer(b)
	c, err := load.NewClient(o)
	if err != nil {
		b.Fatal(err)
	}
	work, err := c.PrepareOCSP(o.Certs)
	if err != nil {
		b.Fatal(err)
	}
	// Warm the cache: one answer per certificate.
	o.N = o.Certs
	load.Timed(context.Background(), o, work)
	o.N = b.N
	b.ResetTimer()
	rep := load.Timed(context.Background(), o, work)
	b.StopTimer()
	report(b, rep)
}

func benchOIDC(b *testing.B, prepare func(c *load.Client, o load.Options) (load.Plan, error)) {
	_, o := benchServer(b)
	c, err := load.NewClient(o)
	if err != nil {
		b.Fatal(err)
	}
	work, err := prepare(c, o)
	if err != nil {
		b.Fatal(err)
	}
	o.N = b.N
	b.ResetTimer()
	rep := load.Timed(context.Background(), o, work)
	b.StopTimer()
	report(b, rep)
}

// BenchmarkLoginHTTP: complete certificate logins (authorize, challenge,
// CMS signature made by the client, verification, code, token).
func BenchmarkLoginHTTP(b *testing.B) {
	benchOIDC(b, func(c *load.Client, o load.Options) (load.Plan, error) { return c.PrepareLogin(o.Certs) })
}

// BenchmarkCodeHTTP: code exchanges; the logins that made the codes are
// not timed.
func BenchmarkCodeHTTP(b *testing.B) {
	benchOIDC(b, func(c *load.Client, o load.Options) (load.Plan, error) { return c.PrepareCode(b.N, 10) })
}

// BenchmarkRefreshHTTP: refresh-token rotations.
func BenchmarkRefreshHTTP(b *testing.B) {
	benchOIDC(b, func(c *load.Client, o load.Options) (load.Plan, error) { return c.PrepareRefresh(o.Concurrency) })
}

// BenchmarkTSAHTTP: RFC 3161 time-stamp tokens over plain HTTP.
func BenchmarkTSAHTTP(b *testing.B) {
	benchOIDC(b, func(c *load.Client, o load.Options) (load.Plan, error) { return c.PrepareTSA(b.N) })
}

// BenchmarkIntrospectHTTP: RFC 7662 introspection of access tokens by
// their client.
func BenchmarkIntrospectHTTP(b *testing.B) {
	benchOIDC(b, func(c *load.Client, o load.Options) (load.Plan, error) { return c.PrepareIntrospect(o.Concurrency) })
}

// BenchmarkVerifyHTTP: validation of a detached CAdES signature over a
// 100 KB document, posted as multipart/form-data.
func BenchmarkVerifyHTTP(b *testing.B) {
	benchOIDC(b, func(c *load.Client, o load.Options) (load.Plan, error) { return c.PrepareVerify(4) })
}
