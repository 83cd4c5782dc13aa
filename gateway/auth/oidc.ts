import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';
import type { Role } from '../../kernel/principal.ts';

/** One trusted issuer of access tokens, as configured (the composition root parses the environment). */
export interface OidcIssuerConfig {
  issuer: string;
  /** Accepted `aud` values (one must be in the token's audience); a trailing `*` accepts a prefix. */
  audience: string[];
  /** Default: `jwks_uri` of the issuer's discovery document. */
  jwksUri?: string | undefined;
  /** Accepted JWT header `typ` values, lower-case; `none` accepts a token without one (Okta). */
  tokenTypes: string[];
  /** Tenant of users provisioned just in time (unless `tenantClaim` names one that exists). */
  tenant: string;
  tenantClaim?: string | undefined;
  /** Claims → roles: a rule gives `role` when the claim at `claim` (dotted path) equals or contains `value`. */
  roles: Array<{ claim: string; value: string; role: Role }>;
  defaultRoles: Role[];
  /** Where the scopes are; default `scope`, then `scp`. */
  scopeClaim?: string | undefined;
}

export interface VerifiedToken {
  config: OidcIssuerConfig;
  claims: JWTPayload & Record<string, unknown>;
}

export interface OidcVerifier {
  /** The issuers this gateway trusts. */
  issuers(): readonly OidcIssuerConfig[];
  /**
   * The token's claims once its issuer, signature, audience, `typ`, `exp` and `nbf` have been
   * checked; undefined when it is not valid for any configured issuer (the reason goes to `onReject`).
   */
  verify(token: string): Promise<VerifiedToken | undefined>;
}

/**
 * Verifies bearer tokens with jose. Each issuer's signing keys come from its JWKS, fetched on first
 * use and again whenever a token names a key id not seen yet (a provider rotated its keys) — at most
 * once a second, so tokens with made-up key ids cannot turn the gateway into a JWKS hammer.
 */
export function createOidcVerifier(
  configs: readonly OidcIssuerConfig[],
  options: { onReject?: (reason: string) => void; clockToleranceSeconds?: number } = {},
): OidcVerifier {
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const reject = (reason: string) => {
    options.onReject?.(reason);
    return undefined;
  };

  async function jwksFor(config: OidcIssuerConfig) {
    let set = keySets.get(config.issuer);
    if (!set) {
      const uri = config.jwksUri ?? (await discoverJwksUri(config.issuer));
      set = createRemoteJWKSet(new URL(uri), { cooldownDuration: 1_000, timeoutDuration: 5_000 });
      keySets.set(config.issuer, set);
    }
    return set;
  }

  return {
    issuers: () => configs,
    async verify(token) {
      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        return reject('not a JWT');
      }
      const config = configs.find((c) => c.issuer === unverified.iss);
      if (!config) return reject('unknown issuer');
      try {
        const { payload, protectedHeader } = await jwtVerify(token, await jwksFor(config), {
          issuer: config.issuer,
          requiredClaims: ['exp', 'sub'],
          clockTolerance: options.clockToleranceSeconds ?? 5,
        });
        const aud = Array.isArray(payload.aud) ? payload.aud : payload.aud === undefined ? [] : [payload.aud];
        if (!aud.some((a) => audienceAccepted(config.audience, a))) return reject('audience not accepted');
        const typ = protectedHeader.typ?.toLowerCase() ?? 'none';
        if (!config.tokenTypes.includes(typ)) return reject(`token type ${typ} not accepted`);
        return { config, claims: payload as VerifiedToken['claims'] };
      } catch (e) {
        return reject((e as { code?: string }).code ?? 'verification failed');
      }
    },
  };
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
  if (!res.ok) throw new Error(`discovery at ${url} answered ${res.status}`);
  const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (doc.issuer !== issuer) throw new Error(`discovery at ${url} names another issuer`);
  if (typeof doc.jwks_uri !== 'string') throw new Error(`discovery at ${url} has no jwks_uri`);
  return doc.jwks_uri;
}

/** The value at a dotted claim path (`realm_access.roles`). */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let v: unknown = claims;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Roles a token's claims map to under the issuer's rules, plus its default roles. */
export function rolesFromClaims(config: OidcIssuerConfig, claims: Record<string, unknown>): Role[] {
  const roles = new Set<Role>(config.defaultRoles);
  for (const rule of config.roles) {
    const v = claimAt(claims, rule.claim);
    const values = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/\s+/) : [v];
    if (values.some((x) => String(x) === rule.value)) roles.add(rule.role);
  }
  return [...roles];
}

/** Whether `aud` is one of the accepted audiences (a trailing `*` accepts a prefix). */
export function audienceAccepted(accepted: readonly string[], aud: string): boolean {
  return accepted.some((a) => a === aud || (a.endsWith('*') && aud.startsWith(a.slice(0, -1))));
}
