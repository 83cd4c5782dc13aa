import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Bus, Closeable } from '../bus/bus.port.ts';
import { createInProcessBus } from '../bus/in-process/in-process.bus.ts';
import { createInProcessLeaderLock } from '../bus/relay/in-process-leader-lock.ts';
import { createPostgresLeaderLock } from '../bus/relay/postgres-leader-lock.ts';
import { createRelay, type Relay } from '../bus/relay/relay.ts';
import { tracedBus } from '../bus/traced.ts';
import { registerAccessEvents } from '../domains/access/index.ts';
import { makeCatalogCommands, registerCatalogEvents } from '../domains/catalog/index.ts';
import { registerDeploymentEvents } from '../domains/deployments/index.ts';
import { registerHealthEvents } from '../domains/health/index.ts';
import { registerOperationEvents } from '../domains/operations/index.ts';
import { registerProjectEvents } from '../domains/projects/index.ts';
import { makeServerCommands } from '../domains/servers/handlers.ts';
import { registerServerEvents } from '../domains/servers/index.ts';
import { registerTemplateEvents } from '../domains/templates/index.ts';
import { registerToolCallEvents } from '../domains/toolcalls/index.ts';
import { makeToolsetCommands, registerToolsetEvents } from '../domains/toolsets/index.ts';
import { postgresDataKeys } from '../event-store/personal-data/postgres-data-keys.ts';
import { openPGlite, openPostgres, type SqlConnection } from '../event-store/postgres/connection.ts';
import { createPostgresEventStore } from '../event-store/postgres/postgres.event-store.ts';
import { buildApp, type GatewayApp } from '../gateway/app.ts';
import { audienceAccepted } from '../gateway/auth/oidc.ts';
import type { ConsoleOptions } from '../gateway/console/console.routes.ts';
import { countServerCommands } from '../gateway/metrics/commands.metrics.ts';
import type { ServerCommandsPort } from '../gateway/ports.ts';
import { systemClock } from '../kernel/clock.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { randomIds } from '../kernel/ids.ts';
import type { Logger } from '../kernel/logger.ts';
import { createPersonalDataVault } from '../kernel/personal-data.ts';
import type { Principal } from '../kernel/principal.ts';
import { createSecretBox, loadOrCreateKey, parseSecretKey } from '../kernel/secrets.ts';
import { migrateEventStore, migratePersonalData } from '../migrations/migrate.ts';
import { busFeed } from '../projections/bus-feed.ts';
import {
  allProjections,
  createProjectionRunner,
  makeProjectionQuarantine,
  migrateReadModels,
  type ProjectionRunner,
} from '../projections/index.ts';
import type { UpstreamPool } from '../runners/pool/pool.ts';
import type { Upstreams } from '../runners/upstream.port.ts';
import { registerDiscoveryEvents } from '../sagas/discovery/events.ts';
import { type AccessParts, startAccess } from './access-role.ts';
import { startAudit } from './audit-role.ts';
import { type Config, VERSION } from './config.ts';
import { configReport } from './config-report.ts';
import { deploymentUseCases } from './deployments-role.ts';
import { buildMcp, remoteUpstreams, startRunnerRole, startSagas } from './mcp-role.ts';
import { startMetrics } from './metrics-role.ts';
import { projectionsPort, serveProjectionCommands } from './projections-control.ts';
import type { RoleContext } from './role-context.ts';
import { startRuntimeViews } from './runtime-views-wiring.ts';
import { localServerCommands } from './server-commands.local.ts';
import { serverCommandsOverBus, serveServerCommands } from './server-commands.wire.ts';
import { startTemplateSync, templateParts, templateService } from './templates-role.ts';

/** A running Switchyard process: whichever roles its configuration asked for. */
export interface System {
  config: Config;
  store: EventStore;
  bus: Bus;
  sql: SqlConnection;
  app: GatewayApp | undefined;
  /** Base URL of the gateway, when this process runs one. */
  url: string | undefined;
  runner: ProjectionRunner;
  relay: Relay | undefined;
  upstreams: Upstreams | undefined;
  /** Identity and access: the rules followed from the log, the credential resolver, the authorizer. */
  access: AccessParts;
  /** The aggregate MCP endpoint as a bare server (for stdio), for an authenticated principal. */
  mcpStdioServer(principal: Principal): Server;
  stop(): Promise<void>;
}

/**
 * The composition root: the only place that reads configuration into adapters, opens connections
 * and wires the roles together. Everything else receives its dependencies as arguments.
 */
