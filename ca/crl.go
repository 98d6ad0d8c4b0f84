package ca

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/yagona/yagona/ca/responder"
	"github.com/yagona/yagona/pkg/store"
)

// CRL sharding (docs/ca.md): with Config.CRLShardWidth set, a certificate
// whose NotAfter falls in the n-th window of that width since the Unix
// epoch belongs to shard n. Two CRLs cover it, and its CRL distribution
// points extension names both, the full one first:
//
//   - the full CRL at URLs.CRL (stored as shard 0): every revoked
//     certificate of the issuer that has not expired, with no
//     issuingDistributionPoint, which every validator applies with its
//     default settings (NSS's libpkix ignores a CRL with a critical
//     issuingDistributionPoint and then passes a revoked certificate);
//   - the shard's CRL at <URLs.CRL without .crl>-n.crl, which lists only
//     the revoked certificates of shard n and says so in a critical
//     issuingDistributionPoint (RFC 5280 §5.2.5) naming the same URL. A
//     shard holds the certificates expiring in one window, so its size
//     follows the issuance rate, not the number of certificates in service;
//     once its window is over every certificate in it has expired and the
//     shard is no longer reissued.
//
// Certificates issued with sharding off are shard 0: the full CRL.

var oidIssuingDistributionPoint = []int{2, 5, 29, 28}

// crlShard is the shard of a certificate expiring at notAfter.
func (a *Authority) crlShard(notAfter time.Time) int64 {
	w := int64(a.cfg.CRLShardWidth / time.Second)
	if w <= 0 {
		return 0
	}
	return notAfter.Unix() / w
}

// CRLURL is where the CRL of shard is published.
func (a *Authority) CRLURL(shard int64) string {
	if shard == 0 {
		return a.cfg.URLs.CRL
	}
	return strings.TrimSuffix(a.cfg.URLs.CRL, ".crl") + "-" + strconv.FormatInt(shard, 10) + ".crl"
}

// leafTemplate is the package's leafTemplate with the distribution point
// of the certificate's CRL shard, which it returns too.
func (a *Authority) leafTemplate(prof Profile, subj []byte, pub any, now time.Time) (*x509.Certificate, int64, error) {
	tmpl, err := leafTemplate(prof, subj, pub, a.cfg.Issuer.Cert, a.cfg.URLs, now)
	if err != nil {
		return nil, 0, err
	}
	shard := a.crlShard(tmpl.NotAfter)
	if a.cfg.URLs.CRL != "" {
		tmpl.CRLDistributionPoints = []string{a.CRLURL(0)}
		if shard != 0 {
			tmpl.CRLDistributionPoints = append(tmpl.CRLDistributionPoints, a.CRLURL(shard))
		}
	}
	return tmpl, shard, nil
}

// shardLive reports whether shard may still hold a certificate that has
// not expired (or expired within one CRL validity, so the last CRL covers
// the end of its window), and so is issued and reissued.
func (a *Authority) shardLive(shard int64) bool {
	if shard == 0 || a.cfg.CRLShardWidth <= 0 {
		return shard == 0
	}
	end := time.Unix(0, 0).Add(time.Duration(shard+1) * a.cfg.CRLShardWidth)
	return a.now().Before(end.Add(a.cfg.CRLValidity)) && shard <= a.crlShard(a.cfg.Issuer.Cert.NotAfter)
}

// issuingDistributionPoint encodes the extension naming url as the CRL's
// only distribution point:
//
//	IssuingDistributionPoint ::= SEQUENCE {
//	    distributionPoint [0] DistributionPointName OPTIONAL, ... }
//	DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
//	GeneralName ::= CHOICE { ..., uniformResourceIdentifier [6] IA5String, ... }
func issuingDistributionPoint(url string) (pkix.Extension, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(url)) })
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: oidIssuingDistributionPoint, Critical: true, Value: der}, nil
}

