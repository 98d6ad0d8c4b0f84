package decision_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/pkg/store"
)

// overdueWithHook registers a decision reporting to url, lets its deadline
// pass, and returns its id and webhook secret. Nothing is swept yet: the
// test's own Sweep queues and delivers the expiry webhook, so no sweep runs
// behind the test's back.
func overdueWithHook(e *env, url string) (id, secret string) {
	e.t.Helper()
	r := e.doJSON("POST", "/api/v1/decisions", tokService, with(func(m map[string]any) { m["webhook_url"] = url }))
	want(e.t, r, http.StatusCreated, "")
	v := decoded(e.t, r)
	id, _ = v["id"].(string)
	secret, _ = v["webhook_secret"].(string)
	e.clock.Advance(24 * time.Hour)
	return id, secret
}

// hooks reads the webhooks about id.
func (e *env) hooks(id string) []store.Webhook {
	e.t.Helper()
	hs, err := e.store.ListWebhooks(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return hs
}

// checkSigned checks a delivered webhook: JSON, signed with the secret,
// about id in state.
func checkSigned(t *testing.T, req hookRequest, secret, id, state string) {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(req.body)
	if got := req.header.Get("X-Yagona-Signature"); got != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("signature header %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal(req.body, &body); err != nil || req.header.Get("Content-Type") != "application/json" {
		t.Fatalf("body: %v %s", err, req.body)
	}
	if body["id"] != id || body["state"] != state || body["document_sha256"] != docSHA256 || body["public_url"] != "https://id.test/d/"+id {
		t.Fatalf("body: %s", req.body)
	}
}

func TestSweepDelivers(t *testing.T) {
	e := newEnv(t)
	rcv := newHookReceiver(t, http.StatusNoContent)
	id, secret := overdueWithHook(e, rcv.URL)
	e.svc.Sweep(t.Context())
	req := rcv.receive(t)
	checkSigned(t, req, secret, id, store.DecisionExpired)
	hs := e.hooks(id)
	if len(hs) != 1 || hs[0].Attempts != 1 || !hs[0].DeliveredAt.Equal(e.clock.Now()) || hs[0].LastError != "" {
		t.Fatalf("outbox: %+v", hs)
	}
	// Delivered once.
	e.clock.Advance(time.Hour)
	e.svc.Sweep(t.Context())
	rcv.none(t)
}

// TestSweepRetries: a failed delivery is retried after 5 s, 10 s, 20 s...
// up to an hour, at most 12 times; a redirect is a failure, not followed.
func TestSweepRetries(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tc := range []struct {
		name     string
		statuses []int  // the receiver's answers in turn; nil: unreachable
		errText  string // in the recorded error
	}{
		{"server error", []int{500}, "answered 500"},
		{"client error", []int{400}, "answered 400"},
		{"redirect", []int{http.StatusFound}, "answered 302"},
		{"unreachable", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			url := closed.URL
			var rcv *hookReceiver
			if tc.statuses != nil {
				rcv = newHookReceiver(t, tc.statuses...)
				url = rcv.URL
			}
			id, _ := overdueWithHook(e, url)
			for attempt := 1; attempt <= 12; attempt++ {
				e.svc.Sweep(t.Context())
				if rcv != nil {
					rcv.receive(t)
				}
				h := e.hooks(id)[0]
				wait := min(5*time.Second<<(attempt-1), time.Hour)
				if h.Attempts != attempt || !h.DeliveredAt.IsZero() || h.LastError == "" || !strings.Contains(h.LastError, tc.errText) ||
					!h.NextAt.Equal(e.clock.Now().Add(wait)) {
					t.Fatalf("attempt %d: %+v", attempt, h)
				}
				// Not before its time.
				e.clock.Advance(wait - time.Second)
				e.svc.Sweep(t.Context())
				if rcv != nil {
					rcv.none(t)
				}
				if h := e.hooks(id)[0]; h.Attempts != attempt {
					t.Fatalf("retried early: %+v", h)
				}
				e.clock.Advance(time.Second)
			}
			// Twelve attempts, then no more.
			e.svc.Sweep(t.Context())
			if rcv != nil {
				rcv.none(t)
			}
			if h := e.hooks(id)[0]; h.Attempts != 12 || !h.DeliveredAt.IsZero() {
				t.Fatalf("after the last attempt: %+v", h)
			}
		})
	}
}

