/**
 * Who is signed in: a bearer credential (an API key, or an access token of the OpenID provider),
 * kept in this tab's sessionStorage only — closing the tab signs out, and nothing is written to a
 * cookie a cross-site request could carry.
 */
const KEY = 'switchyard.console.credential';
const PKCE = 'switchyard.console.pkce';

export interface ConsoleConfig {
  version: string;
  oidc: { issuer: string; clientId: string; scopes: string; resource?: string } | null;
}

export const storedCredential = (): string | null => sessionStorage.getItem(KEY);
export const storeCredential = (credential: string) => sessionStorage.setItem(KEY, credential);
export const forgetCredential = () => sessionStorage.removeItem(KEY);

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch('/console/config.json');
  if (!res.ok) throw new Error(`the console's settings could not be read (${res.status})`);
  return (await res.json()) as ConsoleConfig;
}

const base64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`the OpenID provider's discovery failed (${res.status})`);
  return (await res.json()) as Discovery;
}

const redirectUri = () => `${location.origin}/console/`;

/** Authorization code with PKCE (S256): to the provider, which sends the browser back with a code. */
export async function startOidcSignIn(oidc: NonNullable<ConsoleConfig['oidc']>): Promise<void> {
  const { authorization_endpoint } = await discover(oidc.issuer);
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state }));
  const url = new URL(authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: oidc.clientId,
    redirect_uri: redirectUri(),
    scope: oidc.scopes,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(oidc.resource && { resource: oidc.resource }),
  }).toString();
  location.assign(url.toString());
}

/**
 * Back from the provider (`?code=…&state=…`): the state must be the one this tab sent; the code is
 * exchanged for an access token with the verifier. The query is removed from the address bar.
 */
export async function finishOidcSignIn(oidc: NonNullable<ConsoleConfig['oidc']>): Promise<string | null> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return null;
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  const saved = sessionStorage.getItem(PKCE);
  sessionStorage.removeItem(PKCE);
  if (error) throw new Error(`the OpenID provider refused the sign-in: ${error}`);
  const { verifier, state } = saved ? (JSON.parse(saved) as { verifier: string; state: string }) : {};
  if (!verifier || params.get('state') !== state)
    throw new Error('the sign-in answer does not match this tab');
  const { token_endpoint } = await discover(oidc.issuer);
  const res = await fetch(token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: redirectUri(),
      client_id: oidc.clientId,
      code_verifier: verifier,
      ...(oidc.resource && { resource: oidc.resource }),
    }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!res.ok || !body.access_token)
    throw new Error(`the token exchange failed: ${body.error ?? res.status}`);
  return body.access_token;
}
