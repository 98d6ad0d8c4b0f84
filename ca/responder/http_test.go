package responder

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

func newServer(t testing.TB, f *fixture) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix("/ocsp", f.r))
	t.Cleanup(srv.Close)
	return srv
}

func do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func newReq(t testing.TB, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// getURL is the RFC 6960 A.1 GET URL for der: base64, URL-escaped.
func getURL(base string, der []byte) string {
	return base + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(der))
}

// encodings returns a request whose base64 holds '+' and '/', if one of
// the fixture's requests does (their issuer hashes are random, so nearly
// always).
func encodings(t testing.TB, f *fixture) (der []byte, enc string) {
	t.Helper()
	for _, h := range allHashes {
		for _, l := range f.leaves {
			der := f.request(t, l, h)
			enc := base64.StdEncoding.EncodeToString(der)
			if strings.Contains(enc, "+") && strings.Contains(enc, "/") {
				return der, enc
			}
		}
	}
	der = f.request(t, f.leaf(), crypto.SHA1)
	return der, base64.StdEncoding.EncodeToString(der)
}

// TestHTTPGet: every spelling of the GET URL works, and the answer carries
// the RFC 5019 caching headers.
func TestHTTPGet(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, f)
	der, enc := encodings(t, f)
	paths := map[string]string{
		"escaped":          "/ocsp/" + url.PathEscape(enc),
		"fully escaped":    "/ocsp/" + strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(enc),
		"raw":              "/ocsp/" + enc,
		"unpadded":         "/ocsp/" + strings.TrimRight(enc, "="),
		"plus as space":    "/ocsp/" + strings.ReplaceAll(enc, "+", "%20"),
		"lower-case hex %": "/ocsp/" + strings.NewReplacer("+", "%2b", "/", "%2f").Replace(enc),
	}
	for name, p := range paths {
		t.Run(name, func(t *testing.T) {
			resp, body := do(t, newReq(t, "GET", srv.URL+p, nil))
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", p, resp.StatusCode)
			}
			r := f.parse(t, body, f.leaf())
			if r.Status != ocsp.Good {
				t.Fatalf("status %d", r.Status)
			}
			now := *f.now.Load()
			sum := sha256.Sum256(body)
			want := map[string]string{
				"Content-Type":   "application/ocsp-response",
				"Content-Length": strconv.Itoa(len(body)),
				"Last-Modified":  r.ThisUpdate.UTC().Format(http.TimeFormat),
				"Expires":        r.NextUpdate.UTC().Format(http.TimeFormat),
				"ETag":           `"` + hex.EncodeToString(sum[:]) + `"`,
				"Cache-Control":  "max-age=" + strconv.Itoa(int(r.NextUpdate.Sub(now)/time.Second)) + ", public, no-transform, must-revalidate",
			}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	if n := f.src.calls.Load(); n != 1 {
		t.Errorf("source asked %d times for %d GETs of one request", n, len(paths))
	}
	// A cache revalidating with the ETag gets 304.
	first, body := do(t, newReq(t, "GET", getURL(srv.URL+"/ocsp", der), nil))
	for _, inm := range []string{first.Header.Get("ETag"), `"other", ` + first.Header.Get("ETag"), "*"} {
		req := newReq(t, "GET", getURL(srv.URL+"/ocsp", der), nil)
		req.Header.Set("If-None-Match", inm)
		resp, b := do(t, req)
		if resp.StatusCode != http.StatusNotModified || len(b) != 0 || resp.Header.Get("ETag") != first.Header.Get("ETag") {
			t.Errorf("If-None-Match %s: %d, %d bytes", inm, resp.StatusCode, len(b))
		}
	}
	req := newReq(t, "GET", getURL(srv.URL+"/ocsp", der), nil)
	req.Header.Set("If-None-Match", `"stale"`)
	if resp, b := do(t, req); resp.StatusCode != 200 || !bytes.Equal(b, body) {
		t.Errorf("mismatched If-None-Match: %d", resp.StatusCode)
	}
}

// TestHTTPNoStore: POST answers, nonce answers and errors are not for
// HTTP caches.
func TestHTTPNoStore(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, f)
	der := f.request(t, f.leaf(), crypto.SHA256)
	nonce := withNonce(t, der, wrapped(t, []byte("0123456789abcdef")))
	other, err := ocsp.CreateRequest(f.leaf(), f.other, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		want ocsp.ResponseStatus
	}{
		{"POST", newReq(t, "POST", srv.URL+"/ocsp", bytes.NewReader(der)), ocsp.Success},
		{"POST to /", newReq(t, "POST", srv.URL+"/ocsp/", bytes.NewReader(der)), ocsp.Success},
		{"POST nonce", newReq(t, "POST", srv.URL+"/ocsp", bytes.NewReader(nonce)), ocsp.Success},
		{"GET nonce", newReq(t, "GET", getURL(srv.URL+"/ocsp", nonce), nil), ocsp.Success},
		{"GET other issuer", newReq(t, "GET", getURL(srv.URL+"/ocsp", other), nil), ocsp.Unauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.req)
			if resp.StatusCode != 200 || respStatus(body) != tc.want {
				t.Fatalf("%d %v", resp.StatusCode, respStatus(body))
			}
			if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Type") != "application/ocsp-response" ||
				resp.Header.Get("ETag") != "" || resp.Header.Get("Expires") != "" {
				t.Fatalf("headers %v", resp.Header)
			}
		})
	}
}

