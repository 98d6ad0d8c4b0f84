package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReplicaLoad measures the replicas under yagona-load, one replica and
// then three on the same machine, on PostgreSQL and Redis, and prints the
// tables docs/performance.md holds: throughput and latency, and the CPU
// time each process spent per request (replicas, PostgreSQL, Redis, the
// load generator), which says where the machine's two cores went. It is a
// measurement, not a check: it runs only with YAGONA_BENCH_REPLICAS=1
// (and what TestFaults needs), and asserts nothing about speed.
//
//	YAGONA_BENCH_REPLICAS=1 YAGONA_TEST_POSTGRES_URL=... go test ./faults -run TestReplicaLoad -v -timeout 30m
func TestReplicaLoad(t *testing.T) {
	if os.Getenv("YAGONA_BENCH_REPLICAS") != "1" {
		t.Skip("a measurement: set YAGONA_BENCH_REPLICAS=1 (with YAGONA_TEST_POSTGRES_URL and redis-server on the PATH)")
	}
	scenarios := [][]string{
		{"-scenario", "ocsp", "-n", "400000", "-c", "32", "-certs", "50"},
		{"-scenario", "issue", "-n", "6000", "-c", "16"},
		{"-scenario", "login", "-n", "6000", "-c", "16", "-certs", "20"},
		{"-scenario", "refresh", "-n", "10000", "-c", "16"},
		{"-scenario", "introspect", "-n", "20000", "-c", "16"},
		{"-scenario", "verify", "-n", "4000", "-c", "8", "-certs", "4"},
		{"-scenario", "tsa", "-n", "20000", "-c", "16"},
	}
	if only := os.Getenv("YAGONA_BENCH_SCENARIOS"); only != "" {
		var keep [][]string
		for _, s := range scenarios {
			if strings.Contains(","+only+",", ","+s[1]+",") {
				keep = append(keep, s)
			}
		}
		scenarios = keep
	}
	var rows, cpuRows []string
	for _, n := range []int{1, 3} {
		c := newCluster(t, n)
		for _, sc := range scenarios {
			args := append(append([]string{}, sc...), "-duration", "30s")
			var before, after cpuSample
			rep := c.mustLoadPhased(c.reps, func(name string) {
				if name == "timed" {
					before = c.cpu()
				} else {
					after = c.cpu()
				}
			}, args...)
			rows = append(rows, fmt.Sprintf("| %s | %d | %s | %d | **%.0f** | %.2f ms | %.2f ms | %d | %.3f | %.3f |",
				sc[1], n, sc[5], rep.OK, rep.PerSecond, rep.P50, rep.P99, rep.Errors, rep.XSign, rep.XVerify))
			per := func(d time.Duration) string {
				return strconv.FormatFloat(float64(d.Microseconds())/float64(max(rep.OK, 1)), 'f', 0, 64) + " µs"
			}
			// The servers' time is sampled around the timed phase; the
			// load generator's includes its untimed setup, so it is an
			// upper bound.
			cpuRows = append(cpuRows, fmt.Sprintf("| %s | %d | %s | %s | %s | ≤ %s |", sc[1], n,
				per(after.replicas-before.replicas), per(after.postgres-before.postgres), per(after.redis-before.redis), per(rep.cpu)))
		}
		for _, r := range c.reps {
			c.kill(r)
		}
		c.stopRedis()
	}
	t.Log("\n| scenario | replicas | clients | requests | per second | p50 | p99 | errors | × sign rate | × verify rate |\n|---|---|---|---|---|---|---|---|---|---|\n" +
		strings.Join(rows, "\n"))
	t.Log("\nCPU time per successful request in the timed phase (yagona-load's includes its setup):\n" +
		"| scenario | replicas | yagona (all replicas) | PostgreSQL | Redis | yagona-load |\n|---|---|---|---|---|---|\n" +
		strings.Join(cpuRows, "\n"))
}

type cpuSample struct{ replicas, postgres, redis time.Duration }

// cpu reads the CPU time used so far by the replicas, every postgres
// process and the Redis server, from /proc.
func (c *cluster) cpu() cpuSample {
	var s cpuSample
	for _, r := range c.reps {
		r.mu.Lock()
		pid := r.cmd.Process.Pid
		r.mu.Unlock()
		s.replicas += procCPU(pid)
	}
	if c.redis != nil {
		s.redis = procCPU(c.redis.Process.Pid)
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if b, err := os.ReadFile(d + "/comm"); err == nil && strings.TrimSpace(string(b)) == "postgres" {
			pid, _ := strconv.Atoi(filepath.Base(d))
			s.postgres += procCPU(pid)
		}
	}
	return s
}

// procCPU is utime + stime of a process (clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name in parentheses: state is field 3,
	// utime 14 and stime 15.
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+2:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}
