import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { makeServerCommands } from '../domains/servers/handlers.ts';
import { systemClock } from '../kernel/clock.ts';
import type { NewEvent } from '../kernel/envelope.ts';
import { BASELINE_DDL, INSERT_ONE } from './append.bench.ts';
import type { BenchContext } from './context.ts';
import { openPgStore, registry, secrets, smallEvent } from './fixtures.ts';
import { closedLoop, latency, type Operation, throughput } from './load.ts';
import type { BenchResult, Row } from './report.ts';

/**
 * Diagnosis, not a headline figure (run it by name: `npm run bench -- anatomy`). Takes the bare
 * INSERT transaction and adds the Postgres store's ingredients one at a time, through raw pg with
 * the store's own SQL (event-store/postgres/append.ts), at 16 writers — so the cost of each step
 * is measured rather than guessed. Also counts the SQL statements one RegisterServer command sends.
 */

const POSITION_STRIDE = '1048576';
const LOCK_NAMESPACE = 0x5359_4553;

const LOCK = `SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext($1))`;
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
    const concurrency = 16;
    const sliceMs = ctx.scale(2_000, 750);
    const rounds = 2;
    ctx.log(`anatomy: ${variants.length} variants × ${rounds} rounds at ${concurrency} writers`);
    for (const [, op] of variants) await closedLoop(op, concurrency, 300);
    const totals = variants.map(() => ({ ops: 0, elapsedMs: 0, latencies: [] as number[] }));
    for (let r = 0; r < rounds; r++) {
      for (const [k, [, op]] of variants.entries()) {
        const res = await closedLoop(op, concurrency, sliceMs);
        const t = totals[k]!;
        t.ops += res.ops;
        t.elapsedMs += res.elapsedMs;
        t.latencies.push(...res.latencies);
      }
    }
    const bare = throughput(totals[0]!);
    for (const [k, [label]] of variants.entries()) {
      const t = totals[k]!;
      rows.push({
        bench: 'anatomy',
        metric: `${label}, ${concurrency} writers (p50 ${latency(t).p50.toFixed(1)} ms)`,
        unit: 'tx/s',
        value: throughput(t),
        baseline: bare,
        baselineLabel: 'bare INSERT tx',
        better: 'higher',
      });
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
          {
            name: `anatomy-${i}`,
            transport: { type: 'stdio', command: 'npx', args: [], env: { TOKEN: 'x' } },
          },
          { commandId: randomUUID(), actor: 'user:bench', correlationId: randomUUID(), issuedAt: new Date() },
        );
        ms += performance.now() - t0;
      }
    } finally {
      proto.query = original;
    }
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