// TestHTTPBadInput: whatever arrives gets HTTP 200 and a DER
// malformedRequest, except a wrong method (405).
func TestHTTPBadInput(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, f)
	der := f.request(t, f.leaf(), crypto.SHA1)
	chunked := newReq(t, "POST", srv.URL+"/ocsp", io.MultiReader(bytes.NewReader(make([]byte, 11<<10))))
	chunked.ContentLength = -1
	for _, tc := range []struct {
		name string
		req  *http.Request
	}{
		{"GET empty", newReq(t, "GET", srv.URL+"/ocsp/", nil)},
		{"GET prefix only", newReq(t, "GET", srv.URL+"/ocsp", nil)},
		{"GET bad base64", newReq(t, "GET", srv.URL+"/ocsp/!!!notbase64", nil)},
		{"GET bad padding", newReq(t, "GET", srv.URL+"/ocsp/"+base64.StdEncoding.EncodeToString(der)+"==", nil)},
		{"GET junk", newReq(t, "GET", srv.URL+"/ocsp/"+base64.StdEncoding.EncodeToString([]byte("junk")), nil)},
		{"GET truncated", newReq(t, "GET", getURL(srv.URL+"/ocsp", der[:len(der)-1]), nil)},
		{"GET huge", newReq(t, "GET", srv.URL+"/ocsp/"+strings.Repeat("A", 20<<10), nil)},
		{"GET with query", newReq(t, "GET", srv.URL+"/ocsp/?"+base64.StdEncoding.EncodeToString(der), nil)},
		{"POST empty", newReq(t, "POST", srv.URL+"/ocsp", nil)},
		{"POST garbage", newReq(t, "POST", srv.URL+"/ocsp", strings.NewReader("<html>"))},
		{"POST oversized", newReq(t, "POST", srv.URL+"/ocsp", bytes.NewReader(make([]byte, 20<<10)))},
		{"POST oversized chunked", chunked},
		{"POST request and trailing bytes", newReq(t, "POST", srv.URL+"/ocsp", bytes.NewReader(append(append([]byte{}, der...), 0, 0)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.req)
			if resp.StatusCode != 200 || !bytes.Equal(body, ocsp.MalformedRequestErrorResponse) {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
			if resp.Header.Get("Content-Type") != "application/ocsp-response" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("headers %v", resp.Header)
			}
		})
	}
	for _, m := range []string{"PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"} {
		resp, _ := do(t, newReq(t, m, srv.URL+"/ocsp", bytes.NewReader(der)))
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, POST" {
			t.Errorf("%s: %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}
