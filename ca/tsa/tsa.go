// Package tsa is Yagona's time-stamping authority: RFC 3161 over HTTP
// (POST application/timestamp-query, answer application/timestamp-reply),
// with tokens that `openssl ts -verify` accepts.
//
// A token carries the configured policy OID, an accuracy, the request's
// nonce echoed, a random 160-bit serial number (unique with overwhelming
// probability, across replicas, without coordination), the TSA name, and
// in the SignedData the signing-certificate-v2 attribute (ESSCertIDv2,
// RFC 5816). The TSA certificate is issued by our CA with the one
// extended key usage timeStamping, critical (RFC 3161 §2.3); it is
// included, with its issuing CA (Config.Issuers), when the request asks
// for it (certReq).
//
// Refusals are TSP answers, not HTTP errors: a malformed request gets
// rejection/badDataFormat, a hash other than SHA-256/384/512 (or a digest
// of the wrong length) badAlg, another policy unacceptedPolicy, any
// extension unacceptedExtension. Only a method other than POST (405), a
// wrong Content-Type (415) and a body over the limit (413) are refused at
// the HTTP level. Signing uses github.com/digitorus/timestamp.
package tsa

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/yagona/yagona/pkg/trust"
)

// Config configures a TSA.
type Config struct {
	Cert *x509.Certificate // TSA certificate (critical EKU timeStamping)
	// Issuers is the TSA certificate's issuing chain without the root
	// (the issuing CA first): sent with the certificate on certReq, so a
	// verifier that trusts only the root can build the path.
	Issuers  []*x509.Certificate
	Signer   crypto.Signer
	Policy   asn1.ObjectIdentifier
	Accuracy time.Duration    // zero: 1 s
	Now      func() time.Time // nil: time.Now
	Logger   *slog.Logger
	MaxBody  int64 // zero: 8 KiB
	// Registerer, if set, gets yagona_tsa_responses_total{status}.
	Registerer prometheus.Registerer
}

type signer struct {
	cert    *x509.Certificate
	issuers []*x509.Certificate
	key     crypto.Signer
}

// TSA answers time-stamp requests. It is an http.Handler.
type TSA struct {
	cfg     Config
	sig     atomic.Pointer[signer]
	counter *prometheus.CounterVec
}

var oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}

// New checks the certificate and returns the TSA.
func New(cfg Config) (*TSA, error) {
	if cfg.Cert == nil || cfg.Signer == nil || len(cfg.Policy) == 0 {
		return nil, errors.New("tsa: certificate, signer and policy are required")
	}
	if cfg.Accuracy == 0 {
		cfg.Accuracy = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 8 << 10
	}
	t := &TSA{cfg: cfg, counter: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yagona_tsa_responses_total",
		Help: "Time-stamp answers by status: granted, rejected."}, []string{"status"})}
	if err := t.SetSigner(cfg.Cert, cfg.Signer); err != nil {
		return nil, err
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(t.counter); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// SetSigner replaces the TSA certificate and key (renewal while running).
func (t *TSA) SetSigner(cert *x509.Certificate, key crypto.Signer) error {
	if err := checkCert(cert, key); err != nil {
		return err
	}
	t.sig.Store(&signer{cert: cert, issuers: t.cfg.Issuers, key: key})
	return nil
}

func checkCert(cert *x509.Certificate, key crypto.Signer) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return errors.New("tsa: the key does not match the certificate")
	}
	critical := false
	for _, e := range cert.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			critical = e.Critical
		}
	}
	// The time-stamping purpose (pkg/trust) is what validators check: the
	// one extended key usage timeStamping; RFC 3161 §2.3 also makes it
	// critical.
	if err := trust.Timestamp.Check(cert); err != nil || !critical {
		return errors.New("tsa: the certificate needs exactly the extended key usage timeStamping, critical")
	}
	return nil
}

// Respond answers a DER TimeStampReq with a DER TimeStampResp.
func (t *TSA) Respond(reqDER []byte) ([]byte, error) { return t.respond(context.Background(), reqDER) }

// respond is Respond logging with the request's context.
func (t *TSA) respond(ctx context.Context, reqDER []byte) ([]byte, error) {
	req, err := timestamp.ParseRequest(reqDER)
	if err != nil {
		return t.reject(timestamp.BadDataFormat)
	}
	switch req.HashAlgorithm {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return t.reject(timestamp.BadAlgorithm)
	}
	if len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return t.reject(timestamp.BadDataFormat)
	}
	if len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(t.cfg.Policy) {
		return t.reject(timestamp.UnacceptedPolicy)
	}
	if len(req.Extensions) > 0 {
		return t.reject(timestamp.UnacceptedExtension)
	}
	if req.Nonce != nil && (req.Nonce.Sign() < 0 || req.Nonce.BitLen() > 512) {
		return t.reject(timestamp.BadDataFormat)
	}
	s := t.sig.Load()
	ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: t.cfg.Now().UTC(),
		Accuracy: t.cfg.Accuracy, Policy: t.cfg.Policy, Nonce: req.Nonce, AddTSACertificate: req.Certificates, Certificates: s.issuers}
	der, err := ts.CreateResponseWithOpts(s.cert, s.key, crypto.SHA256)
	if err != nil {
		t.cfg.Logger.ErrorContext(ctx, "time-stamp signing failed", "err", err)
		resp, _ := timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.SystemFailure)
		t.counter.WithLabelValues("failed").Inc()
		return resp, err
	}
	t.counter.WithLabelValues("granted").Inc()
	return der, nil
}

func (t *TSA) reject(fi timestamp.FailureInfo) ([]byte, error) {
	t.counter.WithLabelValues("rejected").Inc()
	return timestamp.CreateErrorResponse(timestamp.Rejection, fi)
}

// ServeHTTP answers POST application/timestamp-query.
func (t *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/timestamp-query" {
		http.Error(w, "Content-Type must be application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, t.cfg.MaxBody+1))
	if err != nil {
		http.Error(w, "cannot read the request", http.StatusBadRequest)
		return
	}
	if int64(len(body)) > t.cfg.MaxBody {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	resp, _ := t.respond(r.Context(), body)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Header().Set("Cache-Control", "no-store")
	// A token with the TSA's chain passes net/http's 2 KiB buffer: say its
	// length rather than answer chunked.
	w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
	_, _ = w.Write(resp)
}
