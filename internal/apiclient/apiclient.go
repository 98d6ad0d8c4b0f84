// Package apiclient is the command line's client of Yagona's own HTTP
// API: JSON calls as an operator or officer (bearer token) or as a
// certificate holder (TLS client authentication), signature validation
// by the server, raw fetches of public documents such as
// transparency-log proofs, and the certificate login a person runs from
// the terminal (login.go).
package apiclient

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Answer size limits.
const (
	maxJSON = 10 << 20
	maxRaw  = 16 << 20
)

// Options say how to reach the server and as whom.
type Options struct {
	Base  string         // https://host[:port]
	Roots *x509.CertPool // trust anchors of the server's TLS certificate
	// Certificate is the holder's TLS client certificate; nil: none.
	Certificate *tls.Certificate
	Token       string // bearer token (operator or access token); empty: none
}

// Client is an HTTPS client of the Yagona API.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// New returns a client with a 30-second timeout.
func New(o Options) *Client {
	tlsCfg := &tls.Config{RootCAs: o.Roots, MinVersion: tls.VersionTLS12}
	if o.Certificate != nil {
		tlsCfg.Certificates = []tls.Certificate{*o.Certificate}
	}
	return &Client{base: strings.TrimSuffix(o.Base, "/"), token: o.Token,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}}
}

// Error is an error answer of the API: a problem document, or an
// OAuth-style error of the provider's API.
type Error struct {
	Status  int
	Code    string `json:"error"`
	Message string `json:"message"`
	Detail  string `json:"detail"`            // RFC 9457 problem documents
	Desc    string `json:"error_description"` // OAuth-style errors of the provider's API
}

func (e *Error) Error() string {
	msg := cmp.Or(e.Message, e.Detail, e.Desc)
	return fmt.Sprintf("server: %s (%d): %s", e.Code, e.Status, msg)
}

// Do sends in (nil: no body) as JSON and decodes a JSON answer into out
// (nil: ignored). An answer of 300 or more is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return doJSON(c.http, req, out)
}

// doJSON sends req with hc and decodes a JSON answer into out (nil:
// ignored); an answer of 300 or more is an *Error.
func doJSON(hc *http.Client, req *http.Request, out any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code, e.Message = "http_error", strings.TrimSpace(string(data))
		}
		return e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Get fetches path and returns the body of a 200 answer.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	return c.raw(req)
}

// raw sends req and returns the body of a 200 answer; any other status
// is an error quoting the body.
func (c *Client) raw(req *http.Request) ([]byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRaw))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server: %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return body, nil
}
