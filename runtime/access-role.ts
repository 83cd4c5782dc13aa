import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { Counter, type Registry } from 'prom-client';
import {
  type AccessCommands,
  type AccessResource,
  type Action,
  type Authorizer,
  BOOTSTRAP_ADMIN_ID,
  type Decision,
  ensureBootstrapAdmin,
  makeAccessCommands,
  makeAuthorizer,
  makeErasureService,
  makeIdentityService,
  makeRulesService,
} from '../domains/access/index.ts';
import { type AccessCache, createAccessCache } from '../gateway/auth/access-cache.ts';
import type { GatewayAuth, ServerAccessInfo } from '../gateway/auth/auth.plugin.ts';
import { type CredentialResolver, createCredentialResolver } from '../gateway/auth/credentials.ts';
import { createOidcVerifier } from '../gateway/auth/oidc.ts';
import { challengeFor, type ResourceMetadataOptions } from '../gateway/auth/resource-metadata.ts';
import { countRateLimits } from '../gateway/metrics/rate-limits.metrics.ts';
import type { AccessRoutesDeps } from '../gateway/ports.ts';
import {
  createMemoryRateLimiter,
  createPostgresRateLimiter,
  type RateLimiter,
} from '../gateway/rate-limit/index.ts';
import { createPolicyLimits, type PolicyLimits } from '../gateway/rate-limit/policy-limits.ts';
import {
  type ApiKeyHasher,
  createApiKeyHasher,
  derivePepper,
  newApiKey,
  parseApiKey,
} from '../kernel/api-keys.ts';
import { systemClock } from '../kernel/clock.ts';
import { isUuid, randomIds, uuidV5 } from '../kernel/ids.ts';
import type { Logger } from '../kernel/logger.ts';
import { DEFAULT_TENANT, type Principal } from '../kernel/principal.ts';
import { getServer, getServerByName } from '../projections/index.ts';
import type { RoleContext } from './role-context.ts';

/** Everything identity and access: built once per process by the composition root. */
export interface AccessParts {
  cache: AccessCache;
  commands: AccessCommands;
  authz: Authorizer;
  resolver: CredentialResolver;
  limits: PolicyLimits;
  gatewayAuth: GatewayAuth;
  routes: AccessRoutesDeps;
  resourceMetadata: ResourceMetadataOptions | undefined;
  /** The administrator's key, when this process made it (first start). */
  bootstrapKey: string | undefined;
}

const DENIALS_RECORDED_PER_MINUTE = 10;

/**
 * Identity and access for one process: the access rules followed from the log, credentials
 * checked against them, the one authorizer, rate limits, and the first start's administrator
 * (its key written to `<data dir>/admin.key`, mode 0600, unless one was configured).
 */