export async function startSystem(config: Config, logger: Logger): Promise<System> {
  const closers: Array<{ name: string; close: () => Promise<unknown> }> = [];
  const onClose = (name: string, close: () => Promise<unknown>) => closers.push({ name, close });
  const roles = new Set(config.roles);
  const log = logger.child({ module: 'runtime' });

  const stop = async () => {
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
      } catch (e) {
        log.warn({ err: e, component: name }, 'error while stopping');
      }
    }
    closers.length = 0;
  };

  try {
    // First, so that everything started after it is traced; the SDK is loaded only when asked for.
    if (config.tracing.exporter !== 'none') {
      const { startTelemetry } = await import('./telemetry.ts');
      const telemetry = startTelemetry(config.tracing, {
        version: VERSION,
        attributes: { 'switchyard.roles': [...roles].join(',') },
      });
      onClose('telemetry', () => telemetry.shutdown());
    }
    const inMemory = config.dataDir === 'memory://';
    if (!inMemory && !config.databaseUrl) await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const sql = config.databaseUrl
      ? openPostgres({
          url: config.databaseUrl,
          onError: (e) => log.warn({ err: e }, 'postgres connection error'),
        })
      : await openPGlite({
          dataDir: inMemory ? 'memory://' : join(config.dataDir, 'pglite'),
          thread: config.pgliteThread,
          compiler: config.pgliteCompiler,
        });
    onClose('sql', () => sql.close());
    await migrateReadModels(sql.db);
    await migratePersonalData(sql.db);

    // The EventStoreDB and NATS clients (~30 MB of modules) are loaded only when configured.
    let store: EventStore;
    if (config.eventStoreUrl) {
      const { createEventStoreDbStore } = await import(
        '../event-store/eventstoredb/eventstoredb.event-store.ts'
      );
      store = createEventStoreDbStore({ connectionString: config.eventStoreUrl });
    } else {
      await migrateEventStore(sql.db);
      store = createPostgresEventStore({ connection: sql, logger: logger.child({ module: 'event-store' }) });
    }
    onClose('event store', () => store.close());

    // Requests and messages on the bus carry their trace context (bus/traced.ts).
    const bus = tracedBus(
      config.natsUrl
        ? await (await import('../bus/nats/nats.bus.ts')).createNatsBus({
            url: config.natsUrl,
            names: config.bus,
            logger: logger.child({ module: 'bus' }),
          })
        : createInProcessBus({ names: config.bus, logger: logger.child({ module: 'bus' }) }),
    );
    onClose('bus', () => bus.close());

    const registry = new EventTypeRegistry();
    registerServerEvents(registry);
    registerCatalogEvents(registry);
    registerHealthEvents(registry);
    registerToolCallEvents(registry);
    registerDiscoveryEvents(registry);
    registerTemplateEvents(registry);
    registerProjectEvents(registry);
    registerAccessEvents(registry);
    registerOperationEvents(registry);
    registerToolsetEvents(registry);
    registerDeploymentEvents(registry);
    const key = config.secretKey
      ? parseSecretKey(config.secretKey)
      : inMemory
        ? (await import('node:crypto')).randomBytes(32)
        : await loadOrCreateKey(join(config.dataDir, 'secret.key'));
    const secrets = createSecretBox(key);
    // Crypto-shredding: tool-call arguments are sealed with their caller's data key (callTool) and
    // opened for the read models by the projection runner; erasing a principal destroys its keys.
    const vault = createPersonalDataVault({ keys: postgresDataKeys(sql.db), master: secrets });

    const runner = createProjectionRunner({
      store,
      db: sql.db,
      projections: allProjections,
      registry,
      open: (events) => vault.openEvents(events),
      clock: systemClock,
      logger: logger.child({ module: 'projections' }),
      // Distributed: a durable NATS consumer per projection wakes it; the store still supplies the data.
      ...(config.natsUrl ? { liveFeed: busFeed({ bus, store, logger }) } : {}),
    });

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics, prefix: 'switchyard_' });
    if (roles.has('worker')) {
      const commands = countServerCommands(
        localServerCommands(
          makeServerCommands({ store, registry, secrets, clock: systemClock, ids: randomIds }),
        ),
        metrics,
      );
      const served: Closeable = await serveServerCommands(bus, commands, logger.child({ module: 'worker' }));
      onClose('worker', () => served.close());
      log.info({ queue: 'workers' }, 'worker serving server commands');
    }

    const lock = config.databaseUrl
      ? createPostgresLeaderLock({ url: config.databaseUrl, logger: logger.child({ module: 'leader-lock' }) })
      : createInProcessLeaderLock();
    const ctx: RoleContext = {
      config,
      logger,
      store,
      bus,
      db: sql.db,
      registry,
      secrets,
      vault,
      metrics,
      onClose,
    };
    const access = await startAccess(ctx, key, metrics);
    const audit = await startAudit(ctx, sql, lock);

    // Upstream MCP servers: hosted here (runner role), or reached over NATS.
    let upstreams: Upstreams | undefined;
    let pool: UpstreamPool | undefined;
    if (roles.has('runner')) upstreams = pool = await startRunnerRole(ctx);
    const needUpstreams = roles.has('gateway') || roles.has('worker');
    if (!upstreams && needUpstreams) {
      if (!config.natsUrl)
        throw new Error('a gateway or worker without the runner role needs NATS_URL to reach runners');
      upstreams = await remoteUpstreams(ctx);
    }
    if (roles.has('worker') && upstreams) startSagas(ctx, upstreams, lock);
    // Generated projects land here; git sources are checked out under it while they are read.
    if (roles.has('gateway') || roles.has('worker')) await mkdir(config.workspaceRoot, { recursive: true });
    const templates = templateParts(ctx);
    if (roles.has('worker')) startTemplateSync(ctx, templates, lock);

    let relay: Relay | undefined;
    if (roles.has('relay')) {
      const r = createRelay({ store, bus, lock, logger: logger.child({ module: 'relay' }) });
      await r.start();
      relay = r;
      onClose('relay', () => r.stop());
    }

    if (roles.has('projector')) {
      await runner.start();
      onClose('projector', () => runner.stop());
      const served = await serveProjectionCommands(bus, runner);
      onClose('projection commands', () => served.close());
    }

    const quarantine = makeProjectionQuarantine({
      store,
      db: sql.db,
      registry,
      clock: systemClock,
      projections: allProjections,
    });
    const projections = projectionsPort(runner, bus, roles.has('projector'), quarantine);
    const templateOps = templateService(ctx, templates, projections);
    const servers: ServerCommandsPort = serverCommandsOverBus(bus);
    const deployments = deploymentUseCases(ctx, templateOps);
    const mcpParts = upstreams
      ? buildMcp(ctx, upstreams, runner, access, { servers, templates: templateOps, deployments })
      : undefined;
    const readiness = async () => ({
      database: await check(() => sql.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute()),
      eventStore: await check(() => store.headPosition()),
      bus: await check(() => bus.info()),
    });
    await startMetrics(ctx, { runner, relay, upstreams, readiness });
    let app: GatewayApp | undefined;
    let url: string | undefined;
    if (roles.has('gateway')) {
      const a = await buildApp({
        logger,
        auth: {
          ...access.gatewayAuth,
          waitForServers: (position, waitMs) =>
            projections.waitForPosition(
              'servers',
              position,
              Math.min(waitMs ?? config.consistencyTimeoutMs, 60_000),
            ),
        },
        access: access.routes,
        resourceMetadata: access.resourceMetadata,
        console: consoleSignIn(config),
        system: {
          report: () => ({
            version: VERSION,
            mode: config.mode,
            roles: [...roles],
            config: configReport(config),
          }),
          bus: { info: () => bus.info(), deadLetters: () => bus.deadLetters() },
        },
        browserGuard: { allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins },
        bodyLimit: config.bodyLimit,
        timeouts: config.timeouts,
        consistencyTimeoutMs: config.consistencyTimeoutMs,
        servers,
        toolApprovals: makeCatalogCommands({ store, registry, clock: systemClock }),
        toolsets: makeToolsetCommands({ store, registry }),
        readDb: sql.db,
        store,
        projections,
        templates: templateOps,
        deployments,
        audit,
        personalData: vault,
        webhookSecret: config.webhookSecret,
        runtime: await startRuntimeViews(ctx, pool),
        readiness,
        metrics,
        version: VERSION,
        ...(mcpParts && { mcp: mcpParts.mcp }),
      });
      app = a;
      url = await a.listen({ host: config.host, port: config.port });
      onClose('gateway', () => a.close());
      log.info({ url, mode: config.mode, roles: [...roles] }, 'gateway listening');
    }

    log.info({ mode: config.mode, roles: [...roles] }, 'switchyard started');
    const mcpStdioServer = (principal: Principal) => {
      if (!mcpParts) throw new Error('this process has no upstream access (runner role or NATS) for MCP');
      return mcpParts.stdioServer(principal);
    };
    return { config, store, bus, sql, app, url, runner, relay, upstreams, access, mcpStdioServer, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * The console signs in with an API key, and through the first OpenID issuer when it has a client there.
 * It asks for the gateway's MCP resource (RFC 8707), `<public url>/mcp` — what an MCP client asks for,
 * and what a provider knows the gateway by (docs/identity-providers.md) — when the issuer accepts it as
 * an audience; otherwise the provider binds the audience itself (Okta's authorization server, Entra's
 * `.default` scope) and no resource is sent.
 */
function consoleSignIn(config: Config): { oidc?: ConsoleOptions['oidc'] } {
  const issuer = config.auth.oidc[0];
  const client = config.auth.console;
  if (!issuer || !client) return {};
  const resource = `${config.auth.publicUrl}/mcp`;
  return {
    oidc: {
      issuer: issuer.issuer,
      clientId: client.clientId,
      scopes: client.scopes,
      ...(audienceAccepted(issuer.audience, resource) && { resource }),
    },
  };
}

async function check(f: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> {
  try {
    await f();
    return { ok: true };
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
}
