import { createHash, randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionStore } from '../gateway/mcp/shared-sessions/session-store.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import { migrateReadModels } from '../migrations/read-models/index.ts';
import { type Explained, explainingPool, seqScans } from '../test/plans.ts';
import { createTestDatabase, hasPostgres } from '../test/services.ts';
import { catalogProjection } from './catalog/catalog.projection.ts';
import { getServerCatalog, listCatalog, listPendingTools } from './catalog/catalog.queries.ts';
import { advanceCheckpoint, ensureCheckpoint, readCheckpoint } from './checkpoints.ts';
import type { ReadModelTables } from './db.ts';
import { healthProjection } from './health/health.projection.ts';
import { healthOfServers } from './health/health.queries.ts';
import { recordHealthProbe } from './health/health-probes.ts';
import { applyAll, liveTableNames, type Projection } from './projection.ts';
import { serversProjection } from './servers/server.projection.ts';
import { findServerIdByName, getServer, getServerByName, listServers } from './servers/servers.queries.ts';
import { toolCallsProjection } from './tool-calls/tool-calls.projection.ts';
import { getToolCall, listToolCalls, runningCallsStartedBefore } from './tool-calls/tool-calls.queries.ts';
import { serverStats } from './tool-stats/tool-stats.queries.ts';

/**
 * Every query on the read side's hot path must use an index: with a full scan, applying a tool call
 * or answering a lookup costs more as the history grows. The store's half is
 * event-store/postgres/postgres.plans.test.ts; this is the read models' half, in the same manner.
 * The read-model tables are filled with a realistic volume (2,000 servers and their catalogs,
 * 50,000 tool calls over 300 of them), then the real projection code applies events the way the
 * runner commits them (checkpoint compare-and-set and the batch in one transaction) and the real
 * query functions answer what the gateway and the API ask, while auto_explain hands the plan of
 * every statement back to the test. Each operation runs twice over:
 * - with sequential scans priced out (enable_seqscan = off, which still scans where no index
 *   serves the statement): no sequential scan of a table of more than a few hundred rows. This is
 *   the rule, and it does not depend on the planner's arithmetic for a table of this or that size.
 * - as PostgreSQL plans it: no sequential scan of a table of more than 10,000 rows (tool_calls,
 *   server_tools). Below that, reading a table whole can be the cheaper plan — the health of a page
 *   of 50 servers out of 2,000 is 21 pages read in order rather than 50 index probes — and the
 *   planner may take it; it moves to the index as the table grows, since the first pass showed
 *   there is one. Asserting the planner's choice on such tables would pass or fail on a cost
 *   estimate's last digit (the servers batch's lookup did both, with no statistics), not on the
 *   schema.
 * A table of at most a few hundred rows (the checkpoints: one row per projection) may be read whole.
 * An operation that must read a table whole says so below, with the tables and why.
 */
const SERVERS = 2_000;
const CALLING_SERVERS = 300;
const CALLS = 50_000;
const TOOLS_PER_SERVER = 10;
/** A table of at most this many rows may be read whole: no index is needed for it. */
const SMALL = 300;
/**
 * A table of more than this many rows must be read through its index as PostgreSQL plans it now
 * (tool_calls, server_tools); below it, the planner may still choose to read a table whole.
 */
const LARGE = 10_000;
const RUNS = 5;
const SESSIONS = 20_000;

interface Operation {
  name: string;
  run: (run: number) => Promise<unknown>;
  /** Tables this operation reads whole by design; each entry says why where it is declared. */
  scans?: readonly string[];
}

const metadata = { correlationId: 'c', causationId: 'k', actor: 'test', schemaVersion: 1 };
const hex64 = (seed: string | number) => createHash('sha256').update(String(seed)).digest('hex');

