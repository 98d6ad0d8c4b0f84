package idp

import (
	"context"
	"errors"

	"github.com/yagona/yagona/pkg/store"
)

// CLIClientID is the public client `yagona login` uses (PKCE, no secret).
const CLIClientID = "yagona-cli"

// CLIRedirectURI is never served: `yagona login` reads the code from the
// redirect the provider answers with.
const CLIRedirectURI = "http://127.0.0.1/yagona-cli/callback"

// EnsureCLIClient registers the public client of `yagona login` unless it
// exists. Replicas may race: the loser finds it registered.
func (p *Provider) EnsureCLIClient(ctx context.Context) error {
	if _, err := p.st.GetClient(ctx, CLIClientID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	_, err := p.RegisterClient(ctx, ClientInput{ID: CLIClientID, Name: "Yagona CLI", RedirectURIs: []string{CLIRedirectURI},
		GrantTypes: []string{GrantCode}, AuthMethod: AuthNone,
		Scopes: []string{"openid", "pinfl", "ca:officer", "ca:admin", "clients:admin"}}, "system")
	if errors.Is(err, ErrClientExists) {
		return nil // another replica registered it first
	}
	return err
}