// IssueCRL signs and stores a new CRL for one shard of the issuing CA
// (RFC 5280 §5); shard 0 is the full CRL. The CRL number is taken before the revoked list is read,
// so a CRL with a higher number never misses a change that a lower one
// has; the store keeps only the highest number per shard, across
// processes. Numbers are shared by all shards, so they grow in each.
func (a *Authority) IssueCRL(ctx context.Context, shard int64) (store.CRL, error) {
	a.crlMu.Lock()
	defer a.crlMu.Unlock()
	iss := a.cfg.Issuer
	num, err := a.st.NextCRLNumber(ctx, iss.Name)
	if err != nil {
		return store.CRL{}, storeErr(err, "crl number")
	}
	now := a.now().Truncate(time.Second)
	list := shard
	if shard == 0 {
		list = store.AllShards // the full CRL
	}
	revoked, err := a.st.RevokedCertificates(ctx, iss.Name, list, now)
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
	c := store.CRL{Issuer: iss.Name, Shard: shard, Number: num, ThisUpdate: now, NextUpdate: now.Add(a.cfg.CRLValidity)}
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(num),
		ThisUpdate:                c.ThisUpdate,
		NextUpdate:                c.NextUpdate,
		RevokedCertificateEntries: entries,
	}
	if shard != 0 && a.cfg.URLs.CRL != "" {
		// Partitioned: this CRL covers only the certificates naming it.
		idp, err := issuingDistributionPoint(a.CRLURL(shard))
		if err != nil {
			return store.CRL{}, internal("crl extension", err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{idp}
	}
	c.DER, err = iss.SignCRL(tmpl)
	if err != nil {
		a.log.ErrorContext(ctx, "crl refused", "err", err)
		return store.CRL{}, internal("sign crl", err)
	}
	if err := a.st.SaveCRL(ctx, c); err != nil && !errors.Is(err, store.ErrConflict) {
		return store.CRL{}, storeErr(err, "crl")
	}
	a.log.InfoContext(ctx, "crl issued", "issuer", iss.Name, "shard", shard, "number", num, "entries", len(entries))
	return c, nil
}

// CRL returns the latest CRL of shard, issuing one if none exists yet and
// the shard can hold live certificates; an unknown shard is NotFound.
func (a *Authority) CRL(ctx context.Context, shard int64) (store.CRL, error) {
	if shard < 0 {
		return store.CRL{}, newErr(KindNotFound, "not_found", "no such CRL", nil)
	}
	c, err := a.st.LatestCRL(ctx, a.cfg.Issuer.Name, shard)
	if errors.Is(err, store.ErrNotFound) {
		if !a.shardLive(shard) {
			return store.CRL{}, newErr(KindNotFound, "not_found", "no such CRL", nil)
		}
		return a.IssueCRL(ctx, shard)
	}
	if err != nil {
		return c, storeErr(err, "crl")
	}
	return c, nil
}

// RunCRLUpdater runs RefreshCRL every interval until ctx ends.
func (a *Authority) RunCRLUpdater(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		a.RefreshCRL(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RefreshCRL reissues, one shard at a time, each live shard whose latest
// CRL is half way to its nextUpdate or whose reissue after a status change
// failed in this process; shard 0 is issued if it has no CRL yet. One step
// of RunCRLUpdater, for a job leader to call.
func (a *Authority) RefreshCRL(ctx context.Context) {
	list, err := a.st.ListCRLs(ctx, a.cfg.Issuer.Name)
	if err != nil {
		a.log.ErrorContext(ctx, "crl refresh: list shards", "err", err)
		return
	}
	due := map[int64]bool{}
	latest := map[int64]store.CRL{}
	for _, c := range list {
		latest[c.Shard] = c
		if a.shardLive(c.Shard) && !a.now().Before(c.ThisUpdate.Add(c.NextUpdate.Sub(c.ThisUpdate)/2)) {
			due[c.Shard] = true
		}
	}
	if _, ok := latest[0]; !ok {
		due[0] = true
	}
	a.crlDirty.Range(func(k, _ any) bool {
		due[k.(int64)] = true
		return true
	})
	for shard := range due {
		if ctx.Err() != nil {
			return
		}
		a.crlDirty.Delete(shard)
		c, err := a.IssueCRL(ctx, shard)
		if err != nil {
			a.crlDirty.Store(shard, struct{}{})
			a.log.ErrorContext(ctx, "periodic crl issuance failed", "shard", shard, "err", err)
			continue
		}
		latest[shard] = c
	}
	a.recordStalestCRL(latest)
}

// recordStalestCRL sets the CRL metrics from the live shard whose CRL is
// closest to its nextUpdate: the one an alert must watch.
func (a *Authority) recordStalestCRL(latest map[int64]store.CRL) {
	var stalest *store.CRL
	for _, c := range latest {
		if a.shardLive(c.Shard) && (stalest == nil || c.NextUpdate.Before(stalest.NextUpdate)) {
			stalest = &c
		}
	}
	if stalest != nil {
		a.m.crl(*stalest)
	}
}

// SweepStatusChanges catches up on the status changes committed at or
// after since, by any replica: it calls OnStatusChange for each (the OCSP
// responder drops and re-broadcasts its cached answers) and reissues the
// CRL of every shard whose latest CRL is older than a change in it. It is
// the safety net for a replica that died, or lost Redis, between
// committing a change and publishing it. seen holds the changes the
// previous sweep handled (serial and time), which are skipped; it returns
// the changes handled now and the time to sweep from next.
func (a *Authority) SweepStatusChanges(ctx context.Context, since time.Time, seen map[string]time.Time) (map[string]time.Time, time.Time, error) {
	changes, err := a.st.StatusChanges(ctx, a.cfg.Issuer.Name, since, 10000)
	if err != nil {
		return seen, since, storeErr(err, "status changes")
	}
	next := since
	now := map[string]time.Time{}
	stale := map[int64]time.Time{}
	for _, c := range changes {
		now[c.Serial] = c.StatusChangedAt
		if c.StatusChangedAt.After(next) {
			next = c.StatusChangedAt
		}
		if at, ok := seen[c.Serial]; ok && at.Equal(c.StatusChangedAt) {
			continue
		}
		if n, err := ParseSerial(c.Serial); err == nil && a.cfg.OnStatusChange != nil {
			a.cfg.OnStatusChange(ctx, n)
		}
		for _, sh := range []int64{0, c.CRLShard} { // the full CRL and the shard's
			if c.StatusChangedAt.After(stale[sh]) {
				stale[sh] = c.StatusChangedAt
			}
		}
	}
	if len(stale) == 0 {
		return now, next, nil
	}
	// Their thisUpdates, without the CRLs themselves (a shard's DER can be
	// large).
	issued := map[int64]time.Time{}
	if list, err := a.st.ListCRLs(ctx, a.cfg.Issuer.Name); err == nil {
		for _, c := range list {
			issued[c.Shard] = c.ThisUpdate
		}
	}
	for shard, at := range stale {
		if tu, ok := issued[shard]; ok && !tu.Before(at.Truncate(time.Second)) {
			continue
		}
		if _, err := a.IssueCRL(ctx, shard); err != nil {
			a.crlDirty.Store(shard, struct{}{})
			a.log.ErrorContext(ctx, "crl reissue in status sweep failed", "shard", shard, "err", err)
		}
	}
	return now, next, nil
}

// PresignOCSP walks every certificate of the issuer that has not expired,
// a page at a time, and has p sign its OCSP answers ahead of demand (see
// responder.Presign). It returns how many answers were signed.
func (a *Authority) PresignOCSP(ctx context.Context, p interface {
	Presign(ctx context.Context, page func(context.Context) ([]responder.Entry, error)) (int, error)
}) (int, error) {
	const pageSize = 500
	after, total := "", 0
	for {
		var last string
		var n int
		signed, err := p.Presign(ctx, func(ctx context.Context) ([]responder.Entry, error) {
			cs, err := a.st.CertificateStatuses(ctx, a.cfg.Issuer.Name, after, pageSize, a.now())
			if err != nil {
				return nil, storeErr(err, "certificate statuses")
			}
			n = len(cs)
			out := make([]responder.Entry, 0, len(cs))
			for _, c := range cs {
				last = c.Serial
				serial, err := ParseSerial(c.Serial)
				if err != nil {
					continue
				}
				out = append(out, responder.Entry{Serial: serial, Status: ocspStatus(c)})
			}
			return out, nil
		})
		total += signed
		if err != nil {
			return total, err
		}
		if n < pageSize {
			return total, nil
		}
		after = last
	}
}
