import { randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { migrateEventStore } from '../../migrations/migrate.ts';
import { type Explained, explainingPool, type Plan, seqScans } from '../../test/plans.ts';
import { createTestDatabase, hasPostgres } from '../../test/services.ts';
import type { SqlConnection } from './connection.ts';
import { createPostgresEventStore } from './postgres.event-store.ts';
import { readLogPage, readLogPageSerialized } from './read.ts';
import type { EventStoreTables } from './schema.ts';

/**
 * Every query on the store's hot path must use an index: with a full scan, an append or a poll costs
 * more as the log grows (issue 10 found the held-back check reading the whole table on every
 * append). The store runs its real operations against a log of 50,000 events with fresh statistics,
 * while auto_explain hands the plan of every statement it runs — functions' inner statements
 * included — back to the test, which refuses any sequential scan of sy_es.events or sy_es.streams.
 * Each operation runs several times, so plans PostgreSQL caches and re-plans generically count too.
 */
const EVENTS = 50_000;
const RUNS = 7;

const metadata = { correlationId: 'c', causationId: 'k', actor: 'test', schemaVersion: 1 };
const event = (type: string): NewEvent => ({ id: randomUUID(), type, data: { n: 1 }, metadata });

// Statistics: fresh (ANALYZE after the fill), and none at all, as on a young or fast-growing table
// that autovacuum has not analyzed yet — where the held-back check used to scan the whole table.
describe.skipIf(!hasPostgres()).each([
  ['analyzed', true],
  ['never analyzed', false],
])('Postgres event store: every hot query uses an index, statistics %s (pg)', (_label, analyzed) => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let db: Kysely<EventStoreTables>;
  let store: EventStore;
  let explained: Explained[] = [];
  let nearHead: bigint;
  let lastTemplate: bigint;

  beforeAll(async () => {
    database = await createTestDatabase('sy_es_plans');
    const setup = new pg.Client({ connectionString: database.url });
    await setup.connect();
    try {
      const migrator = new Kysely({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }),
      });
      await migrateEventStore(migrator);
      await migrator.destroy();
      if (!analyzed) {
        await setup.query('ALTER TABLE sy_es.events SET (autovacuum_enabled = false)');
        await setup.query('ALTER TABLE sy_es.streams SET (autovacuum_enabled = false)');
      }
      await fill(setup);
      if (analyzed) {
        await setup.query('ANALYZE sy_es.events');
        await setup.query('ANALYZE sy_es.streams');
      }
      // A caught-up reader is a hundred events behind the head.
      const { rows } = await setup.query<{ near_head: string; template: string }>(
        `SELECT (SELECT position FROM sy_es.events ORDER BY position DESC OFFSET 100 LIMIT 1)::text AS near_head,
                (SELECT max(position) FROM sy_es.events WHERE category = 'template')::text AS template`,
      );
      nearHead = BigInt(rows[0]!.near_head);
      lastTemplate = BigInt(rows[0]!.template);
    } finally {
      await setup.end();
    }

    pool = explainingPool(database.url, (e) => explained.push(e));
    db = new Kysely<EventStoreTables>({ dialect: new PostgresDialect({ pool }) });
    const connection: SqlConnection = {
      kind: 'pg',
      db,
      listen: async () => async () => {},
      close: () => db.destroy(),
    };
    store = createPostgresEventStore({ connection });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await db?.destroy();
    await database?.drop();
  });

  /** Runs `operation` RUNS times and returns the plans of the statements it sent that touch sy_es. */
  async function plansOf(operation: (run: number) => Promise<unknown>): Promise<Explained[]> {
    explained = [];
    for (let run = 0; run < RUNS; run++) await operation(run);
    // Notices of the last statement can trail its result by a tick.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return explained.filter((e) => /sy_es"?\."?(events|streams)/.test(e.text));
  }

  const operations: Array<[string, (run: number) => Promise<unknown>]> = [
    [
      'append to a new stream',
      () => store.append(`toolcall-${randomUUID()}`, [event('started')], 'no-stream'),
    ],
    [
      'append at an expected revision',
      async (run) => {
        const stream = `server-plans-${run}`;
        await store.append(stream, [event('registered')], 'no-stream');
        await store.append(stream, [event('renamed')], 0n);
      },
    ],
    [
      'append replayed (idempotency lookup)',
      async () => {
        const events = [event('started')];
        const stream = `toolcall-${randomUUID()}`;
        await store.append(stream, events, 'no-stream');
        await store.append(stream, events, 'no-stream');
      },
    ],
    [
      'append to many streams at once',
      (run) =>
        store.appendMany([
          ...Array.from({ length: 10 }, () => ({
            stream: `toolcall-${randomUUID()}`,
            events: [event('started'), event('succeeded')],
            expected: 'no-stream' as const,
          })),
          { stream: `server-many-${run}`, events: [event('registered')], expected: 'any' },
          { stream: 'toolcall-4000', events: [event('recorded')], expected: 'stream-exists' },
        ]),
    ],
    ['read a stream forwards', () => store.readStream('toolcall-4000')],
    [
      'read a stream backwards',
      () => store.readStream('toolcall-4000', { direction: 'backwards', maxCount: 1 }),
    ],
    [
      'read a stream from a revision',
      () => store.readStream('toolcall-4000', { fromRevision: 1n, maxCount: 10 }),
    ],
    ['stream revision', () => store.streamRevision('toolcall-4000')],
    ['read all, caught up', () => store.readAll({ after: nearHead })],
    ['read all from the start (a rebuild)', () => store.readAll({ after: 0n })],
    [
      'read a category, caught up',
      () => store.readAll({ after: nearHead, filter: { categories: ['toolcall'] } }),
    ],
    [
      'read an idle category (its events long behind)',
      () => store.readAll({ after: lastTemplate, filter: { categories: ['template'] } }),
    ],
    [
      'read several categories and types',
      () =>
        store.readAll({
          after: nearHead,
          filter: { categories: ['server', 'template'], types: ['registered'] },
        }),
    ],
    ['head position', () => store.headPosition()],
    ['count after (lag)', () => store.countAfter(nearHead)],
    ['count a category after (lag)', () => store.countAfter(lastTemplate, { categories: ['template'] })],
    ['caught up (a read-your-writes wait)', () => store.caughtUp(nearHead, nearHead + 2n ** 21n)],
    [
      'caught up, an idle category',
      () => store.caughtUp(lastTemplate, nearHead, { categories: ['template'] }),
    ],
    ['caught up, no events yet', () => store.caughtUp(0n, nearHead, { categories: ['deployment'] })],
    ['read a category with no events yet', () => store.readAll({ filter: { categories: ['deployment'] } })],
    [
      "a subscription's page (the live tail), with its held-back check",
      () => readLogPage(db, { after: nearHead }),
    ],
    [
      "a subscription's page, a category",
      () => readLogPage(db, { after: nearHead, filter: { categories: ['toolcall'] } }),
    ],
    [
      "a subscription's page, an idle category",
      () => readLogPage(db, { after: lastTemplate, filter: { categories: ['template'] } }),
    ],
    [
      "a subscription's page, no events yet",
      () => readLogPage(db, { after: 0n, filter: { categories: ['deployment'] } }),
    ],
    // PGlite's read (one transaction at a time), planned here by the same PostgreSQL.
    ["a subscription's page, serialized", () => readLogPageSerialized(db, { after: nearHead })],
    [
      "a subscription's page, serialized, an idle category",
      () => readLogPageSerialized(db, { after: lastTemplate, filter: { categories: ['template'] } }),
    ],
  ];

  it.each(operations)('%s', async (_name, operation) => {
    const plans = await plansOf(operation);
    expect(plans.length, 'auto_explain reported the statements').toBeGreaterThan(0);
    const scans = plans.flatMap((e) =>
      storeScans(e.plan).map((table) => `${table} in: ${e.text.replace(/\s+/g, ' ').slice(0, 300)}`),
    );
    expect(scans).toEqual([]);
  });
});

