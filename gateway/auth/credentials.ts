import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessCommands } from '../../domains/access/index.ts';
import {
  type AccessState,
  authenticationRequired,
  invalidCredential,
  oidcPrincipalId,
  provisionOidcPrincipal,
  scopesFrom,
} from '../../domains/access/index.ts';
import { type ApiKeyHasher, looksLikeApiKey, parseApiKey } from '../../kernel/api-keys.ts';
import type { Clock } from '../../kernel/clock.ts';
import { randomIds } from '../../kernel/ids.ts';
import { credentialLabel, type Principal, type Role } from '../../kernel/principal.ts';
import { claimAt, type OidcVerifier, rolesFromClaims, type VerifiedToken } from './oidc.ts';

export interface CredentialResolverDeps {
  state: () => AccessState;
  caughtUp: (position: bigint | undefined) => Promise<void>;
  announce: (position: bigint | undefined) => void;
  hasher: ApiKeyHasher;
  clock: Clock;
  /** Absent when no OpenID issuer is configured: bearer tokens other than API keys are refused. */
  oidc?: OidcVerifier | undefined;
  commands: AccessCommands;
  /** Why a credential was refused (a metric and a log line; never the credential). */
  onFailure?: (reason: string) => void;
}

export interface CredentialResolver {
  /** The principal behind an `Authorization` header value; AUTH.REQUIRED or AUTH.INVALID_CREDENTIAL otherwise. */
  resolve(authorization: string | undefined): Promise<Principal>;
  /** The same for a bare credential (an API key or a token, as `--token` gives it). */
  resolveToken(token: string): Promise<Principal>;
}

const MAX_CACHED_TOKENS = 10_000;

/**
 * Turns a credential into a principal. API keys are checked against their keyed hash in the access
 * state (constant time), OIDC tokens by jose against their issuer; the principal's roles, disabled
 * flag and keys are read afresh on every request, so a revocation is in force as soon as the access
 * state has it. A verified token is remembered (by its hash) until it expires, so a client that
 * reuses its token costs one hash and a lookup, not a signature check.
 */
export function createCredentialResolver(deps: CredentialResolverDeps): CredentialResolver {
  const verified = new Map<string, VerifiedToken>();
  const fail = (reason: string): never => {
    deps.onFailure?.(reason);
    throw invalidCredential();
  };

  function fromApiKey(presented: string): Principal {
    const parsed = parseApiKey(presented) ?? fail('malformed API key');
    const state = deps.state();
    const key = state.keys.get(parsed.keyId);
    if (!key || !deps.hasher.verify(parsed, key.hash)) return fail('unknown API key');
    if (key.revokedAt !== null) return fail('revoked API key');
    if (key.expiresAt !== null && new Date(key.expiresAt) <= deps.clock.now()) return fail('expired API key');
    const p = state.principals.get(key.principalId);
    if (!p || p.disabled) return fail('disabled principal');
    return {
      id: p.id,
      tenant: p.tenant,
      name: p.name,
      kind: p.kind,
      roles: p.roles,
      scopes: key.scopes ?? undefined,
      credential: { type: 'api-key', keyId: key.keyId },
      claims: {},
    };
  }

  async function verifiedToken(token: string): Promise<VerifiedToken> {
    if (!deps.oidc) return fail('bearer token but no OpenID issuer configured');
    const hash = createHash('sha256').update(token).digest('base64url');
    const hit = verified.get(hash);
    const nowSeconds = deps.clock.now().getTime() / 1000;
    if (hit && (hit.claims.exp ?? 0) > nowSeconds) return hit;
    const v = (await deps.oidc.verify(token)) ?? fail('token rejected');
    if (verified.size >= MAX_CACHED_TOKENS) {
      for (const [k, t] of verified) if ((t.claims.exp ?? 0) <= nowSeconds) verified.delete(k);
      if (verified.size >= MAX_CACHED_TOKENS) verified.clear();
    }
    verified.set(hash, v);
    return v;
  }

  async function fromToken(token: string): Promise<Principal> {
    const { config, claims } = await verifiedToken(token);
    const issuer = config.issuer;
    const subject = String(claims.sub);
    const id = oidcPrincipalId(issuer, subject);
    let record = deps.state().principals.get(id);
    if (!record) {
      const claimed = config.tenantClaim ? claimAt(claims, config.tenantClaim) : undefined;
      const tenant =
        typeof claimed === 'string' && deps.state().tenants.has(claimed) ? claimed : config.tenant;
      const credential = credentialLabel({ type: 'oidc', issuer, subject, tokenId: claims.jti });
      const correlationId = randomIds.uuid();
      const { position } = await provisionOidcPrincipal(
        { commands: deps.commands, now: () => deps.clock.now() },
        { issuer, subject, name: displayName(claims), tenant },
        {
          commandId: `provision/${id}`,
          actor: id,
          tenant,
          credential,
          correlationId,
          issuedAt: deps.clock.now(),
        },
      );
      deps.announce(position);
      await deps.caughtUp(position);
      // Another gateway provisioned the same user a moment before: wait (briefly) to read it.
      for (let i = 0; i < 100 && !deps.state().principals.has(id); i++) await sleep(20);
      record = deps.state().principals.get(id) ?? fail('provisioning did not take');
    }
    if (record.disabled) return fail('disabled principal');
    const roles = new Set<Role>([...record.roles, ...rolesFromClaims(config, claims)]);
    const scopeValue = config.scopeClaim ? claimAt(claims, config.scopeClaim) : (claims.scope ?? claims.scp);
    return {
      id,
      tenant: record.tenant,
      name: record.name,
      kind: 'user',
      roles: [...roles],
      scopes: scopesFrom(scopeValue),
      credential: { type: 'oidc', issuer, subject, tokenId: claims.jti },
      claims,
    };
  }

  async function resolveToken(token: string): Promise<Principal> {
    return looksLikeApiKey(token) ? fromApiKey(token) : fromToken(token);
  }

  return {
    resolveToken,
    async resolve(authorization) {
      if (authorization === undefined || authorization === '') throw authenticationRequired();
      const m = /^Bearer +([A-Za-z0-9._~+/=-]{8,8192})$/i.exec(authorization.trim());
      if (!m) return fail('malformed Authorization header');
      return resolveToken(m[1]!);
    },
  };
}

function displayName(claims: Record<string, unknown>): string {
  for (const k of ['email', 'preferred_username', 'name', 'sub']) {
    const v = claims[k];
    if (typeof v === 'string' && v.length > 0) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a display name must not carry them
      return v.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 200) || 'user';
    }
  }
  return 'user';
}
