package main

import (
	"strings"
	"testing"
	"time"
)

// TestJobLeadership: a lone replica holds every job's lease and says so
// in its metrics.
func TestJobLeadership(t *testing.T) {
	s := startServer(t, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := string(s.fetch(s.http + "/metrics"))
		all := true
		for _, job := range []string{"crl", "log", "decisions", "token-keys"} {
			if !strings.Contains(body, `yagona_job_leader{lease="`+job+`"} 1`) {
				all = false
			}
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not leading every job:\n%s", grepLines(body, "yagona_job_leader"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
