package idp

// CLIClientID is the public client `yagona login` uses (PKCE, no secret).
const CLIClientID = "yagona-cli"

// CLIRedirectURI is never served: `yagona login` reads the code from the
// redirect the provider answers with.
const CLIRedirectURI = "http://127.0.0.1/yagona-cli/callback"
