import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { sql } from 'kysely';
import nats from 'nats';
import pg from 'pg';
import type { BusNames } from '../bus/bus.port.ts';
import { createNatsBus } from '../bus/nats/nats.bus.ts';
import { EVENT_HEADERS } from '../bus/nats/nats-publish.ts';
import { subjectOf } from '../bus/subjects.ts';
import { encodeEvent } from '../bus/wire.ts';
import { makeServerCommands } from '../domains/servers/handlers.ts';
import { parseRegistration } from '../domains/servers/index.ts';
import { createPostgresEventStore } from '../event-store/index.ts';
import { openPGlite } from '../event-store/postgres/connection.ts';
import { systemClock } from '../kernel/clock.ts';
import type { NewEvent, RecordedEvent } from '../kernel/envelope.ts';
import { silentLogger } from '../kernel/logger.ts';
import { migrateEventStore } from '../migrations/migrate.ts';
import { BASELINE_DDL, INSERT_ONE } from './append.bench.ts';
import type { BenchContext } from './context.ts';
import { openPgStore, registry, secrets, serverLife, smallEvent } from './fixtures.ts';
import { closedLoop, latency, type Operation, throughput } from './load.ts';
import type { BenchResult, Row } from './report.ts';

/**
 * Diagnosis, not a headline figure (run it by name: `npm run bench -- anatomy`). Takes the bare
 * INSERT transaction and adds the Postgres store's ingredients one at a time, through raw pg with
 * the store's own SQL (event-store/postgres/append.ts), at 1 and 16 writers — so the cost of each step
 * is measured rather than guessed. Also counts the SQL statements one RegisterServer command sends,
 * and takes the relay's publish to JetStream apart the same way.
 */

const POSITION_STRIDE = '1048576';
const LOCK_NAMESPACE = 0x5359_4553;

// As the store does: register as an appender (the events table refuses others), then the stream lock.
const LOCK = `SELECT sy_es.register_appender(), pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext($1))`;
const READ_STATE = `SELECT pg_current_xact_id()::text AS tx_id,
  (SELECT revision FROM sy_es.streams WHERE stream_name = $1) AS revision,
  COALESCE((SELECT json_agg(json_build_object('id', id, 'stream', stream, 'revision', revision::text,
    'position', position::text)) FROM sy_es.events WHERE id = ANY($2::uuid[])), '[]'::json) AS stored`;

function writeSql(notify: boolean): string {
  return `WITH appended AS (
    INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
    SELECT pg_current_xact_id()::text::bigint * ${POSITION_STRIDE}::bigint + e.ord - 1,
           pg_current_xact_id(), e.id, $1, 'anatomy', $2::bigint + e.ord - 1, e.type, e.data::jsonb, e.metadata::jsonb
    FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(id, type, data, metadata, ord)
  ), advanced AS (
    INSERT INTO sy_es.streams (stream_name, revision) VALUES ($1, $7::bigint)
    ON CONFLICT (stream_name) DO UPDATE SET revision = EXCLUDED.revision
  )
  SELECT ${notify ? `pg_notify('sy_es_appended', '')` : '1'}`;
}

function writeParams(stream: string, revision: number, e: NewEvent): unknown[] {
  return [
    stream,
    revision,
    [e.id],
    [e.type],
    [JSON.stringify(e.data)],
    [JSON.stringify(e.metadata)],
    revision,
  ];
}