/** Sequential scans of the store's tables. */
function storeScans(plan: Plan): string[] {
  return seqScans(plan)
    .filter((t) => t === 'events' || t === 'streams')
    .map((t) => `sy_es.${t}`);
}

/**
 * 50,000 events in 50 transactions of 1,000, written as the store writes them (registered, position
 * = transaction id × 2^20 + index): a few template events first (then never again, as idle
 * projections see them), some server events, and tool calls of three events each.
 */
async function fill(client: pg.Client): Promise<void> {
  for (let batch = 0; batch < EVENTS / 1000; batch++) {
    await client.query('BEGIN');
    await client.query('SELECT sy_es.register_appender()');
    await client.query(
      `INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
       SELECT pg_current_xact_id()::text::bigint * 1048576 + g, pg_current_xact_id(), gen_random_uuid(),
              CASE WHEN n < 3 THEN 'template-' || n
                   WHEN n % 25 = 0 THEN 'server-' || (n / 25)
                   ELSE 'toolcall-' || (n / 3) END,
              CASE WHEN n < 3 THEN 'template' WHEN n % 25 = 0 THEN 'server' ELSE 'toolcall' END,
              CASE WHEN n < 3 OR n % 25 = 0 THEN 0 ELSE n % 3 END,
              CASE WHEN n < 3 THEN 'published' WHEN n % 25 = 0 THEN 'registered'
                   ELSE (ARRAY['started', 'succeeded', 'recorded'])[n % 3 + 1] END,
              '{"n":1}', '{"actor":"fill"}'
       FROM generate_series(0, 999) AS g, LATERAL (SELECT $1::int * 1000 + g AS n) AS k`,
      [batch],
    );
    await client.query('COMMIT');
  }
  await client.query(`INSERT INTO sy_es.streams (stream_name, revision)
    SELECT stream, max(revision) FROM sy_es.events GROUP BY stream`);
}
