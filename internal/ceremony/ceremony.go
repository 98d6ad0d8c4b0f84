// Package ceremony is the key ceremony: the root and issuing CA keys are
// made on a PKCS#11 token, in front of witnesses, and certified through
// the code the server uses on a first start (ca.LoadHierarchy); a
// transcript of what was made (token, object, algorithm, public-key and
// certificate fingerprints) is printed and kept in the data directory,
// ending in its own SHA-256 and a line for the witnesses. docs/hsm.md.
package ceremony

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yagona/yagona/ca"
	"github.com/yagona/yagona/internal/config"
	"github.com/yagona/yagona/pkg/kms"
)

// Ceremony is one run of `yagona ceremony`.
type Ceremony struct {
	Config     *config.Config
	Operator   string           // the full name of the operator running it
	ConfigPath string           // the configuration file, for the transcript; empty: the embedded default
	Now        func() time.Time // nil: time.Now

	lines []string
	out   io.Writer
}

// say adds a line to the transcript and prints it.
func (c *Ceremony) say(format string, args ...any) {
	l := fmt.Sprintf(format, args...)
	c.lines = append(c.lines, l)
	_, _ = fmt.Fprintln(c.out, l)
}

// ceremonyKey is one of the two keys the ceremony makes.
type ceremonyKey struct {
	name, uri, cert string
	u               kms.PKCS11URI
}

// Run performs the ceremony, printing the transcript to out, and returns
// the transcript's path (empty if it refused before starting). A
// certificate or key that exists already is an error wrapping
// fs.ErrExist: a ceremony never reuses either.
func (c *Ceremony) Run(out io.Writer) (string, error) {
	c.out = out
	if c.Now == nil {
		c.Now = time.Now
	}
	if strings.TrimSpace(c.Operator) == "" {
		return "", errors.New("ceremony: --operator must name the operator")
	}
	keys := []ceremonyKey{{name: "Root CA", uri: c.Config.Keys.Root, cert: "root.pem"}, {name: "Issuing CA", uri: c.Config.Keys.Issuing, cert: "issuing.pem"}}
	for i, k := range keys {
		u, err := kms.ParseURI(k.uri)
		if err != nil {
			return "", fmt.Errorf("ceremony: %s key: %w", k.name, err)
		}
		if u.Scheme != "pkcs11" || u.PKCS11.Object == "" {
			return "", fmt.Errorf("ceremony: the %s key must be on a PKCS#11 token (keys.root and keys.issuing: pkcs11:...;object=LABEL?...)", k.name)
		}
		keys[i].u = u.PKCS11
		if _, err := os.Stat(c.Config.DataPath(filepath.Join("certs", k.cert))); err == nil {
			return "", fmt.Errorf("ceremony: certs/%s exists in %s: the hierarchy was made already: %w", k.cert, c.Config.DataDir, fs.ErrExist)
		}
	}
	if r, i := keys[0].u, keys[1].u; r.ModulePath == i.ModulePath && r.Token == i.Token && r.Serial == i.Serial &&
		(r.Object == i.Object || string(r.KeyID()) == string(i.KeyID())) {
		return "", errors.New("ceremony: keys.root and keys.issuing name the same key; give them different object labels")
	}
	tokens := &kms.Tokens{}
	defer tokens.Close()
	ks := kms.KeyStore{Options: kms.Options{BaseDir: c.Config.DataDir, Tokens: tokens}}
	infos := make([]kms.TokenInfo, len(keys))
	for i, k := range keys {
		ok, err := ks.Exists(k.uri)
		if err != nil {
			return "", fmt.Errorf("ceremony: %s key: %w", k.name, err)
		}
		if ok {
			return "", fmt.Errorf("ceremony: the %s key (object %q) exists on the token; a ceremony never reuses a key: %w", k.name, k.u.Object, fs.ErrExist)
		}
		if infos[i], err = tokens.Info(k.uri, ks.Options); err != nil {
			return "", err
		}
	}
	start := c.Now().UTC()
	c.header(start)
	h, err := c.makeHierarchy(ks)
	if err != nil {
		c.say("")
		c.say("FAILED:       %v", err)
		path, werr := c.write(start)
		return path, errors.Join(err, werr)
	}
	for i, k := range keys {
		cert := h.Root
		if i == 1 {
			cert = h.Issuing
		}
		c.key(k, infos[i], cert)
	}
	c.say("Check:        issuing CA certificate verifies under the root CA certificate")
	c.footer()
	return c.write(start)
}