export async function anatomyBench(ctx: BenchContext): Promise<BenchResult> {
  const db = await openPgStore(ctx, 'anatomy', 24);
  const pool = new pg.Pool({ connectionString: db.url, max: 24 });
  const rows: Row[] = [];
  const notes: BenchResult['notes'] = [];
  try {
    for (const ddl of BASELINE_DDL) await pool.query(ddl);
    const revisions = new Map<string, number>();
    const next = (variant: string, w: number, i: number) => {
      const stream = `anatomy-${variant}-w${w}s${i % 100}`;
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      return { stream, revision };
    };
    const tx =
      (
        variant: string,
        steps: (c: pg.PoolClient, stream: string, revision: number, e: NewEvent) => Promise<void>,
      ) =>
      async (w: number, i: number) => {
        const { stream, revision } = next(variant, w, i);
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          await steps(c, stream, revision, smallEvent(i));
          await c.query('COMMIT');
        } finally {
          c.release();
        }
      };
    const variants: Array<[string, Operation]> = [
      [
        'bare INSERT tx (3 statements)',
        tx('bare', async (c, s, r, e) => {
          await c.query(INSERT_ONE, [e.id, s, r, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]);
        }),
      ],
      [
        '+ advisory stream lock (4)',
        tx('lock', async (c, s, r, e) => {
          await c.query(LOCK, [s]);
          await c.query(INSERT_ONE, [e.id, s, r, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]);
        }),
      ],
      [
        "+ the store's state read (5)",
        tx('state', async (c, s, r, e) => {
          await c.query(LOCK, [s]);
          await c.query(READ_STATE, [s, [e.id]]);
          await c.query(INSERT_ONE, [e.id, s, r, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]);
        }),
      ],
      [
        "+ the store's write into sy_es, no NOTIFY (5)",
        tx('write', async (c, s, r, e) => {
          await c.query(LOCK, [s]);
          await c.query(READ_STATE, [s, [e.id]]);
          await c.query(writeSql(false), writeParams(s, r, e));
        }),
      ],
      [
        "+ pg_notify = the store's SQL, raw pg (5)",
        tx('notify', async (c, s, r, e) => {
          await c.query(LOCK, [s]);
          await c.query(READ_STATE, [s, [e.id]]);
          await c.query(writeSql(true), writeParams(s, r, e));
        }),
      ],
      [
        "the store's SQL, pg_notify after COMMIT instead (6)",
        async (w, i) => {
          const { stream, revision } = next('after', w, i);
          const e = smallEvent(i);
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query(LOCK, [stream]);
            await c.query(READ_STATE, [stream, [e.id]]);
            await c.query(writeSql(false), writeParams(stream, revision, e));
            await c.query('COMMIT');
            await c.query(`SELECT pg_notify('sy_es_appended', '')`);
          } finally {
            c.release();
          }
        },
      ],
      [
        'bare INSERT tx + pg_notify (3)',
        tx('barenotify', async (c, s, r, e) => {
          await c.query(
            `WITH i AS (${INSERT_ONE} RETURNING 1) SELECT pg_notify('sy_es_appended', '') FROM i`,
            [e.id, s, r, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)],
          );
        }),
      ],
      [
        'store.append (Kysely, the real thing)',
        async (w, i) => {
          const { stream, revision } = next('store', w, i);
          await db.store.append(stream, [smallEvent(i)], revision === 0 ? 'no-stream' : BigInt(revision - 1));
        },
      ],
    ];
    const sliceMs = ctx.scale(2_000, 750);
    const rounds = 2;
    for (const concurrency of [1, 16]) {
      ctx.log(`anatomy: ${variants.length} variants × ${rounds} rounds at ${concurrency} writer(s)`);
      for (const [, op] of variants) await closedLoop(op, concurrency, 300);
      const totals = variants.map(() => ({ ops: 0, elapsedMs: 0, latencies: [] as number[], cpuUs: 0 }));
      for (let r = 0; r < rounds; r++) {
        for (const [k, [, op]] of variants.entries()) {
          const cpu = process.cpuUsage();
          const res = await closedLoop(op, concurrency, sliceMs);
          const used = process.cpuUsage(cpu);
          const t = totals[k]!;
          t.ops += res.ops;
          t.elapsedMs += res.elapsedMs;
          t.latencies.push(...res.latencies);
          t.cpuUs += used.user + used.system;
        }
      }
      const bare = throughput(totals[0]!);
      for (const [k, [label]] of variants.entries()) {
        const t = totals[k]!;
        rows.push({
          bench: 'anatomy',
          metric: `${label}, ${concurrency} writer${concurrency > 1 ? 's' : ''} (p50 ${latency(t).p50.toFixed(2)} ms, node CPU ${Math.round(t.cpuUs / t.ops)} µs/tx)`,
          unit: 'tx/s',
          value: throughput(t),
          baseline: bare,
          baselineLabel: 'bare INSERT tx',
          better: 'higher',
        });
      }
    }

    // Statements per RegisterServer command, counted at the driver.
    const commands = makeServerCommands({ store: db.store, registry, secrets, clock: systemClock });
    const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const original = proto.query;
    let statements = 0;
    proto.query = function (this: unknown, ...args: unknown[]) {
      statements++;
      return original.apply(this, args);
    };
    const n = 50;
    let ms = 0;
    try {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await commands.register(
          parseRegistration({
            name: `anatomy-${i}`,
            transport: { type: 'stdio', command: 'npx', args: [], env: { TOKEN: 'x' } },
          }),
          { commandId: randomUUID(), actor: 'user:bench', correlationId: randomUUID(), issuedAt: new Date() },
        );
        ms += performance.now() - t0;
      }
    } finally {
      proto.query = original;
    }
    rows.push(...(await pgliteAnatomy(ctx)));
    rows.push(...(await publishAnatomy(ctx)));
    notes.push({
      bench: 'anatomy',
      text: `one RegisterServer command sends ${(statements / n).toFixed(1)} SQL statements (counted at pg.Client.query, 1 writer, ${(ms / n).toFixed(1)} ms per command); the bare INSERT transaction sends 3`,
    });
    return { rows, notes };
  } finally {
    await pool.end();
    await db.close();
  }
}

