import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
// @ts-expect-error oidc-provider ships no type declarations; the few members used are typed below.
import { errors, Provider } from 'oidc-provider';

/** The MCP scopes every resource server of the fixture grants when asked. */
export const MCP_SCOPES = ['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'] as const;

export interface OidcProviderOptions {
  /** Clients registered up front; any other clientId passed to `token()` is registered on first use. */
  clients?: string[];
  /** Lifetime of tokens whose request names no `ttlSeconds`. Default 300. */
  defaultTtlSeconds?: number;
  /**
   * Public clients (a browser app: authorization code with PKCE, no secret), by client id → their
   * redirect URIs. Their origins may call the token endpoint from a page (CORS). With any of them the
   * provider serves its built-in login and consent pages, where any password is accepted.
   */
  publicClients?: Record<string, string[]>;
  /** Who can sign in on the login page: login → claims added to their access tokens (e.g. email, groups). */
  users?: Record<string, Record<string, unknown>>;
  /**
   * The resource indicators it knows, as a real provider knows the APIs registered with it; any other
   * is refused (`invalid_target`). Default: every resource indicator is a resource server of its own.
   */
  resourceServers?: string[];
}

export interface TokenRequest {
  /** RFC 8707 resource indicator; becomes the token's `aud`. */
  resource: string;
  /** Space-separated scopes; all of them are granted. Without it the token has no `scope` claim. */
  scope?: string;
  /** The client asking; its id is the token's `sub` and `client_id`. Default `test-client`. */
  clientId?: string;
  /** Claims added to the payload (e.g. email, groups, tenant). Registered claims (iss, sub, aud, exp, iat, jti, scope, client_id) win over these. */
  claims?: Record<string, unknown>;
  /** Whole seconds, at least 1. */
  ttlSeconds?: number;
}