func (c *Ceremony) header(start time.Time) {
	host, err := os.Hostname()
	if err != nil {
		host = "(unknown: " + err.Error() + ")"
	}
	c.say("YAGONA KEY CEREMONY TRANSCRIPT")
	c.say("")
	c.say("Time (UTC):   %s", start.Format(time.RFC3339))
	c.say("Operator:     %s", c.Operator)
	c.say("Host:         %s", host)
	c.say("Config:       %s", orDefault(c.ConfigPath))
	c.say("Data dir:     %s", c.Config.DataDir)
	c.say("Organization: %s", c.Config.CA.Organization)
}

// makeHierarchy creates both keys and certificates through the code path
// serve takes on a first start.
func (c *Ceremony) makeHierarchy(ks kms.KeyStore) (*ca.Hierarchy, error) {
	linter, err := ca.NewLinter(c.Config.CA.LintExclude)
	if err != nil {
		return nil, err
	}
	h, err := ca.LoadHierarchy(c.Config.Hierarchy(ks, linter, slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	if !h.Created {
		return nil, errors.New("ceremony: the hierarchy already existed")
	}
	if err := h.Issuing.CheckSignatureFrom(h.Root); err != nil {
		return nil, fmt.Errorf("ceremony: issuing CA certificate: %w", err)
	}
	return h, nil
}

func (c *Ceremony) key(k ceremonyKey, info kms.TokenInfo, cert *x509.Certificate) {
	alg, _ := kms.AlgorithmOf(cert.PublicKey)
	spki := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	fp := sha256.Sum256(cert.Raw)
	c.say("")
	c.say("%s key", k.name)
	c.say("  Module:         %s", info.Module)
	c.say("  Token label:    %s", info.Label)
	c.say("  Token serial:   %s", info.Serial)
	c.say("  Token model:    %s, %s", info.Model, info.Manufacturer)
	c.say("  Object label:   %s", k.u.Object)
	c.say("  Object ID:      %x", k.u.KeyID())
	c.say("  Algorithm:      %s", alg)
	c.say("  Public key SHA-256 (SubjectPublicKeyInfo): %s", colonHex(spki[:]))
	c.say("%s certificate (certs/%s)", k.name, k.cert)
	c.say("  Subject:        %s", cert.Subject)
	c.say("  Issuer:         %s", cert.Issuer)
	c.say("  Serial:         %x", cert.SerialNumber)
	c.say("  Not before:     %s", cert.NotBefore.UTC().Format(time.RFC3339))
	c.say("  Not after:      %s", cert.NotAfter.UTC().Format(time.RFC3339))
	c.say("  SHA-256:        %s", colonHex(fp[:]))
}

func (c *Ceremony) footer() {
	c.say("")
	c.say("Finished (UTC): %s", c.Now().UTC().Format(time.RFC3339))
	sum := sha256.Sum256([]byte(strings.Join(c.lines, "\n") + "\n"))
	c.say("Transcript SHA-256 (every line above): %x", sum)
	c.say("")
	c.say("Witnessed by (name, signature, date): ________________________________________")
}

// write stores the transcript under ceremony/ in the data directory,
// never over an earlier one.
func (c *Ceremony) write(start time.Time) (string, error) {
	dir := c.Config.DataPath("ceremony")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("ceremony: transcript: %w", err)
	}
	path := filepath.Join(dir, "transcript-"+start.Format("20060102T150405Z")+".txt")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("ceremony: transcript: %w", err)
	}
	if _, err := io.WriteString(f, strings.Join(c.lines, "\n")+"\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("ceremony: transcript: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("ceremony: transcript: %w", err)
	}
	return path, nil
}

func orDefault(path string) string {
	if path == "" {
		return "(embedded default)"
	}
	return path
}

// colonHex writes b as OpenSSL prints fingerprints: AB:CD:...
func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}
