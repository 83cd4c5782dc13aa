import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { DeploymentUseCases } from '../application/deployments/deployments.ts';
import { followDeployment } from '../application/deployments/follow.ts';
import { createInFlight } from '../application/toolcalls/call-limits.ts';
import { makeCallTool } from '../application/toolcalls/call-tool.ts';
import type { LeaderLock } from '../bus/relay/leader-lock.port.ts';
import { makeCatalogCommands } from '../domains/catalog/index.ts';
import { makeDeploymentCommands } from '../domains/deployments/index.ts';
import { makeHealthCommands } from '../domains/health/index.ts';
import { makeServerCommands } from '../domains/servers/index.ts';
import { makeToolCallCommands } from '../domains/toolcalls/index.ts';
import { TOOLSET_CATEGORY } from '../domains/toolsets/index.ts';
import { groupCommit } from '../event-store/group-commit.ts';
import { fromHead, startProcessor } from '../event-store/processor.ts';
import type { GatewayDeps } from '../gateway/deps.ts';
import { mcpRoutes } from '../gateway/mcp/mcp.routes.ts';
import { createPlatformTools } from '../gateway/mcp/platform-tools.ts';
import { createSessionServer } from '../gateway/mcp/session-server.ts';
import { sessionStore } from '../gateway/mcp/shared-sessions/session-store.ts';
import { instrumentCallTool } from '../gateway/metrics/tool-calls.metrics.ts';
import type { ServerCommandsPort } from '../gateway/ports.ts';
import { tenantScopeOf } from '../gateway/request-context.ts';
import { systemClock } from '../kernel/clock.ts';
import { randomIds } from '../kernel/ids.ts';
import type { Principal } from '../kernel/principal.ts';
import { getToolset, listAllServers, type ProjectionRunner } from '../projections/index.ts';
import { runningCallsStartedBefore } from '../projections/tool-calls/index.ts';
import { createRunnerHost } from '../runners/host.ts';
import { secretRefPolicy } from '../runners/host-spec.ts';
import { createUpstreamPool, type UpstreamPool } from '../runners/pool/pool.ts';
import { createRemoteUpstreams } from '../runners/remote/remote-upstreams.ts';
import { serveUpstreams } from '../runners/remote/serve-upstreams.ts';
import type { Upstreams } from '../runners/upstream.port.ts';
import { sagaCheckpoint } from '../sagas/checkpoints.ts';
import { createDeploymentProcess } from '../sagas/deployment/deployment.process.ts';
import { createDiscoveryProcess } from '../sagas/discovery/discovery.process.ts';
import { createHealthMonitor } from '../sagas/health/health-monitor.ts';
import type { TemplateService } from '../templates/service.ts';
import type { AccessParts } from './access-role.ts';
import { runWhileLeader } from './leadership.ts';
import { catalogRecorder, catalogSource, healthRecorder } from './mcp-wiring.ts';
import type { RoleContext } from './role-context.ts';
import { serveRunnerInspection } from './runtime-views-wiring.ts';

/**
 * The runner role: hosts the enabled servers' upstream connections (stdio processes, HTTP
 * sessions), kept in sync with the registry; in distributed mode also takes their calls from
 * `<prefix>.exec.<serverId>`.
 */
export async function startRunnerRole(ctx: RoleContext): Promise<UpstreamPool> {
  const logger = ctx.logger.child({ module: 'runner' });
  const pool = createUpstreamPool({ logger, egress: ctx.config.egress });
  ctx.onClose('upstream pool', () => pool.close());
  const exec = ctx.config.natsUrl
    ? await serveUpstreams({ bus: ctx.bus, upstreams: pool, logger })
    : undefined;
  if (exec) ctx.onClose('exec server', () => exec.close());
  if (exec) await serveRunnerInspection(ctx, pool, exec.runnerId);
  const host = createRunnerHost({
    secretRefPolicy: secretRefPolicy(ctx.config.secretRefs),
    store: ctx.store,
    registry: ctx.registry,
    secrets: ctx.secrets,
    upstreams: pool,
    logger,
    ...(exec && { exec }),
  });
  await host.start();
  ctx.onClose('runner host', () => host.stop());
  return pool;
}

/** Upstreams for a process without the runner role: every call over NATS to the runners. */
export async function remoteUpstreams(ctx: RoleContext): Promise<Upstreams> {
  const remote = await createRemoteUpstreams({ bus: ctx.bus, logger: ctx.logger.child({ module: 'exec' }) });
  ctx.onClose('remote upstreams', () => remote.close());
  return remote;
}

/**
 * Process managers, one active in the deployment (leader lock): the discovery saga, the health
 * monitor, and the sweep that marks tool calls cut off by a crash as abandoned.
 */
