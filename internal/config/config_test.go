package config

import (
	"strings"
	"testing"

	"github.com/yagona/yagona/configs"
)

// TestConfigs loads every shipped configuration file.
func TestConfigs(t *testing.T) {
	entries, err := configs.Files.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "validation-policy.yaml":
			continue // a validation policy, not a server configuration (pkg/validation tests it)
		case "prometheus-alerts.yaml":
			continue // alerting rules (TestObservability checks them)
		}
		data, err := configs.Files.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := Parse(data)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		ps, err := cfg.CAProfiles()
		if err != nil || len(ps) != 5 {
			t.Errorf("%s: %d profiles, %v", e.Name(), len(ps), err)
		}
	}
}

// TestConfigErrors: unknown keys are errors, and validation reports every
// problem at once.
func TestConfigErrors(t *testing.T) {
	if _, err := Parse([]byte("data_dir: x\nlisten_typo: 1\n")); err == nil || !strings.Contains(err.Error(), "listen_typo") {
		t.Fatalf("unknown key: %v", err)
	}
	dev, _ := configs.Files.ReadFile(configs.Default)
	bad := strings.NewReplacer("https: 127.0.0.1:8443", "https: nonsense", "cache: memory", "cache: memcached",
		"policy: 2.999.860.1.1", "policy: not-an-oid", "[clientAuth, emailProtection]", "[clientAuth, telepathy]",
		"crl_shard_width: 24h", "crl_shard_width: 5m", "tls_cert_validity: 4752h", "tls_cert_validity: 8760h").Replace(string(dev)) + "jobs:\n  lease: 1s\n"
	_, err := Parse([]byte(bad))
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"listen.https", "cache", "profiles.citizen.policy", "telepathy", "crl_shard_width", "jobs.lease", "tls_cert_validity"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

// TestConfigKeyURIs: key URIs are parsed when the configuration is, a PIN
// in one is not echoed, and the Ed25519 log key cannot go on a token.
func TestConfigKeyURIs(t *testing.T) {
	dev, _ := configs.Files.ReadFile(configs.Default)
	bad := strings.NewReplacer(
		"log: file:keys/log.key", "log: pkcs11:token=t;object=log?module-path=/m.so&pin-source=/p",
		"tsa: file:keys/tsa.key", "tsa: pkcs11:token=t?module-path=/m.so&pin-source=/p",
		"ocsp: file:keys/ocsp.key", "ocsp: pkcs11:token=t;object=o?module-path=/m.so&pin-value=9876",
		"tls: file:keys/tls.key", "tls: file:keys/tls.key\n  token: pkcs11:token=t;object=x?module-path=/m.so&pin-source=/p",
		"root: file:keys/root.key", "root: keys/root.key",
	).Replace(string(dev))
	_, err := Parse([]byte(bad))
	if err == nil {
		t.Fatal("bad key URIs accepted")
	}
	for _, want := range []string{"keys.log", "keys.tsa", "keys.ocsp: kms: pkcs11 key URI must not carry pin-value", "keys.token", "keys.root"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "9876") {
		t.Errorf("error reveals the PIN: %v", err)
	}
}

// FuzzParseConfig: the configuration parser never panics.
func FuzzParseConfig(f *testing.F) {
	entries, _ := configs.Files.ReadDir(".")
	for _, e := range entries {
		b, _ := configs.Files.ReadFile(e.Name())
		f.Add(b)
	}
	f.Add([]byte("profiles: {x: {policy: 1.2, validity: 1h}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Parse(data)
	})
}
