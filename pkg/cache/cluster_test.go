package cache_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/cache"
	"github.com/yagona/yagona/pkg/cache/cachetest"
)

const clusterEnv = "YAGONA_TEST_REDIS_CLUSTER"

// startCluster starts a three-node Redis Cluster (no replicas) of its own
// on loopback and returns its redis-cluster:// URL; the nodes stop when t
// ends.
func startCluster(t *testing.T) string {
	t.Helper()
	if os.Getenv(clusterEnv) != "1" {
		t.Skip("Redis Cluster tests disabled; set " + clusterEnv + "=1 (needs redis-server and redis-cli) to run them")
	}
	dir := t.TempDir()
	var addrs []string
	for i := range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)), "--dir", dir,
			"--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, "127.0.0.1:"+port)
	}
	for _, a := range addrs {
		waitCLI(t, a, []string{"ping"}, "PONG")
	}
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		waitCLI(t, a, []string{"cluster", "info"}, "cluster_state:ok")
	}
	return "redis-cluster://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
}

func waitCLI(t *testing.T, addr string, cmd []string, want string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, cmd...)...).Output()
		if strings.Contains(string(out), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v never said %q (last: %s)", addr, cmd, want, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func randomPrefix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "yagona-test:" + hex.EncodeToString(b) + ":"
}

// TestRedisCluster runs the cache conformance suite, Bus included, on a
// real three-node Redis Cluster: every operation must touch one key, or
// the cluster would answer CROSSSLOT.
func TestRedisCluster(t *testing.T) {
	u := startCluster(t)
	open := func(t *testing.T) cache.Cache {
		c, err := cache.OpenRedisCluster(t.Context(), u, randomPrefix())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	cachetest.Run(t, func(t *testing.T) cachetest.Instance {
		return cachetest.Instance{Cache: open(t), Advance: time.Sleep, Sibling: open}
	})
	t.Run("BadURL", func(t *testing.T) {
		for _, bad := range []string{"redis://127.0.0.1:1", "redis-cluster://user:secret@127.0.0.1:1?dial_timeout=100ms"} {
			_, err := cache.OpenRedisCluster(t.Context(), bad, "p:")
			if err == nil || strings.Contains(err.Error(), "secret") {
				t.Errorf("%q: %v", bad, err)
			}
		}
	})
}