export async function startAccess(
  ctx: RoleContext,
  secretKey: Buffer,
  metrics: Registry,
): Promise<AccessParts> {
  const { config, logger } = ctx;
  const log = logger.child({ module: 'access' });
  const hasher: ApiKeyHasher = createApiKeyHasher(derivePepper(secretKey));
  // Principals' names are sealed with their own data keys (erasable) and opened as the rules are folded.
  const commands = makeAccessCommands({
    store: ctx.store,
    registry: ctx.registry,
    seal: (id, name) => ctx.vault.seal(id, name),
  });
  const cache = createAccessCache({
    store: ctx.store,
    registry: ctx.registry,
    clock: systemClock,
    logger,
    bus: config.natsUrl ? ctx.bus : undefined,
    maxStalenessMs: config.auth.maxStalenessMs,
    open: (events) => ctx.vault.openEvents(events),
  });
  // A principal erased by any process: this one forgets the keys it holds in memory at once.
  cache.onChange((events) => {
    for (const e of events)
      if (e.type === 'PrincipalErased') ctx.vault.forget((e.data as { principalId: string }).principalId);
  });
  await cache.start();
  ctx.onClose('access rules', () => cache.stop());
  const caughtUp = async (position: bigint | undefined) => {
    cache.announce(position);
    await cache.caughtUp(position);
  };

  // Gateways make sure of the administrator (and embedded processes, e.g. `switchyard mcp` on a
  // fresh data directory); workers, runners and relays never write keys.
  const bootstrapKey =
    config.roles.includes('gateway') || config.mode === 'embedded'
      ? await bootstrap(ctx, commands, hasher, cache, caughtUp)
      : undefined;

  const authz = makeAuthorizer({ state: cache.state, onDenied: denialRecorder(commands, metrics, log) });
  const serviceDeps = {
    commands,
    authz,
    hasher,
    clock: systemClock,
    ids: randomIds,
    caughtUp,
    stateAt: cache.stateAt,
  };
  const identity = makeIdentityService(serviceDeps);
  const rules = makeRulesService(serviceDeps);
  const erasure = makeErasureService({ ...serviceDeps, destroyKeys: (id) => ctx.vault.erase(id) });

  const oidc =
    config.auth.oidc.length > 0
      ? createOidcVerifier(config.auth.oidc, {
          onReject: (reason) => log.info({ reason }, 'bearer token rejected'),
        })
      : undefined;
  const resolver = createCredentialResolver({
    state: cache.state,
    caughtUp: cache.caughtUp,
    announce: cache.announce,
    hasher,
    clock: systemClock,
    oidc,
    commands,
  });

  const shared = await sharedLimiter(ctx);
  const limits = countRateLimits(
    createPolicyLimits({
      shared,
      local: createMemoryRateLimiter(),
      state: cache.state,
      failedAuth: { id: 'failed-authentication', points: config.auth.failuresPerMinute, windowSeconds: 60 },
    }),
    metrics,
  );

  const resourceMetadata: ResourceMetadataOptions | undefined = oidc
    ? { publicUrl: config.auth.publicUrl, issuers: config.auth.oidc.map((o) => o.issuer) }
    : undefined;
  const serverInfo = async (ref: string): Promise<ServerAccessInfo | undefined> => {
    const s = isUuid(ref) ? await getServer(ctx.db, ref) : await getServerByName(ctx.db, ref);
    return s && { id: s.id, name: s.name, tenant: s.tenant, owner: s.owner, transportType: s.transport.type };
  };
  const gatewayAuth: GatewayAuth = {
    mode: config.auth.mode,
    devPrincipal: devPrincipal(),
    resolver,
    authz,
    limits,
    serverAccess: serverInfo,
    challenge: (request, extra) => challengeFor(resourceMetadata, request, extra),
  };
  return {
    cache,
    commands,
    authz,
    resolver,
    limits,
    gatewayAuth,
    routes: { identity, rules, erasure, serverOf: serverInfo },
    resourceMetadata,
    bootstrapKey,
  };
}

/** The first start's tenant, administrator and key; a configured key is made sure of on every start. */
async function bootstrap(
  ctx: RoleContext,
  commands: AccessCommands,
  hasher: ApiKeyHasher,
  cache: AccessCache,
  caughtUp: (position: bigint | undefined) => Promise<void>,
): Promise<string | undefined> {
  const { config } = ctx;
  const state = cache.state();
  const hasAdminKey = [...state.keys.values()].some(
    (k) => k.principalId === BOOTSTRAP_ADMIN_ID && k.revokedAt === null,
  );
  const generated = config.auth.adminKey === undefined && !hasAdminKey ? newApiKey().key : undefined;
  const key = config.auth.adminKey ?? generated;
  const meta = (purpose: string) => ({
    commandId: uuidV5(`switchyard/bootstrap/${purpose}`),
    actor: 'system:bootstrap',
    tenant: DEFAULT_TENANT,
    correlationId: randomIds.uuid(),
    issuedAt: new Date(),
  });
  const { issued } = await ensureBootstrapAdmin(
    { commands, hasher, now: () => new Date(), meta },
    state,
    key === undefined ? undefined : parseApiKey(key),
  );
  await caughtUp(await ctx.store.headPosition());
  if (!issued || generated === undefined) return undefined;
  const log = ctx.logger.child({ module: 'access' });
  if (config.dataDir === 'memory://') {
    log.info('administrator API key created (in-memory system: not written to disk)');
  } else {
    const file = join(config.dataDir, 'admin.key');
    await writeFile(file, `${generated}\n`, { mode: 0o600, flag: 'w' });
    log.warn(
      { file },
      `administrator API key created and written to ${file} (mode 0600): use it as "Authorization: Bearer <key>", or let the CLI pick it up`,
    );
  }
  return generated;
}

