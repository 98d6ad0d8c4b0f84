// Command yagona-load drives a running Yagona server's real HTTP surface
// and reports throughput, latency percentiles and errors, next to the raw
// ECDSA P-256 rates of this machine measured in the same run, so results
// compare across machines as ratios (docs/performance.md).
//
// Scenarios:
//
//	issue  registers people and enrollments (not timed), makes CSRs (not
//	       timed), then times POST /api/v1/certificates over HTTPS.
//	ocsp   enrolls a few certificates (not timed), then times OCSP POSTs
//	       over plain HTTP; after the first round every answer comes from
//	       the cache.
//	login  enrolls -certs people (not timed), registers a client, then
//	       times complete certificate logins: authorize, challenge, the
//	       client's CMS signature, POST /login/certificate, code exchange.
//	code   logs in -n times (not timed), then times the code exchanges.
//	refresh logs in once per client (not timed), then times refresh-token
//	       rotations, each client rotating its own chain.
//
// Every loop is bounded by -n and -duration; only loopback targets are
// meant.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/yagona/yagona/pkg/load"
)

func main() {
	var o load.Options
	var jsonOut bool
	flag.StringVar(&o.Server, "server", "https://127.0.0.1:8443", "HTTPS base URL of the API")
	flag.StringVar(&o.OCSPURL, "ocsp", "http://127.0.0.1:8080/ocsp", "OCSP URL")
	flag.StringVar(&o.CAFile, "ca-file", "yagona-data/certs/root.pem", "trust anchor PEM")
	flag.StringVar(&o.TokenFile, "token-file", "yagona-data/secrets/admin-token", "operator token file")
	flag.StringVar(&o.Scenario, "scenario", "issue", "issue, ocsp, tsa, login, code or refresh")
	flag.IntVar(&o.N, "n", 2000, "requests to time (upper bound)")
	flag.IntVar(&o.Concurrency, "c", 32, "concurrent clients")
	flag.IntVar(&o.Certs, "certs", 50, "ocsp, login: certificates to spread requests over")
	flag.DurationVar(&o.Duration, "duration", 60*time.Second, "time limit of the timed phase")
	flag.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	flag.Parse()
	rep, err := load.Run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "yagona-load:", err)
		os.Exit(1)
	}
	if jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	fmt.Println(rep)
}