export function startSagas(ctx: RoleContext, upstreams: Upstreams, lock: LeaderLock): void {
  const logger = ctx.logger.child({ module: 'sagas' });
  const deps = { store: ctx.store, registry: ctx.registry, clock: systemClock };
  const catalog = makeCatalogCommands(deps);
  const health = makeHealthCommands(deps);
  const toolCalls = makeToolCallCommands(deps);
  const stop = runWhileLeader(
    lock,
    'switchyard-sagas',
    async () => {
      const discovery = createDiscoveryProcess({
        ...deps,
        logger,
        upstreams,
        catalog: catalogRecorder(catalog),
        checkpoint: sagaCheckpoint(ctx.db, 'discovery'),
      });
      await discovery.start();
      const deployments = await startDeployments(ctx, upstreams);
      const monitor = createHealthMonitor({
        upstreams,
        recorder: healthRecorder(health, ctx.db),
        enabledServers: async () =>
          // Every enabled server, not the first page: a server past it was never checked.
          (await listAllServers(ctx.db, { enabled: true })).map((s) => ({
            serverId: s.id,
            name: s.name,
            healthIntervalMs: s.settings.healthIntervalMs,
          })),
        clock: systemClock,
        logger,
      });
      monitor.start();
      // A call whose process died keeps only its start: past the longest call we allow, it is
      // marked abandoned (at once for everything older than this process in embedded mode).
      const recovery = () => ({
        commandId: randomIds.uuid(),
        actor: 'system:recovery',
        correlationId: randomIds.uuid(),
        issuedAt: new Date(),
      });
      if (ctx.config.mode === 'embedded') {
        // Once, from the log itself: the read model may not show the last starts before the crash.
        const reason = 'the gateway restarted while the call ran';
        const abandoned = await toolCalls.abandonUnfinished(
          { startedBefore: new Date(), reason },
          recovery(),
        );
        if (abandoned.length > 0)
          logger.warn({ calls: abandoned.length, reason }, 'tool calls marked abandoned');
      }
      // Then from the read model's running calls (an index of the few running rows), rather than
      // reading the whole call log again: every minute, or a quarter of SWITCHYARD_MAX_CALL_MS when
      // that is shorter, so a call is abandoned close to the bound the setting names.
      const sweepEveryMs = Math.min(60_000, Math.max(1_000, Math.floor(ctx.config.maxCallMs / 4)));
      const sweep = async () => {
        const reason = 'no outcome within the longest allowed call';
        const ids = await runningCallsStartedBefore(ctx.db, new Date(Date.now() - ctx.config.maxCallMs));
        let abandoned = 0;
        for (const callId of ids) {
          const r = await toolCalls.abandon({ callId, reason, at: new Date() }, recovery());
          if (r.events.length > 0 && !r.duplicate) abandoned++;
        }
        if (abandoned > 0) logger.warn({ calls: abandoned, reason }, 'tool calls marked abandoned');
      };
      const timer = setInterval(() => {
        void sweep().catch((e: unknown) => logger.warn({ err: e }, 'abandon sweep failed'));
      }, sweepEveryMs);
      timer.unref();
      return async () => {
        clearInterval(timer);
        await monitor.stop();
        await deployments.stop();
        await discovery.stop();
      };
    },
    logger,
  );
  ctx.onClose('sagas', stop);
}

/**
 * The deployment saga, with its own pool for the candidate instances it starts and checks before
 * any traffic moves to them.
 */
async function startDeployments(ctx: RoleContext, upstreams: Upstreams) {
  const deps = { store: ctx.store, registry: ctx.registry };
  const candidates = createUpstreamPool({
    logger: ctx.logger.child({ module: 'deployment-candidates' }),
    egress: ctx.config.egress,
  });
  const process = createDeploymentProcess({
    ...deps,
    clock: systemClock,
    logger: ctx.logger,
    deployments: makeDeploymentCommands(deps),
    servers: makeServerCommands({ ...deps, secrets: ctx.secrets, clock: systemClock }),
    upstreams,
    candidates,
    dirs: { workspaceRoot: ctx.config.workspaceRoot, deployRoot: ctx.config.deployRoot },
    secrets: ctx.secrets,
    checkpoint: sagaCheckpoint(ctx.db, 'deployments'),
  });
  await process.start();
  return {
    async stop() {
      await process.stop();
      await candidates.close();
    },
  };
}

