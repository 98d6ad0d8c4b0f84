package idp

import (
	"context"
	"errors"
	"testing"
)

// TestRegisterClientExists: a taken client id is ErrClientExists (and
// ErrClient), which `yagona serve` relies on when two replicas register
// the CLI client at once.
func TestRegisterClientExists(t *testing.T) {
	e := newEnv(t, backends(t)[0])
	e.client("dup", nil)
	_, err := e.p.RegisterClient(context.Background(), ClientInput{ID: "dup", Name: "again", RedirectURIs: []string{"https://rp.example/cb"},
		Scopes: []string{"openid"}, GrantTypes: []string{GrantCode}}, "test")
	if !errors.Is(err, ErrClientExists) || !errors.Is(err, ErrClient) {
		t.Fatalf("RegisterClient = %v; want ErrClientExists and ErrClient", err)
	}
	if err.Error() != `invalid client metadata: client "dup" exists` {
		t.Errorf("message %q changed", err)
	}
}
