import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  type AccessCommands,
  type AccessEvent,
  type AccessResource,
  type AccessState,
  applyAccessEvent,
  decide,
  emptyAccessState,
  oidcPrincipalId,
  type PolicyTarget,
} from '../domains/access/index.ts';
import { createCredentialResolver } from '../gateway/auth/credentials.ts';
import { createOidcVerifier, type OidcIssuerConfig } from '../gateway/auth/oidc.ts';
import { createApiKeyHasher, derivePepper, newApiKey, parseApiKey } from '../kernel/api-keys.ts';
import { systemClock } from '../kernel/clock.ts';
import type { Principal, Role } from '../kernel/principal.ts';
import type { BenchContext } from './context.ts';
import { closedLoop, type LoopResult, merge, type Operation } from './load.ts';
import { type LatencySummary, summarize } from './stats.ts';

const TENANTS = 4;
const PRINCIPALS_PER_TENANT = 75;
const AUDIENCE = 'switchyard-bench';
const at = new Date().toISOString();

/** The call every iteration authorizes: a tool two policies look at, with arguments one of them reads. */
const CALLED: AccessResource = { kind: 'tool', tenant: 't-0', server: 'fs-main', tool: 'write_file' };
const ARGS = { path: '/tmp/bench.txt', content: 'bench' };

export interface AccessCost {
  /** Microseconds per call: what the gateway does for identity and authorization of one tool call. */
  apiKey: LatencySummary;
  oidcCached: LatencySummary;
  /** Its parts, and a token seen for the first time (signature check; JWKS already fetched). */
  resolveApiKey: LatencySummary;
  decisions: LatencySummary;
  oidcVerify: LatencySummary;
  /** What the access state held. */
  sizes: { principals: number; keys: number; grants: number; policies: number; version: bigint };
}

/**
 * What identity and authorization cost one tool call, in process and without HTTP: the gateway's
 * credential resolver over an access state of a few hundred principals, keys and grants and a few
 * CEL policies (built by applying events, as a gateway follows them from the log), then the two
 * decisions `callTool` makes (listed? then allowed with these arguments?). Once with an API key
 * (keyed hash + constant-time compare every time) and once with an OIDC access token signed here and
 * verified against a JWKS served on loopback — the first verification is not timed, later calls hit
 * the resolver's cache; a token verified afresh every time is timed on its own.
 */
export async function measureAccessCost(ctx: BenchContext): Promise<AccessCost> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const jwks = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  try {
    const issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    const config: OidcIssuerConfig = {
      issuer,
      audience: [AUDIENCE],
      jwksUri: `${issuer}/jwks`,
      tokenTypes: ['at+jwt'],
      tenant: 't-0',
      roles: [],
      defaultRoles: [],
    };
    const hasher = createApiKeyHasher(derivePepper(randomBytes(32)));
    const world = accessWorld(hasher, oidcPrincipalId(issuer, 'bench-user'), issuer);
    const oidc = createOidcVerifier([config]);
    const resolver = createCredentialResolver({
      state: () => world.state,
      caughtUp: async () => {},
      announce: () => {},
      hasher,
      clock: systemClock,
      oidc,
      commands: noCommands,
    });
    const token = await new SignJWT({ scope: 'mcp:read mcp:execute', email: 'bench@example.test' })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject('bench-user')
      .setAudience(AUDIENCE)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const keyHeader = `Bearer ${world.key}`;
    const tokenHeader = `Bearer ${token}`;

    const authorize = (p: Principal) => {
      if (decide(world.state, p, 'tool.call', CALLED, { phase: 'list' }).effect !== 'allow')
        throw new Error('the bench principal may not see the tool');
      const d = decide(world.state, p, 'tool.call', CALLED, { args: ARGS, phase: 'call' });
      if (d.effect !== 'allow') throw new Error(`the bench call is denied: ${d.reasons.join('; ')}`);
    };
    // Once before timing: the principals are who the bench thinks, the calls are allowed, and the
    // token is verified (JWKS fetched) and in the resolver's cache.
    const keyPrincipal = await resolver.resolve(keyHeader);
    const tokenPrincipal = await resolver.resolve(tokenHeader);
    if (keyPrincipal.id !== world.keyPrincipal || tokenPrincipal.id !== world.oidcPrincipal)
      throw new Error('the bench credentials resolved to someone else');
    authorize(keyPrincipal);
    authorize(tokenPrincipal);

    const ops: Record<keyof Omit<AccessCost, 'sizes'>, Operation> = {
      apiKey: async () => authorize(await resolver.resolve(keyHeader)),
      oidcCached: async () => authorize(await resolver.resolve(tokenHeader)),
      resolveApiKey: async () => {
        await resolver.resolve(keyHeader);
      },
      decisions: async () => authorize(keyPrincipal),
      oidcVerify: async () => {
        if (!(await oidc.verify(token))) throw new Error('the bench token does not verify');
      },
    };
    const samples = await interleave(ops, {
      rounds: ctx.scale(3, 2),
      sliceMs: ctx.scale(300, 150),
      warmupMs: ctx.scale(200, 100),
    });
    const us = (r: LoopResult) => summarize(r.latencies.map((ms) => ms * 1000));
    return {
      apiKey: us(samples.apiKey),
      oidcCached: us(samples.oidcCached),
      resolveApiKey: us(samples.resolveApiKey),
      decisions: us(samples.decisions),
      oidcVerify: us(samples.oidcVerify),
      sizes: {
        principals: world.state.principals.size,
        keys: world.state.keys.size,
        grants: world.state.grants.size,
        policies: world.state.policies.size,
        version: world.state.version,
      },
    };
  } finally {
    jwks.closeAllConnections();
    await new Promise((resolve) => jwks.close(resolve));
  }
}