/** Builds RecordedEvents shaped like the shared log's (server lives), without a store. */
function syntheticEvents(count: number): RecordedEvent[] {
  const out: RecordedEvent[] = [];
  for (let n = 0; out.length < count; n++) {
    const id = randomUUID();
    for (const [k, e] of serverLife(id, n, 10).entries()) {
      out.push({
        ...e,
        stream: `server-${id}`,
        revision: BigInt(k),
        position: BigInt(out.length + 1),
        recordedAt: new Date(),
      });
    }
  }
  return out.slice(0, count);
}

/**
 * The relay's publish, taken apart: bare js.publish of pre-encoded payloads (msgID only), then
 * encoding in the loop, then the relay's seven Sy-* headers, then Nats-Expected-Last-Msg-Id (=
 * what bus.publish sends), then bus.publish itself; `WINDOW` messages in flight, acks awaited
 * together. Each variant publishes into a fresh stream configured like the bus's.
 */
async function publishAnatomy(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.scale(20_000, 5_000);
  const window = 500;
  const events = syntheticEvents(count);
  const nc = await nats.connect({ servers: ctx.natsUrl, name: 'switchyard-bench-anatomy' });
  const rows: Row[] = [];
  try {
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    const headersOf = (e: RecordedEvent) => {
      const h = nats.headers();
      h.set(EVENT_HEADERS.eventId, e.id);
      h.set(EVENT_HEADERS.eventType, e.type);
      h.set(EVENT_HEADERS.stream, e.stream);
      h.set(EVENT_HEADERS.revision, e.revision.toString());
      h.set(EVENT_HEADERS.position, e.position.toString());
      h.set(EVENT_HEADERS.correlationId, e.metadata.correlationId);
      if (e.metadata.traceparent) h.set(EVENT_HEADERS.traceparent, e.metadata.traceparent);
      return h;
    };
    type Publisher = (names: BusNames) => Promise<void>;
    /** Set by each publisher: the time spent publishing, stream creation excluded. */
    let elapsed = 0;
    const raw =
      (opts: { encode: boolean; headers: boolean; expect: boolean }): Publisher =>
      async (names) => {
        await jsm.streams.add({
          name: names.eventsStream,
          subjects: [`${names.subjectPrefix}.events.>`],
          storage: nats.StorageType.File,
          retention: nats.RetentionPolicy.Limits,
          discard: nats.DiscardPolicy.Old,
          duplicate_window: nats.nanos(120_000),
        });
        const encoded = opts.encode ? [] : events.map((e) => encodeEvent(e));
        const t0 = performance.now();
        for (let i = 0; i < events.length; i += window) {
          await Promise.all(
            events.slice(i, i + window).map((e, k) => {
              const previous = events[i + k - 1];
              return js.publish(subjectOf(names, e), opts.encode ? encodeEvent(e) : encoded[i + k], {
                msgID: e.id,
                ...(opts.headers && { headers: headersOf(e) }),
                ...(opts.expect && {
                  expect: previous
                    ? { streamName: names.eventsStream, lastMsgID: previous.id }
                    : { streamName: names.eventsStream },
                }),
              });
            }),
          );
        }
        elapsed = performance.now() - t0;
      };
    const variants: Array<[string, Publisher]> = [
      ['bare js.publish, payload pre-encoded, msgID', raw({ encode: false, headers: false, expect: false })],
      ['+ encodeEvent in the loop', raw({ encode: true, headers: false, expect: false })],
      ['+ the 7 Sy-* headers', raw({ encode: true, headers: true, expect: false })],
      ['+ expected last msg id (= bus.publish)', raw({ encode: true, headers: true, expect: true })],
      [
        'bus.publish itself',
        async (names) => {
          const bus = await createNatsBus({ connection: nc, names, logger: silentLogger() });
          const t0 = performance.now();
          for (let i = 0; i < events.length; i += window) await bus.publish(events.slice(i, i + window));
          elapsed = performance.now() - t0;
          await bus.close();
        },
      ],
    ];
    ctx.log(`anatomy: publishing ${count} events to JetStream, ${variants.length} variants`);
    const totals = variants.map(() => 0);
    for (let r = 0; r < 2; r++) {
      for (const [k, [, publish]] of variants.entries()) {
        await publish(ctx.busNames(`anat${r}${k}`));
        totals[k]! += elapsed;
      }
    }
    const bare = (2 * count * 1000) / totals[0]!;
    for (const [k, [label]] of variants.entries()) {
      rows.push({
        bench: 'anatomy',
        metric: `${label}, ${window} in flight`,
        unit: 'events/s',
        value: (2 * count * 1000) / totals[k]!,
        baseline: bare,
        baselineLabel: 'bare js.publish',
        better: 'higher',
      });
    }
    return rows;
  } finally {
    await nc.close();
  }
}

