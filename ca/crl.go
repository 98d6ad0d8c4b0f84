package ca

import (
	"context"
	"errors"
	"math/big"
	"time"

	"crypto/x509"

	"github.com/yagona/yagona/pkg/store"
)

// IssueCRL signs and stores a new full CRL for the issuing CA (RFC 5280
// §5). The CRL number is taken before the revoked list is read, so a CRL
// with a higher number never misses a change that a lower one has; the store
// keeps only the highest number, across processes.
func (a *Authority) IssueCRL(ctx context.Context) (store.CRL, error) {
	a.crlMu.Lock()
	defer a.crlMu.Unlock()
	iss := a.cfg.Issuer
	num, err := a.st.NextCRLNumber(ctx, iss.Name)
	if err != nil {
		return store.CRL{}, storeErr(err, "crl number")
	}
	now := a.now().Truncate(time.Second)
	revoked, err := a.st.RevokedCertificates(ctx, iss.Name, now)
	if err != nil {
		return store.CRL{}, storeErr(err, "revoked certificates")
	}
	entries := make([]x509.RevocationListEntry, 0, len(revoked))
	for _, r := range revoked {
		n, ok := new(big.Int).SetString(r.Serial, 16)
		if !ok {
			return store.CRL{}, internal("bad serial in store", errors.New(r.Serial))
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: r.RevokedAt.UTC(), ReasonCode: r.Reason})
	}
	c := store.CRL{Issuer: iss.Name, Number: num, ThisUpdate: now, NextUpdate: now.Add(a.cfg.CRLValidity)}
	c.DER, err = iss.SignCRL(&x509.RevocationList{
		Number:                    big.NewInt(num),
		ThisUpdate:                c.ThisUpdate,
		NextUpdate:                c.NextUpdate,
		RevokedCertificateEntries: entries,
	})
	if err != nil {
		a.log.ErrorContext(ctx, "crl refused", "err", err)
		return store.CRL{}, internal("sign crl", err)
	}
	if err := a.st.SaveCRL(ctx, c); err != nil && !errors.Is(err, store.ErrConflict) {
		return store.CRL{}, storeErr(err, "crl")
	} else if err == nil {
		a.m.crl(c)
	}
	a.log.InfoContext(ctx, "crl issued", "issuer", iss.Name, "number", num, "entries", len(entries))
	return c, nil
}

// CRL returns the latest CRL, issuing one if none exists yet.
func (a *Authority) CRL(ctx context.Context) (store.CRL, error) {
	c, err := a.st.LatestCRL(ctx, a.cfg.Issuer.Name)
	if errors.Is(err, store.ErrNotFound) {
		return a.IssueCRL(ctx)
	}
	if err != nil {
		return c, storeErr(err, "crl")
	}
	a.m.crl(c)
	return c, nil
}

// RunCRLUpdater reissues the CRL whenever the latest one is past half its
// validity, checking every interval, until ctx ends.
func (a *Authority) RunCRLUpdater(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		a.refreshCRL(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RefreshCRL issues a CRL if the latest is half way to its nextUpdate or
// a status changed in this process since; one step of RunCRLUpdater, for a
// job leader to call.
func (a *Authority) RefreshCRL(ctx context.Context) { a.refreshCRL(ctx) }

func (a *Authority) refreshCRL(ctx context.Context) {
	c, err := a.st.LatestCRL(ctx, a.cfg.Issuer.Name)
	if err == nil {
		a.m.crl(c)
	}
	if err == nil && !a.crlDirty.Load() && a.now().Before(c.ThisUpdate.Add(c.NextUpdate.Sub(c.ThisUpdate)/2)) {
		return
	}
	dirty := a.crlDirty.Swap(false)
	if _, err := a.IssueCRL(ctx); err != nil {
		a.crlDirty.Store(dirty)
		a.log.ErrorContext(ctx, "periodic crl issuance failed", "err", err)
	}
}