/** Every operation in turn, one slice each per round (after a warm-up of each), sequentially. */
async function interleave<K extends string>(
  ops: Record<K, Operation>,
  options: { rounds: number; sliceMs: number; warmupMs: number },
): Promise<Record<K, LoopResult>> {
  const names = Object.keys(ops) as K[];
  for (const name of names) await closedLoop(ops[name], 1, options.warmupMs);
  const results = new Map<K, LoopResult[]>(names.map((n) => [n, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (const name of names) results.get(name)!.push(await closedLoop(ops[name], 1, options.sliceMs));
  }
  return Object.fromEntries(names.map((n) => [n, merge(results.get(n)!)])) as Record<K, LoopResult>;
}

/** Never called: every principal the bench presents exists already, so nobody is provisioned. */
const noCommands = new Proxy({} as AccessCommands, {
  get: () => () => Promise.reject(new Error('the access-cost bench writes no events')),
});

/**
 * Four tenants of 75 principals each, every one with an API key, a grant to call the `fs-*` tools
 * and one to read the `git*` servers; per tenant a team grant and three policies with CEL
 * conditions (two apply to the benched call, one of them reads its arguments); and the OIDC user
 * the token names, as if provisioned by its first request.
 */
function accessWorld(
  hasher: ReturnType<typeof createApiKeyHasher>,
  oidcPrincipal: string,
  issuer: string,
): { state: AccessState; key: string; keyPrincipal: string; oidcPrincipal: string } {
  const events: AccessEvent[] = [];
  const roles: Role[][] = [['reader'], ['executor'], ['writer'], []];
  let key = '';
  let keyPrincipal = '';
  const grantsTo = (principalId: string, tenant: string) => {
    events.push(
      {
        type: 'GrantAdded',
        data: {
          grantId: randomUUID(),
          tenant,
          subject: { type: 'principal', id: principalId },
          permission: 'mcp:execute',
          resource: { type: 'tool', server: 'fs-*', tool: '*' },
          addedAt: at,
        },
      },
      {
        type: 'GrantAdded',
        data: {
          grantId: randomUUID(),
          tenant,
          subject: { type: 'principal', id: principalId },
          permission: 'mcp:read',
          resource: { type: 'server', server: 'git*' },
          addedAt: at,
        },
      },
    );
  };
  for (let t = 0; t < TENANTS; t++) {
    const tenant = `t-${t}`;
    events.push({ type: 'TenantCreated', data: { tenantId: tenant, name: tenant, createdAt: at } });
    for (let i = 0; i < PRINCIPALS_PER_TENANT; i++) {
      const principalId = randomUUID();
      events.push({
        type: 'PrincipalCreated',
        data: {
          principalId,
          tenant,
          name: `svc-${t}-${i}`,
          kind: 'service',
          roles: roles[i % roles.length]!,
          source: { type: 'local' },
          createdAt: at,
        },
      });
      const issued = newApiKey();
      events.push({
        type: 'ApiKeyIssued',
        data: {
          keyId: issued.keyId,
          principalId,
          tenant,
          name: 'bench',
          scopes: null,
          hash: hasher.hash(parseApiKey(issued.key)!),
          last4: issued.last4,
          expiresAt: null,
          issuedAt: at,
        },
      });
      grantsTo(principalId, tenant);
      // A reader that may call only through its grant: the decision walks roles, grants and policies.
      if (t === 0 && i === 0) {
        key = issued.key;
        keyPrincipal = principalId;
      }
    }
    events.push(
      {
        type: 'GrantAdded',
        data: {
          grantId: randomUUID(),
          tenant,
          subject: { type: 'tenant', id: tenant },
          permission: 'mcp:read',
          resource: { type: 'server', server: 'docs-*' },
          addedAt: at,
        },
      },
      policy(
        tenant,
        'deny',
        'no-etc',
        { actions: ['tool.call'], server: 'fs-*', tool: 'write_*' },
        'args.path.startsWith("/etc")',
      ),
      policy(
        tenant,
        'deny',
        'no-repo-deletes',
        { actions: ['tool.call'] },
        'tool == "delete_repo" && !("admin" in principal.roles)',
      ),
      policy(
        tenant,
        'allow',
        'prod-ops-only',
        { actions: ['tool.*'], server: 'prod-*' },
        'claims.email.endsWith("@ops.test")',
      ),
    );
  }
  events.push({
    type: 'PrincipalCreated',
    data: {
      principalId: oidcPrincipal,
      tenant: 't-0',
      name: 'bench@example.test',
      kind: 'user',
      roles: ['reader'],
      source: { type: 'oidc', issuer, subject: 'bench-user' },
      createdAt: at,
    },
  });
  grantsTo(oidcPrincipal, 't-0');
  const state = emptyAccessState();
  for (const [i, e] of events.entries()) applyAccessEvent(state, e, BigInt(i + 1));
  return { state, key, keyPrincipal, oidcPrincipal };
}

function policy(
  tenant: string,
  effect: 'allow' | 'deny',
  name: string,
  target: PolicyTarget,
  condition: string,
): AccessEvent {
  return {
    type: 'PolicySet',
    data: { policyId: randomUUID(), tenant, name, effect, target, condition, setAt: at },
  };
}
