import { CliError, problemError } from './errors.ts';

/**
 * The gateway a command talks to, and the credential it presents there (an API key or an OIDC
 * access token). Passed explicitly to every call: no module holds a current gateway or token.
 * Without a credential requests go out bare and the gateway answers 401, which the CLI explains.
 */
export interface Gateway {
  readonly url: string;
  readonly token: string | undefined;
}

/** A fetch that sends `Authorization: Bearer <token>` with every request (the token is never logged). */
export function authorizedFetch(gateway: Gateway, fetchImpl: typeof fetch = fetch): typeof fetch {
  const { token } = gateway;
  if (token === undefined) return fetchImpl;
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetchImpl(input, { ...init, headers });
  };
}

/** `path` (and the defined query parameters) under the gateway's base URL. */
export function apiUrl(baseUrl: string, path: string, query: Record<string, string | undefined> = {}): URL {
  let url: URL;
  try {
    url = new URL(path, baseUrl);
  } catch {
    throw new CliError(`--url ${baseUrl} is not a URL`);
  }
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/** One request; a gateway that cannot be reached is a CliError that says where the CLI looked. */
export async function fetchGateway(fetchImpl: typeof fetch, url: URL, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new CliError(`cannot reach the gateway at ${url.origin} (${why}); is it running? (--url)`);
  }
}

/** The answer's JSON body, or the gateway's refusal as an error (problem document kept: detail, code). */
export async function readJson<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    if (res.ok) throw new CliError(`the gateway answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) throw problemError(res.status, res.statusText, body);
  return body as T;
}

const jsonInit = (method: string, body: unknown): RequestInit => ({
  method,
  headers: {
    accept: 'application/json',
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

async function call<T>(gateway: Gateway, method: string, url: URL, body?: unknown): Promise<T> {
  return readJson<T>(await fetchGateway(authorizedFetch(gateway), url, jsonInit(method, body)));
}

/** JSON calls to the gateway's REST API, used by the operator commands. */
export function apiGet<T>(
  gateway: Gateway,
  path: string,
  query: Record<string, string | undefined> = {},
): Promise<T> {
  return call<T>(gateway, 'GET', apiUrl(gateway.url, path, query));
}

export function apiPost<T>(gateway: Gateway, path: string, body?: unknown): Promise<T> {
  return call<T>(gateway, 'POST', apiUrl(gateway.url, path), body);
}

export function apiDelete<T>(gateway: Gateway, path: string): Promise<T> {
  return call<T>(gateway, 'DELETE', apiUrl(gateway.url, path));
}