/** Denials are events — at most a few per principal and minute, so nobody can flood the log. */
function denialRecorder(commands: AccessCommands, metrics: Registry, log: Logger) {
  const counter = new Counter({
    name: 'switchyard_authz_denials_total',
    help: 'Authorization denials of authenticated principals, by action and whether recorded as an event',
    labelNames: ['action', 'recorded'] as const,
    registers: [metrics],
  });
  const windows = new Map<string, { minute: number; count: number }>();
  return (principal: Principal, action: Action, resource: AccessResource, decision: Decision) => {
    const minute = Math.floor(Date.now() / 60_000);
    const w = windows.get(principal.id);
    const count = w && w.minute === minute ? w.count + 1 : 1;
    if (windows.size > 10_000) windows.clear();
    windows.set(principal.id, { minute, count });
    const record = count <= DENIALS_RECORDED_PER_MINUTE;
    counter.inc({ action, recorded: String(record) });
    if (!record) return;
    const denialId = randomIds.uuid();
    void commands
      .recordDenial(
        {
          denialId,
          principalId: principal.id,
          tenant: principal.tenant,
          action,
          resource: describe(resource),
          reasons: decision.reasons.slice(0, 20).map((r) => r.slice(0, 500)),
          policyVersion: decision.policyVersion,
          deniedAt: new Date().toISOString(),
        },
        {
          commandId: denialId,
          actor: principal.id,
          tenant: principal.tenant,
          correlationId: denialId,
          issuedAt: new Date(),
        },
      )
      .catch((e: unknown) => log.warn({ err: e }, 'could not record a denial'));
  };
}

function describe(r: AccessResource): string {
  if (r.kind === 'platform') return 'platform';
  if (r.kind === 'tenant') return `tenant:${r.tenant}`;
  if (r.kind === 'server') return `${r.tenant}/${r.server}`;
  return `${r.tenant}/${r.server}/${r.tool}`;
}

/** Counters every gateway shares: PostgreSQL in distributed mode, this process's memory embedded. */
async function sharedLimiter(ctx: RoleContext): Promise<RateLimiter> {
  if (!ctx.config.databaseUrl) return createMemoryRateLimiter();
  const pool = new pg.Pool({ connectionString: ctx.config.databaseUrl, max: 4 });
  const warn = (e: Error) => ctx.logger.warn({ err: e }, 'rate-limit pool error');
  // Idle clients' errors reach the pool; a checked-out client's only its own listener.
  pool.on('error', warn);
  pool.on('connect', (client) => client.on('error', warn));
  const limiter = await createPostgresRateLimiter({ pool, table: 'sy_rate_limits' });
  ctx.onClose('rate limits', async () => {
    await limiter.close();
    await pool.end();
  });
  return limiter;
}

/** SWITCHYARD_AUTH=off: everyone is this administrator (loopback only, enforced by the config). */
function devPrincipal(): Principal {
  return {
    id: 'dev',
    tenant: DEFAULT_TENANT,
    name: 'dev (authentication off)',
    kind: 'user',
    roles: ['admin'],
    scopes: undefined,
    credential: { type: 'dev' },
    claims: {},
  };
}
