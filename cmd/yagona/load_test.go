package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/internal/load"
	"github.com/yagona/yagona/pkg/store/storetest"
)

// The load scenarios are exercised here, for a handful of requests each,
// against in-process servers: package load cannot start the app itself.

func loadOptions(data string, servers ...*testServer) load.Options {
	var https, ocsp []string
	for _, s := range servers {
		https, ocsp = append(https, s.https), append(ocsp, s.http+"/ocsp")
	}
	return load.Options{
		Server: strings.Join(https, ","), OCSPURL: strings.Join(ocsp, ","),
		CAFile:    filepath.Join(data, "certs", "root.pem"),
		TokenFile: filepath.Join(data, "secrets", "admin-token"),
		N:         12, Concurrency: 4, Certs: 2, Duration: 30 * time.Second, Timeout: 10 * time.Second,
	}
}

// runScenarios runs each scenario and wants every request to pass and to
// be counted for its target.
func runScenarios(t *testing.T, o load.Options, scenarios ...string) {
	t.Helper()
	for _, sc := range scenarios {
		o.Scenario = sc
		rep, err := load.Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%s: %v", sc, err)
		}
		if rep.Errors > 0 || rep.OK != o.N || rep.Status["200"]+rep.Status["201"] != o.N {
			t.Fatalf("%s: %d ok, %d errors, status %v, first: %s", sc, rep.OK, rep.Errors, rep.Status, rep.FirstError)
		}
		want := strings.Count(o.Server, ",") + 1
		if len(rep.Targets) != want {
			t.Fatalf("%s: %d targets in the report, want %d", sc, len(rep.Targets), want)
		}
		for _, tg := range rep.Targets {
			if tg.OK == 0 {
				t.Fatalf("%s: no request for %s", sc, tg.Target)
			}
		}
	}
}

// TestLoadScenarios runs the scenarios against one server, and shows that
// errors are counted by status: a mixed run at a rate cap, and requests to
// a target that is gone.
func TestLoadScenarios(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.Log.Level = "error" })
	o := loadOptions(s.data, s)
	runScenarios(t, o, "introspect", "verify", "login", "refresh", "ocsp")

	o.Scenario, o.Rate, o.N, o.Mix = "mixed", 40, 8, "ocsp=2,introspect=1,verify=1"
	rep, err := load.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors > 0 || rep.OK != 8 {
		t.Fatalf("mixed: %d ok, %d errors: %s", rep.OK, rep.Errors, rep.FirstError)
	}
	if rep.Seconds < 0.17 { // the 8th request starts 7/40 s in
		t.Fatalf("8 requests at 40/s took %.3fs", rep.Seconds)
	}
}

// TestLoadDeadTarget: a replica that does not answer shows as errors
// without status for its target, the live one's requests pass.
func TestLoadDeadTarget(t *testing.T) {
	s := startServer(t, func(c *config.Config) { c.Log.Level = "error" })
	o := loadOptions(s.data, s)
	o.Server += ",https://127.0.0.1:1"
	o.Scenario = "introspect"
	rep, err := load.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Targets) != 2 || rep.Targets[0].Errors != 0 || rep.Targets[1].OK != 0 ||
		rep.Targets[1].Status["none"] != rep.Targets[1].Requests || rep.Targets[1].Requests == 0 {
		t.Fatalf("targets: %+v", rep.Targets)
	}
	if len(rep.ErrorMessages) == 0 || !strings.Contains(rep.ErrorMessages[0].Message, "127.0.0.1:1") {
		t.Fatalf("error messages: %+v", rep.ErrorMessages)
	}
}

// TestLoadReplicas runs the scenarios against two replicas sharing
// PostgreSQL and Redis, logins crossing from one to the other.
func TestLoadReplicas(t *testing.T) {
	rd := os.Getenv("YAGONA_TEST_REDIS_URL")
	if rd == "" {
		t.Skip("set YAGONA_TEST_REDIS_URL and YAGONA_TEST_POSTGRES_URL to run two replicas on PostgreSQL and Redis")
	}
	schemaURL := storetest.PostgresURL(t)
	a := startServer(t, func(c *config.Config) {
		c.Store, c.Cache, c.Log.Level = schemaURL, rd, "error"
	})
	b := startServer(t, func(c *config.Config) {
		// The same deployment: data directory (keys) and public URL (the
		// issuer) as the first replica.
		c.Store, c.Cache, c.Log.Level = schemaURL, rd, "error"
		c.DataDir, c.PublicURL = a.cfg.DataDir, a.cfg.PublicURL
	})
	o := loadOptions(a.data, a, b)
	o.Cross = true
	runScenarios(t, o, "login", "introspect", "verify", "refresh", "ocsp")
}

// TestLoadCrossNeedsSharedState is the negative of TestLoadReplicas: two
// replicas on one SQLite file but each with its own in-process cache do
// not share login requests, so every cross-replica login fails, and says
// where.
func TestLoadCrossNeedsSharedState(t *testing.T) {
	a := startServer(t, func(c *config.Config) { c.Log.Level = "error" })
	b := startServer(t, func(c *config.Config) {
		c.Log.Level, c.DataDir, c.PublicURL = "error", a.cfg.DataDir, a.cfg.PublicURL
	})
	o := loadOptions(a.data, a, b)
	o.Scenario, o.Cross, o.N = "login", true, 4
	rep, err := load.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 0 || rep.Errors != 4 || rep.Status["200"] != 0 {
		t.Fatalf("cross logins without shared state: %d ok, status %v", rep.OK, rep.Status)
	}
	t.Logf("status %v, errors %+v", rep.Status, rep.ErrorMessages)
}