/**
 * The same decomposition on PGlite (embedded mode, data on disk), 1 writer: the store first, then
 * bare PGlite (no Kysely, no mutex) on the same data directory with the store's SQL step by step.
 */
async function pgliteAnatomy(ctx: BenchContext): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sy-bench-anatomy-'));
  const count = ctx.scale(1_000, 300);
  try {
    ctx.log('anatomy: PGlite, store.append then its SQL step by step');
    const connection = await openPGlite({ dataDir: join(dir, 'db') });
    await migrateEventStore(connection.db);
    const store = createPostgresEventStore({ connection });
    for (const ddl of BASELINE_DDL) await sql.raw(ddl).execute(connection.db);
    const timeIt = async (fn: (i: number) => Promise<void>) => {
      for (let i = 0; i < 50; i++) await fn(count + i);
      const t0 = performance.now();
      for (let i = 0; i < count; i++) await fn(i);
      return (count * 1000) / (performance.now() - t0);
    };
    const storeRate = await timeIt((i) =>
      store.append(`pglite-store-${i}`, [smallEvent(i)], 'no-stream').then(() => {}),
    );
    await store.close();
    await connection.close();
    const p = await PGlite.create(join(dir, 'db'), { parsers: { [types.INT8]: (v: string) => v } });
    const inTx =
      (variant: string, steps: (s: string, e: NewEvent) => Promise<unknown>) => async (i: number) => {
        const s = `pglite-${variant}-${i}`;
        await p.query('BEGIN');
        await steps(s, smallEvent(i));
        await p.query('COMMIT');
      };
    const row = (s: string, e: NewEvent) => [
      e.id,
      s,
      0,
      e.type,
      JSON.stringify(e.data),
      JSON.stringify(e.metadata),
    ];
    const variants: Array<[string, (i: number) => Promise<void>]> = [
      ['bare PGlite INSERT tx (3 statements)', inTx('bare', (s, e) => p.query(INSERT_ONE, row(s, e)))],
      [
        '+ advisory stream lock (4)',
        inTx('lock', async (s, e) => {
          await p.query(LOCK, [s]);
          await p.query(INSERT_ONE, row(s, e));
        }),
      ],
      [
        "+ the store's state read (5)",
        inTx('state', async (s, e) => {
          await p.query(LOCK, [s]);
          await p.query(READ_STATE, [s, [e.id]]);
          await p.query(INSERT_ONE, row(s, e));
        }),
      ],
      [
        "+ the store's write into sy_es, no NOTIFY (5)",
        inTx('write', async (s, e) => {
          await p.query(LOCK, [s]);
          await p.query(READ_STATE, [s, [e.id]]);
          await p.query(writeSql(false), writeParams(s, 0, e));
        }),
      ],
      [
        "+ pg_notify = the store's SQL, bare PGlite (5)",
        inTx('notify', async (s, e) => {
          await p.query(LOCK, [s]);
          await p.query(READ_STATE, [s, [e.id]]);
          await p.query(writeSql(true), writeParams(s, 0, e));
        }),
      ],
    ];
    const rates: number[] = [];
    for (const [, fn] of variants) rates.push(await timeIt(fn));
    await p.close();
    const bare = rates[0]!;
    const rows: Row[] = variants.map(([label], k) => ({
      bench: 'anatomy',
      metric: `PGlite: ${label}, 1 writer`,
      unit: 'tx/s',
      value: rates[k]!,
      baseline: bare,
      baselineLabel: 'bare PGlite INSERT tx',
      better: 'higher',
    }));
    rows.push({
      bench: 'anatomy',
      metric: 'PGlite: store.append (Kysely + mutex, the real thing), 1 writer',
      unit: 'tx/s',
      value: storeRate,
      baseline: bare,
      baselineLabel: 'bare PGlite INSERT tx',
      better: 'higher',
    });
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