/** The MCP side of the gateway: endpoints, REST tool calls, and the stdio server factory. */
export function buildMcp(
  ctx: RoleContext,
  upstreams: Upstreams,
  runner: ProjectionRunner,
  access: Pick<AccessParts, 'authz' | 'limits' | 'cache' | 'resolver'>,
  platformOps: {
    servers?: ServerCommandsPort | undefined;
    templates?: TemplateService | undefined;
    deployments?: DeploymentUseCases | undefined;
  } = {},
) {
  const logger = ctx.logger.child({ module: 'mcp' });
  const catalog = catalogSource(ctx.db);
  // Tool-call records are group-committed: the starts and outcomes that arrive while a commit is
  // in flight share the next transaction; each call still waits for its own records to be durable.
  const toolCalls = makeToolCallCommands({
    store: groupCommit(ctx.store),
    registry: ctx.registry,
    clock: systemClock,
  });
  const callTool = instrumentCallTool(
    makeCallTool({
      upstreams,
      authz: access.authz,
      limits: access.limits,
      inFlight: createInFlight(ctx.config.calls),
      journal: toolCalls,
      vault: ctx.vault,
      clock: systemClock,
      ids: randomIds,
      logger,
    }),
    ctx.metrics,
  );
  const sessionDeps = {
    catalog,
    authz: access.authz,
    upstreams,
    callTool,
    platform: createPlatformTools({
      authz: access.authz,
      listServers: async (principal: Principal) => listAllServers(ctx.db, tenantScopeOf(principal)),
      catalog,
      naming: { separator: ctx.config.toolSeparator, prefix: ctx.config.prefixMode },
      ...platformOps,
      deployments: platformOps.deployments && {
        ...platformOps.deployments,
        follow: (id, onUpdate, signal) => followDeployment(ctx.store, id, onUpdate, { signal }),
      },
    }),
    platformPrefix: `switchyard${ctx.config.toolSeparator}`,
    naming: { separator: ctx.config.toolSeparator, prefix: ctx.config.prefixMode },
    logger,
    version: ctx.config.version,
    toolsets: (tenant: string, name: string) => getToolset(ctx.db, tenant, name),
  };
  const endpoints = mcpRoutes(sessionDeps, {
    sessionStore: sessionStore(ctx.db),
    bus: ctx.bus,
    allowedHosts: ctx.config.allowedHosts,
    allowedOrigins: ctx.config.allowedOrigins,
    sessionIdleMs: ctx.config.mcpSessionIdleMs,
    maxSessions: ctx.config.mcpMaxSessions,
    maxSessionsPerPrincipal: ctx.config.mcpMaxSessionsPerPrincipal,
    reauthenticate: (authorization) => access.resolver.resolve(authorization),
  });

  // Lists change when a catalog is (re)discovered or a server comes or goes: tell the sessions once
  // the catalog projection shows it.
  const changes = startProcessor({
    name: 'mcp list_changed',
    store: ctx.store,
    filter: { categories: ['catalog', 'server'] },
    checkpoint: fromHead(ctx.store),
    async handle(event) {
      await runner.waitForPosition('catalog', event.position, 10_000);
      await runner.waitForPosition('servers', event.position, 10_000);
      catalog.invalidate();
      await endpoints.notifyListChanged();
    },
    logger,
  });
  ctx.onClose('mcp list_changed feed', () => changes.stop());
  // An upstream that says its lists changed is heard at once by the sessions of its endpoints, as
  // its own clients would hear it (the catalog follows when discovery finds a difference, and says
  // so again).
  const stopUpstreamChanges = sessionDeps.upstreams.onListChanged(({ serverId }) => {
    catalog
      .enabledServers()
      .then((all) => {
        const server = all.find((s) => s.serverId === serverId);
        return server && endpoints.notifyListChanged(server.name);
      })
      .catch((e: unknown) => logger.debug({ err: e }, 'could not pass on an upstream list change'));
  });
  ctx.onClose('mcp upstream list_changed', async () => stopUpstreamChanges());
  // A toolset defined again or removed: its sessions' lists changed (they read it at each request).
  const toolsetChanges = startProcessor({
    name: 'mcp toolset list_changed',
    store: ctx.store,
    filter: { categories: [TOOLSET_CATEGORY] },
    checkpoint: fromHead(ctx.store),
    async handle(event) {
      await runner.waitForPosition('toolsets', event.position, 10_000);
      await endpoints.notifyToolsetChanged((event.data as { name: string }).name);
    },
    logger,
  });
  ctx.onClose('mcp toolset feed', () => toolsetChanges.stop());

  // What a session may see changes with a grant, a revocation or a policy: tell the sessions of
  // the tenants concerned (every session, for a change of no tenant).
  const stopAccessFeed = access.cache.onChange((events) => {
    const tenants = new Set<string>();
    for (const e of events) {
      const t = (e.data as { tenant?: unknown }).tenant;
      tenants.add(typeof t === 'string' ? t : '*');
    }
    void endpoints.notifyListChanged(undefined, tenants);
  });
  ctx.onClose('mcp access feed', async () => stopAccessFeed());

  const mcp: NonNullable<GatewayDeps['mcp']> = { endpoints, catalog, callTool, authz: access.authz };
  return {
    mcp,
    /** The aggregate endpoint as a bare MCP server, for `switchyard mcp` over stdio. */
    stdioServer(principal: Principal): Server {
      return createSessionServer(
        sessionDeps,
        { kind: 'aggregate', prefix: ctx.config.prefixMode },
        {
          principal: () => principal,
          correlationId: () => randomIds.uuid(),
          traceparent: () => undefined,
        },
      );
    },
  };
}
