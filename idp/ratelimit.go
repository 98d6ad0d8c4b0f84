package idp

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Failed logins and failed client authentications are counted per source
// address and per client, in one-minute windows; past
// Config.FailuresPerMinute the login steps and the client's endpoints
// refuse at once.

// limited reports whether the source (and the client, if given) has used
// up its failures this minute.
func (p *Provider) limited(ctx context.Context, r *http.Request, clientID string) bool {
	keys := []string{"fail:ip:" + p.source(r)}
	if clientID != "" {
		keys = append(keys, "fail:client:"+clientID)
	}
	for _, k := range keys {
		b, err := p.cache.Get(ctx, k)
		if err != nil {
			continue
		}
		if n, err := strconv.Atoi(string(b)); err == nil && n >= p.cfg.FailuresPerMinute {
			return true
		}
	}
	return false
}

// fail counts a failure against the source and client.
func (p *Provider) fail(ctx context.Context, r *http.Request, clientID string) {
	_, _ = p.cache.Incr(ctx, "fail:ip:"+p.source(r), time.Minute)
	if clientID != "" {
		_, _ = p.cache.Incr(ctx, "fail:client:"+clientID, time.Minute)
	}
}

// loginClient is the client of a pending login request, for counting
// failures against it ("" if unknown).
func (p *Provider) loginClient(ctx context.Context, id string) string {
	if len(id) != 43 {
		return ""
	}
	var lr loginRequest
	if found, err := p.getJSON(ctx, hashKey("lr:", id), &lr); err != nil || !found {
		return ""
	}
	return lr.Auth.ClientID
}

func (p *Provider) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, pr := range p.cfg.TrustedProxies {
		if pr.Contains(addr) {
			return true
		}
	}
	return false
}

// source is the client's address: the peer, or the last address a trusted
// proxy appended to X-Forwarded-For.
func (p *Provider) source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if p.fromTrustedProxy(r) {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return a.String()
			}
		}
	}
	return host
}
