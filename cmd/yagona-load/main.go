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
//	introspect logs in once per client (not timed), then times RFC 7662
//	       introspection of the access tokens by the relying party.
//	verify signs a 100 KB document (CAdES, detached, not timed), then
//	       times POST /api/v1/signatures/verify.
//	mixed  interleaves several of the above by weight (-mix).
//
// Several replicas: -server and -ocsp take comma-separated lists; worker
// i sends to target i mod n on its own keep-alive connection, and setup
// goes to the first. With -cross a login starts on a worker's target and
// ends (certificate POST, code exchange) on the next, which shows that
// replicas share their state. -rate caps the requests per second, for
// steady background load during a fault test. The report gives totals and
// per-target numbers, HTTP status counts and the first distinct errors;
// -json prints it as the JSON described in package load.
//
// Every loop is bounded by -n and -duration (and each request by
// -timeout); only loopback targets are meant.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/yagona/yagona/internal/load"
)

func main() {
	var o load.Options
	var jsonOut bool
	flag.StringVar(&o.Server, "server", "https://127.0.0.1:8443", "HTTPS base URL of the API; several replicas separated by commas")
	flag.StringVar(&o.OCSPURL, "ocsp", "http://127.0.0.1:8080/ocsp", "OCSP URL; several replicas separated by commas")
	flag.StringVar(&o.CAFile, "ca-file", "yagona-data/certs/root.pem", "trust anchor PEM")
	flag.StringVar(&o.TokenFile, "token-file", "yagona-data/secrets/admin-token", "operator token file")
	flag.StringVar(&o.Scenario, "scenario", "issue", "issue, ocsp, tsa, login, code, refresh, introspect, verify or mixed")
	flag.IntVar(&o.N, "n", 2000, "requests to time (upper bound)")
	flag.IntVar(&o.Concurrency, "c", 32, "concurrent clients")
	flag.IntVar(&o.Certs, "certs", 50, "ocsp, login, code: certificates to spread requests over; verify: signers (at most 8)")
	flag.DurationVar(&o.Duration, "duration", 60*time.Second, "time limit of the timed phase")
	flag.DurationVar(&o.Timeout, "timeout", 10*time.Second, "time limit of each request's connection I/O")
	flag.Float64Var(&o.Rate, "rate", 0, "cap on timed requests per second over all clients (0: no cap)")
	flag.BoolVar(&o.Cross, "cross", false, "login, mixed: finish each login on the next replica")
	flag.StringVar(&o.Mix, "mix", load.DefaultMix, "mixed: scenarios and weights")
	flag.BoolVar(&jsonOut, "json", false, "print the report as JSON")
	phases := flag.Bool("phases", false, `write "yagona-load: timed" and "yagona-load: done" lines to stderr around the timed phase`)
	flag.Parse()
	if *phases {
		o.Phase = func(name string) { fmt.Fprintln(os.Stderr, "yagona-load: "+name) }
	}
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
