package responder

import (
	"context"
	"crypto"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkParseRequest: our parser on an ordinary request.
func BenchmarkParseRequest(b *testing.B) {
	f := newFixture(b)
	req := f.request(b, f.leaf(), crypto.SHA1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRespondCached: Respond on a cache hit (the map cache copies the
// value on Get, as pkg/cache does).
func BenchmarkRespondCached(b *testing.B) {
	f := newFixture(b)
	req := f.request(b, f.leaf(), crypto.SHA1)
	ctx := context.Background()
	want, _ := f.r.Respond(ctx, req)
	b.ReportAllocs()
	for b.Loop() {
		if der, _ := f.r.Respond(ctx, req); len(der) != len(want) {
			b.Fatal("wrong answer")
		}
	}
	if f.src.calls.Load() != 1 {
		b.Fatal("not served from the cache")
	}
}

// nopCache never holds anything: every request is a miss.
type nopCache struct{}

func (nopCache) Get(context.Context, string) ([]byte, error)              { return nil, errMiss }
func (nopCache) Set(context.Context, string, []byte, time.Duration) error { return nil }
func (nopCache) Delete(context.Context, string) error                     { return nil }

// BenchmarkRespondMiss: the signing path (cache miss, status lookup in a
// map, ECDSA P-256 signature).
func BenchmarkRespondMiss(b *testing.B) {
	f := newFixture(b)
	f.r.cache = nopCache{}
	req := f.request(b, f.leaf(), crypto.SHA1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		f.r.Respond(ctx, req)
	}
	if f.src.calls.Load() < int64(b.N) {
		b.Fatal("served from a cache")
	}
}

// BenchmarkServeHTTPCachedParallel: GET requests answered from the cache
// through a real net/http server on 127.0.0.1, by keep-alive clients in
// the same process (so they share the CPUs with the server). Reports
// responses per second and latency percentiles as the clients see them.
func BenchmarkServeHTTPCachedParallel(b *testing.B) {
	f := newFixture(b)
	srv := newServer(b, f)
	u := getURL(srv.URL+"/ocsp", f.request(b, f.leaf(), crypto.SHA1))
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func() error {
		resp, err := client.Get(u)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = errors.New(resp.Status)
		}
		return err
	}
	if err := get(); err != nil { // fill the cache
		b.Fatal(err)
	}
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(4) // 4 clients per CPU
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			if err := get(); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(t0))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "resp/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	if n := f.src.calls.Load(); n != 1 {
		b.Fatalf("source asked %d times", n)
	}
}
