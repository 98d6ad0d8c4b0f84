package validation

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/yagona/yagona/pkg/httpjson"
)

// Limits of the verify endpoint. A document in a multipart upload is
// streamed through the hashes, never held, so it is capped only by
// MaxStreamed (and the server's read timeout); a JSON document is held.
const (
	MaxSignature = 1 << 20  // DER CMS, or its base64/PEM
	MaxDocument  = 32 << 20 // a detached document in JSON
	MaxStreamed  = 4 << 30  // a detached document in multipart
)

// Handler serves POST /api/v1/signatures/verify: multipart/form-data with
// a "signature" part and an optional "document" part, or JSON
// {"signature": base64, "document": base64} (read by httpjson.Decode:
// nothing unknown, nothing after it). The answer is the Report (200
// whatever the indication); malformed requests get 400, oversized 413,
// other media types 415, as RFC 9457 problem documents whose code
// ("error") is the status phrase, as this endpoint has always answered.
func Handler(v *Validator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, status, msg := readInput(w, r)
		if status != 0 {
			httpjson.WriteProblem(w, httpjson.NewProblem(status, http.StatusText(status), msg))
			return
		}
		httpjson.Write(w, http.StatusOK, v.Validate(r.Context(), in))
	})
}

func readInput(w http.ResponseWriter, r *http.Request) (Input, int, string) {
	sig, doc, digests, head, status, msg := readParts(w, r)
	return Input{Signature: sig, Document: doc, Digests: digests, Head: head}, status, msg
}

// headWriter keeps the first HeadSize bytes written to it.
type headWriter struct{ b []byte }

func (h *headWriter) Write(p []byte) (int, error) {
	if n := HeadSize - len(h.b); n > 0 {
		h.b = append(h.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

func readParts(w http.ResponseWriter, r *http.Request) (sig, doc []byte, digests map[crypto.Hash][]byte, head []byte, status int, msg string) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, nil, nil, nil, http.StatusUnsupportedMediaType, "Content-Type must be multipart/form-data or application/json"
	}
	switch mt {
	case "application/json":
		var in struct {
			Signature string `json:"signature"`
			Document  string `json:"document"`
		}
		err := httpjson.Decode(w, r, httpjson.Rules{MaxBytes: MaxSignature*2 + MaxDocument*2}, &in)
		var refused *httpjson.Error
		if errors.As(err, &refused) {
			return nil, nil, nil, nil, refused.Status, refused.Detail
		}
		if sig, err = decodeSig([]byte(in.Signature)); err != nil {
			return nil, nil, nil, nil, http.StatusBadRequest, "signature: " + err.Error()
		}
		if in.Document != "" {
			if doc, err = base64.StdEncoding.DecodeString(in.Document); err != nil {
				return nil, nil, nil, nil, http.StatusBadRequest, "document is not base64"
			}
			if len(doc) > MaxDocument {
				return nil, nil, nil, nil, http.StatusRequestEntityTooLarge, "document too large"
			}
		}
		return sig, doc, digests, head, 0, ""
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, MaxSignature*2+MaxStreamed)
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return nil, nil, nil, nil, http.StatusRequestEntityTooLarge, "request too large"
				}
				return nil, nil, nil, nil, http.StatusBadRequest, "malformed multipart body"
			}
			if part.FormName() == "document" {
				if digests != nil {
					return nil, nil, nil, nil, http.StatusBadRequest, "one document part"
				}
				h256, h384, h512, hw := sha256.New(), sha512.New384(), sha512.New(), &headWriter{b: []byte{}}
				if _, err := io.Copy(io.MultiWriter(h256, h384, h512, hw), part); err != nil {
					return nil, nil, nil, nil, http.StatusRequestEntityTooLarge, "document too large or cut off"
				}
				digests = map[crypto.Hash][]byte{crypto.SHA256: h256.Sum(nil), crypto.SHA384: h384.Sum(nil), crypto.SHA512: h512.Sum(nil)}
				head = hw.b
				continue
			}
			limit := int64(MaxSignature * 2)
			b, err := io.ReadAll(io.LimitReader(part, limit+1))
			if err != nil {
				return nil, nil, nil, nil, http.StatusBadRequest, "cannot read a part"
			}
			if int64(len(b)) > limit {
				return nil, nil, nil, nil, http.StatusRequestEntityTooLarge, part.FormName() + " too large"
			}
			switch part.FormName() {
			case "signature":
				if sig, err = decodeSig(b); err != nil {
					return nil, nil, nil, nil, http.StatusBadRequest, "signature: " + err.Error()
				}
			default:
				return nil, nil, nil, nil, http.StatusBadRequest, "unknown part " + part.FormName()
			}
		}
		if sig == nil {
			return nil, nil, nil, nil, http.StatusBadRequest, "a signature part is required"
		}
		return sig, doc, digests, head, 0, ""
	}
	return nil, nil, nil, nil, http.StatusUnsupportedMediaType, "Content-Type must be multipart/form-data or application/json"
}

// decodeSig accepts DER, PEM (CMS or PKCS7) or base64.
func decodeSig(b []byte) ([]byte, error) {
	if len(b) > 0 && b[0] == 0x30 {
		return b, nil // binary DER: its last bytes may well look like whitespace
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("empty")
	}
	if bytes.HasPrefix(b, []byte("-----BEGIN")) {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, errors.New("bad PEM")
		}
		return blk.Bytes, nil
	}
	s := strings.Join(strings.Fields(string(b)), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(s); err == nil {
			return d, nil
		}
	}
	return nil, errors.New("not DER, PEM or base64")
}
