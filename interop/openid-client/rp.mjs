// A relying party on panva's openid-client: discovery, pushed authorization
// request and token calls with private_key_jwt, PKCE, ID token and iss
// checks, userinfo, refresh. The Go test (cmd/yagona/openid_client_test.go)
// runs it: this script prints the authorization URL, the test logs the
// person in and writes the callback URL to stdin, and the script prints
// what it verified as JSON. Then, as an OAuth-only client, it discovers
// the provider by RFC 8414 metadata (the oauth2 algorithm) and runs the
// client_credentials grant, introspection and revocation with a secret
// sent as client_secret_post.
//
// Environment: ISSUER, CLIENT_ID, KEY_FILE (PKCS#8 PEM, P-256), KID,
// REDIRECT_URI, SVC_CLIENT_ID, SVC_SECRET; NODE_EXTRA_CA_CERTS must name
// Yagona's root certificate.
import * as client from 'openid-client';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const env = (k) => {
  const v = process.env[k];
  if (!v) { throw new Error(`${k} is required`); }
  return v;
};

const pem = readFileSync(env('KEY_FILE'), 'utf8');
const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const key = await crypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);

const config = await client.discovery(new URL(env('ISSUER')), env('CLIENT_ID'), undefined,
  client.PrivateKeyJwt({ key, kid: env('KID') }));

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const url = await client.buildAuthorizationUrlWithPAR(config, {
  redirect_uri: env('REDIRECT_URI'),
  scope: 'openid profile pinfl',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});
process.stdout.write(url.href + '\n');

const rl = createInterface({ input: process.stdin });
const callback = await new Promise((resolve) => rl.once('line', resolve));
rl.close();

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);

const oauth = await client.discovery(new URL(env('ISSUER')), env('SVC_CLIENT_ID'), undefined,
  client.ClientSecretPost(env('SVC_SECRET')), { algorithm: 'oauth2' });
const cc = await client.clientCredentialsGrant(oauth, { scope: 'decisions' });
const active = await client.tokenIntrospection(oauth, cc.access_token);
await client.tokenRevocation(oauth, cc.access_token);
const revoked = await client.tokenIntrospection(oauth, cc.access_token);

process.stdout.write(JSON.stringify({
  sub: claims.sub,
  pinfl: claims.pinfl,
  acr: claims.acr,
  userinfo_pinfl: info.pinfl,
  refreshed: Boolean(refreshed.access_token) && refreshed.refresh_token !== tokens.refresh_token,
  oauth2_issuer: oauth.serverMetadata().issuer,
  cc_scope: cc.scope,
  cc_active: active.active === true && active.client_id === env('SVC_CLIENT_ID'),
  cc_revoked: revoked.active === false,
}) + '\n');
