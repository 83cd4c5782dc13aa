import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { registerServerEvents } from '../domains/servers/index.ts';
import { createPostgresEventStore } from '../event-store/index.ts';
import { openPostgres, type SqlConnection } from '../event-store/postgres/connection.ts';
import type { EventMetadata, NewEvent } from '../kernel/envelope.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { createSecretBox, type SecretBox } from '../kernel/secrets.ts';
import { migrateEventStore } from '../migrations/migrate.ts';
import { migrateReadModels, type Projection } from '../projections/index.ts';
import type { BenchContext } from './context.ts';
import type { PhaseTimer } from './stats.ts';

export const registry = registerServerEvents(new EventTypeRegistry());
export const secrets: SecretBox = createSecretBox(randomBytes(32));

export function metadata(): EventMetadata {
  return {
    correlationId: randomUUID(),
    causationId: randomUUID(),
    actor: 'user:bench',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    schemaVersion: 1,
  };
}

/** A generic event of about the size of a ServerUpdated (≈ 250 bytes of data). */
export function smallEvent(i: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'ThingHappened',
    data: {
      thingId: randomUUID(),
      seq: i,
      description: 'a description of about the length people actually write for an MCP server',
      tags: ['bench', 'scm', 'github'],
      updatedAt: new Date().toISOString(),
    },
    metadata: metadata(),
  };
}

/**
 * The events of one server's life as the servers domain writes them (validated against its
 * schemas): a registration with a sealed secret, then `count - 1` updates.
 */
export function serverLife(serverId: string, n: number, count: number): NewEvent[] {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
  const events: NewEvent[] = [
    {
      id: randomUUID(),
      type: 'ServerRegistered',
      data: registry.validate('ServerRegistered', {
        serverId,
        name: `bench-server-${n}`,
        description: 'GitHub tools for the benchmark',
        transport: {
          type: 'stdio',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-github'],
          env: { GITHUB_TOKEN: secrets.encrypt(`ghp_${n}_secret`) },
        },
        tags: ['scm', 'github'],
        enabled: true,
        settings: { callTimeoutMs: 30_000 },
        registeredAt: at,
      }),
      metadata: metadata(),
    },
  ];
  for (let i = 1; i < count; i++) {
    events.push({
      id: randomUUID(),
      type: 'ServerUpdated',
      data: registry.validate('ServerUpdated', {
        serverId,
        description: `revision ${i} of the description of server ${n}`,
        tags: ['scm', 'github', `v${i}`],
        updatedAt: at,
      }),
      metadata: metadata(),
    });
  }
  return events;
}

export interface PgStore {
  url: string;
  sql: SqlConnection;
  store: EventStore;
  close(): Promise<void>;
}

/** A fresh database with the event store and the read models migrated, and the store on it. */
export async function openPgStore(ctx: BenchContext, what: string, max = 24): Promise<PgStore> {
  const { url } = await ctx.createDatabase(what);
  const sql = openPostgres({ url, max });
  await migrateEventStore(sql.db);
  await migrateReadModels(sql.db);
  const store = createPostgresEventStore({ connection: sql });
  return {
    url,
    sql,
    store,
    async close() {
      await store.close();
      await sql.close();
    },
  };
}

export interface ServerLog extends PgStore {
  /** Events in the log. */
  count: number;
  /** Of which server events (the rest are tool-call events of another category). */
  serverEvents: number;
  head: bigint;
  /** Mean time of a filtered readAll page (200 server events) before and after ANALYZE. */
  filteredPageMs: { beforeAnalyze: number; afterAnalyze: number; autoAnalyzedBefore: boolean };
}

let serverLogPromise: Promise<ServerLog> | undefined;

async function filteredPageMs(store: EventStore): Promise<number> {
  const filter = { categories: ['server'], types: ['ServerRegistered', 'ServerUpdated'] };
  const t0 = performance.now();
  let after = 0n;
  for (let i = 0; i < 5; i++) {
    const page = await store.readAll({ after, maxCount: 200, filter });
    after = page.at(-1)?.position ?? after;
  }
  return (performance.now() - t0) / 5;
}

/**
 * One log shared by the replay, relay and rebuild benchmarks of a run: half server events
 * (servers × 10, each server's events in one append), half tool-call events of another category
 * (10 per append), interleaved. Finally ANALYZEd, as a long-running database would be.
 */
export function serverLog(ctx: BenchContext): Promise<ServerLog> {
  serverLogPromise ??= (async () => {
    const perAppend = 10;
    const count = ctx.scale(100_000, 20_000);
    const appends = count / perAppend;
    const db = await openPgStore(ctx, 'log');
    ctx.log(`filling the shared log: ${count} events (half of them server events), ${perAppend} per append`);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < appends) {
          const n = next++;
          const id = randomUUID();
          if (n % 2 === 0) {
            await db.store.append(`server-${id}`, serverLife(id, n, perAppend), 'no-stream');
          } else {
            const events = Array.from({ length: perAppend }, (_, k) => ({
              ...smallEvent(k),
              type: 'ToolCalled',
            }));
            await db.store.append(`toolcall-${id}`, events, 'no-stream');
          }
        }
      }),
    );
    const head = await db.store.headPosition();
    ctx.log(`filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const { rows } = await sql<{ analyzed: boolean }>`
      SELECT last_autoanalyze IS NOT NULL AS analyzed FROM pg_stat_user_tables
      WHERE schemaname = 'sy_es' AND relname = 'events'`.execute(db.sql.db);
    const beforeAnalyze = await filteredPageMs(db.store);
    await sql`ANALYZE sy_es.events`.execute(db.sql.db);
    const afterAnalyze = await filteredPageMs(db.store);
    const log: ServerLog = {
      ...db,
      count,
      serverEvents: count / 2,
      head,
      filteredPageMs: { beforeAnalyze, afterAnalyze, autoAnalyzedBefore: rows[0]?.analyzed ?? false },
    };
    return log;
  })();
  return serverLogPromise;
}

export async function closeServerLog(): Promise<void> {
  const p = serverLogPromise;
  serverLogPromise = undefined;
  if (p) await (await p.catch(() => undefined))?.close();
}

/**
 * The projection with its `apply` and `applyBatch` calls timed under `phase` (items = events), so a
 * benchmark can say how much of its time the read-model writes take, whichever path the runner uses.
 */
export function timedProjection(projection: Projection, timer: PhaseTimer, phase: string): Projection {
  const { applyBatch } = projection;
  return {
    ...projection,
    apply: (trx, event, tables) => timer.time(phase, () => projection.apply(trx, event, tables)),
    ...(applyBatch && {
      applyBatch: (trx, events, tables) =>
        timer.time(phase, () => applyBatch.call(projection, trx, events, tables), events.length),
    }),
  };
}
