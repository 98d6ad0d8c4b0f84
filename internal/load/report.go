package load

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Plan is a prepared scenario: Do makes timed request i as worker w, and
// worker w sends to Targets[w%len(Targets)] (a cross-replica login starts
// there and ends on the next one). Do returns the HTTP status of the
// answer that decided the outcome, 0 when none came (refused, reset,
// timed out), and an error when the request failed. Close, if not nil,
// closes the plan's connections.
type Plan struct {
	Targets []string
	Do      func(w, i int) (status int, err error)
	Close   func()
}

// Report is the result of one run: the totals (Stats, inline in JSON),
// the same per target, and this machine's raw crypto rates.
type Report struct {
	Scenario string `json:"scenario"`
	Stats
	Targets      []Stats `json:"targets"`
	Concurrency  int     `json:"concurrency"`
	Rate         float64 `json:"rate_limit,omitempty"`
	Cross        bool    `json:"cross,omitempty"`
	CPUs         int     `json:"cpus"`
	SignPerSec   float64 `json:"ecdsa_p256_sign_per_second_per_core"`
	VerifyPerSec float64 `json:"ecdsa_p256_verify_per_second_per_core"`
	XSign        float64 `json:"x_sign_rate"`
	XVerify      float64 `json:"x_verify_rate"`
}

// Stats count the requests of one target, or of all.
type Stats struct {
	Target    string  `json:"target,omitempty"`
	Requests  int     `json:"requests"`
	OK        int     `json:"ok"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"` // successful requests per second
	P50ms     float64 `json:"p50_ms"`     // latency percentiles of successful requests
	P99ms     float64 `json:"p99_ms"`
	P999ms    float64 `json:"p999_ms"`
	MaxMs     float64 `json:"max_ms"`
	// Status counts answers by HTTP status ("200", "503"); "none" counts
	// requests that got no answer (refused, reset, timed out).
	Status map[string]int `json:"status"`
	// ErrorMessages are the first few distinct error messages with their
	// counts; FirstError is the first of them.
	ErrorMessages []ErrorCount `json:"error_messages"`
	FirstError    string       `json:"first_error,omitempty"`
	// Timeline counts successes and errors in each second of the run.
	Timeline []Second `json:"timeline"`
}

// ErrorCount is one distinct error message and how often it came.
type ErrorCount struct {
	Message string `json:"message"`
	Count   int    `json:"count"`
}

// Second is one second of a run: the requests that started in it.
type Second struct {
	OK     int `json:"ok"`
	Errors int `json:"errors"`
}

// maxMessages bounds the distinct error messages a Stats keeps.
const maxMessages = 5

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s (c=%d, %d CPUs", r.Scenario, r.Stats, r.Concurrency, r.CPUs)
	if r.Rate > 0 {
		fmt.Fprintf(&b, ", rate limit %.0f/s", r.Rate)
	}
	if r.Cross {
		b.WriteString(", cross-replica")
	}
	b.WriteString(")\n")
	if len(r.Targets) > 1 {
		for _, t := range r.Targets {
			fmt.Fprintf(&b, "  %s: %s\n", t.Target, t)
		}
	}
	for _, e := range r.ErrorMessages {
		fmt.Fprintf(&b, "  error x%d: %s\n", e.Count, e.Message)
	}
	fmt.Fprintf(&b, "raw ECDSA P-256 on one core: %.0f sign/s, %.0f verify/s; throughput = %.3f x sign rate, %.3f x verify rate",
		r.SignPerSec, r.VerifyPerSec, r.XSign, r.XVerify)
	return b.String()
}

func (s Stats) String() string {
	codes := make([]string, 0, len(s.Status))
	for k := range s.Status {
		codes = append(codes, k)
	}
	slices.Sort(codes)
	for i, k := range codes {
		codes[i] = k + ":" + strconv.Itoa(s.Status[k])
	}
	return fmt.Sprintf("%d requests, %d errors in %.2fs: %.0f/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms [%s]",
		s.Requests, s.Errors, s.Seconds, s.PerSecond, s.P50ms, s.P99ms, s.P999ms, s.MaxMs, strings.Join(codes, " "))
}

// tally is one worker's record, merged after the run.
type tally struct {
	lat      []time.Duration
	status   map[string]int
	msgs     []ErrorCount
	timeline []Second
}