export interface OidcProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash; discovery is at `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** The `kid` that signs tokens issued now. */
  readonly signingKid: string;
  /** A JWT access token (RFC 9068, typ `at+jwt`, RS256) from the token endpoint's client_credentials grant. */
  token(request: TokenRequest): Promise<string>;
  /**
   * Signs from now on with a new RSA key whose `kid` no verifier has seen. The old public keys stay in
   * the JWKS (as real providers publish both during a rollover), so tokens issued before still verify;
   * `{ retireOld: true }` drops them from the JWKS instead.
   */
  rotateKeys(options?: { retireOld?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** The part of oidc-provider's Provider this fixture touches. */
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

interface ClientMetadata {
  client_id: string;
  client_secret?: string;
  grant_types: string[];
  response_types: string[];
  redirect_uris: string[];
  token_endpoint_auth_method: string;
}

interface SigningKey {
  kid: string;
  privateJwk: JWK;
}

const DEFAULT_CLIENT = 'test-client';

/**
 * Starts a real oidc-provider (v9) on 127.0.0.1 with a free port, over plain http. It issues JWT access
 * tokens through its token endpoint (client_credentials grant with an RFC 8707 `resource`, or a
 * public client's authorization code once a user signed in), one resource server per resource
 * indicator, audience = the resource. Nothing leaves loopback.
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProvider> {
  const defaultTtl = options.defaultTtlSeconds ?? 300;
  const clients = new Map<string, ClientMetadata>();
  const register = (clientId: string): ClientMetadata => {
    let client = clients.get(clientId);
    if (!client) {
      client = {
        client_id: clientId,
        client_secret: randomBytes(24).toString('base64url'),
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      };
      clients.set(clientId, client);
    }
    return client;
  };
  for (const clientId of options.clients ?? [DEFAULT_CLIENT]) register(clientId);
  const publicClients = Object.entries(options.publicClients ?? {});
  for (const [clientId, redirectUris] of publicClients) {
    clients.set(clientId, {
      client_id: clientId,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      token_endpoint_auth_method: 'none',
    });
  }
  const users = options.users ?? {};

  // The token endpoint takes no custom parameters, so claims, scope and lifetime of the request in flight
  // wait here for the provider's hooks to pick up; `token()` calls run one at a time to keep that sound.
  let pending: (TokenRequest & { clientId: string }) | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A Provider's keystore is fixed when it is built, so a rotation builds a new Provider on the same
  // issuer and port and swaps the request handler; clients live outside it, in `clients`.
  let keys: SigningKey[] = [await newSigningKey()];
  const build = () => {
    const signingKid = keys[0]!.kid;
    const provider = new (Provider as ProviderConstructor)(issuer, {
      adapter: adapterFor(clients),
      jwks: { keys: keys.map((k) => k.privateJwk) },
      clientDefaults: { id_token_signed_response_alg: 'RS256' },
      findAccount: (_ctx: unknown, sub: string) =>
        Object.hasOwn(users, sub) ? { accountId: sub, claims: () => ({ sub, ...users[sub] }) } : undefined,
      clientBasedCORS: (_ctx: unknown, origin: string, client: { redirectUris: string[] }) =>
        client.redirectUris.some((uri) => new URL(uri).origin === origin),
      features: {
        devInteractions: { enabled: publicClients.length > 0 },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx: unknown, resource: string) => {
            if (options.resourceServers && !options.resourceServers.includes(resource))
              throw new errors.InvalidTarget();
            return {
              audience: resource,
              scope: pending?.scope ?? MCP_SCOPES.join(' '),
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'RS256', kid: signingKid } },
            };
          },
        },
      },
      extraTokenClaims: (_ctx: unknown, token: { clientId?: string; accountId?: string }) =>
        token.accountId
          ? users[token.accountId]
          : pending && token.clientId === pending.clientId
            ? pending.claims
            : undefined,
      ttl: {
        ClientCredentials: () => pending?.ttlSeconds ?? defaultTtl,
        // A user's sign-in on the login page, and what it yields.
        AccessToken: defaultTtl,
        IdToken: defaultTtl,
        Interaction: 600,
        Session: 600,
        Grant: 600,
      },
    });
    handle = provider.callback();
  };
  build();

  const tokenEndpoint = `${issuer}/token`;
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    get signingKid() {
      return keys[0]!.kid;
    },
    token: (request) =>
      serially(async () => {
        const ttl = request.ttlSeconds;
        if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) {
          throw new Error(`ttlSeconds must be a whole number of seconds, at least 1 (got ${ttl})`);
        }
        const client = register(request.clientId ?? DEFAULT_CLIENT);
        const secret = client.client_secret;
        if (secret === undefined)
          throw new Error(`${client.client_id} is a public client: it has no secret to ask with`);
        pending = { ...request, clientId: client.client_id };
        try {
          const body = new URLSearchParams({ grant_type: 'client_credentials', resource: request.resource });
          if (request.scope !== undefined) body.set('scope', request.scope);
          const basic = Buffer.from(
            `${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret)}`,
          ).toString('base64');
          const response = await fetch(tokenEndpoint, {
            method: 'POST',
            headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
            body,
          });
          const json = (await response.json()) as Record<string, unknown>;
          if (!response.ok || typeof json.access_token !== 'string') {
            throw new Error(
              `token endpoint ${response.status}: ${String(json.error)} ${String(json.error_description ?? '')}`,
            );
          }
          return json.access_token;
        } finally {
          pending = undefined;
        }
      }),
    rotateKeys: (rotation = {}) =>
      serially(async () => {
        const next = await newSigningKey();
        keys = rotation.retireOld ? [next] : [next, ...keys];
        build();
      }),
    async stop() {
      await queue;
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // fetch keeps connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      });
    },
  };
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * oidc-provider's storage adapter: clients come from the fixture's map (so they survive a rotation and
 * can be added on the fly); anything else the provider stores is kept in memory for this instance only
 * (its bundled memory adapter is shared by every Provider in the process).
 */
function adapterFor(clients: Map<string, ClientMetadata>) {
  const store = new Map<string, Record<string, unknown>>();
  return (model: string) => {
    const key = (id: string) => `${model}:${id}`;
    return {
      async upsert(id: string, payload: Record<string, unknown>) {
        store.set(key(id), payload);
      },
      async find(id: string) {
        return model === 'Client' ? clients.get(id) : store.get(key(id));
      },
      async findByUserCode() {
        return undefined;
      },
      // A session is found again by the uid in its cookie.
      async findByUid(uid: string) {
        for (const [k, payload] of store)
          if (k.startsWith(`${model}:`) && payload.uid === uid) return payload;
        return undefined;
      },
      async consume(id: string) {
        const payload = store.get(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id: string) {
        store.delete(key(id));
      },
      async revokeByGrantId() {},
    };
  };
}
