package operator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yagona/yagona/internal/operator"
	"github.com/yagona/yagona/pkg/store"
)

func TestBootstrapAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "op.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	path := filepath.Join(dir, "secrets", "admin-token")
	created, err := operator.Bootstrap(ctx, st, path, time.Now())
	if err != nil || !created {
		t.Fatalf("bootstrap: %v %v", created, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", fi.Mode(), err)
	}
	if again, err := operator.Bootstrap(ctx, st, path, time.Now()); err != nil || again {
		t.Fatalf("second bootstrap: %v %v", again, err)
	}
	tok, err := operator.ReadToken(path)
	if err != nil {
		t.Fatal(err)
	}
	// Only the hash is stored.
	c, _ := st.GetCredential(ctx, "admin")
	if strings.Contains(tok, string(c.Hash)) || len(c.Hash) != 32 {
		t.Fatal("stored credential is not a 32-byte hash")
	}
	auth := operator.NewAuthenticator(st)
	if id, err := auth.Authenticate(ctx, tok); err != nil || id != "admin" {
		t.Fatalf("valid token: %q %v", id, err)
	}
	flipped := []byte(tok)
	flipped[len(flipped)-1] ^= 1
	for _, bad := range []string{"", "yop_", "yop_admin_", "Bearer " + tok, string(flipped), "yop_nobody_" + strings.Repeat("a", 43), strings.Repeat("x", 500)} {
		if _, err := auth.Authenticate(ctx, bad); !errors.Is(err, operator.ErrInvalid) {
			t.Errorf("token %.20q: %v", bad, err)
		}
	}
}

// TestGrant: a granted person has a role but no usable token; a person
// without a grant has no role; a second grant is refused.
func TestGrant(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "op.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const pinfl = "31204900012345"
	if err := operator.Grant(ctx, st, pinfl, "superuser", time.Now()); err == nil {
		t.Fatal("an unknown role was granted")
	}
	if err := operator.Grant(ctx, st, pinfl, "officer", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := operator.Grant(ctx, st, pinfl, "admin", time.Now()); err == nil {
		t.Fatal("a second grant was recorded")
	}
	auth := operator.NewAuthenticator(st)
	for _, tc := range []struct{ pinfl, want string }{{pinfl, "officer"}, {"41204900012345", ""}} {
		if role, err := auth.PersonRole(ctx, tc.pinfl); err != nil || role != tc.want {
			t.Errorf("role of %s: %q %v, want %q", tc.pinfl, role, err, tc.want)
		}
	}
	if _, err := auth.Authenticate(ctx, "yop_"+operator.PersonCredential(pinfl)+"_"+strings.Repeat("a", 43)); !errors.Is(err, operator.ErrInvalid) {
		t.Fatalf("a person credential authenticated: %v", err)
	}
}