func (t *tally) add(at time.Duration, d time.Duration, status int, err error) {
	code := "none"
	if status != 0 {
		code = strconv.Itoa(status)
	}
	t.status[code]++
	sec := int(at / time.Second)
	for len(t.timeline) <= sec {
		t.timeline = append(t.timeline, Second{})
	}
	if err == nil {
		t.lat = append(t.lat, d)
		t.timeline[sec].OK++
		return
	}
	t.timeline[sec].Errors++
	t.msgs = addMessage(t.msgs, err.Error(), 1)
}

func addMessage(msgs []ErrorCount, m string, n int) []ErrorCount {
	for i := range msgs {
		if msgs[i].Message == m {
			msgs[i].Count += n
			return msgs
		}
	}
	if len(msgs) < maxMessages {
		msgs = append(msgs, ErrorCount{Message: m, Count: n})
	}
	return msgs
}

// merge sums worker tallies into Stats over elapsed.
func merge(target string, ts []*tally, elapsed time.Duration) Stats {
	s := Stats{Target: target, Seconds: elapsed.Seconds(), Status: map[string]int{}, ErrorMessages: []ErrorCount{}, Timeline: []Second{}}
	var all []time.Duration
	for _, t := range ts {
		all = append(all, t.lat...)
		for k, v := range t.status {
			s.Status[k] += v
		}
		for _, m := range t.msgs {
			s.ErrorMessages = addMessage(s.ErrorMessages, m.Message, m.Count)
		}
		for i, sec := range t.timeline {
			for len(s.Timeline) <= i {
				s.Timeline = append(s.Timeline, Second{})
			}
			s.Timeline[i].OK += sec.OK
			s.Timeline[i].Errors += sec.Errors
		}
	}
	for _, sec := range s.Timeline {
		s.OK += sec.OK
		s.Errors += sec.Errors
	}
	s.Requests = s.OK + s.Errors
	s.PerSecond = float64(s.OK) / elapsed.Seconds()
	if len(s.ErrorMessages) > 0 {
		s.FirstError = s.ErrorMessages[0].Message
	}
	slices.Sort(all)
	if n := len(all); n > 0 {
		at := func(permille int) float64 { return ms(all[min(n-1, n*permille/1000)]) }
		s.P50ms, s.P99ms, s.P999ms, s.MaxMs = at(500), at(990), at(999), ms(all[n-1])
	}
	return s
}

// Timed runs p.Do for requests 0..o.N-1 on o.Concurrency workers until
// all are done or o.Duration has passed, at most o.Rate requests per
// second in total when o.Rate > 0, and measures each call. A request under
// way when the time is up finishes (its connection deadline, o.Timeout,
// bounds it). A worker whose request got no answer pauses 50 ms before its
// next one.
func Timed(ctx context.Context, o Options, p Plan) Report {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	conc := max(1, o.Concurrency)
	var next atomic.Int64
	tallies := make([]*tally, conc)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		t := &tally{status: map[string]int{}}
		tallies[w] = t
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= o.N || !pace(ctx, start, i, o.Rate) {
					return
				}
				t0 := time.Now()
				status, err := p.Do(w, i)
				t.add(t0.Sub(start), time.Since(t0), status, err)
				if err != nil && status == 0 {
					rest(ctx, noAnswerPause)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	rep := Report{Stats: merge("", tallies, elapsed), Concurrency: conc, Rate: o.Rate, CPUs: runtime.NumCPU()}
	for k, target := range p.Targets {
		var mine []*tally
		for w := k; w < conc; w += len(p.Targets) {
			mine = append(mine, tallies[w])
		}
		rep.Targets = append(rep.Targets, merge(target, mine, elapsed))
	}
	return rep
}

// noAnswerPause is how long a worker waits after a request that got no
// answer (refused, reset, timed out), so that the workers of a replica
// that is down do not spin on refused dials on the cores the others
// share.
const noAnswerPause = 50 * time.Millisecond

func rest(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}

// pace waits until request i's turn when rate > 0 (request i starts no
// sooner than i/rate seconds after start); false when ctx ended first.
func pace(ctx context.Context, start time.Time, i int, rate float64) bool {
	if rate <= 0 {
		return true
	}
	if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
		rest(ctx, wait)
	}
	return ctx.Err() == nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