// TestSweepRecovers: a receiver that fails once gets the webhook on the
// retry.
func TestSweepRecovers(t *testing.T) {
	e := newEnv(t)
	rcv := newHookReceiver(t, http.StatusServiceUnavailable, http.StatusOK)
	id, secret := overdueWithHook(e, rcv.URL)
	e.svc.Sweep(t.Context())
	first := rcv.receive(t)
	e.clock.Advance(5 * time.Second)
	e.svc.Sweep(t.Context())
	second := rcv.receive(t)
	if string(first.body) != string(second.body) {
		t.Fatalf("the retry sent another body:\n%s\n%s", first.body, second.body)
	}
	checkSigned(t, second, secret, id, store.DecisionExpired)
	if h := e.hooks(id)[0]; h.Attempts != 2 || !h.DeliveredAt.Equal(e.clock.Now()) || h.LastError != "" {
		t.Fatalf("outbox: %+v", h)
	}
}

// TestWebhookOnEveryState: final, rejected and withdrawn decisions notify
// the service at once; a decision without a webhook URL queues nothing.
func TestWebhookOnEveryState(t *testing.T) {
	for _, tc := range []struct {
		name  string
		act   func(e *env, id string)
		state string
	}{
		{"final", func(e *env, id string) {
			for _, p := range []string{pinflA, pinflB, pinflC} {
				e.mustSign(id, p)
			}
		}, store.DecisionFinal},
		{"rejected", func(e *env, id string) {
			want(e.t, e.doJSON("POST", path(id, "/reject"), person(pinflA), map[string]string{"reason": "no"}), 200, "")
		}, store.DecisionRejected},
		{"withdrawn", func(e *env, id string) {
			want(e.t, e.doJSON("POST", path(id, "/withdraw"), tokService, nil), 200, "")
		}, store.DecisionWithdrawn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rcv := newHookReceiver(t, http.StatusOK)
			r := e.doJSON("POST", "/api/v1/decisions", tokService, with(func(m map[string]any) { m["webhook_url"] = rcv.URL }))
			want(t, r, http.StatusCreated, "")
			v := decoded(t, r)
			id, _ := v["id"].(string)
			secret, _ := v["webhook_secret"].(string)
			tc.act(e, id)
			if hs := e.hooks(id); len(hs) != 1 || hs[0].Secret != secret || hs[0].URL != rcv.URL {
				t.Fatalf("outbox: %+v", hs)
			}
			// The service's own sweep delivers it; under its lease a
			// second sweep does not send it again.
			checkSigned(t, rcv.receive(t), secret, id, tc.state)
			e.svc.Sweep(t.Context())
			rcv.none(t)

			// Without a URL, nothing is queued.
			plain := e.register(registration())
			tc.act(e, plain)
			if hs := e.hooks(plain); len(hs) != 0 {
				t.Fatalf("outbox without a URL: %+v", hs)
			}
		})
	}
}

// TestRun: Run sweeps at once and stops when its context ends.
func TestRun(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
		cancel() // the first round has delivered: stop
	}))
	defer srv.Close()
	id, _ := overdueWithHook(e, srv.URL)
	done := make(chan struct{})
	go func() {
		e.svc.Run(ctx, time.Hour)
		close(done)
	}()
	<-done
	body := <-got
	if !strings.Contains(string(body), `"state":"expired"`) || e.decision(id).State != store.DecisionExpired {
		t.Fatalf("webhook %s", body)
	}
}
