package responder

import (
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header values shared by every response. net/http only reads them; a
// handler wrapping ours that calls Header.Add appends to a full slice and
// so copies it.
var (
	hdrContentType = []string{"application/ocsp-response"}
	hdrNoStore     = []string{"no-store"}
	hdrAllow       = []string{"GET, POST"}
)

// ServeHTTP answers POST with a DER body and GET with the base64 request
// in the path after the mount prefix (RFC 6960 Appendix A.1). Mount it
// with http.StripPrefix. Other methods get 405; everything else, however
// broken, gets HTTP 200 with a DER OCSP response.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var der []byte
	get := false
	switch req.Method {
	case http.MethodPost:
		if req.ContentLength > r.cfg.MaxBody {
			r.write(w, req, r.fail(stMalformed), false)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.MaxBody))
		if err != nil {
			r.write(w, req, r.fail(stMalformed), false)
			return
		}
		der = body
	case http.MethodGet:
		get = true
		der = r.decodeGET(req.URL.Path)
	default:
		w.Header()["Allow"] = hdrAllow
		http.Error(w, "OCSP takes GET or POST", http.StatusMethodNotAllowed)
		return
	}
	r.write(w, req, r.respond(req.Context(), der), get)
}

// decodeGET takes the request from the (unescaped) path after the mount
// prefix: standard base64, with or without padding. It may hold '/', so
// the path may have several segments, and '+', which some clients send
// unescaped and some proxies turn into a space. Anything undecodable is
// nil, which Respond answers as malformed.
func (r *Responder) decodeGET(p string) []byte {
	p = strings.TrimPrefix(p, "/")
	if p == "" || len(p) > base64.StdEncoding.EncodedLen(int(r.cfg.MaxBody)) {
		return nil
	}
	p = strings.ReplaceAll(p, " ", "+")
	enc := base64.StdEncoding
	if len(p)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	der, err := enc.DecodeString(p)
	if err != nil {
		return nil
	}
	return der
}

// write sends a: cacheable answers to GET with the RFC 5019 §6.2 caching
// headers, everything else with no-store. The header values of a cached
// answer are built in one string.
func (r *Responder) write(w http.ResponseWriter, req *http.Request, a answer, get bool) {
	h := w.Header()
	h["Content-Type"] = hdrContentType
	if !get || !a.cacheable {
		h["Cache-Control"] = hdrNoStore
		h["Content-Length"] = []string{strconv.Itoa(len(a.der))}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(a.der)
		return
	}
	maxAge := int64(a.nextUpdate.Sub(r.now()) / time.Second)
	var buf [256]byte
	b := append(buf[:0], `"`...)
	b = hex.AppendEncode(b, a.etag)
	b = append(b, `"`...)
	iETag := len(b)
	b = a.thisUpdate.AppendFormat(b, http.TimeFormat)
	iLM := len(b)
	b = a.nextUpdate.AppendFormat(b, http.TimeFormat)
	iExp := len(b)
	b = append(b, "max-age="...)
	b = strconv.AppendInt(b, max(maxAge, 0), 10)
	b = append(b, ", public, no-transform, must-revalidate"...)
	iCC := len(b)
	b = strconv.AppendInt(b, int64(len(a.der)), 10)
	s := string(b)
	v := make([]string, 5)
	v[0], v[1], v[2], v[3], v[4] = s[:iETag], s[iETag:iLM], s[iLM:iExp], s[iExp:iCC], s[iCC:]
	h["Etag"] = v[0:1:1]
	h["Last-Modified"] = v[1:2:2]
	h["Expires"] = v[2:3:3]
	h["Cache-Control"] = v[3:4:4]
	if inm := req.Header.Get("If-None-Match"); inm != "" && (inm == "*" || strings.Contains(inm, v[0])) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Length"] = v[4:5:5]
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.der)
}