// Statistics: fresh (ANALYZE after the fill), and none at all, as on a young or fast-growing
// database that autovacuum has not analyzed yet.
describe.skipIf(!hasPostgres()).each([
  ['analyzed', true],
  ['never analyzed', false],
])('Read models: every hot query uses an index, statistics %s (pg)', (_label, analyzed) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  /** What the operations run on: `planned` or `indexOnly`, by pass. */
  let db: Kysely<ReadModelTables>;
  let planned: Kysely<ReadModelTables>;
  let indexOnly: Kysely<ReadModelTables>;
  let explained: Explained[] = [];
  /** Rows per read-model table after the fill: what a scan of each would read. */
  const rows = new Map<string, number>();
  /** Known rows of the fill, by what they are. */
  let known: {
    server: { id: string; name: string; tenant: string };
    pinning: string;
    caller: { id: string; name: string; tenant: string };
    call: { id: string; startedAt: Date };
  };
  let position = 10n ** 12n;
  const checkpoints = new Map<string, bigint>();

  beforeAll(async () => {
    database = await createTestDatabase('sy_rm_plans');
    const setup = new pg.Client({ connectionString: database.url });
    await setup.connect();
    try {
      const migrator = new Kysely({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }),
      });
      await migrateReadModels(migrator);
      await migrator.destroy();
      const { rows: tables } = await setup.query<{ name: string }>(
        `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`,
      );
      if (!analyzed) {
        for (const { name } of tables) {
          await setup.query(`ALTER TABLE ${name} SET (autovacuum_enabled = false)`);
        }
      }
      await fill(setup);
      for (const { name } of tables) {
        if (analyzed) await setup.query(`ANALYZE ${name}`);
        const { rows: counted } = await setup.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`);
        rows.set(name, counted[0]!.n);
      }
      const { rows: picked } = await setup.query<{
        server_id: string;
        server_name: string;
        server_tenant: string;
        pinning: string;
        caller_id: string;
        caller_name: string;
        caller_tenant: string;
        call_id: string;
        call_started: Date;
      }>(
        `SELECT s.id AS server_id, s.name AS server_name, s.tenant AS server_tenant,
                (SELECT id FROM servers WHERE settings->>'pinTools' = 'true' AND status = 'active' ORDER BY name LIMIT 1) AS pinning,
                c.server_id AS caller_id, c.server_name AS caller_name, c.tenant AS caller_tenant,
                c.id AS call_id, c.started_at AS call_started
           FROM servers s, (SELECT * FROM tool_calls ORDER BY started_at DESC, id DESC OFFSET 5000 LIMIT 1) c
          WHERE s.name = 'server-1234'`,
      );
      const p = picked[0]!;
      known = {
        server: { id: p.server_id, name: p.server_name, tenant: p.server_tenant },
        pinning: p.pinning,
        caller: { id: p.caller_id, name: p.caller_name, tenant: p.caller_tenant },
        call: { id: p.call_id, startedAt: p.call_started },
      };
    } finally {
      await setup.end();
    }

    planned = explaining(database.url, '');
    // Priced out, not forbidden: a statement no index can serve still gets its sequential scan.
    indexOnly = explaining(database.url, 'SET enable_seqscan = off;');
    db = planned;
    for (const p of [toolCallsProjection, serversProjection, catalogProjection, healthProjection]) {
      checkpoints.set(p.name, (await ensureCheckpoint(db, p.name, p.version, new Date())).position);
    }
  }, 180_000);

  afterAll(async () => {
    await planned?.destroy();
    await indexOnly?.destroy();
    await database?.drop();
  });

  /** A connection on which auto_explain hands the plan of every statement back to `explained`. */
  function explaining(url: string, settings: string): Kysely<ReadModelTables> {
    const pool = explainingPool(url, (e) => explained.push(e), settings);
    return new Kysely<ReadModelTables>({ dialect: new PostgresDialect({ pool }) });
  }

  /** Runs `operation` RUNS times on `on` and returns the plans of the statements it sent. */
  async function plansOf(
    on: Kysely<ReadModelTables>,
    operation: (run: number) => Promise<unknown>,
  ): Promise<Explained[]> {
    db = on;
    explained = [];
    try {
      for (let run = 0; run < RUNS; run++) await operation(run);
      // Notices of the last statement can trail its result by a tick.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      db = planned;
    }
    return explained;
  }

  /** The sequential scans in `plans` of tables holding more than `over` rows, bar those allowed. */
  function scansOf(plans: Explained[], over: number, allowed: readonly string[] = []): string[] {
    const scans = plans.flatMap((e) =>
      seqScans(e.plan)
        .filter((table) => (rows.get(table) ?? 0) > over && !allowed.includes(table))
        .map((table) => `${table} in: ${e.text.replace(/\s+/g, ' ').slice(0, 200)}`),
    );
    return [...new Set(scans)];
  }

  function recorded(stream: string, revision: number, type: string, data: unknown): RecordedEvent {
    position += 1n;
    return {
      id: randomUUID(),
      type,
      stream,
      revision: BigInt(revision),
      position,
      data,
      metadata,
      recordedAt: new Date(),
    };
  }

  /** As the projection runner commits a batch: the checkpoint by compare-and-set, then the events. */
  async function commit(projection: Projection, events: readonly RecordedEvent[]): Promise<void> {
    const last = events.at(-1)!;
    await db.transaction().execute(async (trx) => {
      await advanceCheckpoint(
        trx,
        projection.name,
        checkpoints.get(projection.name)!,
        last.position,
        new Date(),
      );
      await applyAll(projection, trx, events, liveTableNames(projection));
    });
    checkpoints.set(projection.name, last.position);
  }

  const at = (minutes: number) => new Date(Date.UTC(2026, 5, 1) + minutes * 60_000).toISOString();

  function callEvents(callId: string, serverN: number, outcome: 'succeeded' | 'failed'): RecordedEvent[] {
    const stream = `toolcall-${callId}`;
    const serverId = md5Uuid(`server-${serverN}`);
    const common = { callId, serverId, tool: 'tool-3' };
    return [
      recorded(stream, 0, 'ToolCallStarted', {
        ...common,
        serverName: `server-${serverN}`,
        arguments: { text: 'hello' },
        actor: 'user-7',
        via: 'mcp',
        sessionId: 'session-1',
        tenant: 'default',
        startedAt: at(0),
      }),
      outcome === 'succeeded'
        ? recorded(stream, 1, 'ToolCallSucceeded', {
            ...common,
            durationMs: 12,
            resultBytes: 34,
            resultHash: hex64('ab'),
            isError: false,
            finishedAt: at(1),
          })
        : recorded(stream, 1, 'ToolCallFailed', {
            ...common,
            durationMs: 12,
            error: { kind: 'timeout', code: 'UPSTREAM.TIMEOUT', message: 'no answer' },
            finishedAt: at(1),
          }),
    ];
  }

  function registered(serverId: string, name: string): RecordedEvent {
    return recorded(`server-${serverId}`, 0, 'ServerRegistered', {
      serverId,
      name,
      transport: { type: 'stdio', command: 'node', args: [], env: {} },
      tags: ['tag-1'],
      enabled: true,
      settings: {},
      tenant: 'default',
      owner: 'alice',
      registeredAt: at(0),
    });
  }

  function discovered(serverId: string, revision: number, tools: number): RecordedEvent {
    return recorded(`catalog-${serverId}`, revision, 'CapabilitiesDiscovered', {
      serverId,
      serverRevision: 0,
      hash: hex64(revision + 1),
      catalog: {
        serverInfo: { name: 'fixture', version: '1.0.0' },
        capabilities: { tools: {} },
        tools: Array.from({ length: tools }, (_, i) => ({
          name: `tool-${i}`,
          inputSchema: { type: 'object' },
        })),
        resources: [{ uri: 'file:///a', name: 'a' }],
        resourceTemplates: [],
        prompts: [{ name: 'p' }],
      },
      discoveredAt: at(revision),
    });
  }

  const operations: Operation[] = [
    // The projection side, per event as the live runner applies one, and per batch under load.
    {
      name: 'apply a tool call: started, then succeeded (one event per commit)',
      run: async () => {
        for (const e of callEvents(randomUUID(), 17, 'succeeded')) await commit(toolCallsProjection, [e]);
      },
    },
    {
      name: 'apply a tool call batch (starts, outcomes, outcomes of calls already shown)',
      run: async () => {
        const fresh = Array.from({ length: 40 }, (_, i) =>
          callEvents(randomUUID(), i, i % 5 === 0 ? 'failed' : 'succeeded'),
        );
        // Calls started in an earlier batch, finishing in this one.
        const earlier = fresh.slice(0, 10).map(([started]) => started!);
        await commit(toolCallsProjection, earlier);
        const rest = fresh.flatMap((events, i) => (i < 10 ? events.slice(1) : events));
        await commit(toolCallsProjection, rest);
      },
    },
    {
      name: 'apply a server registration, update, disabling and removal (one event per commit)',
      run: async () => {
        const serverId = randomUUID();
        const stream = `server-${serverId}`;
        await commit(serversProjection, [registered(serverId, `new-${serverId}`)]);
        await commit(serversProjection, [
          recorded(stream, 1, 'ServerUpdated', { serverId, tags: ['tag-2'], updatedAt: at(1) }),
        ]);
        await commit(serversProjection, [
          recorded(stream, 2, 'ServerDisabled', { serverId, disabledAt: at(2) }),
        ]);
        await commit(serversProjection, [
          recorded(stream, 3, 'ServerRemoved', { serverId, name: `new-${serverId}`, removedAt: at(3) }),
        ]);
      },
    },
    {
      name: 'apply a batch of server events',
      run: async () => {
        const events = Array.from({ length: 20 }, () => {
          const serverId = randomUUID();
          return [
            registered(serverId, `batch-${serverId}`),
            recorded(`server-${serverId}`, 1, 'ServerEnabled', { serverId, enabledAt: at(1) }),
          ];
        }).flat();
        await commit(serversProjection, events);
      },
    },
    {
      name: 'apply a discovery: a new catalog replaces the old one',
      run: (run) => commit(catalogProjection, [discovered(known.server.id, 100 + run, TOOLS_PER_SERVER)]),
    },
    {
      name: 'apply a failed discovery, a tool change and its approval',
      run: async (run) => {
        const serverId = known.pinning;
        const stream = `catalog-${serverId}`;
        const base = 200 + run * 3;
        await commit(catalogProjection, [
          recorded(stream, base, 'DiscoveryFailed', {
            serverId,
            reason: 'connection refused',
            attempt: 1,
            willRetry: true,
            failedAt: at(base),
          }),
        ]);
        await commit(catalogProjection, [
          recorded(stream, base + 1, 'ToolDefinitionChanged', {
            serverId,
            tool: 'tool-1',
            previousHash: hex64('1'),
            newHash: hex64('2'),
            detectedAt: at(base + 1),
          }),
        ]);
        await commit(catalogProjection, [
          recorded(stream, base + 2, 'ToolDefinitionApproved', {
            serverId,
            tool: 'tool-1',
            hash: hex64('2'),
            approvedAt: at(base + 2),
          }),
        ]);
      },
    },
    {
      name: 'apply a catalog cleared (the server removed)',
      run: async () => {
        const serverId = randomUUID();
        await commit(catalogProjection, [discovered(serverId, 0, 3)]);
        await commit(catalogProjection, [
          recorded(`catalog-${serverId}`, 1, 'CatalogCleared', { serverId, clearedAt: at(1) }),
        ]);
      },
    },
    {
      name: 'apply a health transition',
      run: (run) =>
        commit(healthProjection, [
          recorded(`health-${known.server.id}`, 10 + run, 'ServerHealthChanged', {
            serverId: known.server.id,
            from: 'HEALTHY',
            to: run % 2 ? 'HEALTHY' : 'UNHEALTHY',
            latencyMs: 5,
            error: null,
            at: at(10 + run),
          }),
        ]),
    },
    {
      name: 'record a health probe',
      run: (run) =>
        recordHealthProbe(db, {
          serverId: known.server.id,
          status: 'HEALTHY',
          latencyMs: 3,
          checkedAt: at(1000 + run),
        }),
    },
    {
      name: 'checkpoint: read, ensure (a runner starting)',
      run: async () => {
        await readCheckpoint(db, 'tool_calls');
        await ensureCheckpoint(db, 'tool_calls', 1, new Date());
      },
    },

    // The gateway's reads.
    {
      name: 'catalog of every enabled server (what the MCP endpoints hold in memory)',
      run: () => listCatalog(db, { enabled: true }),
      // Reads every enabled server's catalog, items and tool approvals included: a full read, on
      // purpose. The gateway keeps it in memory (runtime/mcp-wiring.ts, catalogSource) and reloads
      // it only when the catalog or a server changes, or after its time-to-live; every tool call is
      // looked up there (serverByName, then the server's tools), not in the database.
      scans: [
        'server_tool_pins',
        'servers',
        'catalog_state',
        'server_tools',
        'server_resources',
        'server_resource_templates',
        'server_prompts',
      ],
    },
    {
      name: "one server's catalog",
      run: () => getServerCatalog(db, known.server.id),
    },
    {
      name: "one server's catalog, within its tenant",
      run: () => getServerCatalog(db, known.server.id, { tenant: known.server.tenant }),
    },
    { name: 'tools waiting for approval', run: () => listPendingTools(db, known.pinning) },
    { name: 'server by id (with health and stats)', run: () => getServer(db, known.caller.id) },
    {
      name: 'server by id, within its tenant',
      run: () => getServer(db, known.caller.id, { tenant: known.caller.tenant }),
    },
    { name: 'server by name (with health and stats)', run: () => getServerByName(db, known.caller.name) },
    {
      name: 'server by name, within its tenant',
      run: () => getServerByName(db, known.server.name, { tenant: known.server.tenant }),
    },
    { name: 'server id by name (a tool-call filter)', run: () => findServerIdByName(db, known.server.name) },
    {
      name: 'servers, first page and the next',
      run: async () => {
        const first = await listServers(db, { limit: 50 });
        await listServers(db, { limit: 50, cursor: first.nextCursor! });
      },
    },
    {
      name: "servers, a tenant's pages",
      run: async () => {
        const first = await listServers(db, { tenant: known.server.tenant, limit: 20 });
        await listServers(db, { tenant: known.server.tenant, limit: 20, cursor: first.nextCursor! });
      },
    },
    { name: 'servers with a tag', run: () => listServers(db, { tag: 'tag-7', limit: 50 }) },
    {
      name: 'servers, removed ones included',
      run: async () => {
        const first = await listServers(db, { includeRemoved: true, limit: 50 });
        await listServers(db, { includeRemoved: true, limit: 50, cursor: first.nextCursor! });
      },
    },
    {
      name: 'enabled servers (the health monitor)',
      run: () => listServers(db, { enabled: true, limit: 500 }),
    },
    {
      name: 'health of a page of servers',
      run: () => healthOfServers(db, [known.server.id, known.caller.id]),
    },
    { name: 'server stats', run: () => serverStats(db, known.caller.id) },
    {
      name: 'server stats, a tenant, a window',
      run: () =>
        serverStats(db, known.caller.id, {
          tenant: known.caller.tenant,
          since: new Date(known.call.startedAt.getTime() - 86_400_000),
        }),
    },
    {
      name: 'tool calls, first page and the next',
      run: async () => {
        const first = await listToolCalls(db, { limit: 50 });
        await listToolCalls(db, { limit: 50, cursor: first.nextCursor! });
      },
    },
    {
      name: 'tool calls of a server, paged',
      run: async () => {
        const first = await listToolCalls(db, { serverId: known.caller.id, limit: 20 });
        await listToolCalls(db, { serverId: known.caller.id, limit: 20, cursor: first.nextCursor! });
      },
    },
    {
      name: 'tool calls by the server name recorded on them',
      run: () => listToolCalls(db, { serverName: known.caller.name, limit: 20 }),
    },
    { name: 'tool calls of a tool', run: () => listToolCalls(db, { tool: 'tool-4', limit: 20 }) },
    { name: 'tool calls of an actor', run: () => listToolCalls(db, { actor: 'user-9', limit: 20 }) },
    { name: 'failed tool calls', run: () => listToolCalls(db, { status: 'failed', limit: 20 }) },
    { name: 'running tool calls', run: () => listToolCalls(db, { status: 'running', limit: 20 }) },
    {
      name: 'tool calls in a time window',
      run: () =>
        listToolCalls(db, {
          from: new Date(known.call.startedAt.getTime() - 3_600_000),
          to: known.call.startedAt,
          limit: 20,
        }),
    },
    {
      name: "a tenant's tool calls, paged",
      run: async () => {
        const first = await listToolCalls(db, { tenant: known.caller.tenant, limit: 20 });
        await listToolCalls(db, { tenant: known.caller.tenant, limit: 20, cursor: first.nextCursor! });
      },
    },
    {
      name: "a tenant's tool calls of a server, tool and status",
      run: () =>
        listToolCalls(db, {
          tenant: known.caller.tenant,
          serverId: known.caller.id,
          tool: 'tool-4',
          status: 'succeeded',
          limit: 20,
        }),
    },
    { name: 'one tool call', run: () => getToolCall(db, known.call.id) },
    {
      name: 'one tool call, within its tenant',
      run: () => getToolCall(db, known.call.id, { tenant: known.caller.tenant }),
    },
    {
      name: 'running calls started before a cutoff (the abandon sweep)',
      run: () => runningCallsStartedBefore(db, new Date(Date.UTC(2030, 0, 1))),
    },
    {
      // A gateway taking a session over, and the client's settings on it, on any gateway.
      name: 'shared MCP session: find, touch, log level, subscribe, unsubscribe',
      run: async (run) => {
        const sessions = sessionStore(db);
        const hash = hex64(`session-${run * 7}`).slice(0, 32);
        await sessions.find(hash, new Date(Date.UTC(2026, 0, 1)));
        await sessions.touch(hash);
        await sessions.setLogLevel(hash, 'error');
        await sessions.subscribe(hash, 'note://a', { serverId: known.server.id, uri: 'note://a' });
        await sessions.unsubscribe(hash, 'note://a');
      },
    },
    {
      name: 'shared MCP session: opened, ended; the idle ones expired',
      run: async (run) => {
        const sessions = sessionStore(db);
        const hash = randomUUID().replaceAll('-', '');
        await sessions.open({
          hash,
          principalId: 'user-1',
          tenant: 'default',
          scope: { kind: 'aggregate', prefix: 'always' },
          initialize: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 'c', version: '1' },
          },
          logLevel: undefined,
          subscriptions: {},
        });
        await sessions.end(hash);
        // The fill's sessions were last seen from 2026-01-01 on, a second apart: a few are idle.
        await sessions.expire(new Date(Date.UTC(2026, 0, 1, 0, 0, run)));
      },
    },
  ];

  describe.each(operations.map((o) => [o.name, o] as const))('%s', (_name, operation) => {
    it('has an index for every statement on a table of more than a few hundred rows', async () => {
      const plans = await plansOf(indexOnly, operation.run);
      expect(plans.length, 'auto_explain reported the statements').toBeGreaterThan(0);
      expect(scansOf(plans, SMALL, operation.scans)).toEqual([]);
    });

    it('uses it, as planned, on the tables that grow with use', async () => {
      const plans = await plansOf(planned, operation.run);
      expect(plans.length, 'auto_explain reported the statements').toBeGreaterThan(0);
      expect(scansOf(plans, LARGE, operation.scans)).toEqual([]);
    });
  });
});

/** The id the fill gives server `n` (the md5 of its name as a uuid, as `md5(...)::uuid` in SQL). */
function md5Uuid(text: string): string {
  const h = createHash('md5').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The read models of a busy installation: 2,000 servers (one in 20 removed, one in 10 disabled, one
 * in 40 pinning its tools, half in the default tenant, the rest spread over 24 others), a catalog
 * for each active one (10 tools, 3 resources, a template and 2 prompts), the health of each, and
 * 50,000 tool calls over 300 of them (one in 100 failed, one in 500 abandoned, the newest 40 still
 * running), ten seconds apart.
 */
async function fill(client: pg.Client): Promise<void> {
  // Open MCP sessions of a busy gateway fleet, one a second.
  await client.query(
    `INSERT INTO mcp_sessions (id_hash, principal_id, tenant, scope, initialize, log_level, subscriptions,
                               opened_at, last_seen)
     SELECT left(encode(sha256(('session-' || n)::bytea), 'hex'), 32), 'user-' || (n % 100), 'default',
            '{"kind":"aggregate","prefix":"always"}',
            '{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}',
            NULL, '{}', timestamptz '2026-01-01' + n * interval '1 second',
            timestamptz '2026-01-01' + n * interval '1 second'
       FROM generate_series(1, $1::int) AS n`,
    [SESSIONS],
  );
  const server = (n: string) => `md5('server-' || ${n})::uuid`;
  const tenant = (n: string) => `CASE WHEN ${n} % 2 = 0 THEN 'default' ELSE 'tenant-' || (${n} % 25) END`;
  await client.query(
    `INSERT INTO servers (id, name, description, transport_type, transport, tags, enabled, status, settings,
                          revision, position, created_at, updated_at, removed_at, tenant, owner)
     SELECT ${server('n')}, 'server-' || n, 'server number ' || n, 'stdio',
            '{"type":"stdio","command":"node","args":[],"env":{}}',
            ARRAY['tag-' || (n % 50), 'group-' || (n % 7)], n % 10 <> 3,
            CASE WHEN n % 20 = 0 THEN 'removed' ELSE 'active' END,
            CASE WHEN n % 40 = 1 THEN '{"pinTools":true}' ELSE '{}' END::jsonb,
            2, n, timestamptz '2026-01-01' + n * interval '1 minute', timestamptz '2026-01-02',
            CASE WHEN n % 20 = 0 THEN timestamptz '2026-01-03' END, ${tenant('n')}, 'owner-' || (n % 30)
       FROM generate_series(1, $1::int) AS n`,
    [SERVERS],
  );
  await client.query(
    `INSERT INTO catalog_state (server_id, hash, server_revision, server_info, protocol_version, capabilities,
                                discovered_at, cleared_at, revision, position, updated_at)
     SELECT ${server('n')}, CASE WHEN n % 20 = 0 THEN NULL ELSE md5(n::text) || md5(n::text) END, 0,
            '{"name":"fixture","version":"1.0.0"}', '2025-06-18', '{"tools":{},"resources":{},"prompts":{}}',
            timestamptz '2026-01-02', CASE WHEN n % 20 = 0 THEN timestamptz '2026-01-03' END, 1, n,
            timestamptz '2026-01-02'
       FROM generate_series(1, $1::int) AS n`,
    [SERVERS],
  );
  const active =
    'FROM generate_series(1, $1::int) AS n, generate_series(0, $2::int - 1) AS i WHERE n % 20 <> 0';
  await client.query(
    `INSERT INTO server_tools (server_id, name, ordinal, description, input_schema, definition)
     SELECT ${server('n')}, 'tool-' || i, i, 'does thing ' || i, '{"type":"object"}',
            jsonb_build_object('name', 'tool-' || i, 'description', 'does thing ' || i,
                               'inputSchema', '{"type":"object"}'::jsonb)
     ${active}`,
    [SERVERS, TOOLS_PER_SERVER],
  );
  await client.query(
    `INSERT INTO server_resources (server_id, uri, ordinal, name, definition)
     SELECT ${server('n')}, 'file:///r/' || i, i, 'r' || i, jsonb_build_object('uri', 'file:///r/' || i, 'name', 'r' || i)
     ${active}`,
    [SERVERS, 3],
  );
  await client.query(
    `INSERT INTO server_resource_templates (server_id, uri_template, ordinal, name, definition)
     SELECT ${server('n')}, 'file:///t/{x}', 0, 't', '{"uriTemplate":"file:///t/{x}","name":"t"}'
       FROM generate_series(1, $1::int) AS n WHERE n % 20 <> 0`,
    [SERVERS],
  );
  await client.query(
    `INSERT INTO server_prompts (server_id, name, ordinal, definition)
     SELECT ${server('n')}, 'prompt-' || i, i, jsonb_build_object('name', 'prompt-' || i)
     ${active}`,
    [SERVERS, 2],
  );
  await client.query(
    `INSERT INTO server_tool_pins (server_id, tool, approved_hash, approved_at, approved_by)
     SELECT ${server('n')}, 'tool-' || i, md5(i::text) || md5(i::text), timestamptz '2026-01-02', 'admin'
     ${active} AND n % 40 = 1`,
    [SERVERS, TOOLS_PER_SERVER],
  );
  await client.query(
    `INSERT INTO server_health (server_id, status, since, latency_ms, revision, position)
     SELECT ${server('n')}, CASE WHEN n % 13 = 0 THEN 'UNHEALTHY' ELSE 'HEALTHY' END, timestamptz '2026-01-02', 4, 0, n
       FROM generate_series(1, $1::int) AS n`,
    [SERVERS],
  );
  await client.query(
    `INSERT INTO server_health_probes (server_id, status, latency_ms, checked_at)
     SELECT ${server('n')}, 'HEALTHY', 3, timestamptz '2026-01-05' FROM generate_series(1, $1::int) AS n`,
    [SERVERS],
  );
  await client.query(
    `INSERT INTO tool_calls (id, server_id, server_name, tool, actor, via, session_id, status, is_error, arguments,
                             started_at, finished_at, duration_ms, result_bytes, result_hash, error,
                             abandon_reason, revision, position, tenant)
     SELECT md5('call-' || n)::uuid, ${server('s')}, 'server-' || s, 'tool-' || (n % $3::int), 'user-' || (n % 50),
            CASE WHEN n % 4 = 0 THEN 'rest' ELSE 'mcp' END, 'session-' || (n % 900), status, n % 37 = 0,
            jsonb_build_object('text', 'call ' || n), started,
            CASE WHEN status <> 'running' THEN started + interval '1 second' END,
            CASE WHEN status IN ('succeeded', 'failed') THEN n % 1000 END,
            CASE WHEN status = 'succeeded' THEN 100 + n % 900 END,
            CASE WHEN status = 'succeeded' THEN md5(n::text) || md5(n::text) END,
            CASE WHEN status = 'failed' THEN '{"kind":"timeout","code":"UPSTREAM.TIMEOUT","message":"no answer"}'::jsonb END,
            CASE WHEN status = 'abandoned' THEN 'gateway restarted' END,
            CASE WHEN status = 'running' THEN 0 ELSE 1 END, n, ${tenant('s')}
       FROM generate_series(1, $1::int) AS n,
            LATERAL (SELECT 1 + n % $2::int AS s,
                            timestamptz '2026-01-10' + n * interval '10 seconds' AS started,
                            CASE WHEN n > $1::int - 40 THEN 'running' WHEN n % 100 = 0 THEN 'failed'
                                 WHEN n % 500 = 1 THEN 'abandoned' ELSE 'succeeded' END AS status) AS k`,
    [CALLS, CALLING_SERVERS, TOOLS_PER_SERVER],
  );
}
