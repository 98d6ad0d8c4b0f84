package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateCommand: `yagona migrate` applies the migrations once.
func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir() + "/not-yet"
	run := func() string {
		var out, errb strings.Builder
		cmd := newRootCmd(&out, &errb)
		cmd.SetArgs([]string{"migrate", "--json", "--data", dir})
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %s", err, errb.String())
		}
		return out.String()
	}
	if first := run(); !strings.Contains(first, "00001_initial.sql") {
		t.Fatalf("first run: %s", first)
	}
	if again := run(); strings.Contains(again, ".sql") {
		t.Fatalf("second run applied again: %s", again)
	}
}

// TestInitCommand: `yagona init` makes the hierarchy once; a second run
// reuses it.
func TestInitCommand(t *testing.T) {
	dir := t.TempDir()
	run := func() string {
		var out, errb strings.Builder
		cmd := newRootCmd(&out, &errb)
		cmd.SetArgs([]string{"init", "--json", "--data", dir})
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %s", err, errb.String())
		}
		return out.String()
	}
	if first := run(); !strings.Contains(first, `"created": true`) || !strings.Contains(first, "Yagona Development Root CA") {
		t.Fatalf("first init: %s", first)
	}
	if again := run(); !strings.Contains(again, `"created": false`) {
		t.Fatalf("second init: %s", again)
	}
	for _, f := range []string{"certs/root.pem", "certs/issuing.pem", "certs/ocsp.pem", "certs/tls.pem", "keys/root.key", "secrets/admin-token"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(f, "keys/") || strings.HasPrefix(f, "secrets/") {
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v", f, fi.Mode().Perm())
			}
		}
	}
}
